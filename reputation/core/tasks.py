"""Tenant-aware background work on django-q2.

django-q2 knows nothing about schemas: a task would run in the public schema. Every
tenant task is therefore enqueued through `enqueue`, which carries the schema name,
and runs through `run_in_tenant`, which refuses to run without one.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django_q.tasks import async_task
from django_tenants.utils import get_tenant_model, schema_context

log = logging.getLogger(__name__)


class MissingTenant(RuntimeError):
    pass


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def enqueue(func_path: str, *args: Any, schema_name: str | None = None, **q_options: Any) -> None:
    """Queue `func_path(*args)` for the current (or given) tenant, after commit."""
    schema = schema_name or connection.schema_name
    if not schema or schema == "public":
        raise MissingTenant(f"{func_path} must be enqueued inside a practice's schema")

    def send() -> None:
        async_task("reputation.core.tasks.run_in_tenant", schema, func_path, *args, **q_options)

    transaction.on_commit(send)


def run_in_tenant(schema_name: str, func_path: str, *args: Any) -> Any:
    if not schema_name or schema_name == "public":
        raise MissingTenant(f"{func_path} was queued without a practice schema")
    with schema_context(schema_name):
        result = _resolve(func_path)(*args)
    # django-q2 pickles results into its task table: keep them small (ids, counts).
    return None if isinstance(result, Model) else result


def fan_out(func_path: str) -> int:
    """Run from one schedule: queue `func_path` once per practice.

    One schedule for all practices, not one each: the django-q2 scheduler locks all
    due schedules in one transaction.
    """
    count = 0
    schemas = (
        get_tenant_model()
        .objects.exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        async_task("reputation.core.tasks.run_in_tenant", schema, func_path)
        count += 1
    log.info("fan-out %s to %d practices", func_path, count)
    return count
