"""The inbox's filters, shared by the web inbox and the API's mention list."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone

from inbox.models import Mention, SocialAccount
from inbox.platforms.base import Platform


class UtcDateTimeField(forms.DateTimeField):
    """ISO 8601 in, UTC out: PostgreSQL refuses offsets beyond ±15:59 (a 500 before)."""

    def to_python(self, value):  # noqa: ANN001, ANN201
        result = super().to_python(value)
        if result is None:
            return None
        if timezone.is_naive(result):
            result = timezone.make_aware(result, dt.UTC)
        if not dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=2) < result:
            raise forms.ValidationError("Date out of range.")
        return result.astimezone(dt.UTC)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class MentionFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.CHOICES, empty_label="Any")
    status = django_filters.ChoiceFilter(choices=Mention.Status.choices, empty_label="Any")
    category = django_filters.ChoiceFilter(choices=Mention.Category.choices, empty_label="Any")
    account = django_filters.ModelChoiceFilter(
        queryset=SocialAccount.objects.all(), empty_label="Any account"
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        label="Assignee",
        help_text='A user id, "me" or "none".',
        validators=[RegexValidator(r"^(\d{1,18}|me|none)$", 'A user id, "me" or "none".')],
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    direct = django_filters.ChoiceFilter(
        choices=[("direct", "Direct"), ("indirect", "Indirect")],
        method="filter_direct",
        label="Direct / indirect",
        empty_label="Both",
    )
    posted_after = UtcDateTimeFilter(field_name="posted_at", lookup_expr="gte")
    posted_before = UtcDateTimeFilter(field_name="posted_at", lookup_expr="lt")
    rating = django_filters.NumberFilter()
    # icontains is UPPER(text) LIKE UPPER('%…%'): served by the trigram index on UPPER(text).
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="Text")

    class Meta:
        model = Mention
        fields = ["platform", "status", "category", "rating", "account"]

    def filter_assignee(self, qs: QuerySet[Mention], name: str, value: str) -> QuerySet[Mention]:
        if value == "none":
            return qs.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return qs.filter(assignee_id=getattr(user, "pk", None) or 0)
        return qs.filter(assignee_id=int(value))

    def filter_overdue(self, qs: QuerySet[Mention], name: str, value: bool) -> QuerySet[Mention]:
        overdue = Q(
            status__in=Mention.OPEN_STATUSES,
            first_response_at__isnull=True,
            due_at__lt=timezone.now(),
        )
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def filter_direct(self, qs: QuerySet[Mention], name: str, value: str) -> QuerySet[Mention]:
        return qs.filter(is_indirect=value == "indirect")
