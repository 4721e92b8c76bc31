from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants import provisioning, services


class Command(BaseCommand):
    help = "Migrate the shared schema, the practice template and every practice (idempotent)."

    def handle(self, *args, **opts):
        verbosity = opts["verbosity"]
        self.stdout.write("==> Migrating the shared schema")
        call_command(
            "migrate_schemas", shared=True, interactive=False, verbosity=max(verbosity - 1, 0)
        )
        services.public_tenant_ensure()
        # The shared cache's table (throttles hold across processes); idempotent.
        call_command("createcachetable", verbosity=max(verbosity - 1, 0))
        self.stdout.write("==> Migrating the practice template")
        provisioning.template_ensure(verbosity=max(verbosity - 1, 0))
        self.stdout.write("==> Migrating practices")
        call_command(
            "migrate_schemas", tenant=True, interactive=False, verbosity=max(verbosity - 1, 0)
        )
        call_command("setup_schedules", verbosity=verbosity)
