"""Bulk import of mentions from a file: the service behind `manage.py import_mentions`.

Raw first, like every other way in: the file is cut into chunks of `batch` rows, each
chunk is stored as ONE RawPayload (source "import:<format>") before anything reads it,
then processed by the normal `raw_payload_process` (parse -> `mentions_ingest`). A chunk
that fails stays visible with its error and is re-processed by `manage.py reprocess`;
re-importing a file is harmless (mentions de-duplicate on platform + external id).

Formats, and what one "row" is (the unit of `batch` and of line numbers in errors):

| format        | file                                                   | row                |
|---------------|--------------------------------------------------------|--------------------|
| `csv`         | the CSV columns of `inbox.platforms.csvfmt`            | one CSV record     |
| `jsonl`       | JSON Lines, one generic mention per line               | one line           |
|               | (`inbox.platforms.generic`)                            |                    |
| `google`      | a v4 reviews.list response (or an array of Review      | one review / line  |
|               | objects), or JSON Lines of Review objects or           |                    |
|               | reviews.list responses                                 |                    |
| `meta`        | one webhook POST body (or an array of them), or JSON   | one entry / line   |
|               | Lines of webhook bodies                                |                    |
| `x`           | a v2 tweets response (search/recent, mentions          | one tweet / line   |
|               | timeline), or JSON Lines of responses (or of tweets)   |                    |
| `yelp`        | a Fusion reviews response, or JSON Lines of responses  | one review / line  |
|               | or of review objects; needs `account` = business id    |                    |
| `tripadvisor` | a Content API reviews response ({"data": [...]}), or   | one review / line  |
|               | JSON Lines of responses or of review objects; needs    |                    |
|               | `account` = location id                                |                    |

JSON files: when the first non-blank line is a complete JSON value the file is read as
JSON Lines (each non-blank line one value, parsed and reported on its own); otherwise
the whole file is one JSON document, split into its reviews / entries / tweets, each
reported at the line where it starts. A document chunk is stored as JSON Lines of those
items (re-serialised, one per line) with `headers["lines"]` mapping them back to the
file's lines. Every error names the file's own 1-based line number.

The file must be UTF-8 (a BOM is fine); this is checked before anything is stored, so a
mis-encoded file is refused as a whole rather than half-imported.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.db import connection, connections

from inbox.models import RawPayload
from inbox.pipeline.accept import raw_payload_accept, raw_payload_process
from inbox.pipeline.chunks import (
    ACCOUNT_REQUIRED,
    FORMATS,
    SOURCE_PREFIX,
    ParsedChunk,
    ParseStats,
    RejectedRow,
    chunk_rows,
    is_header_warning,
    parse_stats,
)
from inbox.platforms import _fields as f
from inbox.platforms import csvfmt
from inbox.platforms.base import NormalisedMention, PayloadError, Platform
from reputation.analysis import Analysis

log = logging.getLogger(__name__)

ACCOUNT_USED = frozenset({"x", "yelp", "tripadvisor"})
DEFAULT_BATCH = 2000
# File extensions that say the format (the command and the web upload guess from them).
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_BATCH = 50_000
# RawPayload.platform of a chunk: csv and jsonl rows name their own platform.
CHUNK_PLATFORM = {
    "csv": Platform.API,
    "jsonl": Platform.API,
    "google": Platform.GOOGLE,
    "meta": Platform.FACEBOOK,
    "x": Platform.X,
    "yelp": Platform.YELP,
    "tripadvisor": Platform.TRIPADVISOR,
}
# The array a JSON document's rows live in, per format.
DOCUMENT_ITEMS = {
    "google": "reviews",
    "meta": "entry",
    "x": "data",
    "yelp": "reviews",
    "tripadvisor": "data",
}

Analyses = dict[tuple[str, int | None], Analysis]


class ImportFileError(Exception):
    """The file (or the options) cannot be imported at all; nothing was stored."""


@dataclasses.dataclass(frozen=True)
class Chunk:
    """`batch` rows of the file, ready to be stored as one RawPayload."""

    body: str
    first_line: int
    last_line: int
    rows: int
    nbytes: int  # bytes of the file this chunk covers (for progress)
    header_lines: int = 0  # csv: physical lines of the header row repeated in `body`
    lines: list[int] | None = None  # document chunks: the file line of each body line
    # Document chunks: where the rows sit in the document ("reviews", "entry", "" for a
    # top-level array), the index of the first, and whether each row was wrapped in a
    # one-element copy of the document (meta entries, X tweets) or stored as it is.
    document_path: str | None = None
    first_index: int = 0
    wrapped: bool = False


@dataclasses.dataclass
class ChunkOutcome:
    raw_id: int
    first_line: int
    last_line: int
    rows: int
    status: str = ""
    valid: int = 0  # mentions the chunk's rows produced
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    skipped: int = 0
    ignored: int = 0  # Meta reactions, likes, direct messages: nothing to ingest
    rejected: list[RejectedRow] = dataclasses.field(default_factory=list)
    failed: str = ""  # the whole chunk failed (kept on its RawPayload for `reprocess`)
    retry_at: dt.datetime | None = None  # a temporary failure: the payload sweep retries then
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    chunks: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    skipped: int = 0
    ignored: int = 0
    rejected: list[RejectedRow] = dataclasses.field(default_factory=list)
    failed_chunks: list[ChunkOutcome] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    raw_ids: list[int] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    # Where the time went, summed over chunks (and over workers when run in parallel):
    # read (split the file), store_raw, parse, analysis, sql (time inside database
    # calls), python (the rest of ingest: dedupe, model building, bookkeeping).
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed_chunks

    def add(self, outcome: ChunkOutcome) -> None:
        self.chunks += 1
        self.rows += outcome.rows
        self.created += outcome.created
        self.updated += outcome.updated
        self.duplicates += outcome.duplicates
        self.skipped += outcome.skipped
        self.ignored += outcome.ignored
        self.rejected.extend(outcome.rejected)
        if outcome.failed:
            self.failed_chunks.append(outcome)
        for key, value in outcome.seconds.items():
            self.timings[key] = self.timings.get(key, 0.0) + value


# ---------------------------------------------------------------- the service


def import_file(
    path: str | os.PathLike[str],
    *,
    fmt: str,
    account: str = "",
    batch: int = DEFAULT_BATCH,
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file into the current practice schema (the caller sets tenant_context).

    Raises ImportFileError when the file or the options are unusable (nothing stored).
    Row problems never raise: they are in the report (`rejected`, `failed_chunks`).
    `progress(n)` is called with the number of file bytes each finished chunk covered.

    `workers` > 0 analyses the texts of the next chunks in that many forked processes
    while this one writes the current chunk: the analyser is the costliest step. The
    workers never touch the database; every write stays in this process and in file
    order (parallel writers deadlocked on authors shared between chunks).
    """
    schema = connection.schema_name
    if not schema or schema == "public":
        raise ImportFileError("imports run inside a practice's schema (use tenant_context)")
    options_check(fmt=fmt, account=account, batch=batch)
    file_path = Path(path)
    report = ImportReport(file=file_path.name, format=fmt)
    started = time.perf_counter()
    chunks = read_chunks(file_path, fmt=fmt, batch=batch, warnings=report.warnings)
    _add_time(report.timings, "read", time.perf_counter() - started)
    headers = {"file": file_path.name, "format": fmt}
    if account:
        headers["account"] = account
    runner = _Pipeline(fmt, workers)
    completed = False
    try:
        while True:
            t0 = time.perf_counter()
            chunk = next(chunks, None)
            t1 = time.perf_counter()
            _add_time(report.timings, "read", t1 - t0)
            if chunk is None:
                break
            chunk_headers = _chunk_headers(chunk, headers)
            raw_id = chunk_store(chunk, fmt=fmt, headers=chunk_headers)
            _add_time(report.timings, "store_raw", time.perf_counter() - t1)
            report.raw_ids.append(raw_id)
            for outcome, nbytes in runner.submit(raw_id, chunk, chunk_headers):
                _finish(report, outcome, nbytes, progress)
        for outcome, nbytes in runner.drain():
            _finish(report, outcome, nbytes, progress)
        completed = True
    finally:
        runner.close(wait=completed)
    report.seconds = time.perf_counter() - started
    return report


