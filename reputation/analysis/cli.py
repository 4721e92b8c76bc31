"""JSON-lines in, JSON-lines out: the core of `manage.py analyze`, usable without Django.

Input: one JSON object per line, {"text": "...", "rating": 4}; "rating" is optional
(1..5 or null). Output: one line per input line, in the same order: the analysis
(`Analysis.as_dict()`), or {"line": N, "error": "..."} for a line that could not be
read. Bad lines are also reported on stderr and make the exit status 1, but never stop
the run: one broken line must not lose the thousands after it.

Input is streamed: lines are read, analysed and written in batches of BATCH_SIZE, so
memory stays flat whatever the input size and output appears as work progresses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from .base import Analyser
from .registry import get_analyser

BATCH_SIZE = 256


def _parse(raw: str | bytes) -> tuple[str, int | None]:
    """(text, rating) from one input line, or ValueError with a message for a person."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    line = raw.strip()
    if not line:
        raise ValueError("empty line (expected a JSON object)")
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" is required and must be a string')
    rating = obj.get("rating")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise ValueError(f'"rating" must be an integer 1..5 or null, got {rating!r}')
    return text, rating


def _analyse_batch(analyser: Analyser, batch: list[tuple[str, int | None]]) -> list[dict]:
    # Unrated texts go through analyse_many (the protocol's batch entry point); rated
    # ones need analyse(rating=...). Results are put back in input order.
    results: list[dict | None] = [None] * len(batch)
    unrated = [i for i, (_, rating) in enumerate(batch) if rating is None]
    analysed = analyser.analyse_many(batch[i][0] for i in unrated)
    for i, analysis in zip(unrated, analysed, strict=True):
        results[i] = analysis.as_dict()
    for i, (text, rating) in enumerate(batch):
        if rating is not None:
            results[i] = analyser.analyse(text, rating=rating).as_dict()
    return [r for r in results if r is not None]


def run(
    stdin: Iterable[str | bytes],
    stdout: IO[str],
    stderr: IO[str],
    *,
    analyser: Analyser | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Analyse JSON lines from `stdin` to `stdout`; return 0, or 1 if any line was bad."""
    analyser = analyser or get_analyser()
    bad = 0
    # pending holds, in input order, either a parsed item or an error dict
    pending: list[tuple[str, int | None] | dict] = []

    def flush() -> None:
        items = [p for p in pending if isinstance(p, tuple)]
        analysed = iter(_analyse_batch(analyser, items))
        out = []
        for p in pending:
            row = next(analysed) if isinstance(p, tuple) else p
            out.append(json.dumps(row, ensure_ascii=False))
        if out:
            stdout.write("\n".join(out) + "\n")
            stdout.flush()
        pending.clear()

    for number, raw in enumerate(stdin, start=1):
        try:
            pending.append(_parse(raw))
        except ValueError as exc:
            bad += 1
            pending.append({"line": number, "error": str(exc)})
            stderr.write(f"line {number}: {exc}\n")
        if len(pending) >= batch_size:
            flush()
    flush()
    if bad:
        stderr.write(f"{bad} malformed line(s); each was answered with an error line\n")
    return 1 if bad else 0
