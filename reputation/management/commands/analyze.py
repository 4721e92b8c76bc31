"""`manage.py analyze`: analyse JSON lines from stdin, write JSON lines to stdout.

    echo '{"text": "I will burn this place down", "rating": 1}' | python manage.py analyze

Needs no database (no system checks, no queries), so it also runs where PostgreSQL is
not available. See reputation.analysis.cli for the line format.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from reputation.analysis.cli import BATCH_SIZE, run


class Command(BaseCommand):
    help = (
        'Read JSON lines {"text": ..., "rating": 1-5 (optional)} from stdin and write one '
        "analysis per line (language, sentiment, category, severity, evidence) to stdout."
    )
    requires_system_checks: list[str] = []  # must not need the database or a full setup
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:  # noqa: ANN001 - Django's signature
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"lines analysed per batch before output is flushed (default {BATCH_SIZE})",
        )

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        # Read raw bytes so an undecodable line is reported as that line's error instead
        # of aborting the whole run with a UnicodeDecodeError.
        stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        code = run(stdin, self.stdout, self.stderr, batch_size=options["batch_size"])
        if code:
            raise CommandError("some input lines were malformed (see stderr)", returncode=code)
