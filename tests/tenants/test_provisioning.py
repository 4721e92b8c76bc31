import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from inbox.models import Mention
from tenants import provisioning
from tenants.models import Domain, Membership, Practice, Role


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_create_practice_makes_schema_domain_and_owner(db, capsys):
    call_command(
        "create_practice", "delta-dental", "--name", "Delta Dental", "--owner-email", "d@delta.test"
    )
    out = capsys.readouterr().out
    practice = Practice.objects.get(slug="delta-dental")
    assert practice.schema_name == "p_delta_dental"
    assert schema_exists("p_delta_dental")
    assert {"inbox_mention", "inbox_socialaccount", "django_migrations"} <= _tables(
        "p_delta_dental"
    )
    assert Domain.objects.get(tenant=practice).domain == "delta-dental.localhost"
    owner = Membership.objects.get(practice=practice)
    assert (owner.user.email, owner.role) == ("d@delta.test", Role.OWNER)
    assert "http://delta-dental.localhost:8000/" in out
    # Its migration records are true and complete: nothing left for migrate to do.
    assert provisioning._template_is_current("p_delta_dental")
    # The new schema is usable and empty.
    with schema_context(practice.schema_name):
        assert Mention.objects.count() == 0


def test_a_new_practice_starts_empty_even_when_others_have_data(cast, tenant):
    from inbox.models import SocialAccount

    with tenant(cast.alpha):
        SocialAccount.objects.create(platform="google", external_id="loc-1", display_name="A")
    call_command("create_practice", "epsilon", "--name", "Epsilon", "--owner-email", "e@e.test")
    with schema_context(Practice.objects.get(slug="epsilon").schema_name):
        assert SocialAccount.objects.count() == 0


@pytest.mark.parametrize("slug", ["A", "www", "has space", "x", "-lead", "public"])
def test_it_refuses_unusable_slugs(db, slug):
    with pytest.raises(CommandError):
        call_command("create_practice", slug, "--name", "X", "--owner-email", "x@x.test")
    assert not Practice.objects.filter(slug=slug).exclude(schema_name="public").exists()


def test_it_refuses_a_taken_slug(cast):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_practice", "alpha", "--name", "Again", "--owner-email", "x@x.test")


def test_a_stale_template_is_migrated_before_it_is_cloned(db):
    """Cloning marks every migration as applied: a template missing one would hand
    new practices a schema without its tables. The template is checked first."""
    template = provisioning.template_schema()
    with schema_context(template), connection.cursor() as cursor:
        cursor.execute("DROP TABLE inbox_alert")
        cursor.execute(
            "DELETE FROM django_migrations WHERE app IN ('inbox', 'audit', 'escalation')"
        )
        cursor.execute(
            "DROP TABLE inbox_mentionrevision, audit_auditevent, audit_auditcheckpoint CASCADE"
        )
        cursor.execute("DROP FUNCTION audit_append_only()")
    # Make the template look like it predates every inbox (and so escalation) table.
    with schema_context(template), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s"
            " AND (tablename LIKE 'inbox_%%' OR tablename LIKE 'escalation_%%')",
            [template],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{template}"."{table}" CASCADE')
    assert not provisioning._template_is_current(template)

    call_command("create_practice", "zeta", "--name", "Zeta", "--owner-email", "z@z.test")

    assert provisioning._template_is_current(template)
    assert {"inbox_mention", "inbox_alert"} <= _tables("p_zeta")


def test_a_missing_template_is_rebuilt(db):
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{provisioning.template_schema()}" CASCADE')
    call_command("create_practice", "eta", "--name", "Eta", "--owner-email", "h@h.test")
    assert "inbox_mention" in _tables("p_eta")
