"""manage.py import_mentions <practice> <file> --format ...: bulk import (see inbox.importing)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context
from tqdm import tqdm

from inbox.sources import importing
from tenants.models import Practice

SHOW_ERRORS = 20
# Analysis is the costliest step; helper processes overlap it with the writes. Two beat
# one in 6 of 6 interleaved runs on 2 cores (+4 to +18%, bench/IMPORT.md).
DEFAULT_WORKERS = 2 if (os.cpu_count() or 1) > 1 else 0
HELP = """Import mentions from a file into one practice.

Each chunk of --batch rows is stored first (a raw payload, source import:<format>) and
then processed like any other delivery: de-duplicated on platform + external id, matched
against listening rules, analysed, assigned. Importing the same file again creates
nothing new. A chunk that fails is kept with its error: fix the cause and run
`manage.py reprocess <practice>`.

Formats (--format; .csv, .jsonl and .ndjson files need none):
  csv          header row + columns: platform, external_id, posted_at, text,
               author_name, author_handle, rating, url, account, kind
  jsonl        JSON Lines, one generic-format mention per line (as the REST API takes)
  google       a v4 reviews.list response, or JSON Lines of Review objects/responses
  meta         a webhook POST body, or JSON Lines of webhook bodies
  x            a v2 tweets response (search/recent), or JSON Lines of responses
  yelp         a Fusion reviews response, or JSON Lines; needs --account BUSINESS_ID
  tripadvisor  a Content API reviews response, or JSON Lines; needs --account LOCATION_ID
JSON files whose first line is a complete JSON value are read as JSON Lines; otherwise
as one document. Errors name the file's own line numbers. Mentions posted more than 7 days
ago are filed as imported history: no reply deadline, not counted as open work. Exit
status: 0 when every row was stored or already known, 1 when some were rejected or a
chunk failed.

Example:
  python manage.py import_mentions smile reviews.csv --errors-file rejected.csv
  python manage.py import_mentions smile yelp.json --format yelp --account smile-oslo
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("practice", help="Practice slug (its subdomain)")
        parser.add_argument("file", help="Path of the file to import (UTF-8)")
        parser.add_argument(
            "--format",
            dest="fmt",
            help=f"One of {', '.join(importing.FORMATS)} (default: from the file extension)",
        )
        parser.add_argument(
            "--account",
            default="",
            help="The practice's account the file is about: Yelp business id, Tripadvisor "
            "location id (required for those), or X user id (optional)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=importing.DEFAULT_BATCH,
            help=f"Rows per stored chunk (default {importing.DEFAULT_BATCH})",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help="Analyse the texts of the next chunks in this many extra processes while "
            "this one writes (default %(default)s; 0: all in this process). The database "
            "writes stay in one process. See bench/IMPORT.md",
        )
        parser.add_argument(
            "--errors-file", help="Write every rejected row (CSV: line,reason) to this path"
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args, **opts):
        practice = _practice(opts["practice"])
        path = Path(opts["file"])
        fmt = opts["fmt"] or importing.EXTENSIONS.get(path.suffix.lower())
        if not fmt:
            raise CommandError(
                f"Give --format for {path.name}: one of {', '.join(importing.FORMATS)}."
            )
        fmt = fmt.strip().lower()
        try:
            importing.options_check(fmt=fmt, account=opts["account"], batch=opts["batch"])
            size = os.stat(path).st_size
        except importing.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None

        bar = tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            file=self.stderr._out,
            disable=opts["no_progress"],
        )
        try:
            with tenant_context(practice):
                report = importing.import_file(
                    path,
                    fmt=fmt,
                    account=opts["account"].strip(),
                    batch=opts["batch"],
                    workers=max(0, opts["workers"]),
                    progress=bar.update,
                )
        except importing.ImportFileError as exc:
            raise CommandError(f"Nothing imported: {exc}") from None
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted. Chunks already processed are kept; chunks stored but not yet "
                f"processed are finished by `python manage.py reprocess {practice.slug} "
                "--status pending` (or import the file again: stored rows count as duplicates)."
            ) from None
        finally:
            bar.close()
        self._summary(practice, report, opts)
        if not report.ok:
            problems = []
            if report.rejected:
                problems.append(f"{len(report.rejected):,} row(s) rejected")
            if report.failed_chunks:
                problems.append(f"{len(report.failed_chunks)} chunk(s) failed")
            raise CommandError(" and ".join(problems) + " (see the summary above)", returncode=1)

    def _summary(self, practice: Practice, report: importing.ImportReport, opts) -> None:
        out = self.stdout.write
        rate = report.rows / report.seconds if report.seconds else 0.0
        out(
            f"Imported {report.file} ({report.format}) into {practice.slug}: {report.rows:,} "
            f"row(s) in {report.chunks} chunk(s), {report.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        for warning in report.warnings:
            out(self.style.WARNING(f"  warning: {warning}"))
        out(f"  accepted (created): {report.created:>8,}")
        out(f"  updated:            {report.updated:>8,}")
        out(f"  duplicates:         {report.duplicates:>8,}")
        out(f"  skipped:            {report.skipped:>8,}  (matched no listening rule)")
        if report.ignored:
            out(f"  ignored:            {report.ignored:>8,}  (reactions, likes, messages)")
        out(f"  rejected:           {len(report.rejected):>8,}")
        if report.rejected:
            shown = report.rejected[:SHOW_ERRORS]
            out(self.style.ERROR(f"Rejected rows (first {len(shown)} of {len(report.rejected)}):"))
            for row in shown:
                out(f"  line {row.line}: {row.reason}")
        if opts["errors_file"]:
            with open(opts["errors_file"], "w", encoding="utf-8", newline="") as fh:
                count = importing.errors_write(report.rejected, fh)
            out(f"All {count:,} rejected row(s) written to {opts['errors_file']}.")
        elif len(report.rejected) > SHOW_ERRORS:
            out("Use --errors-file PATH for the full list.")
        for chunk in report.failed_chunks:
            out(
                self.style.ERROR(
                    f"Chunk of lines {chunk.first_line}-{chunk.last_line} (raw payload "
                    f"{chunk.raw_id}) failed: {chunk.failed[:500]}"
                )
            )
            if chunk.retry_at is not None:
                when = timezone.localtime(chunk.retry_at).strftime("%Y-%m-%d %H:%M %Z")
                out(f"  A temporary failure: the worker tries it again by itself at {when}.")
        if report.failed_chunks:
            out(
                "Failed chunks are stored: fix the cause, then run "
                f"`python manage.py reprocess {practice.slug}`."
            )
        if report.rejected:
            out(
                "Some rows were rejected: fix them and import the file again (rows already "
                "stored count as duplicates)."
            )
        if report.ok:
            out(self.style.SUCCESS("All rows were stored or already known."))


def _practice(slug: str) -> Practice:
    practice = Practice.objects.exclude(schema_name="public").filter(slug=slug).first()
    if practice is not None:
        return practice
    slugs = list(
        Practice.objects.exclude(schema_name="public")
        .order_by("slug")
        .values_list("slug", flat=True)[:21]
    )
    known = ", ".join(slugs[:20]) + (", ..." if len(slugs) > 20 else "") if slugs else "none yet"
    raise CommandError(
        f"No practice with slug {slug!r} (known: {known}). List them in the admin "
        "(/admin/tenants/practice/); create one with `python manage.py create_practice "
        '<slug> --name "..." --owner-email owner@example.com`.'
    )
