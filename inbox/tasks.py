"""django-q2 entry points for a practice. Each runs inside the practice's schema
(reputation.core.tasks.run_in_tenant) and is safe to run twice."""

from __future__ import annotations

import logging

from django.utils import timezone

from inbox import connecting, publishing, services
from inbox.models import Alert, Mention
from inbox.pipeline import accept, alerts
from inbox.selectors import OPEN_STATUSES
from inbox.sources import polling

log = logging.getLogger(__name__)


def deadline_sweep() -> dict[str, int]:
    """Remind the assignee before a deadline; alert the managers once it is missed."""
    now = timezone.now()
    settings = services.inbox_settings_get()
    unanswered = Mention.objects.filter(
        status__in=OPEN_STATUSES, first_response_at__isnull=True, due_at__isnull=False
    )
    reminded = overdue = 0
    lead = timezone.timedelta(minutes=settings.reminder_minutes_before)
    for mention in unanswered.filter(
        reminder_sent_at__isnull=True, due_at__gt=now, due_at__lte=now + lead
    ).select_related("assignee", "account__owner"):
        # Compare-and-swap so two sweeps never remind twice.
        if Mention.objects.filter(pk=mention.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=now
        ):
            recipients = (
                [mention.assignee.email] if mention.assignee else alerts.practice_owner_emails()
            )
            alerts.alert_raise(mention, kind=Alert.Kind.REMINDER, recipients=recipients)
            reminded += 1
    for mention in unanswered.filter(overdue_alerted_at__isnull=True, due_at__lte=now):
        if Mention.objects.filter(pk=mention.pk, overdue_alerted_at__isnull=True).update(
            overdue_alerted_at=now
        ):
            alerts.alert_raise(
                mention, kind=Alert.Kind.OVERDUE, recipients=alerts.practice_manager_emails()
            )
            overdue += 1
    if reminded or overdue:
        log.info("deadline sweep: %d reminders, %d overdue alerts", reminded, overdue)
    return {"reminded": reminded, "overdue": overdue}


def poll_due_sources() -> int:
    return polling.poll_due_accounts()


def raw_payloads_sweep() -> dict[str, int]:
    """Nothing accepted is left behind: process payloads stored but never processed (the
    worker died after the commit that stored them), retry those that failed for a
    temporary reason once their back-off has passed, and take back claims of workers
    that died mid-way. See accept.raw_payloads_due_process."""
    counts = accept.raw_payloads_due_process()
    if any(counts.values()):
        log.warning("raw payload sweep: %s", counts)
    return counts


def alert_emails_sweep() -> dict[str, int]:
    """Queue again the alert emails still unsent after all their retries (capped)."""
    return alerts.alert_emails_resend_due()


def outbox_sweep() -> int:
    """Replies whose cooling-off has ended, retries whose back-off has passed, and claims
    of workers that died mid-publish: queue them (inbox.publishing)."""
    return publishing.outbox_due_send()


def credentials_sweep() -> dict[str, int]:
    """Every 5 minutes: refresh tokens that expire within 10 minutes, subscribe Pages to
    the webhooks that are not yet (inbox.connecting)."""
    return connecting.credentials_refresh_due()


def facebook_page_subscribe(account_id: int) -> int:
    """After a Page was connected: subscribe it to the app's webhooks."""
    return connecting.facebook_page_subscribe(account_id=account_id)


def deadline_and_alert_sweep() -> dict[str, int]:
    """The once-a-minute "deadline sweep" schedule: deadlines, unsent alert emails, and
    the reply outbox. One fan-out for all, not a schedule (and a task per practice) each."""
    try:
        deadlines = deadline_sweep()
    finally:  # an error in one must not stop the others
        try:
            alerts = alert_emails_sweep()
        finally:
            outbox = outbox_sweep()
    return {**deadlines, **alerts, "outbox": outbox}