def options_check(*, fmt: str, account: str = "", batch: int = DEFAULT_BATCH) -> None:
    if fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt in ACCOUNT_REQUIRED and not account.strip():
        what = "business id" if fmt == "yelp" else "location id"
        raise ImportFileError(
            f"{fmt} responses do not name the {what} they belong to: "
            f"give it with --account <{what.replace(' ', '-')}>"
        )
    if account and fmt not in ACCOUNT_USED:
        raise ImportFileError(
            f"--account is only used with {', '.join(sorted(ACCOUNT_USED))}; {fmt} rows "
            "name their own account"
        )
    if not 1 <= batch <= MAX_BATCH:
        raise ImportFileError(f"batch must be between 1 and {MAX_BATCH:,} rows")


def chunk_store(chunk: Chunk, *, fmt: str, headers: dict[str, Any]) -> int:
    """Store one chunk as a pending RawPayload (nothing parsed yet) and return its id.

    `headers`: the file's (file, format, account) plus the chunk's (`_chunk_headers`).
    """
    raw = raw_payload_accept(
        source=SOURCE_PREFIX + fmt,
        platform=CHUNK_PLATFORM[fmt],
        body=chunk.body,
        headers=headers,
        process=False,
    )
    return raw.pk


def _chunk_headers(chunk: Chunk, headers: dict[str, Any]) -> dict[str, Any]:
    chunk_headers: dict[str, Any] = {
        **headers,
        "first_line": chunk.first_line,
        "last_line": chunk.last_line,
        "rows": chunk.rows,
    }
    if chunk.header_lines:
        chunk_headers["header_lines"] = chunk.header_lines
    if chunk.lines is not None:
        chunk_headers["lines"] = chunk.lines
    if chunk.document_path is not None:
        chunk_headers["document_path"] = chunk.document_path
        chunk_headers["first_index"] = chunk.first_index
        chunk_headers["wrapped"] = chunk.wrapped
    return chunk_headers


