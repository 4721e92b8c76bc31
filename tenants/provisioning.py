"""Fast, safe practice provisioning by cloning a kept-migrated template schema.

Cloning skips replaying every migration (the cost grows with the migration count), but
django-tenants marks all migrations as applied on the clone: cloning a stale template
would silently leave tables missing. So `template_ensure` migrates the template
whenever its migration plan is not empty, right before each clone.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context, schema_exists


def template_schema() -> str:
    return settings.TENANT_BASE_SCHEMA


def _template_is_current(schema: str) -> bool:
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        return not executor.migration_plan(targets)


def template_ensure(*, verbosity: int = 0) -> bool:
    """Create or migrate the template schema. Returns True if it had to change."""
    schema = template_schema()
    if schema_exists(schema) and _template_is_current(schema):
        return False
    if not schema_exists(schema):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command(
        "migrate_schemas",
        schema_name=schema,
        tenant=True,
        interactive=False,
        verbosity=verbosity,
    )
    return True
