"""Writes for practices, agencies, users, memberships, API keys and hand-offs."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants.models import (
    Agency,
    AgencyMembership,
    ApiKey,
    Domain,
    LoginHandoff,
    Membership,
    Practice,
    Role,
    User,
)

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$")
RESERVED_SLUGS = {"www", "admin", "api", "public", "static", "practice-template", "app"}


class ProvisioningError(ValueError):
    pass


def schema_name_for(slug: str) -> str:
    return "p_" + slug.replace("-", "_")


def user_get_or_create(*, email: str, password: str | None = None, full_name: str = "") -> User:
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password, full_name=full_name)
    return user


def practice_create(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    agency: Agency | None = None,
    verbosity: int = 0,
) -> Practice:
    """Create a practice: its own schema (cloned from the template), domain and owner."""
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise ProvisioningError(
            f"'{slug}' is not a usable practice slug: use 3-42 lowercase letters, digits "
            "and hyphens, starting with a letter (it becomes the subdomain)."
        )
    if Practice.objects.filter(slug=slug).exists():
        raise ProvisioningError(f"A practice with slug '{slug}' already exists.")
    with transaction.atomic():
        practice = Practice(slug=slug, name=name, schema_name=schema_name_for(slug), agency=agency)
        practice.save(verbosity=verbosity)  # clones the template schema
        Domain.objects.create(
            domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=practice, is_primary=True
        )
        owner = user_get_or_create(email=owner_email, password=owner_password)
        Membership.objects.create(user=owner, practice=practice, role=Role.OWNER)
    return practice


def public_tenant_ensure() -> Practice:
    """The public tenant serves the landing page, login, agency views and admin."""
    public, _ = Practice.objects.get_or_create(
        schema_name="public", defaults={"name": "Reputation desk", "slug": "public"}
    )
    for host in {settings.BASE_DOMAIN, "127.0.0.1"}:
        Domain.objects.get_or_create(
            domain=host, defaults={"tenant": public, "is_primary": host == settings.BASE_DOMAIN}
        )
    return public


def membership_set(*, user: User, practice: Practice, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, practice=practice, defaults={"role": role}
    )
    return membership


def agency_membership_set(*, user: User, agency: Agency, role: str = Role.MANAGER):
    membership, _ = AgencyMembership.objects.update_or_create(
        user=user, agency=agency, defaults={"role": role}
    )
    return membership


def api_key_create(*, practice: Practice, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    raw, prefix, key_hash = ApiKey.generate()
    key = ApiKey.objects.create(practice=practice, name=name, prefix=prefix, key_hash=key_hash)
    return key, raw


HANDOFF_TTL = dt.timedelta(seconds=60)


def handoff_create(*, user: User, practice: Practice) -> str:
    """A one-minute, single-use ticket to open `practice` on its own subdomain.

    Sessions are host-only, so moving from the agency view to a client's subdomain
    needs a fresh session there; the ticket carries the login across without sharing
    one session cookie between tenants.
    """
    raw = secrets.token_urlsafe(32)
    LoginHandoff.objects.create(
        token_hash=ApiKey.hash(raw),
        user=user,
        practice=practice,
        expires_at=timezone.now() + HANDOFF_TTL,
    )
    return raw


def handoff_redeem(*, token: str, practice: Practice) -> User | None:
    """Consume a ticket for this practice; None when unknown, used, expired or foreign."""
    now = timezone.now()
    # Compare-and-swap: of two concurrent redemptions only one updates the row.
    claimed = LoginHandoff.objects.filter(
        token_hash=ApiKey.hash(token), practice=practice, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        return None
    return LoginHandoff.objects.select_related("user").get(token_hash=ApiKey.hash(token)).user