def chunk_process(
    raw_id: int, *, analyses: Analyses | None = None, parsed: ParsedChunk | None = None
) -> ChunkOutcome:
    """Process one stored chunk through `raw_payload_process` and say what happened.

    `analyses`: results computed ahead (by the pipeline's workers) for (text, rating).
    `parsed`: the chunk's rows as a worker parsed them from the same stored body.
    """
    stats = ParseStats(raw_id=raw_id, parsed=parsed)
    token = parse_stats.set(stats)
    sql = _SqlTimer()
    started = time.perf_counter()
    try:
        with _analysis_hook(analyses or {}) as analysis, connection.execute_wrapper(sql):
            raw = raw_payload_process(raw_id)
    finally:
        parse_stats.reset(token)
    total = time.perf_counter() - started
    headers = raw.headers or {}
    outcome = ChunkOutcome(
        raw_id=raw.pk,
        first_line=int(headers.get("first_line", 0)),
        last_line=int(headers.get("last_line", 0)),
        rows=int(headers.get("rows", 0)),
        status=raw.status,
        valid=stats.valid,
        ignored=stats.ignored,
        rejected=stats.rejected,
    )
    if raw.processed_at is None:  # the chunk as a whole failed: nothing of it was counted
        outcome.failed = raw.error or "failed"
        outcome.status = RawPayload.Status.FAILED
        outcome.retry_at = raw.next_attempt_at
    else:
        outcome.created = raw.mentions_created
        outcome.duplicates = raw.duplicates
        outcome.skipped = raw.skipped
        # mentions_ingest counts every item once: created, updated, duplicate or skipped.
        outcome.updated = max(0, stats.valid - raw.mentions_created - raw.duplicates - raw.skipped)
    outcome.seconds = {
        "parse": stats.seconds,
        "analysis": analysis.seconds,
        "sql": sql.seconds,
        "python": max(0.0, total - stats.seconds - analysis.seconds - sql.seconds),
    }
    return outcome


def _finish(
    report: ImportReport,
    outcome: ChunkOutcome,
    nbytes: int,
    progress: Callable[[int], None] | None,
) -> None:
    report.add(outcome)
    if progress is not None:
        progress(nbytes)


def _add_time(timings: dict[str, float], key: str, seconds: float) -> None:
    timings[key] = timings.get(key, 0.0) + seconds


