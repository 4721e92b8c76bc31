"""Reads for the inbox. Querysets are evaluated inside the schema they belong to."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from inbox.models import (
    Alert,
    Author,
    ChannelSwitch,
    Mention,
    OutboxItem,
    RawPayload,
    Reply,
    ReplyPresence,
    SocialAccount,
    Task,
)

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
    # Keys first, from the mention table alone: with the joins of select_related the
    # planner may sort every match instead of walking the index (its estimate for a row
    # comparison is one row). Then the page's rows, joined, by primary key.
    keys = list(qs.values_list("pk", *fields)[: size + 1])
    more = len(keys) > size
    keys = keys[:size]
    # A fresh queryset for the rows (only the joins carried over): with the filters and
    # the cursor's row comparison still on it, the planner may walk the index again.
    rows_qs = qs.model.objects.filter(pk__in=[k[0] for k in keys])
    rows_qs.query.select_related = qs.query.select_related
    by_pk = {m.pk: m for m in rows_qs}
    rows = [by_pk[k[0]] for k in keys if k[0] in by_pk]
    next_cursor = _encode(list(keys[-1][1:])) if more and keys else None
    return MentionPage(rows, next_cursor)


def mention_get(*, pk: int) -> Mention | None:
    return mention_list().filter(pk=pk).first()


def account_list() -> QuerySet[SocialAccount]:
    return SocialAccount.objects.select_related("owner", "backup_owner", "credential")


def account_failing_list() -> QuerySet[SocialAccount]:
    """Accounts whose polling fails now, or whose connection (token refresh, webhook
    subscription) fails: their mentions are not coming in."""
    return SocialAccount.objects.filter(
        Q(poll_enabled=True, last_poll_error__gt="") | Q(credential__problem__gt=""),
        is_active=True,
    ).select_related("credential")


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


def _bounded_counts(predicates: dict[str, tuple[str, list]]) -> dict[str, Count]:
    """Several bounded counts in one statement (one round trip, compiled once): each is
    COUNT(*) over at most COUNT_BOUND + 1 rows matching its predicate."""
    columns, params = [], []
    for where, args in predicates.values():
        columns.append(
            f"(SELECT count(*) FROM (SELECT 1 FROM inbox_mention WHERE {where}"
            f" LIMIT {COUNT_BOUND + 1}) AS b)"
        )
        params.extend(args)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        row = cursor.fetchone()
    return {
        name: Count(min(n, COUNT_BOUND), more=n > COUNT_BOUND)
        for name, n in zip(predicates, row, strict=True)
    }


_OPEN = "status IN ('new', 'open')"  # Mention.OPEN_STATUSES


def inbox_counts(*, user=None) -> dict[str, Count]:
    """Open work only (imported history is not counted), each count bounded."""
    predicates: dict[str, tuple[str, list]] = {
        "open": (_OPEN, []),
        "overdue": (
            f"{_OPEN} AND due_at < %s AND first_response_at IS NULL",
            [timezone.now()],
        ),
        "threats": ("pin = %s", [PIN_THREAT]),
        "possible_threats": ("pin = %s", [PIN_POSSIBLE_THREAT]),
    }
    if user is not None:
        predicates["mine"] = (f"{_OPEN} AND assignee_id = %s", [user.pk])
    return _bounded_counts(predicates)


def facet_counts() -> dict[str, dict[str, Count]]:
    """How many mentions each status and category has (bounded), shown beside the
    filters: one statement of indexed, bounded counts."""
    predicates = {f"status:{v}": ("status = %s", [v]) for v in Mention.Status.values}
    predicates |= {f"category:{v}": ("category = %s", [v]) for v in Mention.Category.values}
    counts = _bounded_counts(predicates)
    facets: dict[str, dict[str, Count]] = {"status": {}, "category": {}}
    for key, count in counts.items():
        facet, _, value = key.partition(":")
        facets[facet][value] = count
    return facets


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


def raw_payloads_failed() -> QuerySet[RawPayload]:
    """Payloads that failed: their mentions are not in the inbox. Those still being
    retried by themselves have a next attempt time."""
    return RawPayload.objects.filter(status=RawPayload.Status.FAILED).order_by("-received_at")


def sources_failing_count() -> Count:
    """The header's "Sources" badge: failed payloads plus accounts whose polling fails."""
    # One statement: this runs on every page of the practice.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM inbox_rawpayload"
            "  WHERE status = 'failed' LIMIT 100) AS f),"
            " (SELECT count(*) FROM inbox_socialaccount a WHERE a.is_active AND ("
            "  (a.poll_enabled AND a.last_poll_error <> '') OR EXISTS (SELECT 1 FROM"
            "  inbox_accountcredential c WHERE c.account_id = a.id AND c.problem <> '')))"
        )
        failed, accounts = cursor.fetchone()
    return Count(min(failed, 99) + accounts, more=failed > 99)


