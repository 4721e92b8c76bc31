"""Reads about practices, agencies and who may do what where."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tenants.models import ROLE_RANK, Agency, AgencyMembership, Membership, Practice, Role, User


def practice_role_for(*, user: User, practice: Practice) -> str | None:
    """The user's role in the practice, or None when they have no access.

    A direct membership wins; otherwise agency staff get their agency role in the
    agency's client practices, and nothing in practices that are not its clients.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    direct = (
        Membership.objects.filter(user=user, practice=practice)
        .values_list("role", flat=True)
        .first()
    )
    if direct:
        return direct
    if practice.agency_id is None:
        return None
    return (
        AgencyMembership.objects.filter(user=user, agency_id=practice.agency_id)
        .values_list("role", flat=True)
        .first()
    )


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def practice_list_for_user(*, user: User) -> QuerySet[Practice]:
    """Every practice the user can open: memberships plus their agencies' clients."""
    return (
        Practice.objects.filter(
            Q(memberships__user=user) | Q(agency__memberships__user=user),
        )
        .exclude(schema_name="public")
        .distinct()
        .order_by("name")
    )


def agency_list_for_user(*, user: User):
    return AgencyMembership.objects.filter(user=user).select_related("agency")


def practice_url(practice: Practice, path: str = "/") -> str:
    from django.conf import settings

    domain = practice.get_primary_domain()
    host = domain.domain if domain else f"{practice.slug}.{settings.BASE_DOMAIN}"
    port = "" if settings.SITE_PORT in (80, 443) else f":{settings.SITE_PORT}"
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def public_url(path: str = "/") -> str:
    from django.conf import settings

    port = "" if settings.SITE_PORT in (80, 443) else f":{settings.SITE_PORT}"
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"


def current_practice() -> Practice:
    """The practice whose schema the connection is on.

    `schema_context` (used by tasks and tests) sets a stand-in tenant object without
    the practice's fields; this always returns the real row.
    """
    from django.db import connection

    tenant = connection.tenant
    if isinstance(tenant, Practice):
        return tenant
    return Practice.objects.get(schema_name=connection.schema_name)


def practice_people(*, practice: Practice):
    """Everyone who can work in the practice: members and its agency's staff."""
    return (
        User.objects.filter(
            Q(memberships__practice=practice)
            | Q(agency_memberships__agency_id=practice.agency_id, agency_memberships__isnull=False),
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "email")
    )


# An API key acts as an integration with a responder's rights (it may read, push, assign
# and close), never as a manager: overrides need a person.
API_KEY_ROLE = "responder"


def actor_role(actor: object, practice: Practice) -> str | None:
    """The role of whoever acts (a user, an API key's principal, or None for the system)."""
    if actor is None:
        return "owner"  # the system itself (pipeline, sweeps)
    if getattr(actor, "key", None) is not None and not isinstance(actor, User):
        if actor.key.practice_id != practice.pk:
            return None
        # Its scope's role, never above a responder in the services: overrides and other
        # manager decisions need a person.
        scope_role = actor.key.SCOPE_ROLE[actor.key.scope]
        return scope_role if not role_at_least(scope_role, API_KEY_ROLE) else API_KEY_ROLE
    if isinstance(actor, User):
        return practice_role_for(user=actor, practice=practice)
    return None


def agencies_for_onboarding(*, user: User) -> QuerySet[Agency]:
    """Agencies the user may create client practices for (all, for platform admins)."""
    if user.is_staff or user.is_superuser:
        return Agency.objects.order_by("name")
    return Agency.objects.filter(
        memberships__user=user, memberships__role__in=[Role.OWNER, Role.MANAGER]
    ).order_by("name")