class _Pipeline:
    """Chunks are written here, in file order; with workers, their texts are analysed
    ahead in forked processes (each chunk split between all workers), up to AHEAD
    chunks in advance. The pool starts with the second chunk: a small file never forks.
    """

    AHEAD = 2
    TIMEOUT = 600  # seconds for a chunk's analysis: a killed worker must not hang us

    def __init__(self, fmt: str, workers: int) -> None:
        self.fmt = fmt
        self.workers = max(0, workers)
        self.pool: Any = None
        self.pending: deque[tuple[int, Chunk, list[Any]]] = deque()
        self.held: tuple[int, Chunk, dict[str, Any]] | None = None

    def submit(
        self, raw_id: int, chunk: Chunk, headers: dict[str, Any]
    ) -> Iterator[tuple[ChunkOutcome, int]]:
        if not self.workers:
            yield chunk_process(raw_id), chunk.nbytes
            return
        if self.pool is None and self.held is None:
            self.held = (raw_id, chunk, headers)  # maybe the only chunk: wait and see
            return
        if self.pool is None:
            self._start()
            assert self.held is not None
            self._send(*self.held)
            self.held = None
        self._send(raw_id, chunk, headers)
        while len(self.pending) > self.AHEAD:
            yield self._next()

    def drain(self) -> Iterator[tuple[ChunkOutcome, int]]:
        if self.held is not None:  # a single chunk: analysed right here
            raw_id, chunk, _ = self.held
            self.held = None
            yield chunk_process(raw_id), chunk.nbytes
        while self.pending:
            yield self._next()

    def close(self, *, wait: bool = True) -> None:
        if self.pool is not None:
            if wait:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            self.pool = None

    def _start(self) -> None:
        import multiprocessing

        from reputation.analysis import get_analyser

        get_analyser()  # loaded once, here: the forked workers inherit it
        self.pool = multiprocessing.get_context("fork").Pool(self.workers, _worker_init)

    def _send(self, raw_id: int, chunk: Chunk, headers: dict[str, Any]) -> None:
        jobs = [
            self.pool.apply_async(
                _analyse_part, (self.fmt, chunk.body, headers, part, self.workers)
            )
            for part in range(self.workers)
        ]
        self.pending.append((raw_id, chunk, jobs))

    def _next(self) -> tuple[ChunkOutcome, int]:
        raw_id, chunk, jobs = self.pending.popleft()
        analyses: Analyses = {}
        spent = 0.0
        started = time.perf_counter()
        parsed: ParsedChunk | None = None
        for job in jobs:
            try:
                part, seconds, rows = job.get(timeout=self.TIMEOUT)
            except Exception:  # a worker failed: this process analyses what is missing
                log.exception("analysis worker failed; analysing chunk %s here", raw_id)
                continue
            analyses.update(part)
            spent += seconds
            parsed = rows or parsed
        waited = time.perf_counter() - started
        outcome = chunk_process(raw_id, analyses=analyses, parsed=parsed)
        outcome.seconds["analysis"] = outcome.seconds.get("analysis", 0.0) + spent
        outcome.seconds["analysis_wait"] = waited
        return outcome, chunk.nbytes


def _worker_init() -> None:
    """A forked analysis worker never uses the database: it must not even share the
    parent's socket by accident, so Django gets no usable connection here."""
    for conn in connections.all(initialized_only=True):
        _inherited.append(conn.connection)  # kept referenced: never closed from here
        conn.connection = None
        conn.settings_dict = {**conn.settings_dict, "HOST": "/nonexistent-in-analysis-worker"}


_inherited: list[Any] = []


