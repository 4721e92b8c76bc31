from django.core.management.base import BaseCommand

from reputation.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Create demo data: the agency Northlight Marketing, its clients Fjord Dental Clinic "
        "and Glow Aesthetics, their users, accounts, listening rules and mentions. "
        "Idempotent: run it again and nothing changes."
    )

    def handle(self, *args, **opts):
        summary = demo_seed(stdout=self.stdout)
        if summary.created_anything:
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        else:
            self.stdout.write(
                self.style.SUCCESS("Demo data was already complete: nothing created.")
            )
