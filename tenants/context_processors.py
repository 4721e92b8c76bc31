from django.db import connection

from tenants.selectors import practice_list_for_user


def practice(request) -> dict:
    tenant = getattr(connection, "tenant", None)
    current = tenant if tenant is not None and tenant.schema_name != "public" else None
    ctx = {"current_practice": current, "practice_role": getattr(request, "practice_role", None)}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # The client switcher: lazy, so pages that do not render it pay nothing.
        ctx["switchable_practices"] = practice_list_for_user(user=user)
    return ctx