def _analyse_part(
    fmt: str, body: str, headers: dict[str, Any], part: int, parts: int
) -> tuple[Analyses, float, ParsedChunk | None]:
    """Worker: parse a chunk and analyse every `parts`-th mention, from `part`; returns
    the results, the CPU seconds the analysis took and (from part 0) the parsed rows,
    which spare the writer a second parse of the same stored body."""
    from reputation.analysis import get_analyser

    analyser = get_analyser()
    account = str(headers.get("account", "") or "")
    ignored = [0]
    rows = list(chunk_rows(fmt, body, headers, account, ignored))
    mentions = [item for _, item in rows if isinstance(item, NormalisedMention)]
    started = time.process_time()  # CPU seconds: the workers share the cores with us
    results: Analyses = {}
    for nm in mentions[part::parts]:
        key = (nm.text, nm.rating)
        if key not in results:
            results[key] = analyser.analyse(nm.text, rating=nm.rating)
    seconds = time.process_time() - started
    if part != 0:
        return results, seconds, None
    # Errors travel as plain values: an exception's keyword arguments do not survive
    # pickling.
    parsed = ParsedChunk(
        [
            (line, item) if isinstance(item, NormalisedMention) else (line, _error_values(item))
            for line, item in rows
        ],
        ignored[0],
    )
    return results, seconds, parsed


def _error_values(exc: PayloadError) -> tuple[str, str | None]:
    return exc.message, exc.field


# ---------------------------------------------------------------- timing


class _SqlTimer:
    """A connection.execute_wrapper that sums the time spent in database calls."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


class _Timer:
    seconds = 0.0


@contextlib.contextmanager
def _analysis_hook(analyses: Analyses) -> Iterator[_Timer]:
    """While a chunk is ingested, answer the analyser from `analyses` (computed ahead
    by the workers) and time what is still analysed here. Only this process's analyser
    instance is touched, and only for the duration of the chunk."""
    from reputation.analysis import get_analyser

    timer = _Timer()
    analyser = get_analyser()
    original = analyser.analyse
    shadowed = vars(analyser).get("analyse") if hasattr(analyser, "__dict__") else None

    def analyse(text: str, *, rating: int | None = None) -> Analysis:
        ready = analyses.get((text, rating))
        if ready is not None:
            return ready
        started = time.perf_counter()
        try:
            return original(text, rating=rating)
        finally:
            timer.seconds += time.perf_counter() - started

    try:
        analyser.analyse = analyse  # type: ignore[method-assign]
    except (AttributeError, TypeError):  # e.g. a __slots__ class: analyse as usual
        yield timer
        return
    try:
        yield timer
    finally:
        if shadowed is not None:  # someone else's wrapper (a test, a profiler): put it back
            analyser.analyse = shadowed  # type: ignore[method-assign]
        else:
            with contextlib.suppress(AttributeError):
                del analyser.analyse  # type: ignore[misc]


# ---------------------------------------------------------------- parsing a stored chunk


# ---------------------------------------------------------------- platform units
#
# A unit is one JSON value of a file line: a response, a single review/tweet, or a
# webhook body. Each review/tweet of a response is parsed on its own, so one bad review
# is rejected and the others of the same response are kept.


# ---------------------------------------------------------------- reading the file


def read_chunks(
    path: str | os.PathLike[str],
    *,
    fmt: str,
    batch: int = DEFAULT_BATCH,
    warnings: list[str] | None = None,
) -> Iterator[Chunk]:
    """Check the file, then yield it in chunks of `batch` rows (see the module table).

    Raises ImportFileError (before yielding anything) when the file cannot be read, is
    not UTF-8, is empty, has an unusable CSV header or is a malformed JSON document.
    """
    if fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not 1 <= batch <= MAX_BATCH:
        raise ImportFileError(f"batch must be between 1 and {MAX_BATCH:,} rows")
    file_path = Path(path)
    warnings = warnings if warnings is not None else []
    _check_readable_utf8(file_path)
    if fmt == "csv":
        return _csv_chunks(file_path, batch, warnings)
    if fmt == "jsonl" or _looks_like_json_lines(file_path):
        return _line_chunks(file_path, batch)
    return _document_chunks(file_path, fmt, batch)


def _check_readable_utf8(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ImportFileError(
                        f"{path.name} is not UTF-8 (line {number}, byte {exc.start + 1}): "
                        "save it as UTF-8 and import it again"
                    ) from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _text_lines(path: Path) -> Iterator[tuple[str, int]]:
    """(line text with its ending, its size in bytes); split at b"\\n" only, BOM dropped."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8")
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield text, len(raw)


