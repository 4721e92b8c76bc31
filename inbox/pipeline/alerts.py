"""Step 6, alerts: a threat emails the owners at once; deadline reminders and overdue
alerts come from the sweep (inbox.tasks). Each alert is a row, claimed and sent by a
worker, and shown as undelivered in the app when every retry failed."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from inbox.models import Alert, Mention
from reputation.audit.services import audit_record
from reputation.core.tasks import enqueue
from tenants.models import Membership
from tenants.selectors import current_practice, practice_url

log = logging.getLogger(__name__)


def practice_owner_emails() -> list[str]:
    return _member_emails(("owner",))


def practice_manager_emails() -> list[str]:
    return _member_emails(("owner", "manager"))


def _member_emails(roles: tuple[str, ...]) -> list[str]:
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
    enqueue("inbox.pipeline.alerts.alert_send", alert.pk)
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
            enqueue("inbox.pipeline.alerts.alert_send", alert.pk)
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
    # The practice's own time, named, as on its pages: staff read both side by side.
    tz = ZoneInfo(getattr(practice, "timezone", "") or "UTC")
    body += f"Posted: {_local(mention.posted_at, tz)}\n"
    if mention.due_at:
        body += f"Reply due: {_local(mention.due_at, tz)}\n"
    body += f"\nOpen it: {practice_url(practice, f'/inbox/{mention.pk}/')}\n"
    send_mail(subject, body, None, alert.recipients, fail_silently=False)


def _local(moment: dt.datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({moment.astimezone(dt.UTC):%H:%M} UTC)"
