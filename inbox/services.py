"""Writes for the inbox: accepting raw payloads and turning them into mentions.

The flow of a mention: raw payload stored -> normalised per platform -> de-duplicated
on (platform, external id) -> listening match -> analysed -> author resolved ->
threaded -> assigned with a deadline -> alerts -> audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inbox.models import (
    Alert,
    AuditEvent,
    InboxSettings,
    ListeningRule,
    Mention,
    RawPayload,
    SocialAccount,
)
from inbox.platforms.base import PayloadError
from reputation.tasks import enqueue
from tenants.selectors import current_practice

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


def pg_text(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters; a payload carrying one must still be
    kept rather than fail with a database error."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


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
        source=source, platform=platform, body=pg_text(body), headers=headers or {}
    )
    if process:
        enqueue("inbox.services.raw_payload_process", raw.pk)
    return raw


def raw_payload_process(raw_id: int) -> RawPayload:
    """Parse and ingest one raw payload. Safe to run twice: done rows are skipped and
    mentions de-duplicate on (platform, external id)."""
    from inbox.ingest import mentions_ingest
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


def inbox_settings_get() -> InboxSettings:
    settings = InboxSettings.objects.order_by("pk").first()
    return settings or InboxSettings.objects.create()


# ---------------------------------------------------------------- alerts


def practice_owner_emails() -> list[str]:
    return _member_emails(("owner",))


def practice_manager_emails() -> list[str]:
    return _member_emails(("owner", "manager"))


def _member_emails(roles: tuple[str, ...]) -> list[str]:
    from tenants.models import Membership

    return list(
        Membership.objects.filter(practice=current_practice(), role__in=roles)
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
    """Send an alert's email once; safe to run twice (claims the row first).

    If the email cannot be sent, the claim is handed back and the error raised: django-q2
    keeps a failed task in its queue and runs it again after Q_CLUSTER["retry"] (up to
    "max_attempts" times), and that run can claim the row again.
    """
    claimed_at = timezone.now()
    claimed = Alert.objects.filter(pk=alert_id, sent_at__isnull=True).update(sent_at=claimed_at)
    if not claimed:
        return False
    try:
        _alert_email(alert_id)
    except Exception:
        log.exception("alert %s: the email could not be sent; it will be retried", alert_id)
        Alert.objects.filter(pk=alert_id, sent_at=claimed_at).update(sent_at=None)
        raise
    return True


def _alert_email(alert_id: int) -> None:
    from django.core.mail import send_mail

    from tenants.selectors import practice_url

    alert = Alert.objects.select_related("mention", "mention__account").get(pk=alert_id)
    mention = alert.mention
    practice = current_practice()
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


def payload_json(body: str) -> Any:
    """Parse a JSON body or raise PayloadError with a message a client can act on."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None


# ---------------------------------------------------------------- accounts


class AccountTaken(ValueError):
    pass


def social_account_save(*, account: SocialAccount, actor: Any = None) -> SocialAccount:
    """Create or change an account, keeping the service-wide webhook route in step."""
    from tenants.models import AccountRoute

    created = account.pk is None
    practice = current_practice()
    route = AccountRoute.objects.filter(
        platform=account.platform, external_id=account.external_id
    ).first()
    if route is not None and route.practice_id != practice.pk:
        # A page answers to one practice; two claiming it would split its webhooks.
        raise AccountTaken(
            f"This {account.get_platform_display()} account is already connected to another "
            "practice. Disconnect it there first."
        )
    with transaction.atomic():
        account.save()
        if route is None:
            AccountRoute.objects.create(
                platform=account.platform,
                external_id=account.external_id,
                practice=practice,
            )
    audit_record(
        action="account.created" if created else "account.changed",
        actor=actor,
        obj=account,
        data={
            "platform": account.platform,
            "owner": account.owner.email if account.owner else None,
            "backup_owner": account.backup_owner.email if account.backup_owner else None,
        },
    )
    return account


# ---------------------------------------------------------------- listening and settings


def listening_rule_create(*, kind: str, term: str, actor: Any = None) -> ListeningRule:
    term = " ".join(term.split())
    if not term:
        raise ValueError("A rule needs a word or phrase.")
    if kind not in ListeningRule.Kind.values:
        raise ValueError(f"Unknown rule kind {kind!r}.")
    rule, created = ListeningRule.objects.get_or_create(kind=kind, term=term)
    if created:
        audit_record(
            action="listening_rule.created",
            actor=actor,
            obj=rule,
            data={"kind": kind, "term": term},
        )
    return rule


def listening_rule_delete(*, rule: ListeningRule, actor: Any = None) -> None:
    audit_record(
        action="listening_rule.deleted",
        actor=actor,
        obj=rule,
        data={"kind": rule.kind, "term": rule.term},
    )
    rule.delete()


def inbox_settings_update(
    *, settings: InboxSettings, changes: dict, actor: Any = None
) -> InboxSettings:
    before = {field: str(getattr(settings, field)) for field in changes}
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.save(update_fields=list(changes))
    after = {field: str(getattr(settings, field)) for field in changes}
    diff = {f: [before[f], after[f]] for f in changes if before[f] != after[f]}
    if diff:
        audit_record(action="inbox_settings.changed", actor=actor, obj=settings, data=diff)
    return settings
