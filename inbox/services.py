"""Writes for the inbox: accepting raw payloads and turning them into mentions.

The flow of a mention: raw payload stored -> normalised per platform -> de-duplicated
on (platform, external id) -> listening match -> analysed -> author resolved ->
threaded -> assigned with a deadline -> alerts -> audit trail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from inbox import deadlines
from inbox.listening import Listener
from inbox.models import (
    Alert,
    AuditEvent,
    Author,
    Conversation,
    InboxSettings,
    ListeningRule,
    Mention,
    MentionRevision,
    RawPayload,
    SocialAccount,
)
from inbox.platforms.base import NormalisedMention, PayloadError, Platform
from reputation.tasks import enqueue

log = logging.getLogger(__name__)

SYSTEM = "system"
# Imported history older than this gets no response deadline: nobody can answer a
# two-year-old review "within the hour", and it must not flood the overdue alerts.
BACKFILL_AGE = dt.timedelta(days=7)


# ---------------------------------------------------------------- audit trail


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_label: str = "",
    obj: Any = None,
    data: dict | None = None,
) -> AuditEvent:
    if not actor_label:
        actor_label = getattr(actor, "email", None) or (str(actor) if actor else SYSTEM)
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "email") else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label[:200],
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )


# ---------------------------------------------------------------- raw payloads


def raw_payload_accept(
    *,
    source: str,
    platform: str,
    body: str,
    headers: dict[str, str] | None = None,
    process: bool = True,
) -> RawPayload:
    """Store an inbound payload before anything else, and queue its processing.

    The caller answers 2xx once this returns: the row is committed with the request
    (ATOMIC_REQUESTS is off, so autocommit) and the worker does the rest.
    """
    raw = RawPayload.objects.create(
        source=source, platform=platform, body=body, headers=headers or {}
    )
    if process:
        enqueue("inbox.services.raw_payload_process", raw.pk)
    return raw


@dataclasses.dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    skipped: int = 0
    mentions: list[Mention] = dataclasses.field(default_factory=list)


def raw_payload_process(raw_id: int) -> RawPayload:
    """Parse and ingest one raw payload. Safe to run twice: done rows are skipped and
    mentions de-duplicate on (platform, external id)."""
    from inbox.sources import parse_raw

    # Claim: of two workers only one moves a row from pending/failed to processing.
    raw = RawPayload.objects.get(pk=raw_id)
    if raw.status == RawPayload.Status.PROCESSED:
        return raw
    RawPayload.objects.filter(pk=raw_id).update(attempts=F("attempts") + 1)
    try:
        items, errors = parse_raw(raw)
        result = mentions_ingest(items, raw=raw)
    except PayloadError as exc:
        log.warning("raw payload %s rejected: %s", raw_id, exc)
        RawPayload.objects.filter(pk=raw_id).update(
            status=RawPayload.Status.FAILED, error=_error_text([exc])
        )
        return RawPayload.objects.get(pk=raw_id)
    except Exception as exc:  # kept visible on the row, re-processable, never lost
        log.exception("raw payload %s failed", raw_id)
        RawPayload.objects.filter(pk=raw_id).update(
            status=RawPayload.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000]
        )
        return RawPayload.objects.get(pk=raw_id)
    RawPayload.objects.filter(pk=raw_id).update(
        status=RawPayload.Status.FAILED if errors else RawPayload.Status.PROCESSED,
        error=_error_text(errors),
        processed_at=timezone.now(),
        mentions_created=result.created,
        duplicates=result.duplicates,
        skipped=result.skipped,
    )
    return RawPayload.objects.get(pk=raw_id)


def _error_text(errors: Iterable[PayloadError]) -> str:
    return "\n".join(
        f"{e.field}: {e.message}" if getattr(e, "field", None) else str(e) for e in errors
    )[:5000]


def raw_payload_reprocess(*, raw: RawPayload, actor: Any = None) -> RawPayload:
    RawPayload.objects.filter(pk=raw.pk).update(status=RawPayload.Status.PENDING, error="")
    audit_record(action="raw.reprocess", actor=actor, obj=raw)
    return raw_payload_process(raw.pk)


# ---------------------------------------------------------------- ingestion


class IngestContext:
    """What every mention of one batch needs, loaded once per batch."""

    def __init__(self) -> None:
        self.practice = connection.tenant
        self.settings = inbox_settings_get()
        self.accounts = {
            (a.platform, a.external_id): a for a in SocialAccount.objects.filter(is_active=True)
        }
        self.handles = {
            a.handle.lstrip("@").casefold(): a
            for a in self.accounts.values()
            if a.handle and a.platform == Platform.X
        }
        self.listener = Listener(
            ListeningRule.objects.filter(is_active=True).values_list("kind", "term")
        )

    def account_for(self, nm: NormalisedMention) -> SocialAccount | None:
        account = self.accounts.get((nm.platform, nm.account_external_id))
        if account is None and nm.platform == Platform.X:
            for word in nm.text.split():
                if word.startswith("@") and word[1:].strip(".,:;!?").casefold() in self.handles:
                    return self.handles[word[1:].strip(".,:;!?").casefold()]
        return account


def inbox_settings_get() -> InboxSettings:
    settings = InboxSettings.objects.order_by("pk").first()
    return settings or InboxSettings.objects.create()


def mentions_ingest(
    items: Iterable[NormalisedMention], *, raw: RawPayload | None = None, source: str = ""
) -> IngestResult:
    ctx = IngestContext()
    result = IngestResult()
    for nm in items:
        outcome, mention = mention_ingest(nm, raw=raw, ctx=ctx, source=source or (raw and raw.source) or "")
        if outcome == "created":
            result.created += 1
            result.mentions.append(mention)
        elif outcome == "updated":
            result.updated += 1
        elif outcome == "skipped":
            result.skipped += 1
        else:
            result.duplicates += 1
    return result


def mention_ingest(
    nm: NormalisedMention,
    *,
    raw: RawPayload | None = None,
    ctx: IngestContext | None = None,
    source: str = "",
) -> tuple[str, Mention | None]:
    """Store one normalised mention. Returns (outcome, mention) where outcome is one
    of created, updated (an edit: earlier version kept), duplicate, skipped."""
    ctx = ctx or IngestContext()
    existing = Mention.objects.filter(platform=nm.platform, external_id=nm.external_id).first()
    if existing is not None:
        return _mention_update(existing, nm), existing

    account = ctx.account_for(nm)
    listening = ctx.listener.match(nm.text)
    # Items from feeds and searches are only ours if a listening rule says so.
    if account is None and nm.platform == Platform.FEED and not listening.is_relevant:
        return "skipped", None
    if listening.excluded_by and account is None:
        return "skipped", None

    from reputation.analysis import analyse

    analysis = analyse(nm.text, rating=nm.rating)
    now = timezone.now()
    mention = Mention(
        account=account,
        platform=nm.platform,
        external_id=nm.external_id,
        kind=nm.kind,
        parent_external_id=nm.parent_external_id,
        author_name=nm.author_name[:200],
        author_handle=nm.author_handle[:200],
        text=nm.text,
        rating=nm.rating,
        url=nm.url[:1000],
        posted_at=nm.posted_at,
        received_at=now,
        platform_updated_at=nm.updated_at,
        removed_on_platform=nm.removed,
        from_owner=nm.from_owner,
        is_indirect=account is None,
        owner_reply_text=nm.owner_reply_text,
        owner_reply_at=nm.owner_reply_at,
        raw=raw,
        language=analysis.language,
        sentiment=analysis.sentiment,
        category=analysis.category,
        severity=analysis.severity,
        evidence=list(analysis.evidence) + [f"listening: {t}" for t in listening.matched],
    )
    _route(mention, account, ctx, source=source)
    try:
        with transaction.atomic():
            mention.author = _author_resolve(nm)
            mention.conversation = _conversation_resolve(nm, account)
            mention.save()
    except IntegrityError:
        # The same event delivered twice at once: the other delivery stored it.
        return "duplicate", Mention.objects.filter(
            platform=nm.platform, external_id=nm.external_id
        ).first()
    if mention.author_id:
        Author.objects.filter(pk=mention.author_id).update(
            mention_count=F("mention_count") + 1, last_seen_at=now
        )
    if nm.from_owner and nm.parent_external_id:
        _record_owner_response(nm)
    audit_record(
        action="mention.received",
        obj=mention,
        data={
            "platform": nm.platform,
            "external_id": nm.external_id,
            "category": mention.category,
            "assignee": mention.assignee.email if mention.assignee else None,
            "due_at": mention.due_at.isoformat() if mention.due_at else None,
        },
    )
    if mention.category == Mention.Category.THREAT and not nm.from_owner:
        threat_alert_raise(mention)
    return "created", mention


def _route(mention: Mention, account: SocialAccount | None, ctx: IngestContext, source: str):
    if account is not None:
        mention.assignee_id = (
            account.backup_owner_id
            if account.owner_away and account.backup_owner_id
            else account.owner_id
        )
    if mention.from_owner:
        mention.status = Mention.Status.ANSWERED
        return
    if nm_is_backfill(mention, source):
        return
    if mention.category in deadlines.NO_REPLY_CATEGORIES:
        mention.status = Mention.Status.NO_REPLY
        return
    mention.due_at = deadlines.due_at(
        category=mention.category,
        start=mention.received_at,
        settings=ctx.settings,
        tz_name=getattr(ctx.practice, "timezone", "UTC"),
    )


def nm_is_backfill(mention: Mention, source: str) -> bool:
    return source.startswith("import") and mention.posted_at < mention.received_at - BACKFILL_AGE


def _mention_update(mention: Mention, nm: NormalisedMention) -> str:
    """An edited review or comment: keep the earlier version as a revision."""
    if nm.removed and not mention.removed_on_platform:
        Mention.objects.filter(pk=mention.pk).update(removed_on_platform=True)
        audit_record(action="mention.removed_on_platform", obj=mention)
        return "updated"
    changed = nm.text != mention.text or nm.rating != mention.rating
    newer = (
        nm.updated_at is None
        or mention.platform_updated_at is None
        or nm.updated_at > mention.platform_updated_at
    )
    if not changed or not newer:
        return "duplicate"
    with transaction.atomic():
        locked = Mention.objects.select_for_update().get(pk=mention.pk)
        if locked.text == nm.text and locked.rating == nm.rating:
            return "duplicate"
        MentionRevision.objects.create(
            mention=locked,
            text=locked.text,
            rating=locked.rating,
            platform_updated_at=locked.platform_updated_at,
        )
        from reputation.analysis import analyse

        analysis = analyse(nm.text, rating=nm.rating)
        Mention.objects.filter(pk=locked.pk).update(
            text=nm.text,
            rating=nm.rating,
            platform_updated_at=nm.updated_at,
            sentiment=analysis.sentiment,
            category=analysis.category,
            severity=analysis.severity,
            evidence=analysis.evidence,
            language=analysis.language,
            owner_reply_text=nm.owner_reply_text or locked.owner_reply_text,
            owner_reply_at=nm.owner_reply_at or locked.owner_reply_at,
        )
        audit_record(
            action="mention.edited_on_platform",
            obj=locked,
            data={"rating": [locked.rating, nm.rating]},
        )
    if analysis.category == Mention.Category.THREAT:
        threat_alert_raise(Mention.objects.get(pk=mention.pk))
    return "updated"


def _author_resolve(nm: NormalisedMention) -> Author | None:
    key = nm.author_external_id or nm.author_handle or nm.author_name
    if not key:
        return None
    author, _ = Author.objects.get_or_create(
        platform=nm.platform,
        key=key[:300],
        defaults={"name": nm.author_name[:200], "handle": nm.author_handle[:200]},
    )
    return author


def _conversation_resolve(nm: NormalisedMention, account: SocialAccount | None) -> Conversation:
    root = nm.root_external_id or nm.parent_external_id or nm.external_id
    conversation, created = Conversation.objects.get_or_create(
        platform=nm.platform,
        root_external_id=root,
        defaults={"account": account, "started_at": nm.posted_at, "last_activity_at": nm.posted_at},
    )
    if not created and nm.posted_at > conversation.last_activity_at:
        Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=nm.posted_at)
    return conversation


def _record_owner_response(nm: NormalisedMention) -> None:
    """The practice answered on the platform itself: the parent's clock stops."""
    Mention.objects.filter(
        platform=nm.platform, external_id=nm.parent_external_id, first_response_at__isnull=True
    ).update(first_response_at=nm.posted_at, status=Mention.Status.ANSWERED)


