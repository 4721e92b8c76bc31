from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tenants import services
from tenants.forms import EmailLoginForm
from tenants.models import Practice
from tenants.selectors import (
    practice_role_for,
    practice_url,
)


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


@login_required
@require_POST
def switch(request: HttpRequest, slug: str) -> HttpResponse:
    """Open another practice (the client switcher) through a single-use hand-off."""
    practice = Practice.objects.exclude(schema_name="public").filter(slug=slug).first()
    if practice is None or practice_role_for(user=request.user, practice=practice) is None:
        raise Http404
    token = services.handoff_create(user=request.user, practice=practice)
    return redirect(
        practice_url(practice, f"{reverse('handoff', urlconf='reputation.urls_tenant')}?t={token}")
    )


@require_GET
def handoff(request: HttpRequest) -> HttpResponse:
    tenant = connection.tenant
    if tenant.schema_name == "public":
        raise Http404
    user = services.handoff_redeem(token=request.GET.get("t", ""), practice=tenant)
    if user is None or practice_role_for(user=user, practice=tenant) is None:
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("inbox:list")
