"""Writes for the inbox: accepting raw payloads and turning them into mentions.

The flow of a mention: raw payload stored -> normalised per platform -> de-duplicated
on (platform, external id) -> listening match -> analysed -> author resolved ->
threaded -> assigned with a deadline -> alerts -> audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
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


# Automatic retries of a payload whose processing failed for a temporary reason (a
# platform outage or rate limit, a lost database connection): the wait before each
# retry. After the last one the payload stays failed, with what to do, for a person.
RETRY_BACKOFF: tuple[dt.timedelta, ...] = tuple(
    dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360)
)
MAX_RETRIES = len(RETRY_BACKOFF)
# A worker's claim on a payload it processes. Far longer than a task may run
# (Q_CLUSTER["timeout"]): a claim older than this belonged to a worker that died.
PROCESSING_LEASE = dt.timedelta(minutes=10)
# A payload still pending after this long lost its task (the worker died after the commit).
PENDING_GRACE = dt.timedelta(minutes=1)


def raw_payload_process(raw_id: int) -> RawPayload:
    """Parse and ingest one pending raw payload, once.

    Safe to run twice and concurrently: the row is claimed first (compare-and-swap from
    pending to processing, so of two workers only one gets it), and mentions
    de-duplicate on (platform, external id). A row that is not pending (done, failed and
    waiting for its retry, or claimed by another worker) is returned as it is.
    """
    claimed = RawPayload.objects.filter(pk=raw_id, status=RawPayload.Status.PENDING).update(
        **_claim(timezone.now(), retry=False)
    )
    if not claimed:
        return RawPayload.objects.get(pk=raw_id)
    return _raw_payload_run(raw_id)


def _claim(now: dt.datetime, *, retry: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": RawPayload.Status.PROCESSING,
        "attempts": F("attempts") + 1,
        "next_attempt_at": now + PROCESSING_LEASE,  # the sweep takes it back after this
    }
    if retry:
        values["retries"] = F("retries") + 1
    return values


def _raw_payload_run(raw_id: int) -> RawPayload:
    """Process a payload this worker has claimed, and record how it ended."""
    from inbox.ingest import mentions_ingest
    from inbox.platforms.clients import PlatformError
    from inbox.sources import parse_raw, platform_reason

    raw = RawPayload.objects.get(pk=raw_id)
    try:
        items, errors = parse_raw(raw)
        result = mentions_ingest(items, raw=raw)
    except PayloadError as exc:
        log.warning("raw payload %s rejected: %s", raw_id, exc)
        return _raw_payload_finish(raw, error=_error_text([exc]))
    except PlatformError as exc:  # e.g. the review a Pub/Sub notification names
        log.warning("raw payload %s: %s", raw_id, exc)
        return _raw_payload_finish(
            raw,
            error=platform_reason(exc),
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        )
    except Exception as exc:  # kept visible on the row, re-processable, never lost
        log.exception("raw payload %s failed", raw_id)
        return _raw_payload_finish(
            raw,
            error=f"{type(exc).__name__}: {exc}",
            # A dropped database connection clears by itself; a bug does not.
            retryable=isinstance(exc, OperationalError | InterfaceError),
        )
    # Items that could not be fetched for a temporary reason (an Instagram outage) make
    # the whole payload worth retrying; the rest de-duplicates on the retry.
    return _raw_payload_finish(
        raw,
        error=_error_text(errors),
        retryable=any(getattr(e, "retryable", False) for e in errors),
        retry_after=max((getattr(e, "retry_after", None) or 0 for e in errors), default=0),
        processed_at=timezone.now(),
        mentions_created=result.created,
        duplicates=result.duplicates,
        skipped=result.skipped,
    )


def _raw_payload_finish(
    raw: RawPayload,
    *,
    error: str,
    retryable: bool = False,
    retry_after: float | None = None,
    **fields: Any,
) -> RawPayload:
    """Processed, failed with a retry scheduled, or failed for a person to look at."""
    now = timezone.now()
    values: dict[str, Any] = {
        "status": RawPayload.Status.FAILED if error else RawPayload.Status.PROCESSED,
        "error": error[:5000],
        "retryable": bool(error) and retryable,
        "next_attempt_at": None,
        **fields,
    }
    if error and retryable and raw.retries < MAX_RETRIES:
        wait = max(RETRY_BACKOFF[raw.retries], dt.timedelta(seconds=retry_after or 0))
        # Capped; spread by up to 20% so one outage's payloads do not all return at once.
        wait = min(wait, RETRY_BACKOFF[-1]) * (1 + random.random() / 5)  # noqa: S311
        values["next_attempt_at"] = now + wait
        log.warning(
            "raw payload %s: temporary failure, automatic retry %d of %d at %s",
            raw.pk,
            raw.retries + 1,
            MAX_RETRIES,
            values["next_attempt_at"].isoformat(timespec="seconds"),
        )
    elif error and retryable:
        values["error"] = (error[:4000] + "\n" + _gave_up(raw)).strip()
        log.error(
            "raw payload %s: still failing after %d attempts, left failed for a person: %s",
            raw.pk,
            raw.attempts,
            error[:300],
        )
    # Only while our claim holds (same attempt): a worker that ran past its lease must
    # not overwrite the outcome of the one that took the payload over.
    mine = RawPayload.objects.filter(
        pk=raw.pk, status=RawPayload.Status.PROCESSING, attempts=raw.attempts
    )
    if not mine.update(**values):
        log.warning("raw payload %s: claim taken over by another worker; result dropped", raw.pk)
    return RawPayload.objects.get(pk=raw.pk)


def _reprocess_hint(raw: RawPayload) -> str:
    try:
        slug = current_practice().slug
    except Exception:  # noqa: BLE001 - only the hint's wording depends on it
        slug = "<practice>"
    return (
        f"re-process it: `manage.py reprocess {slug} --id {raw.pk}`, or the admin action"
        " “Re-process the selected payloads”."
    )


def _gave_up(raw: RawPayload) -> str:
    return (
        f"Gave up after {raw.attempts} attempts ({MAX_RETRIES} automatic retries over about"
        f" {sum(RETRY_BACKOFF, dt.timedelta()).total_seconds() / 3600:.0f} h): the temporary"
        " error above did not clear. Once the platform answers again (or the cause is"
        " fixed), " + _reprocess_hint(raw)
    )


def raw_payloads_due(at: dt.datetime) -> QuerySet[RawPayload]:
    """Payloads the sweep should take at `at`: pending past PENDING_GRACE, or whose
    next_attempt_at has come. Only failed-and-retrying and processing rows have one, so
    that half reads the small partial index alone."""
    return RawPayload.objects.filter(
        Q(status=RawPayload.Status.PENDING, received_at__lt=at - PENDING_GRACE)
        | Q(next_attempt_at__lte=at)
    )


def raw_payloads_due_process(
    *, now: dt.datetime | None = None, limit: int = 500, budget_s: float = 50.0
) -> dict[str, int]:
    """The sweep: process payloads whose time has come, one at a time.

    Due: pending past PENDING_GRACE (its task was lost), failed for a temporary reason
    whose retry time has come, or claimed by a worker whose lease ran out (it died). Each
    is claimed with SELECT ... FOR UPDATE SKIP LOCKED in a short transaction, then
    processed outside it, so concurrent sweeps and workers never process one twice.
    Stops after `budget_s` (below the task timeout); the next sweep carries on.
    """
    started = time.monotonic()
    counts = {"pending": 0, "retried": 0, "reclaimed": 0, "gave_up": 0}
    kinds = {
        RawPayload.Status.PENDING: "pending",
        RawPayload.Status.FAILED: "retried",
        RawPayload.Status.PROCESSING: "reclaimed",
    }
    for _ in range(limit):
        if time.monotonic() - started > budget_s:
            break
        at = now or timezone.now()
        with transaction.atomic():
            rows = list(
                raw_payloads_due(at)
                .select_for_update(skip_locked=True)
                .only("pk", "status", "retries", "attempts")[:1]
            )
            if not rows:
                break
            raw = rows[0]
            if raw.status == RawPayload.Status.PROCESSING and raw.retries >= MAX_RETRIES:
                # Its processing kept dying (worker killed, task timeout): stop there.
                RawPayload.objects.filter(pk=raw.pk).update(
                    status=RawPayload.Status.FAILED,
                    retryable=False,
                    next_attempt_at=None,
                    error=(
                        f"Processing never finished: {raw.attempts} attempts were cut off"
                        " (the worker died or the task timed out). Look for this payload in"
                        " the worker log, fix the cause, then " + _reprocess_hint(raw)
                    ),
                )
                log.error("raw payload %s: processing never finished; given up", raw.pk)
                counts["gave_up"] += 1
                continue
            kind = kinds[raw.status]
            RawPayload.objects.filter(pk=raw.pk).update(
                **_claim(at, retry=raw.status != RawPayload.Status.PENDING)
            )
        counts[kind] += 1
        _raw_payload_run(raw.pk)
    return counts


def _error_text(errors: Iterable[PayloadError]) -> str:
    return "\n".join(
        f"{e.field}: {e.message}" if getattr(e, "field", None) else str(e) for e in errors
    )[:5000]


def raw_payload_reprocess(*, raw: RawPayload, actor: Any = None) -> RawPayload:
    """Process again now, with a fresh round of automatic retries. A payload a worker is
    processing right now is left to that worker (returned as it is)."""
    reset = (
        RawPayload.objects.filter(pk=raw.pk)
        .exclude(status=RawPayload.Status.PROCESSING, next_attempt_at__gt=timezone.now())
        .update(
            status=RawPayload.Status.PENDING,
            error="",
            retryable=False,
            retries=0,
            next_attempt_at=None,
        )
    )
    if not reset:
        return RawPayload.objects.get(pk=raw.pk)
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


# Alert emails: django-q2 runs a failed send again (Q_CLUSTER "max_attempts", "retry"
# apart). When all of those fail, the sweep queues it again this long after the last
# try (longer than "retry", so it never races django-q2's own retries), at most
# ALERT_MAX_RESENDS times; after that the alert shows "email not delivered" in the app.
ALERT_RESEND_AFTER = dt.timedelta(minutes=10)
ALERT_MAX_RESENDS = 3


def alert_raise(mention: Mention, *, kind: str, recipients: list[str]) -> Alert | None:
    """Record an alert once per (mention, kind) and queue its email."""
    alert, created = Alert.objects.get_or_create(
        mention=mention,
        kind=kind,
        defaults={
            "recipients": sorted(set(recipients)),
            # If the queued task is lost or fails for good, the sweep sends it again.
            "retry_at": timezone.now() + ALERT_RESEND_AFTER,
        },
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

    If the email cannot be sent, the claim is handed back, the error kept on the alert
    (shown in the app) and raised: django-q2 keeps a failed task in its queue and runs it
    again after Q_CLUSTER["retry"] (up to "max_attempts" times), and that run can claim
    the row again. A claim left by a worker killed mid-send goes stale after the task
    timeout, so the alert is sent again rather than taken for sent.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.Q_CLUSTER.get("timeout", 120))
    claimed = (
        Alert.objects.filter(pk=alert_id, sent_at__isnull=True)
        .filter(Q(sending_at__isnull=True) | Q(sending_at__lt=stale))
        .update(
            sending_at=now,
            send_attempts=F("send_attempts") + 1,
            retry_at=now + ALERT_RESEND_AFTER,
        )
    )
    if not claimed:
        return False
    try:
        _alert_email(alert_id)
    except Exception as exc:
        log.exception("alert %s: the email could not be sent; it will be retried", alert_id)
        Alert.objects.filter(pk=alert_id, sending_at=now).update(
            sending_at=None, send_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    # Sent, even if another worker took a stale claim over meanwhile: a duplicate email
    # is better than an alert shown as undelivered when it was not.
    Alert.objects.filter(pk=alert_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), sending_at=None, retry_at=None, send_error=""
    )
    return True


def alert_emails_resend_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The sweep: queue again the alert emails still unsent after all their retries.

    Threats are safety-critical, so a duplicate is preferred to silence; but each alert is
    re-queued at most ALERT_MAX_RESENDS times. After that it is given up on: logged as
    critical, audited, and shown in the app as "email not delivered" so staff act
    themselves. A reminder or overdue email that no longer applies (answered, or a
    reminder whose deadline has passed) is not sent again.
    """
    now = now or timezone.now()
    resent = gave_up = 0
    due = (
        Alert.objects.filter(sent_at__isnull=True, retry_at__lte=now)
        .select_related("mention")
        .order_by("retry_at")[:200]
    )
    for alert in due:
        # Compare-and-swap on what we read: of two sweeps, one acts.
        this = Alert.objects.filter(
            pk=alert.pk, sent_at__isnull=True, retry_at=alert.retry_at, resends=alert.resends
        )
        stale = _alert_superseded(alert, now)
        if stale or alert.resends >= ALERT_MAX_RESENDS:
            if this.update(retry_at=None):
                gave_up += 1
                reason = stale or f"still unsent after {alert.send_attempts} attempts"
                level = logging.WARNING if stale else logging.ERROR
                log.log(
                    logging.CRITICAL if alert.kind == Alert.Kind.THREAT else level,
                    "alert %s (%s, mention %s) NOT DELIVERED to %s: %s; last error: %s",
                    alert.pk,
                    alert.kind,
                    alert.mention_id,
                    ", ".join(alert.recipients),
                    reason,
                    alert.send_error or "-",
                )
                audit_record(
                    action="alert.undelivered",
                    obj=alert.mention,
                    data={
                        "kind": alert.kind,
                        "recipients": alert.recipients,
                        "reason": reason,
                        "error": alert.send_error,
                    },
                )
            continue
        if this.update(resends=F("resends") + 1, retry_at=now + ALERT_RESEND_AFTER):
            resent += 1
            log.error(
                "alert %s (%s, mention %s): email still unsent after %d attempts (%s);"
                " queued again (%d of %d)",
                alert.pk,
                alert.kind,
                alert.mention_id,
                alert.send_attempts,
                alert.send_error or "its task never ran",
                alert.resends + 1,
                ALERT_MAX_RESENDS,
            )
            audit_record(
                action="alert.resend",
                obj=alert.mention,
                data={"kind": alert.kind, "attempts": alert.send_attempts},
            )
            enqueue("inbox.services.alert_send", alert.pk)
    return {"resent": resent, "undelivered": gave_up}


def _alert_superseded(alert: Alert, now: dt.datetime) -> str:
    """Why a deadline email no longer needs sending ('' if it still does). Threats always do."""
    mention = alert.mention
    if alert.kind == Alert.Kind.THREAT:
        return ""
    if mention.first_response_at is not None:
        return "no longer needed: the mention has been answered"
    if alert.kind == Alert.Kind.REMINDER and mention.due_at and mention.due_at <= now:
        return "no longer needed: the deadline has passed (the overdue alert follows)"
    return ""


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
