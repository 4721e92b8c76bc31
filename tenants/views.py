from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import services
from tenants.forms import EmailLoginForm, PracticeCreateForm, QueuedPasswordResetForm
from tenants.models import Practice
from tenants.selectors import (
    agencies_for_onboarding,
    practice_role_for,
    practice_url,
    public_url,
)


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):  # noqa: ANN003, ANN201
        # Passwords are reset on the main host, whichever practice's sign-in page this is.
        path = reverse("password_reset", urlconf="reputation.urls_public")
        return {**super().get_context_data(**kwargs), "password_reset_url": public_url(path)}


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


@login_required
def practice_new(request: HttpRequest) -> HttpResponse:
    """Public host: a platform administrator, or an agency's owner or manager for its own
    clients, creates a practice; its owner is invited by email."""
    if connection.tenant.schema_name != "public":
        raise Http404
    agencies = agencies_for_onboarding(user=request.user)
    if not (request.user.is_staff or request.user.is_superuser) and not agencies.exists():
        raise Http404
    form = PracticeCreateForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            practice = services.practice_onboard(
                actor=request.user,
                slug=data["slug"],
                name=data["name"],
                owner_email=data["owner_email"],
                country=data["country"],
                tz_name=data["timezone"],
                agency=data["agency"],
            )
        except services.ProvisioningError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{practice.name} is ready at {practice_url(practice)}. An invitation to set a"
                f" password is on its way to {data['owner_email']}.",
            )
            return redirect("home")
    return render(request, "tenants/practice_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The invitation link: set a password (the link then stops working), signed in."""
    user = services.invite_accept(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "tenants/invite_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your password is set. Welcome to Reputation desk.")
        return redirect("home")
    return render(request, "tenants/invite.html", {"form": form, "invited": user})


class PasswordResetView(auth_views.PasswordResetView):
    """Public host: the same answer whether or not the address has an account."""

    form_class = QueuedPasswordResetForm
    template_name = "tenants/password_reset.html"
    email_template_name = "tenants/password_reset_email.txt"
    subject_template_name = "tenants/password_reset_subject.txt"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "tenants/password_reset_confirm.html"


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/password_reset_sent.html")


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    messages.success(request, "Your password is set: sign in with it.")
    return redirect("login")
