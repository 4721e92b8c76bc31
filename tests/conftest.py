"""One test database for the session, with real tenant schemas and a shared cast.

The cast (after healthchecks' alice/bob/charlie):
- alpha (Alpha Dental) and beta (Beta Aesthetics): clients of the agency "north".
- gamma (Gamma Spa): client of another agency, "south".
- alice owns alpha, bob is a responder at alpha, vera is a viewer at alpha,
  charlie owns gamma (and should see nothing of alpha), agnes is north's staff
  (alpha and beta, never gamma), oscar is south's staff (gamma only).
Practices are created once per session (not per test class: each schema costs a clone).
"""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

PASSWORD = "correct-horse-battery"


@dataclasses.dataclass
class Cast:
    alpha: object
    beta: object
    gamma: object
    north: object
    south: object
    alice: object
    bob: object
    vera: object
    charlie: object
    agnes: object
    oscar: object

    def host(self, practice) -> str:
        return f"{practice.slug}.localhost"


def _build_cast() -> Cast:
    from tenants import services
    from tenants.models import Agency, Role

    services.public_tenant_ensure()
    north, _ = Agency.objects.get_or_create(slug="north", defaults={"name": "North Agency"})
    south, _ = Agency.objects.get_or_create(slug="south", defaults={"name": "South Agency"})

    def user(email: str, name: str):
        return services.user_get_or_create(email=email, password=PASSWORD, full_name=name)

    alice, bob, vera = (
        user("alice@alpha.test", "Alice"),
        user("bob@alpha.test", "Bob"),
        user("vera@alpha.test", "Vera"),
    )
    charlie, agnes, oscar = (
        user("charlie@gamma.test", "Charlie"),
        user("agnes@north.test", "Agnes"),
        user("oscar@south.test", "Oscar"),
    )
    alpha = services.practice_create(
        slug="alpha", name="Alpha Dental", owner_email=alice.email, agency=north
    )
    beta = services.practice_create(
        slug="beta", name="Beta Aesthetics", owner_email="owner@beta.test", agency=north
    )
    gamma = services.practice_create(
        slug="gamma", name="Gamma Spa", owner_email=charlie.email, agency=south
    )
    services.membership_set(user=bob, practice=alpha, role=Role.RESPONDER)
    services.membership_set(user=vera, practice=alpha, role=Role.VIEWER)
    services.agency_membership_set(user=agnes, agency=north, role=Role.MANAGER)
    services.agency_membership_set(user=oscar, agency=south, role=Role.MANAGER)
    return Cast(alpha, beta, gamma, north, south, alice, bob, vera, charlie, agnes, oscar)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database, always created: pytest-django creates it only when a collected
    test carries the django_db mark, and browser, worker and concurrency tests work on
    committed rows without it (they would otherwise write into the developer's)."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    name = connection.settings_dict["NAME"]
    if not name.startswith("test"):
        pytest.fail(f"refusing to set up test data in database {name!r}")
    with django_db_blocker.unblock():
        _build_cast()
    yield
    with django_db_blocker.unblock():
        # Servers and workers started by browser and worker tests may leave a backend
        # PostgreSQL has not reaped yet; it would stop the database from being dropped.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture
def cast(db) -> Cast:
    from tenants.models import Agency, Practice, User

    practices = {p.slug: p for p in Practice.objects.filter(slug__in=["alpha", "beta", "gamma"])}
    users = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=".test")}
    agencies = {a.slug: a for a in Agency.objects.all()}
    return Cast(
        practices["alpha"],
        practices["beta"],
        practices["gamma"],
        agencies["north"],
        agencies["south"],
        users["alice"],
        users["bob"],
        users["vera"],
        users["charlie"],
        users["agnes"],
        users["oscar"],
    )


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    # A request through the test client leaves the connection on that request's
    # tenant; start each test from the public schema so nothing leaks between tests.
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


def client_for(host: str, user=None) -> Client:
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def tenant():
    """`with tenant(practice):` runs ORM code inside that practice's schema."""

    def enter(practice):
        return schema_context(practice.schema_name)

    return enter


def public_schema() -> str:
    return get_public_schema_name()
