"""django-q2 entry points for a practice. Each runs inside the practice's schema
(reputation.tasks.run_in_tenant) and is safe to run twice."""

from __future__ import annotations

import logging

from django.utils import timezone

from inbox import services
from inbox.models import Alert, Mention
from inbox.selectors import OPEN_STATUSES

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
                [mention.assignee.email] if mention.assignee else services.practice_owner_emails()
            )
            services.alert_raise(mention, kind=Alert.Kind.REMINDER, recipients=recipients)
            reminded += 1
    for mention in unanswered.filter(overdue_alerted_at__isnull=True, due_at__lte=now):
        if Mention.objects.filter(pk=mention.pk, overdue_alerted_at__isnull=True).update(
            overdue_alerted_at=now
        ):
            services.alert_raise(
                mention, kind=Alert.Kind.OVERDUE, recipients=services.practice_manager_emails()
            )
            overdue += 1
    if reminded or overdue:
        log.info("deadline sweep: %d reminders, %d overdue alerts", reminded, overdue)
    return {"reminded": reminded, "overdue": overdue}


def poll_due_sources() -> int:
    from inbox.polling import poll_due_accounts

    return poll_due_accounts()


def raw_payloads_sweep() -> int:
    """Process payloads stored but never processed (a worker died after the commit that
    stored them, before processing). Nothing accepted is left behind."""
    from inbox.models import RawPayload

    stale = RawPayload.objects.filter(
        status=RawPayload.Status.PENDING,
        received_at__lt=timezone.now() - timezone.timedelta(minutes=1),
    ).values_list("pk", flat=True)[:500]
    done = 0
    for raw_id in list(stale):
        services.raw_payload_process(raw_id)
        done += 1
    if done:
        log.warning("processed %d payloads left pending", done)
    return done
