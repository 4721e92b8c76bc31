import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.db import connection

from tenants.selectors import practice_role_for


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_access": "This account has no access to this practice. Sign in on the main "
        "page to see the practices you can open.",
        "throttled": "Too many failed sign-ins. Try again in %(minutes)d minutes, or reset "
        "your password from the link below.",
    }

    def clean(self):  # noqa: ANN201
        """Failed sign-ins are counted per account and per address (in the shared cache,
        so every web process sees them); past the limit, even the right password waits."""
        email = (self.data.get("username") or "").strip().lower()
        keys = [_attempts_key("account", email), _attempts_key("ip", _client_ip(self.request))]
        limits = [settings.LOGIN_FAILURES_PER_ACCOUNT, settings.LOGIN_FAILURES_PER_IP]
        if any(cache.get(k, 0) >= limit for k, limit in zip(keys, limits, strict=True)):
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)
            raise

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        tenant = connection.tenant
        if tenant.schema_name != "public" and practice_role_for(user=user, practice=tenant) is None:
            raise forms.ValidationError(self.error_messages["no_access"], code="no_access")


def _timezone_choices() -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    return [(name, name) for name in sorted(available_timezones()) if "/" in name]


class PracticeCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=42, help_text="Becomes the practice's address: <slug>.<your domain>"
    )
    country = forms.CharField(
        max_length=2, initial="NO", help_text="Two-letter ISO code (phone numbers' default)"
    )
    timezone = forms.ChoiceField(choices=_timezone_choices, initial="Europe/Oslo")
    owner_email = forms.EmailField(help_text="Gets an email with a link to set a password")
    agency = forms.ModelChoiceField(queryset=None, required=False, empty_label="No agency")

    def __init__(self, *args, agencies, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()


def _attempts_key(kind: str, value: str) -> str:
    # Hashed: no email address or IP in cache keys (which may end up in logs).
    return "login-failures:" + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _client_ip(request) -> str:  # noqa: ANN001
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, its email sent through the service's outbox (once, retried)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email,  # noqa: ANN001, PLR0913
                  to_email, html_email_template_name=None) -> None:  # fmt: skip
        from django.template import loader

        from tenants.services import email_queue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_queue(to=to_email, subject=subject, body=body)
