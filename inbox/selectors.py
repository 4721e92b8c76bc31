"""Reads for the inbox. Querysets are evaluated inside the schema they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from inbox.models import Alert, Mention, SocialAccount

OPEN_STATUSES = Mention.OPEN_STATUSES
# Values of the generated column Mention.pin (open threat, open possible threat).
PIN_THREAT, PIN_POSSIBLE_THREAT = 2, 1


def mention_list() -> QuerySet[Mention]:
    """Inbox order: open threats first (they must not scroll away), then open possible
    threats (the analyser's second tier, waiting for a person to read them), then newest.
    `Mention.pin` is computed by PostgreSQL and indexed with the date, so the first page
    is an index scan however many mentions a practice has."""
    return Mention.objects.select_related(
        "account", "account__owner", "assignee", "author"
    ).order_by("-pin", "-posted_at", "-id")


def mention_get(*, pk: int) -> Mention | None:
    return mention_list().filter(pk=pk).first()


def account_list() -> QuerySet[SocialAccount]:
    return SocialAccount.objects.select_related("owner", "backup_owner")


def account_failing_list() -> QuerySet[SocialAccount]:
    """Accounts whose polling fails now: their mentions are not coming in."""
    return SocialAccount.objects.filter(is_active=True, poll_enabled=True).exclude(
        last_poll_error=""
    )


def mention_history_count() -> int:
    return Mention.objects.filter(status=Mention.Status.HISTORY).count()


def threat_alerts_undelivered() -> list[Alert]:
    """Threat alerts whose email failed (still being retried) or was given up on: staff
    must call the owner (and the police) themselves. Unsent alerts have a small index."""
    return list(
        Alert.objects.filter(kind=Alert.Kind.THREAT, sent_at__isnull=True)
        .filter(Q(retry_at__isnull=True) | ~Q(send_error=""))
        .select_related("mention")
        .order_by("-created_at")[:20]
    )


def mention_alerts(mention: Mention) -> list[Alert]:
    return list(mention.alerts.order_by("created_at", "pk"))


def inbox_counts() -> dict[str, int]:
    """Open work only: imported history is not counted."""
    now = timezone.now()
    open_q = Q(status__in=OPEN_STATUSES)
    return {
        "open": Mention.objects.filter(open_q).count(),
        "overdue": Mention.objects.filter(
            open_q, due_at__lt=now, first_response_at__isnull=True
        ).count(),
        "threats": Mention.objects.filter(pin=PIN_THREAT).count(),
        "possible_threats": Mention.objects.filter(pin=PIN_POSSIBLE_THREAT).count(),
    }


def practice_overview(*, practices: Iterable) -> list[dict]:
    """One row per practice for the agency view: open, overdue, open threats, open
    possible threats."""
    rows = []
    for practice in practices:
        with schema_context(practice.schema_name):
            rows.append({"practice": practice, **inbox_counts()})
    return rows
