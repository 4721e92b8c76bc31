"""manage.py verify_audit [<slug> ...]: walk each practice's audit chain; exit 1 and name
the first broken link (an edited, deleted, inserted or reordered event) if any."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import get_tenant_model, schema_context

from reputation.audit.chain import chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain of every practice (or the ones named)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("slugs", nargs="*", help="practice slugs (default: all)")

    def handle(self, *args: Any, **opts: Any) -> None:
        practices = get_tenant_model().objects.exclude(schema_name="public")
        if opts["slugs"]:
            practices = practices.filter(slug__in=opts["slugs"])
            missing = set(opts["slugs"]) - set(practices.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No practice with slug {', '.join(sorted(missing))}.")
        broken = 0
        total = 0
        started = time.perf_counter()
        for practice in practices.order_by("slug"):
            with schema_context(practice.schema_name):
                result = chain_verify()
            total += result.events
            if result.ok:
                self.stdout.write(f"{practice.slug}: {result.events:,} events, chain intact")
            else:
                broken += 1
                self.stderr.write(f"{practice.slug}: BROKEN at {result.first_break}")
        connection.set_schema_to_public()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{total:,} events in {seconds:.2f} s ({total / seconds if seconds else 0:,.0f}/s)"
        )
        if broken:
            raise CommandError(
                f"{broken} practice(s) with a broken audit chain: the events named above were"
                " changed, removed or reordered outside the app. Restore them from a backup,"
                " and find out who had direct database access."
            )
