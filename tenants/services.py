"""Writes for practices, agencies, users, memberships, API keys and hand-offs."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import available_timezones

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
    OutboundEmail,
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


def api_key_create(
    *,
    practice: Practice,
    name: str = "default",
    scope: str = ApiKey.Scope.WRITE,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"Unknown API key scope {scope!r}: use read, write or admin.")
    raw, prefix, key_hash = ApiKey.generate()
    key = ApiKey.objects.create(
        practice=practice,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scope=scope,
        expires_at=expires_at,
    )
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


# ---------------------------------------------------------------- onboarding


def practice_create_allowed(*, actor: User, agency: Agency | None) -> bool:
    """Platform administrators create any practice; an agency's owners and managers
    create practices for their own agency only."""
    if actor.is_superuser or actor.is_staff:
        return True
    if agency is None:
        return False
    return AgencyMembership.objects.filter(
        user=actor, agency=agency, role__in=[Role.OWNER, Role.MANAGER]
    ).exists()


def practice_onboard(
    *,
    actor: User,
    slug: str,
    name: str,
    owner_email: str,
    country: str,
    tz_name: str,
    agency: Agency | None = None,
) -> Practice:
    """A practice created from the web: its schema (the template clone), its owner, and an
    invitation to the owner to set a password, queued in the same transaction."""
    if not practice_create_allowed(actor=actor, agency=agency):
        raise ProvisioningError("You may not create practices for this agency.")
    if tz_name not in available_timezones():
        raise ProvisioningError(f"Unknown time zone {tz_name!r}.")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ProvisioningError("Country: a two-letter ISO code, e.g. NO or GB.")
    with transaction.atomic():
        practice = practice_create(slug=slug, name=name, owner_email=owner_email, agency=agency)
        Practice.objects.filter(pk=practice.pk).update(country=country, timezone=tz_name)
        practice.refresh_from_db()
        owner = User.objects.get(email=owner_email.strip().lower())
        invite_queue(user=owner, practice=practice, invited_by=actor)
    return practice


def invite_link(*, user: User) -> str:
    """A single-use link to set a password: Django's token changes once the password
    does (and on every login), so a used or stale link stops working."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from tenants.selectors import public_url

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return public_url(f"/invite/{uid}/{token}/")


def email_queue(*, to: str, subject: str, body: str) -> OutboundEmail:
    """An email of the service, sent by the worker after the transaction commits."""
    email = OutboundEmail.objects.create(to=to, subject=subject[:300], body=body)
    transaction.on_commit(lambda: _email_task(email.pk))
    return email


def invite_queue(*, user: User, practice: Practice, invited_by: User | None) -> OutboundEmail:
    by = f" by {invited_by.display_name}" if invited_by else ""
    email = OutboundEmail.objects.create(
        to=user.email,
        subject=f"You are invited to {practice.name} on Reputation desk",
        body=(
            f"Hello,\n\nYou have been invited{by} to {practice.name} on Reputation desk,"
            " where the practice answers what people say about it online.\n\n"
            f"Set your password here (the link works once):\n{invite_link(user=user)}\n\n"
            "If you did not expect this, ignore this email.\n"
        ),
    )
    transaction.on_commit(lambda: _email_task(email.pk))
    return email


def _email_task(email_id: int) -> None:
    from django_q.tasks import async_task

    async_task("tenants.services.outbound_email_send", email_id)


# A claim older than this belonged to a worker that died: the email may be sent again.
EMAIL_CLAIM_STALE = dt.timedelta(minutes=5)


def outbound_email_send(email_id: int) -> bool:
    """Send once: claim the row (compare-and-swap), send, mark sent. A failure releases
    the claim and keeps the error; the sweep tries again."""
    from django.core.mail import send_mail
    from django.db.models import F, Q

    now = timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_CLAIM_STALE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        send_mail(email.subject, email.body, None, [email.to], fail_silently=False)
    except Exception as exc:
        OutboundEmail.objects.filter(pk=email_id, claimed_at=now).update(
            claimed_at=None, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    OutboundEmail.objects.filter(pk=email_id).update(sent_at=timezone.now(), error="")
    return True


def outbound_emails_sweep() -> int:
    """Queue again the service's emails still unsent (a lost task, a failed send)."""
    due = OutboundEmail.objects.filter(
        sent_at__isnull=True, created_at__lt=timezone.now() - dt.timedelta(minutes=1)
    ).filter(attempts__lt=10)
    ids = list(due.values_list("pk", flat=True)[:200])
    for email_id in ids:
        _email_task(email_id)
    return len(ids)


def invite_accept(*, uidb64: str, token: str) -> User | None:
    """The user an invitation link is for, if the link is still good."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_decode

    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user
