"""Reads for the inbox. Querysets are evaluated inside the schema they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from inbox.models import (
    Alert,
    ChannelSwitch,
    Mention,
    OutboxItem,
    Reply,
    ReplyPresence,
    SocialAccount,
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