# ---------------------------------------------------------------- answering


def presence_others(mention: Mention, actor) -> list[str]:
    """Who else has the reply box open on this mention now (unexpired heartbeats)."""
    others = ReplyPresence.objects.filter(mention=mention, expires_at__gt=timezone.now())
    if getattr(actor, "pk", None) and hasattr(actor, "email"):
        others = others.exclude(user=actor)
    return list(others.order_by("label").values_list("label", flat=True))


def mention_answering(mention: Mention, *, user) -> dict:
    """What the mention page shows about answering it: the whole conversation in order
    (the person's posts and the practice's replies), the replies still being worked on,
    the switches to private channels, who else is replying, and the Rule of Two count."""
    if mention.conversation_id:
        posts = list(
            Mention.objects.filter(conversation_id=mention.conversation_id)
            .select_related("author")
            .order_by("posted_at", "id")
        )
        reply_rows = Reply.objects.filter(
            Q(conversation_id=mention.conversation_id) | Q(mention=mention)
        )
    else:
        posts = [mention]
        reply_rows = Reply.objects.filter(mention=mention)
    all_replies = list(reply_rows.order_by("created_at", "id"))
    timeline = [{"kind": "post", "at": p.posted_at, "item": p} for p in posts if not p.from_owner]
    # The practice's own posts on the platform show as its replies (a Reply row records
    # each; the from_owner mention itself is not repeated).
    timeline += [
        {"kind": "reply", "at": r.published_at or r.created_at, "item": r}
        for r in all_replies
        if r.status not in (Reply.Status.DRAFT, Reply.Status.CANCELLED)
    ]
    timeline.sort(key=lambda e: e["at"])
    public_count = sum(
        1
        for r in all_replies
        if r.visibility == Reply.Visibility.PUBLIC
        and r.status in Reply.COUNTED_STATUSES
        and (r.author_id == mention.author_id or r.mention_id == mention.pk)
    )
    working = [
        r
        for r in all_replies
        if r.mention_id == mention.pk and r.status in (*Reply.EDITABLE_STATUSES,)
    ]
    author = mention.author if mention.author_id else None
    return {
        "timeline": timeline,
        "working_replies": working,
        "public_reply_count": public_count,
        "switches": list(
            ChannelSwitch.objects.filter(mention=mention).select_related("created_by")
        ),
        "replying_now": presence_others(mention, user),
        "do_not_engage": bool(author and author.marker in ("troll", "blocked")),
        "hide_state": OutboxItem.objects.filter(mention=mention, action=OutboxItem.Action.HIDE)
        .order_by("-created_at")
        .values_list("outcome", "done_at")
        .first(),
    }


def mention_audit_history(mention: Mention) -> list:
    """Everything done to this mention, its replies and its tasks, oldest first."""
    from reputation.audit.models import AuditEvent

    reply_ids = [str(pk) for pk in mention.replies.values_list("pk", flat=True)]
    task_ids = [str(pk) for pk in mention.tasks.values_list("pk", flat=True)]
    return list(
        AuditEvent.objects.filter(
            Q(object_type="mention", object_id=str(mention.pk))
            | Q(object_type="reply", object_id__in=reply_ids)
            | Q(object_type="task", object_id__in=task_ids)
        )
        .select_related("actor")
        .order_by("created_at", "id")[:500]
    )
