from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Practice
from tenants.selectors import practice_url


class Command(BaseCommand):
    help = "Create an API key for a practice. The key is shown once and stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="default", help="What the key is for")

    def handle(self, *args, **opts):
        practice = Practice.objects.exclude(schema_name="public").filter(slug=opts["slug"]).first()
        if practice is None:
            raise CommandError(
                f"No practice with slug '{opts['slug']}'. Create it with: "
                f"python manage.py create_practice {opts['slug']} --name ... --owner-email ..."
            )
        _, raw = services.api_key_create(practice=practice, name=opts["name"])
        self.stdout.write(raw)
        self.stderr.write(
            f"API key for {practice.name}: copy it now, it is not shown again.\n"
            f"Use it as: Authorization: Api-Key <key> on {practice_url(practice, '/api/v1/')}"
        )
