import django_filters

from inbox.models import Mention
from inbox.platforms.base import Platform


class MentionFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.CHOICES)
    status = django_filters.ChoiceFilter(choices=Mention.Status.choices)
    category = django_filters.ChoiceFilter(choices=Mention.Category.choices)
    posted_after = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="gte")
    posted_before = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="lt")
    rating = django_filters.NumberFilter()
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="Text contains")

    class Meta:
        model = Mention
        fields = ["platform", "status", "category", "rating", "account"]
