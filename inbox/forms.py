from django import forms
from django.conf import settings

from inbox.models import InboxSettings, ListeningRule, SocialAccount
from inbox.platforms.base import Platform
from inbox.platforms.clients import PlatformError, vet_feed_url


class ListeningRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=ListeningRule.Kind.choices)
    term = forms.CharField(max_length=200, label="Word or phrase")


class InboxSettingsForm(forms.ModelForm):
    class Meta:
        model = InboxSettings
        fields = [
            "threat_minutes",
            "complaint_minutes",
            "question_minutes",
            "praise_minutes",
            "other_minutes",
            "reminder_minutes_before",
            "business_hours_only",
            "business_day_start",
            "business_day_end",
            "business_weekdays",
            "cooling_off_minutes",
            "strong_negative_threshold",
        ]
        labels = {
            "cooling_off_minutes": "Cooling-off before a reply to a hostile post is sent (minutes)",
            "strong_negative_threshold": "Strongly negative: sentiment at or below (−1 to 0)",
            "threat_minutes": "Threat: first response within (minutes)",
            "complaint_minutes": "Complaint (minutes)",
            "question_minutes": "Question (minutes)",
            "praise_minutes": "Praise (minutes)",
            "other_minutes": "Other (minutes)",
            "reminder_minutes_before": "Remind the assignee this many minutes before",
            "business_hours_only": "Count business hours only (threats are always immediate)",
        }

    def clean_strong_negative_threshold(self) -> float:
        value = self.cleaned_data["strong_negative_threshold"]
        if not -1.0 <= value <= 0.0:
            raise forms.ValidationError("Between −1 (only the most negative) and 0.")
        return value

    def clean_business_weekdays(self) -> str:
        raw = self.cleaned_data["business_weekdays"]
        try:
            days = sorted({int(d) for d in raw.split(",") if d.strip()})
        except ValueError:
            raise forms.ValidationError(
                "Use day numbers 0 (Monday) to 6, separated by commas."
            ) from None
        if not days or any(d < 0 or d > 6 for d in days):
            raise forms.ValidationError("Use day numbers 0 (Monday) to 6, separated by commas.")
        return ",".join(map(str, days))


class AccountOwnersForm(forms.Form):
    """Who answers for an account; choices are the practice's people (and its agency's)."""

    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="— nobody —")
    backup_owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="— nobody —")
    owner_away = forms.BooleanField(
        required=False, label="Owner is away (send new mentions to the backup)"
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
        self.fields["backup_owner"].queryset = people

    def clean(self):
        data = super().clean()
        if data.get("owner_away") and not data.get("backup_owner"):
            raise forms.ValidationError("Name a backup before marking the owner away.")
        return data


class SocialAccountAdminForm(forms.ModelForm):
    """The admin is where feed URLs are entered: refuse those the poller would refuse, so
    the person typing hears it at once. The poller checks again on every fetch (DNS
    answers change), so this is a courtesy, not the guard."""

    class Meta:
        model = SocialAccount
        fields = ["platform", "external_id"]  # the admin adds the others

    def clean(self) -> dict:
        data = super().clean()
        url = data.get("external_id")
        changed = self.instance.pk is None or {"platform", "external_id"} & set(self.changed_data)
        if data.get("platform") == Platform.FEED and url and changed:
            try:
                vet_feed_url(url, allow_private=settings.FEED_ALLOW_PRIVATE)
            except PlatformError as exc:
                self.add_error("external_id", exc.message[:1].upper() + exc.message[1:] + ".")
        return data


class AccountAddForm(forms.Form):
    """Accounts connected by id, without OAuth (the rules are in inbox.connecting)."""

    platform = forms.ChoiceField(
        choices=[
            ("feed", "Feed (RSS/Atom URL)"),
            ("yelp", "Yelp business id"),
            ("tripadvisor", "Tripadvisor location id"),
        ]
    )
    external_id = forms.CharField(label="URL or id", max_length=500)
    display_name = forms.CharField(label="Name (optional)", max_length=200, required=False)