def _line_chunks(path: Path, batch: int) -> Iterator[Chunk]:
    """JSON Lines: each non-blank line is a row; a chunk is a run of whole lines."""
    parts: list[str] = []
    rows = nbytes = 0
    first = line = 1
    for text, size in _text_lines(path):
        parts.append(text)
        nbytes += size
        if text.strip():
            rows += 1
        if rows >= batch:
            yield Chunk("".join(parts), first, line, rows, nbytes)
            parts, rows, nbytes, first = [], 0, 0, line + 1
        line += 1
    if rows:
        yield Chunk("".join(parts), first, line - 1, rows, nbytes)


def _csv_chunks(path: Path, batch: int, warnings: list[str]) -> Iterator[Chunk]:
    """CSV records (a quoted value may span lines); every chunk repeats the header row."""
    consumed: list[str] = []
    sizes = [0]

    def feed() -> Iterator[str]:
        for text, size in _text_lines(path):
            consumed.append(text)
            sizes[0] += size
            yield text

    reader = csv.reader(feed())
    try:
        next(reader)
    except StopIteration:
        raise ImportFileError(
            f"{path.name} is empty: a header row is required ({', '.join(csvfmt.COLUMNS)})"
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"cannot read the CSV header: {exc}") from None
    header = "".join(consumed)
    if not header.endswith("\n"):
        header += "\n"  # a header-only file without a final newline
    header_lines = len(consumed)
    for _, problem in csvfmt.parse_rows(io.BytesIO(header.encode("utf-8"))):
        assert isinstance(problem, PayloadError)
        if not is_header_warning(problem):  # missing or duplicated columns, no header
            raise ImportFileError(f"line 1: {problem.message}")
        warnings.append(f"line 1: {problem.message}")
    return _csv_records(reader, consumed, sizes, header, header_lines, batch)


def _csv_records(
    reader: Iterator[list[str]],
    consumed: list[str],
    sizes: list[int],
    header: str,
    header_lines: int,
    batch: int,
) -> Iterator[Chunk]:
    line = header_lines + 1  # the file line the next record starts on
    consumed.clear()
    parts: list[str] = []
    rows = 0
    first = line
    while True:
        try:
            record: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error:
            record = None  # a malformed record is still a row: its chunk reports it
        parts.extend(consumed)
        line += len(consumed)
        consumed.clear()
        if record is None or any(cell.strip() for cell in record):
            rows += 1
        if rows >= batch:
            yield Chunk(header + "".join(parts), first, line - 1, rows, sizes[0], header_lines)
            parts, rows, first, sizes[0] = [], 0, line, 0
    if rows:
        yield Chunk(header + "".join(parts), first, line - 1, rows, sizes[0], header_lines)


def _looks_like_json_lines(path: Path) -> bool:
    """JSON Lines when the first non-blank line is a complete JSON value on its own."""
    for text, _ in _text_lines(path):
        if text.strip():
            try:
                json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                return False
            return True
    return True  # an empty file: nothing to import either way


_WS = re.compile(r"[ \t\n\r]*")


def _document_chunks(path: Path, fmt: str, batch: int) -> Iterator[Chunk]:
    """One JSON document: its rows (reviews, entries, tweets) with their start lines."""
    raw = path.read_bytes()
    text = raw.decode("utf-8").removeprefix("\ufeff")
    key = DOCUMENT_ITEMS[fmt]
    members, items = _scan_document(text, key)
    if items is None:
        assert members is not None
        items = _document_items(fmt, key, members)
    units = [_document_unit(fmt, members, value) for _, value in items]
    lines = _line_numbers(text, [offset for offset, _ in items])
    path = "" if members is None else key
    wrapped = members is not None and fmt in ("meta", "x")
    return _unit_chunks(units, lines, batch, len(raw), path, wrapped)


def _document_items(fmt: str, key: str, members: dict[str, Any]) -> list[tuple[int, Any]]:
    """A document whose rows array is missing (or not an array)."""
    if key not in members and fmt in ("google", "x"):
        return []  # proto3 / X omit an empty list: a page with nothing on it
    got = f.type_name(members.get(key)) if key in members else "missing"
    raise ImportFileError(f"expected a {fmt} document with a {key!r} array ({got}), or JSON Lines")


