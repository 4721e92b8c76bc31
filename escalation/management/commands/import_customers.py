"""manage.py import_customers <practice> <file.csv>: replace the practice's customer list."""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from escalation import customers
from escalation.errors import Refused
from escalation.permissions import Operator
from tenants.models import Practice

HELP = """Replace a practice's customer list with a CSV export of its customers.

Columns (header row required, any order and case): name, or first_name and last_name;
email; phone; optionally external_id (rows sharing one are one customer). Other columns
are ignored and named in the summary. Only keyed hashes of the normalised identifiers are
stored; the previous list stays in use until this one is complete.

Rows without a usable name (two words), email or phone number are rejected: with
--rejected FILE they are written there (a local file of yours, with their line numbers),
so you can fix and re-import them. Exit status 1 when any row was rejected.
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("practice", help="the practice's slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--rejected", type=Path, help="write rejected rows to this CSV")

    def handle(self, *args, **opts):
        practice = Practice.objects.filter(slug=opts["practice"]).first()
        if practice is None or practice.schema_name == "public":
            raise CommandError(f"No practice with slug {opts['practice']!r}.")
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        size = path.stat().st_size
        rejected_fh = writer = None
        if opts["rejected"]:
            rejected_fh = opts["rejected"].open("w", newline="", encoding="utf-8")
            writer = csv.writer(rejected_fh)
            writer.writerow(["line", "reason", "row..."])

        def on_rejected(line: int, row: list[str], reason: str) -> None:
            if writer is not None:
                writer.writerow([line, reason, *row])

        try:
            with (
                tenant_context(practice),
                path.open("rb") as raw,
                tqdm(
                    total=size,
                    unit="B",
                    unit_scale=True,
                    desc="customers",
                    disable=opts["verbosity"] == 0,
                ) as bar,
            ):
                lines = _decoded_lines(raw, bar)
                imported = customers.customer_list_import(
                    lines=lines,
                    actor=Operator("command line (import_customers)"),
                    on_rejected=on_rejected,
                )
        except (customers.CustomerImportError, Refused) as exc:
            raise CommandError(str(exc)) from None
        finally:
            if rejected_fh is not None:
                rejected_fh.close()
        self.stdout.write(
            f"{practice.name}: {imported.customers} customers from {imported.rows_read} rows "
            f"({imported.names} with a name, {imported.emails} with an email, "
            f"{imported.phones} with a phone); {imported.rejected} rejected."
        )
        self.stdout.write(f"Columns used: {', '.join(imported.columns_used)}")
        if imported.columns_ignored:
            self.stdout.write(f"Columns ignored: {', '.join(imported.columns_ignored)}")
        for line, reason in imported.rejections[:20]:
            self.stdout.write(f"  line {line}: {reason}")
        if imported.rejected:
            where = f" (written to {opts['rejected']})" if opts["rejected"] else ""
            self.stderr.write(f"{imported.rejected} rows rejected{where}.")
            raise SystemExit(1)


def _decoded_lines(raw, bar):
    """Lines of the file as text (UTF-8, with or without BOM; else Latin-1), streamed,
    moving the progress bar by the bytes read."""
    encoding = "utf-8-sig"
    for number, line in enumerate(raw):
        bar.update(len(line))
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            encoding = "latin-1"
            text = line.decode(encoding)
        if number and text.startswith("\ufeff"):
            text = text[1:]
        yield text
