"""Sending replies (and deletes and hides) to the platforms, exactly once.

The way out reads top to bottom: a person's change (inbox.replies) writes an
`OutboxItem` in the same transaction; `outbox_send` (a django-q2 task, and the
once-a-minute sweep for items that come due later: cooling-off ends, retries) claims
it, calls the platform, and records the outcome.

Exactly once. The claim is a compare-and-swap on `claimed_at`, and a claim goes stale
after the task timeout, so a worker killed mid-call does not leave the item stuck. A
stale claim means the platform may or may not have received the call before the crash
(the same holds for a timeout). Sending again blindly would post the reply twice, and a
second public reply is exactly what the Rule of Two forbids; not sending would lose it.
So every attempt after the first reads the platform's state back first: a GBP review
that already carries our text, a comment thread or timeline that already holds our
reply, is taken as published without sending again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inbox import credentials
from inbox.models import Mention, OutboxItem, Reply
from inbox.platforms.base import Platform
from inbox.platforms.clients import PlatformError
from reputation.audit.services import audit_record
from reputation.core.tasks import enqueue

log = logging.getLogger(__name__)

# Platforms the desk publishes to through their API. The others (Yelp, Tripadvisor,
# feeds, pushed mentions) have no public reply API: the responder posts by hand.
API_PLATFORMS = frozenset({Platform.GOOGLE, Platform.FACEBOOK, Platform.INSTAGRAM, Platform.X})
# A temporary failure is tried again after these delays (minutes), then given up.
RETRY_MINUTES = (1, 5, 15, 60, 180)
SEND_TASK = "inbox.publishing.outbox_send"


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.Q_CLUSTER.get("timeout", 120))


# ---------------------------------------------------------------- writing the outbox


def outbox_write(
    *, action: str, mention: Mention, reply: Reply | None = None, due_at: dt.datetime | None = None
) -> OutboxItem:
    """Queue a platform action; call inside the transaction of the change causing it.
    Due now: the task is queued after commit. Due later: the sweep takes it then."""
    now = timezone.now()
    pending = (
        OutboxItem.objects.filter(reply=reply, action=action, done_at__isnull=True)
        if reply is not None
        else OutboxItem.objects.none()
    )
    item = pending.first()
    if item is not None:  # a failed publish being retried: the same row, due again
        OutboxItem.objects.filter(pk=item.pk).update(due_at=due_at or now, error="")
    else:
        item = OutboxItem.objects.create(
            action=action, mention=mention, reply=reply, due_at=due_at or now
        )
    if due_at is None or due_at <= now:
        enqueue(SEND_TASK, item.pk)
    return item


def outbox_close(*, reply: Reply, outcome: str) -> None:
    """Nothing more to send for this reply (cancelled, or published another way)."""
    OutboxItem.objects.filter(reply=reply, done_at__isnull=True).update(
        done_at=timezone.now(), due_at=None, outcome=outcome
    )


def outbox_due_send(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The sweep: queue every item that has come due (a cooling-off that ended, a retry's
    back-off that passed) or whose claim went stale (its worker died)."""
    now = now or timezone.now()
    stale = now - claim_timeout()
    due = (
        OutboxItem.objects.filter(done_at__isnull=True, due_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in due:
        enqueue(SEND_TASK, pk)
        count += 1
    return count


# ---------------------------------------------------------------- the worker


def outbox_send(item_id: int) -> str:
    """Claim one outbox item and carry it out; safe to run twice (returns what happened)."""
    now = timezone.now()
    claimed = (
        OutboxItem.objects.filter(pk=item_id, done_at__isnull=True, due_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "not claimed"
    item = OutboxItem.objects.select_related(
        "reply", "mention", "mention__account", "mention__author"
    ).get(pk=item_id)
    try:
        if item.action == OutboxItem.Action.PUBLISH:
            return _publish(item, claimed_at=now)
        if item.action == OutboxItem.Action.DELETE:
            return _delete(item, claimed_at=now)
        return _hide(item, claimed_at=now)
    except PlatformError as exc:
        return _failed(item, exc, claimed_at=now)


def _publish(item: OutboxItem, *, claimed_at: dt.datetime) -> str:
    reply = item.reply
    assert reply is not None
    # The cooling-off is over (or there was none): the reply is on its way. A cancel
    # that came first wins; one that comes later is refused (it is too late).
    moved = Reply.objects.filter(
        pk=reply.pk,
        status__in=(Reply.Status.SCHEDULED, Reply.Status.FAILED, Reply.Status.PUBLISHING),
    ).update(status=Reply.Status.PUBLISHING, updated_at=timezone.now())
    if not moved:
        reply.refresh_from_db(fields=["status"])
        _item_done(item, claimed_at=claimed_at, outcome=f"skipped: {reply.status}")
        return f"skipped: {reply.status}"
    if item.attempts > 1:
        found = _read_back(reply, item.mention)
        if found is not None:
            reply_published(
                reply=reply, external_id=found, at=timezone.now(), via="read-back", item=item
            )
            log.warning(
                "reply %s was already on %s (read back after attempt %d): not sent again",
                reply.pk,
                item.mention.platform,
                item.attempts - 1,
            )
            return "published (read back)"
    external_id, url = _send(reply, item.mention)
    reply_published(
        reply=reply, external_id=external_id, url=url, at=timezone.now(), via="api", item=item
    )
    return "published"


def _failed(item: OutboxItem, exc: PlatformError, *, claimed_at: dt.datetime) -> str:
    """A temporary failure is retried after a back-off (read back first: the call may
    have reached the platform); a permanent one waits for a person, with its reason."""
    retry = exc.retryable and item.attempts <= len(RETRY_MINUTES)
    reason = exc.message[:2000]
    with transaction.atomic():
        if retry:
            delay = dt.timedelta(minutes=RETRY_MINUTES[item.attempts - 1])
            if exc.retry_after:
                delay = max(delay, dt.timedelta(seconds=min(exc.retry_after, 6 * 3600)))
            OutboxItem.objects.filter(pk=item.pk, claimed_at=claimed_at).update(
                claimed_at=None, due_at=timezone.now() + delay, error=reason
            )
        else:
            _item_done(item, claimed_at=claimed_at, outcome="failed", error=reason)
        if item.reply_id is not None:
            Reply.objects.filter(pk=item.reply_id, status=Reply.Status.PUBLISHING).update(
                status=Reply.Status.FAILED, error=reason, retryable=retry, updated_at=timezone.now()
            )
        audit_record(
            action=f"{item.action}.failed",
            obj=item.reply or item.mention,
            data={"error": reason, "retryable": retry, "attempt": item.attempts},
        )
    log.warning("outbox %s (%s) failed, %s: %s", item.pk, item.action, retry, reason)
    return "retrying" if retry else "failed"


def _item_done(
    item: OutboxItem, *, claimed_at: dt.datetime | None, outcome: str, error: str = ""
) -> None:
    this = OutboxItem.objects.filter(pk=item.pk, done_at__isnull=True)
    this.update(done_at=timezone.now(), due_at=None, outcome=outcome, error=error)


def reply_published(
    *,
    reply: Reply,
    at: dt.datetime,
    via: str,
    external_id: str = "",
    url: str = "",
    item: OutboxItem | None = None,
    actor: Any = None,
) -> bool:
    """Record a reply as published (by the API, a read-back, the platform showing it, or
    a responder who posted it by hand). A public reply is the mention's first response
    if it has none yet: the clock stops and the mention is answered."""
    with transaction.atomic():
        moved = Reply.objects.filter(
            pk=reply.pk,
            status__in=(
                Reply.Status.DRAFT,
                Reply.Status.SCHEDULED,
                Reply.Status.PUBLISHING,
                Reply.Status.FAILED,
            ),
        ).update(
            status=Reply.Status.PUBLISHED,
            published_at=at,
            external_id=external_id[:300] or F("external_id"),
            external_url=url[:1000] or F("external_url"),
            error="",
            retryable=False,
            updated_at=timezone.now(),
        )
        if item is not None:
            _item_done(item, claimed_at=None, outcome="published" if moved else "already done")
        else:
            outbox_close(reply=reply, outcome="published")
        if not moved:
            return False
        if reply.visibility == Reply.Visibility.PUBLIC:
            mention_first_response(mention_id=reply.mention_id, at=at)
        audit_record(
            action="reply.published",
            actor=actor,
            obj=reply,
            data={"via": via, "external_id": external_id, "url": url, "mention": reply.mention_id},
        )
    return True


def mention_first_response(*, mention_id: int, at: dt.datetime) -> None:
    """The first public reply: first-response time is kept, the mention is answered."""
    Mention.objects.filter(pk=mention_id, first_response_at__isnull=True).update(
        first_response_at=at
    )
    Mention.objects.filter(
        pk=mention_id, status__in=(*Mention.OPEN_STATUSES, Mention.Status.HISTORY)
    ).update(status=Mention.Status.ANSWERED)


# ---------------------------------------------------------------- per platform


def same_text(a: str, b: str) -> bool:
    """Platforms trim and re-space text; compare what a reader would see."""
    return _squash(a) == _squash(b)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().casefold()


def review_name(mention: Mention) -> str:
    if mention.account is None:
        raise PlatformError(
            "this review has no connected Google location to answer from",
            retryable=False,
            platform="google",
        )
    return f"{mention.account.external_id}/reviews/{mention.external_id}"


def _send(reply: Reply, mention: Mention) -> tuple[str, str]:
    """Publish on the platform; returns (the platform's id of our reply, its URL)."""
    platform = mention.platform
    if reply.channel == Reply.Channel.PRIVATE_MESSAGE:
        with credentials.facebook_client(mention.account) as client:
            data = client.private_reply(
                mention.account.external_id, mention.external_id, reply.text
            )
        return str(data.get("message_id") or ""), ""
    if platform == Platform.GOOGLE:
        name = review_name(mention)
        with credentials.google_client(mention.account) as client:
            client.put_reply(name, reply.text)
        return f"{name}/reply", ""
    if platform == Platform.FACEBOOK:
        with credentials.facebook_client(mention.account) as client:
            data = client.comment_reply(mention.external_id, reply.text)
        return str(data.get("id") or ""), ""
    if platform == Platform.INSTAGRAM:
        with credentials.instagram_client(mention.account) as client:
            data = client.comment_reply(mention.external_id, reply.text)
        return str(data.get("id") or ""), ""
    if platform == Platform.X:
        with credentials.x_client(mention.account) as client:
            data = client.tweet_reply(reply.text, mention.external_id)
        tweet = data.get("data") if isinstance(data.get("data"), dict) else {}
        tweet_id = str(tweet.get("id") or "")
        handle = mention.account.handle.lstrip("@") if mention.account else ""
        url = f"https://x.com/{handle}/status/{tweet_id}" if handle and tweet_id else ""
        return tweet_id, url
    raise PlatformError(
        f"{mention.get_platform_display()} has no reply API: post it by hand and mark it posted",
        retryable=False,
        platform=platform,
    )


def _read_back(reply: Reply, mention: Mention) -> str | None:
    """Our reply's id if the platform already shows it (a crash or timeout after the
    platform took the call), else None. Only the practice's own replies count."""
    platform = mention.platform
    if reply.channel == Reply.Channel.PRIVATE_MESSAGE:
        return None  # Messenger cannot be read back; a private reply is allowed once anyway
    if platform == Platform.GOOGLE:
        name = review_name(mention)
        with credentials.google_client(mention.account) as client:
            review = client.get_review(name)
        answer = review.get("reviewReply") if isinstance(review, dict) else None
        if isinstance(answer, dict) and same_text(str(answer.get("comment") or ""), reply.text):
            return f"{name}/reply"
        return None
    if platform == Platform.FACEBOOK:
        page_id = mention.account.external_id if mention.account else ""
        with credentials.facebook_client(mention.account) as client:
            thread = client.comment_replies(mention.external_id)
        for item in _items(thread):
            author = item.get("from") if isinstance(item.get("from"), dict) else {}
            if author.get("id") == page_id and same_text(str(item.get("message", "")), reply.text):
                return str(item.get("id") or "")
        return None
    if platform == Platform.INSTAGRAM:
        handle = (mention.account.handle if mention.account else "").lstrip("@").casefold()
        with credentials.instagram_client(mention.account) as client:
            thread = client.comment_replies(mention.external_id)
        for item in _items(thread):
            ours = str(item.get("username", "")).casefold() == handle
            if ours and same_text(str(item.get("text", "")), reply.text):
                return str(item.get("id") or "")
        return None
    if platform == Platform.X:
        with credentials.x_client(mention.account) as client:
            timeline = client.user_tweets(mention.account.external_id)
        for item in _items(timeline):
            refs = item.get("referenced_tweets") or []
            answers = any(
                isinstance(r, dict)
                and r.get("type") == "replied_to"
                and r.get("id") == mention.external_id
                for r in refs
            )
            if answers and same_text(str(item.get("text", "")), reply.text):
                return str(item.get("id") or "")
        return None
    return None


def _items(data: Any) -> list[dict]:
    items = data.get("data") if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _delete(item: OutboxItem, *, claimed_at: dt.datetime) -> str:
    reply, mention = item.reply, item.mention
    assert reply is not None
    if mention.platform == Platform.GOOGLE:
        with credentials.google_client(mention.account) as client:
            client.delete_reply(review_name(mention))
    elif mention.platform == Platform.FACEBOOK:
        with credentials.facebook_client(mention.account) as client:
            client.delete_object(reply.external_id)
    elif mention.platform == Platform.INSTAGRAM:
        with credentials.instagram_client(mention.account) as client:
            client.delete_object(reply.external_id)
    elif mention.platform == Platform.X:
        with credentials.x_client(mention.account) as client:
            client.tweet_delete(reply.external_id)
    with transaction.atomic():
        Reply.objects.filter(pk=reply.pk, status=Reply.Status.PUBLISHED).update(
            status=Reply.Status.DELETED, updated_at=timezone.now()
        )
        _item_done(item, claimed_at=claimed_at, outcome="deleted")
        audit_record(action="reply.deleted", obj=reply, data={"mention": mention.pk})
    return "deleted"


def _hide(item: OutboxItem, *, claimed_at: dt.datetime) -> str:
    mention = item.mention
    if mention.platform == Platform.FACEBOOK:
        with credentials.facebook_client(mention.account) as client:
            client.comment_hide(mention.external_id)
    elif mention.platform == Platform.INSTAGRAM:
        with credentials.instagram_client(mention.account) as client:
            client.comment_hide(mention.external_id)
    with transaction.atomic():
        _item_done(item, claimed_at=claimed_at, outcome="hidden")
        audit_record(action="mention.hidden", obj=mention)
    return "hidden"