# ---------------------------------------------------------------- alerts


def practice_owner_emails() -> list[str]:
    return _member_emails(("owner",))


def practice_manager_emails() -> list[str]:
    return _member_emails(("owner", "manager"))


def _member_emails(roles: tuple[str, ...]) -> list[str]:
    from tenants.models import Membership

    return list(
        Membership.objects.filter(practice=connection.tenant, role__in=roles)
        .values_list("user__email", flat=True)
        .order_by("user__email")
    )


def alert_raise(mention: Mention, *, kind: str, recipients: list[str]) -> Alert | None:
    """Record an alert once per (mention, kind) and queue its email."""
    alert, created = Alert.objects.get_or_create(
        mention=mention, kind=kind, defaults={"recipients": sorted(set(recipients))}
    )
    if not created:
        return None
    audit_record(action=f"alert.{kind}", obj=mention, data={"recipients": alert.recipients})
    enqueue("inbox.services.alert_send", alert.pk)
    return alert


def threat_alert_raise(mention: Mention) -> Alert | None:
    """A threat notifies the account owner and the practice owners at once."""
    recipients = practice_owner_emails()
    if mention.account_id and mention.account.owner_id:
        recipients.append(mention.account.owner.email)
    return alert_raise(mention, kind=Alert.Kind.THREAT, recipients=recipients)


