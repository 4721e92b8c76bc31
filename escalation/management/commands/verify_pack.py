"""manage.py verify_pack <pack.zip>: check an evidence pack against its manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from escalation.evidence import pack_verify


class Command(BaseCommand):
    help = (
        "Check every file of an evidence pack against the SHA-256 and size in its "
        "manifest.json, and print what differs. Exit status 1 on any difference. The "
        "pack's own SHA-256 is printed too: compare it with the one the audit trail "
        "recorded when the pack was downloaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("pack", type=Path)

    def handle(self, *args, **opts):
        path: Path = opts["pack"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        data = path.read_bytes()
        self.stdout.write(f"pack SHA-256: {hashlib.sha256(data).hexdigest()}")
        problems = pack_verify(data)
        if problems:
            for problem in problems:
                self.stdout.write(f"DIFFERS: {problem}")
            self.stderr.write(f"{path}: {len(problems)} difference(s) from its manifest.")
            raise SystemExit(1)
        self.stdout.write(f"{path}: every file matches its manifest.")
