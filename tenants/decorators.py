from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse

from tenants.selectors import practice_role_for, role_at_least


def practice_member_required(min_role: str = "viewer") -> Callable:
    """Web pages of a practice: login first, then membership, else 404.

    Users without access get the same 404 as a missing page, so a practice's pages
    do not reveal anything to outsiders (Zulip's access_stream_by_id does the same).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            tenant = connection.tenant
            if tenant.schema_name == "public":
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = practice_role_for(user=request.user, practice=tenant)
            if role is None or not role_at_least(role, min_role):
                raise Http404
            request.practice = tenant
            request.practice_role = role

            return view(request, *args, **kwargs)

        return wrapper

    return decorator
