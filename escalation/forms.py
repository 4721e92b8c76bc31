from __future__ import annotations

from django import forms

from escalation.models import EscalationSettings


class EscalationSettingsForm(forms.ModelForm):
    class Meta:
        model = EscalationSettings
        fields = [
            "emergency_number",
            "police_non_emergency",
            "police_contact",
            "counsel_contact",
            "insurer_contact",
            "phone_region",
            "report_reminder_days",
            "escalation_due_days",
        ]
        widgets = {
            "police_contact": forms.Textarea(attrs={"rows": 3}),
            "counsel_contact": forms.Textarea(attrs={"rows": 3}),
            "insurer_contact": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"phone_region": "Country of phone numbers (ISO code, e.g. NO)"}

    def clean_phone_region(self) -> str:
        value = self.cleaned_data["phone_region"].strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise forms.ValidationError("Two letters, e.g. NO, GB, US.")
        return value
