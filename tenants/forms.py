from django import forms
from django.contrib.auth.forms import AuthenticationForm
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
    }

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