def alert_send(alert_id: int) -> bool:
    """Send an alert's email once; safe to run twice (claims the row first)."""
    from django.core.mail import send_mail

    from tenants.selectors import practice_url

    claimed = Alert.objects.filter(pk=alert_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return False
    alert = Alert.objects.select_related("mention", "mention__account").get(pk=alert_id)
    mention = alert.mention
    practice = connection.tenant
    subject = {
        Alert.Kind.THREAT: f"[{practice.name}] THREAT on {mention.get_platform_display()}",
        Alert.Kind.REMINDER: f"[{practice.name}] Reply due soon",
        Alert.Kind.OVERDUE: f"[{practice.name}] Reply deadline missed",
    }[alert.kind]
    body = (
        f"{mention.author_name or 'Someone'} on {mention.get_platform_display()}:\n\n"
        f"{mention.text[:1000]}\n\n"
        f"Category: {mention.get_category_display()}  Severity: {mention.severity}\n"
        f"Evidence: {'; '.join(mention.evidence[:5])}\n"
    )
    if mention.due_at:
        body += f"Reply due: {mention.due_at:%Y-%m-%d %H:%M} UTC\n"
    body += f"\nOpen it: {practice_url(practice, f'/inbox/{mention.pk}/')}\n"
    send_mail(subject, body, None, alert.recipients, fail_silently=False)
    return True


def payload_json(body: str) -> Any:
    """Parse a JSON body or raise PayloadError with a message a client can act on."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None
