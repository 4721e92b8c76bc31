from django.core.management.base import BaseCommand
from django_q.models import Schedule

# One fan-out schedule per kind of periodic work, never one per practice: the
# django-q2 scheduler locks every due schedule in one transaction.
SCHEDULES = [
    ("deadline sweep", "inbox.tasks.deadline_sweep", 1),
    ("poll sources", "inbox.tasks.poll_due_sources", 5),
]


class Command(BaseCommand):
    help = "Create or update the worker's periodic fan-out schedules (idempotent)."

    def handle(self, *args, **opts):
        for name, func, minutes in SCHEDULES:
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": "reputation.tasks.fan_out",
                    "args": repr(func) + ",",
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
        if opts["verbosity"]:
            self.stdout.write(f"==> {len(SCHEDULES)} worker schedules in place")
