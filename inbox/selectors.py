"""Reads for the inbox. Querysets are evaluated inside the schema they belong to."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from inbox.models import Alert, Author, Mention, SocialAccount, Task

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


# Counts above this are shown as "1,000+": an exact count of a large part of a table of a
# million mentions costs more than the page itself.
COUNT_BOUND = 1000


class Count(int):
    """A count that may be bounded: `more` says there are more than the number."""

    more: bool

    def __new__(cls, value: int, more: bool = False) -> Count:
        obj = super().__new__(cls, value)
        obj.more = more
        return obj

    def __str__(self) -> str:
        return f"{int(self):,}+" if self.more else f"{int(self):,}"


def count_bounded(qs: QuerySet, bound: int = COUNT_BOUND) -> Count:
    """COUNT(*) of at most bound + 1 rows (a LIMIT subquery): as fast for a million
    matches as for a thousand, when an index serves the filter."""
    n = qs.order_by().values("pk")[: bound + 1].count()
    return Count(min(n, bound), more=n > bound)


class BadCursor(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class MentionPage:
    mentions: list[Mention]
    next_cursor: str | None  # None on the last page

    def __iter__(self):  # noqa: ANN204
        return iter(self.mentions)

    def __len__(self) -> int:
        return len(self.mentions)


# Keyset orders: a page starts after the previous page's last row, so page 1,000 costs
# what page 1 does (OFFSET would read and drop every row before it).
SORTS = {
    # Inbox order: open threats, open possible threats, then newest first.
    "inbox": (("pin", "posted_at", "id"), "desc"),
    # Open work with a deadline, the most urgent first.
    "deadline": (("due_at", "id"), "asc"),
}


def _encode(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, fields: tuple[str, ...]) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError("wrong shape")
        out = []
        for field, value in zip(fields, values, strict=True):
            if field.endswith("_at"):
                value = dt.datetime.fromisoformat(value)
            elif not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{field} is not a number")
            out.append(value)
        return out
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise BadCursor(f"Invalid cursor: {exc}") from None


def mention_page(
    qs: QuerySet[Mention], *, sort: str = "inbox", cursor: str = "", size: int = 50
) -> MentionPage:
    """One page of `qs` in the order `sort`, after `cursor` (from the previous page)."""
    fields, direction = SORTS[sort]
    if sort == "deadline":
        qs = qs.filter(
            status__in=OPEN_STATUSES, first_response_at__isnull=True, due_at__isnull=False
        )
    prefix = "-" if direction == "desc" else ""
    qs = qs.order_by(*(prefix + f for f in fields))
    if cursor:
        values = _decode(cursor, fields)
        columns = ", ".join(f'"inbox_mention"."{f}"' for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        op = "<" if direction == "desc" else ">"
        # A row comparison, which PostgreSQL answers from the matching index.
        qs = qs.extra(where=[f"({columns}) {op} ({marks})"], params=values)  # noqa: S610
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode([getattr(rows[-1], f) for f in fields]) if more else None
    return MentionPage(rows, next_cursor)


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


def inbox_counts(*, user=None) -> dict[str, Count]:
    """Open work only (imported history is not counted), each count bounded."""
    now = timezone.now()
    open_q = Q(status__in=OPEN_STATUSES)
    counts = {
        "open": count_bounded(Mention.objects.filter(open_q)),
        "overdue": count_bounded(
            Mention.objects.filter(open_q, due_at__lt=now, first_response_at__isnull=True)
        ),
        "threats": count_bounded(Mention.objects.filter(pin=PIN_THREAT)),
        "possible_threats": count_bounded(Mention.objects.filter(pin=PIN_POSSIBLE_THREAT)),
    }
    if user is not None:
        counts["mine"] = count_bounded(Mention.objects.filter(open_q, assignee=user))
    return counts


def facet_counts() -> dict[str, dict[str, Count]]:
    """How many mentions each status and category has (bounded): shown beside the
    filter's choices. One indexed, bounded count per value."""
    return {
        "status": {
            value: count_bounded(Mention.objects.filter(status=value))
            for value in Mention.Status.values
        },
        "category": {
            value: count_bounded(Mention.objects.filter(category=value))
            for value in Mention.Category.values
        },
    }


def practice_overview(*, practices: Iterable) -> list[dict]:
    """One row per practice for the agency view: open, overdue, open threats, open
    possible threats."""
    rows = []
    for practice in practices:
        with schema_context(practice.schema_name):
            rows.append({"practice": practice, **inbox_counts()})
    return rows


def tasks_open_for(*, user) -> QuerySet[Task]:
    return (
        Task.objects.filter(owner=user, done_at__isnull=True)
        .select_related("mention")
        .order_by("due_at", "id")
    )


def tasks_done_for(*, user) -> QuerySet[Task]:
    since = timezone.now() - dt.timedelta(days=7)
    return (
        Task.objects.filter(owner=user, done_at__gte=since)
        .select_related("mention")
        .order_by("-done_at")[:50]
    )


def author_identities(person: Author) -> list[Author]:
    """The person and every identity merged into them, the person first."""
    return [person, *Author.objects.filter(merged_into=person).order_by("platform", "pk")]


def author_history(person: Author) -> QuerySet[Mention]:
    """Every mention of the person, across the identities merged into them, newest first."""
    return (
        Mention.objects.filter(Q(author=person) | Q(author__merged_into=person))
        .select_related("account", "assignee")
        .order_by("-posted_at", "-id")[:200]
    )


def author_merge_candidates(author: Author) -> list[Author]:
    """Other identities that may be the same person: same name on another platform."""
    name = (author.name or author.handle).strip()
    if not name:
        return []
    return list(
        Author.objects.filter(Q(name__iexact=name) | Q(handle__iexact=author.handle or name))
        .exclude(pk=author.pk)
        .exclude(merged_into=author)
        .order_by("platform", "pk")[:20]
    )