def _document_unit(fmt: str, members: dict[str, Any] | None, value: Any) -> Any:
    if members is None:  # the document was a top-level array of units
        return value
    if fmt == "meta":
        return {"object": members.get("object"), "entry": [value]}
    if fmt == "x":
        includes = members.get("includes")
        users = includes.get("users") if isinstance(includes, dict) else None
        author = value.get("author_id") if isinstance(value, dict) else None
        mine = [
            u
            for u in (users if isinstance(users, list) else [])
            if isinstance(u, dict) and u.get("id") == author
        ]
        return {"data": [value], "includes": {"users": mine}}
    return value  # google Review, yelp / tripadvisor review objects


def _unit_chunks(
    units: list[Any], lines: list[int], batch: int, total: int, path: str, wrapped: bool
) -> Iterator[Chunk]:
    done = 0
    for start in range(0, len(units), batch):
        part = units[start : start + batch]
        part_lines = lines[start : start + batch]
        end = start + len(part)
        nbytes = total - done if end == len(units) else total * end // len(units) - done
        done += nbytes
        body = "\n".join(json.dumps(u, ensure_ascii=False, separators=(",", ":")) for u in part)
        yield Chunk(
            body + "\n",
            part_lines[0],
            part_lines[-1],
            len(part),
            nbytes,
            lines=part_lines,
            document_path=path,
            first_index=start,
            wrapped=wrapped,
        )


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    numbers = []
    line, position = 1, 0
    for offset in offsets:  # ascending
        line += text.count("\n", position, offset)
        position = offset
        numbers.append(line)
    return numbers


def _syntax(text: str, index: int, message: str) -> ImportFileError:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return ImportFileError(f"line {line} column {column}: invalid JSON: {message}")


def _scan_document(
    text: str, key: str
) -> tuple[dict[str, Any] | None, list[tuple[int, Any]] | None]:
    """Decode a JSON document, keeping the start offset of each element of its rows array
    (the top-level array, or the object's `key` member). Returns (the object's other
    members, or None for a top-level array; [(offset, element)], or None when the object
    has no `key` array)."""
    decoder = json.JSONDecoder()
    try:
        i = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if text.startswith("[", i):
            items, i = _scan_array(text, i, decoder)
            members: dict[str, Any] | None = None
        elif text.startswith("{", i):
            members, items, i = _scan_object(text, i, key, decoder)
        else:
            if i >= len(text):
                raise ImportFileError("the file is empty: expected a JSON document")
            raise _syntax(text, i, "expected a JSON object or array")
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if i != len(text):
            raise _syntax(text, i, "extra data after the document")
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise ImportFileError("invalid JSON: nested too deeply") from None
    return members, items


def _scan_object(
    text: str, i: int, key: str, decoder: json.JSONDecoder
) -> tuple[dict[str, Any], list[tuple[int, Any]] | None, int]:
    members: dict[str, Any] = {}
    items: list[tuple[int, Any]] | None = None
    i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
    if text.startswith("}", i):
        return members, items, i + 1
    while True:
        if not text.startswith('"', i):
            raise _syntax(text, i, "expected a property name in double quotes")
        name, i = decoder.raw_decode(text, i)
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if not text.startswith(":", i):
            raise _syntax(text, i, "expected ':'")
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if name == key and text.startswith("[", i):
            items, i = _scan_array(text, i, decoder)
        else:
            members[name], i = decoder.raw_decode(text, i)
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if text.startswith(",", i):
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        elif text.startswith("}", i):
            return members, items, i + 1
        else:
            raise _syntax(text, i, "expected ',' or '}'")


def _scan_array(text: str, i: int, decoder: json.JSONDecoder) -> tuple[list[tuple[int, Any]], int]:
    items: list[tuple[int, Any]] = []
    i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", i):
        return items, i + 1
    while True:
        value, end = decoder.raw_decode(text, i)
        items.append((i, value))
        i = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", i):
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", i):
            return items, i + 1
        else:
            raise _syntax(text, i, "expected ',' or ']'")


# ---------------------------------------------------------------- reporting


def errors_write(rejected: Iterable[RejectedRow], fileobj: IO[str]) -> int:
    """Write rejected rows as CSV (line,reason); returns how many."""
    writer = csv.writer(fileobj)
    writer.writerow(["line", "reason"])
    count = 0
    for row in rejected:
        writer.writerow([row.line, row.reason])
        count += 1
    return count
