"""`manage.py check_reply`: the reply guards on JSON lines, without a database.

    echo '{"id": 1, "text": "Your root canal went fine.", "visibility": "public"}' \
        | python manage.py check_reply

Input, one JSON object per line: {"id": any, "text": "...", "mention": "the post being
answered (optional)", "visibility": "public" | "private" (default public), "previous":
["earlier replies of the practice", ...] (optional)}. Output, one line each, in order:
{"id": ..., "blocked": true | false, "problems": [{"code", "severity", "phrase", "start",
"end", "suggestion"}]}. With a mention, the analyser decides whether the reply needs a
cooling-off (a threat, harassment or a strongly negative post, at the default threshold).
A line that cannot be read is answered {"id": ..., "line": N, "error": "..."}, reported
on stderr, and makes the exit status 1; it never stops the run.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from inbox import guards


def _parse(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if not isinstance(obj.get("text"), str):
        raise ValueError('"text" is required and must be a string')
    if not isinstance(obj.get("mention", ""), str):
        raise ValueError('"mention" must be a string')
    if obj.get("visibility", "public") not in (guards.PUBLIC, guards.PRIVATE):
        raise ValueError('"visibility" must be "public" or "private"')
    previous = obj.get("previous", [])
    if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
        raise ValueError('"previous" must be a list of strings')
    return obj


class Command(BaseCommand):
    help = (
        'Read JSON lines {"id", "text", "mention", "visibility", "previous"} from stdin and '
        'write {"id", "blocked", "problems"} for each: the reply guards, no database needed.'
    )
    requires_system_checks: list[str] = []  # must not need the database
    requires_migrations_checks = False

    def handle(self, *args, **options) -> None:
        stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        bad = 0
        analyser = None
        for number, raw in enumerate(stdin, start=1):
            if not (raw.strip() if isinstance(raw, (str, bytes)) else raw):
                continue  # blank lines between records
            try:
                obj = _parse(raw)
            except ValueError as exc:
                bad += 1
                self.stderr.write(f"line {number}: {exc}")
                self._emit({"id": None, "line": number, "error": str(exc)})
                continue
            category, sentiment = "", None
            if obj.get("mention"):
                if analyser is None:
                    from reputation.analysis import get_analyser

                    analyser = get_analyser()
                analysis = analyser.analyse(obj["mention"])
                category, sentiment = analysis.category, analysis.sentiment
            facts = guards.Facts(
                visibility=obj.get("visibility", guards.PUBLIC),
                mention_text=obj.get("mention", ""),
                mention_category=category,
                mention_sentiment=sentiment,
                previous=obj.get("previous", []),
            )
            problems = guards.reply_check(obj["text"], facts)
            self._emit(
                {
                    "id": obj.get("id"),
                    "blocked": any(p.blocks for p in problems),
                    "problems": [p.as_dict() for p in problems],
                }
            )
        if bad:
            raise CommandError(f"{bad} malformed line(s); each was answered with an error line")

    def _emit(self, row: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(row, ensure_ascii=False))
        self.stdout.flush()
