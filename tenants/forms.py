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
