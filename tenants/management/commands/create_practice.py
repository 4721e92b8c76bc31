import time

from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Agency, User
from tenants.selectors import practice_url


class Command(BaseCommand):
    help = "Create a practice: its own schema (cloned from the template), domain and owner."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Becomes the subdomain, e.g. 'smile' -> smile.localhost")
        parser.add_argument("--name", required=True, help='Display name, e.g. "Smile Dental"')
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="Only for new users; omit to set it later.")
        parser.add_argument("--agency", help="Slug of the agency this practice is a client of")

    def handle(self, *args, **opts):
        agency = None
        if opts["agency"]:
            agency = Agency.objects.filter(slug=opts["agency"]).first()
            if agency is None:
                raise CommandError(f"No agency with slug '{opts['agency']}'.")
        started = time.perf_counter()
        try:
            practice = services.practice_create(
                slug=opts["slug"],
                name=opts["name"],
                owner_email=opts["owner_email"],
                owner_password=opts["owner_password"],
                agency=agency,
            )
        except services.ProvisioningError as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {practice.name} (schema {practice.schema_name}) in {elapsed:.2f} s.\n"
                f"Open it at {practice_url(practice)} ; owner: {opts['owner_email']}"
            )
        )
        owner = User.objects.get(email=opts["owner_email"].strip().lower())
        if not owner.has_usable_password():
            # Without a password the owner could not log in: invite them (email, and the
            # link here for whoever runs this).
            services.invite_queue(user=owner, practice=practice, invited_by=None)
            self.stdout.write(
                f"The owner has no password yet: an invitation is queued by email.\n"
                f"Or open this single-use link to set it: {services.invite_link(user=owner)}"
            )
