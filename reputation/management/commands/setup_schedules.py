from django.core.management.base import BaseCommand
from django_q.models import Schedule

# One fan-out schedule per kind of periodic work, never one per practice: the
# django-q2 scheduler locks every due schedule in one transaction.
SCHEDULES = [
    # Deadline reminders and overdue alerts, then alert emails still unsent.
    ("deadline sweep", "inbox.tasks.deadline_and_alert_sweep", 1),
    ("poll sources", "inbox.tasks.poll_due_sources", 5),
    # Tokens expiring within 10 minutes are refreshed; Pages not yet subscribed, subscribed.
    ("account credentials", "inbox.tasks.credentials_sweep", 5),
    # Payloads left pending, due for an automatic retry, or claimed by a dead worker.
    ("stale payloads", "inbox.tasks.raw_payloads_sweep", 1),
    # Platform reports without a decision, escalations past due, unsent notices.
    ("escalation follow-ups", "escalation.tasks.followup_sweep", 15),
]
# Public-schema jobs: they run as they are, not fanned out per practice.
PUBLIC_SCHEDULES = [
    ("stale webhook deliveries", "inbox.sources.deliveries.deliveries_sweep", 1),
    ("unsent service emails", "tenants.services.outbound_emails_sweep", 5),
]


class Command(BaseCommand):
    help = "Create or update the worker's periodic fan-out schedules (idempotent)."

    def handle(self, *args, **opts):
        for name, func, minutes in SCHEDULES:
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": "reputation.core.tasks.fan_out",
                    "args": repr(func) + ",",
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
        for name, func, minutes in PUBLIC_SCHEDULES:
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "args": None,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
        if opts["verbosity"]:
            count = len(SCHEDULES) + len(PUBLIC_SCHEDULES)
            self.stdout.write(f"==> {count} worker schedules in place")
