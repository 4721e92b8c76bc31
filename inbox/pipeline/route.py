"""Step 6: who owns a mention, its status and first-response deadline, and the alerts
that follow from it (a threat pages the owners at once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from inbox import services
from inbox.models import InboxSettings, Mention, SocialAccount
from inbox.pipeline import deadlines
from inbox.pipeline.alerts import threat_alert_raise
from inbox.platforms.base import NormalisedMention
from inbox.replies import reply_seen_on_platform
from reputation.core.events import event_emit

# Imported history older than this gets no response deadline: nobody can answer a
# two-year-old review "within the hour", and it must not flood the overdue alerts.
BACKFILL_AGE = dt.timedelta(days=7)


def mention_route(
    mention: Mention,
    account: SocialAccount | None,
    *,
    settings: InboxSettings,
    tz_name: str,
    source: str,
) -> None:
    """Owner (or backup when the owner is away) and the first-response deadline."""
    if account is not None:
        away = account.owner_away and account.backup_owner_id
        mention.assignee_id = account.backup_owner_id if away else account.owner_id
    if mention.from_owner:
        mention.status = Mention.Status.ANSWERED
        return
    if mention.owner_reply_text:  # already answered on the platform (GBP reviewReply)
        mention.status = Mention.Status.ANSWERED
        mention.first_response_at = mention.owner_reply_at or mention.received_at
        return
    if mention.category in deadlines.NO_REPLY_CATEGORIES:
        mention.status = Mention.Status.NO_REPLY
        return
    if source.startswith("import") and mention.posted_at < mention.received_at - BACKFILL_AGE:
        mention.status = Mention.Status.HISTORY  # on record, not open work
        return
    mention.due_at = deadlines.due_at(
        category=mention.category,
        start=mention.received_at,
        settings=settings,
        tz_name=tz_name,
    )


def deadline_for_edit(
    mention: Mention, category: str, *, settings: InboxSettings, tz_name: str
) -> dict[str, Any]:
    """An edit that changes what a mention is changes its clock too (a complaint edited
    into praise is no longer due in an hour; one edited into a threat is due now)."""
    is_threat = category == Mention.Category.THREAT
    if mention.status == Mention.Status.HISTORY and not is_threat:
        return {}  # imported history stays off the clock; only a threat made now is work now
    if category in deadlines.NO_REPLY_CATEGORIES:
        return {"due_at": None, "status": Mention.Status.NO_REPLY}
    if mention.due_at is None and mention.status not in _CLOCK_STARTS_FROM:
        return {}  # no clock before (e.g. history imported before the history status)
    start = timezone.now() if is_threat else mention.received_at
    due = deadlines.due_at(
        category=category,
        start=start,
        settings=settings,
        tz_name=tz_name,
    )
    status = Mention.Status.NEW if mention.status in _CLOCK_STARTS_FROM else mention.status
    return {"due_at": due, "status": status, "reminder_sent_at": None, "overdue_alerted_at": None}


# Statuses without a clock that an edit can turn into work (history: only by a threat).
_CLOCK_STARTS_FROM = (Mention.Status.NO_REPLY, Mention.Status.HISTORY)


def threat_alert_ensure(mention: Mention) -> None:
    """A replayed threat whose alert was never raised (its first processing failed
    after the insert) gets it now, so re-processing heals a lost alert."""
    if (
        mention.category == Mention.Category.THREAT
        and mention.due_at is not None
        and not mention.from_owner
        and not mention.alerts.filter(kind="threat").exists()
    ):
        threat_raised(mention)


def threat_raised(mention: Mention) -> None:
    """A threat on the clock: the owners are emailed at once, and the floors above react
    (escalation opens a police draft) through the "mention.threat" event."""
    threat_alert_raise(mention)
    event_emit("mention.threat", id=mention.pk)


def answered_on_platform(mention: Mention, nm: NormalisedMention) -> dict[str, Any]:
    """Someone at the practice answered on the platform itself (a GBP reviewReply, a
    Tripadvisor owner response): the clock stops, or the overdue alerts would nag about
    a review that already has its answer."""
    if (
        not nm.owner_reply_text
        or mention.owner_reply_text
        or mention.first_response_at is not None
        or mention.status not in _AWAITING_ANSWER
    ):
        return {}
    return {
        "status": Mention.Status.ANSWERED,
        "first_response_at": nm.owner_reply_at or timezone.now(),
    }


_AWAITING_ANSWER = (*Mention.OPEN_STATUSES, Mention.Status.HISTORY)


def after_insert(mentions: list[Mention]) -> None:
    """What new mentions change elsewhere: a reply of the practice's own answers the
    mention it replies to; a threat alerts at once."""
    event_emit("mentions.created", ids=[m.pk for m in mentions])
    complainers = [
        m.author_id
        for m in mentions
        if m.author_id and m.category == Mention.Category.COMPLAINT and not m.from_owner
    ]
    if complainers:
        services.authors_complaints_check(complainers)
    for mention in mentions:
        if mention.from_owner and mention.parent_external_id:
            Mention.objects.filter(
                platform=mention.platform,
                external_id=mention.parent_external_id,
                first_response_at__isnull=True,
            ).update(first_response_at=mention.posted_at, status=Mention.Status.ANSWERED)
            # The practice's reply on the platform: ours from the desk (matched, not a
            # second reply), or one staff wrote there (recorded; counts for the Rule of Two).
            parent = Mention.objects.filter(
                platform=mention.platform, external_id=mention.parent_external_id
            ).first()
            if parent is not None:
                reply_seen_on_platform(
                    mention=parent,
                    text=mention.text,
                    at=mention.posted_at,
                    external_id=mention.external_id,
                )
        elif mention.owner_reply_text:  # arrived already answered (a GBP reviewReply)
            reply_seen_on_platform(
                mention=mention, text=mention.owner_reply_text, at=mention.owner_reply_at
            )
        if (
            not mention.from_owner
            and mention.category == Mention.Category.THREAT
            and mention.due_at is not None
        ):
            # Threats alert at once; imported history (no deadline) does not page anyone.
            threat_raised(mention)
