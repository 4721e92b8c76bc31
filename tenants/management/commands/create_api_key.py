import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tenants import services
from tenants.models import Practice
from tenants.selectors import practice_url


class Command(BaseCommand):
    help = "Create an API key for a practice. The key is shown once and stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="default", help="What the key is for")
        parser.add_argument(
            "--scope",
            default="write",
            choices=["read", "write", "admin"],
            help="read: the inbox; write: also push, reply, assign (default); admin: also settings",
        )
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Expire after this many days"
        )

    def handle(self, *args, **opts):
        practice = Practice.objects.exclude(schema_name="public").filter(slug=opts["slug"]).first()
        if practice is None:
            raise CommandError(
                f"No practice with slug '{opts['slug']}'. Create it with: "
                f"python manage.py create_practice {opts['slug']} --name ... --owner-email ..."
            )
        expires = None
        if opts["expires_days"] is not None:
            if opts["expires_days"] < 1:
                raise CommandError("--expires-days must be 1 or more.")
            expires = timezone.now() + dt.timedelta(days=opts["expires_days"])
        _, raw = services.api_key_create(
            practice=practice, name=opts["name"], scope=opts["scope"], expires_at=expires
        )
        self.stdout.write(raw)
        self.stderr.write(
            f"API key for {practice.name}: copy it now, it is not shown again.\n"
            f"Use it as: Authorization: Api-Key <key> on {practice_url(practice, '/api/v1/')}"
        )
