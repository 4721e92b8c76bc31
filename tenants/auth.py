"""API authentication and tenant-scoped permissions for DRF."""

from __future__ import annotations

import logging

from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from tenants.models import ApiKey
from tenants.selectors import practice_role_for, role_at_least

log = logging.getLogger(__name__)


class ApiKeyPrincipal:
    """The 'user' behind an API key request: the practice's integration."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"api-key {self.key.prefix}…"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; a key only works on its own practice's host."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme != self.keyword:
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("Empty API key.")
        now = timezone.now()
        key = (
            ApiKey.objects.select_related("practice")
            .filter(key_hash=ApiKey.hash(raw), revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .first()
        )
        tenant = connection.tenant
        if key is None or key.practice_id != tenant.pk:
            # Same answer for an unknown, revoked, expired or another practice's key.
            log.warning("api key refused on %s (prefix %s)", tenant.schema_name, raw[:10])
            raise exceptions.AuthenticationFailed("Invalid API key for this practice.")
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsPracticeMember(permissions.BasePermission):
    """Members (and their agency's staff) of the current practice; others get 404.

    A 404 rather than 403 so that the API does not confirm what exists elsewhere.
    """

    min_role = "viewer"

    def has_permission(self, request, view) -> bool:
        tenant = connection.tenant
        if tenant.schema_name == "public":
            raise Http404
        if isinstance(request.auth, ApiKey):
            if request.auth.practice_id != tenant.pk:
                return False
            # A read key reads; writing needs a write key, manager-level views an admin key.
            needed = getattr(view, "min_role", self.min_role)
            if request.method not in permissions.SAFE_METHODS:
                needed = needed if role_at_least(needed, "responder") else "responder"
            if not role_at_least(ApiKey.SCOPE_ROLE[request.auth.scope], needed):
                raise exceptions.PermissionDenied(
                    f"This API key's scope ({request.auth.scope}) does not allow this."
                )
            return True
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        role = practice_role_for(user=request.user, practice=tenant)
        if role is None:
            raise Http404
        request.practice_role = role
        min_role = getattr(view, "min_role", self.min_role)
        if not role_at_least(role, min_role):
            raise exceptions.PermissionDenied(f"This needs the {min_role} role or higher.")
        return True


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """Requests per API key (429 with Retry-After past `API_KEY_RATE`), counted in the
    shared cache so the limit holds across every web process."""

    scope = "api_key"

    def get_cache_key(self, request, view):  # noqa: ANN001, ANN201
        if not isinstance(request.auth, ApiKey):
            return None  # people in the web app are not throttled here
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
