"""Step 2, for imported files: a stored chunk of a file -> normalised mentions and
rejected rows, each named by its line in the original file.

`inbox.sources.importing` cuts the file into chunks and stores each as a RawPayload
(source "import:<format>"); `parse.parse_raw` hands those to `parse_chunk` here.
"""

from __future__ import annotations

import contextvars
import dataclasses
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from inbox.platforms import _fields as f
from inbox.platforms import csvfmt, generic, google, meta, tripadvisor, x, yelp
from inbox.platforms.base import NormalisedMention, PayloadError

FORMATS: tuple[str, ...] = ("csv", "jsonl", "google", "meta", "x", "yelp", "tripadvisor")


ACCOUNT_REQUIRED = frozenset({"yelp", "tripadvisor"})


SOURCE_PREFIX = "import:"


Parsed = tuple[list[NormalisedMention], list[PayloadError]]


Row = tuple[int, NormalisedMention | PayloadError]


class ImportRowError(PayloadError):
    """A rejected row, named by its line in the imported file."""

    def __init__(self, line: int, reason: str, *, column: str | None = None) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
        self.column = column


@dataclasses.dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclasses.dataclass
class ParsedChunk:
    """A chunk's rows as parsed in a worker: (line, mention or (message, field))."""

    rows: list[tuple[int, NormalisedMention | tuple[str, str | None]]]
    ignored: int


@dataclasses.dataclass
class ParseStats:
    valid: int = 0
    ignored: int = 0
    rejected: list[RejectedRow] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    raw_id: int | None = None
    parsed: ParsedChunk | None = None  # rows a worker parsed from this raw payload's body


# Set by chunk_process while raw_payload_process runs, so the parser (called deep inside
# it) can hand back the full list of rejected rows (RawPayload.error is capped).
parse_stats: contextvars.ContextVar[ParseStats | None] = contextvars.ContextVar(
    "import_parse_stats", default=None
)


def parse_chunk(raw: Any) -> Parsed:
    """The PARSERS entry for "import:<format>": a stored chunk -> (mentions, row errors).

    Row errors are ImportRowError, named by the line of the original file.
    """
    started = time.perf_counter()
    fmt = raw.source.removeprefix(SOURCE_PREFIX)
    if fmt not in FORMATS:
        raise PayloadError(f"unknown import format {fmt!r}", field="source")
    headers = raw.headers or {}
    account = str(headers.get("account", "") or "")
    if fmt in ACCOUNT_REQUIRED and not account:
        raise PayloadError("import chunk without its account", field="headers.account")
    stats = parse_stats.get()
    mentions: list[NormalisedMention] = []
    errors: list[PayloadError] = []
    rejected: list[RejectedRow] = []
    ignored = [0]
    rows: Iterable[Row] = ()
    if stats is not None and stats.parsed is not None and stats.raw_id == raw.pk:
        ignored[0] = stats.parsed.ignored
        rows = (
            (
                line,
                item
                if isinstance(item, NormalisedMention)
                else PayloadError(*item[:1], field=item[1]),
            )
            for line, item in stats.parsed.rows
        )
    else:
        rows = chunk_rows(fmt, raw.body, headers, account, ignored)
    for line, item in rows:
        if isinstance(item, NormalisedMention):
            mentions.append(item)
        else:
            errors.append(ImportRowError(line, item.message, column=item.field))
            rejected.append(RejectedRow(line, item.message))
    if stats is not None:
        stats.valid += len(mentions)
        stats.ignored += ignored[0]
        stats.rejected.extend(rejected)
        stats.seconds += time.perf_counter() - started
    return mentions, errors


def chunk_rows(
    fmt: str, body: str, headers: dict[str, Any], account: str, ignored: list[int]
) -> Iterator[Row]:
    first_line = int(headers.get("first_line", 1) or 1)
    if fmt == "csv":
        header_lines = int(headers.get("header_lines", 1) or 1)
        for line, item in csvfmt.parse_rows(io.BytesIO(body.encode("utf-8"))):
            if line <= header_lines:
                # The header was checked (and its warnings shown) before the import started;
                # only a header the chunk cannot be read with at all is an error here.
                if isinstance(item, PayloadError) and not is_header_warning(item):
                    yield 1, item
                continue
            yield first_line + line - header_lines - 1, item
        return
    mapping = headers.get("lines")
    document_path = headers.get("document_path")

    def file_line(body_line: int) -> int:
        if isinstance(mapping, list) and 0 < body_line <= len(mapping):
            return int(mapping[body_line - 1])
        return first_line + body_line - 1

    lines = body.split("\n")
    if fmt == "jsonl":
        for line, item in generic.parse_jsonl(lines):
            yield file_line(line), item
        return
    unit = UNIT_PARSERS[fmt]
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield file_line(number), PayloadError(f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield file_line(number), PayloadError("invalid JSON: nested too deeply")
            continue
        for item in _units(unit, value, account, ignored):
            if isinstance(item, PayloadError) and document_path is not None:
                index = int(headers.get("first_index", 0) or 0) + number - 1
                item = _document_repath(item, document_path, index, bool(headers.get("wrapped")))
            yield file_line(number), item


def _document_repath(exc: PayloadError, path: str, index: int, wrapped: bool) -> PayloadError:
    """Name a document row's error by its place in the file's document ("reviews[12]...")."""
    if wrapped:  # stored as a one-row copy of the document: its path says [0]
        return _repath(exc, f"{path}[0]", f"{path}[{index}]")
    element = f"{path}[{index}]"
    field, message = exc.field or "", exc.message
    if field and message.startswith(field):
        return PayloadError(f"{element}.{message}", field=f"{element}.{field}")
    return PayloadError(f"{element}: {message}", field=f"{element}.{field}" if field else element)


Unit = Callable[[Any, str, list[int]], Iterator[NormalisedMention | PayloadError]]


def _units(
    unit: Unit, value: Any, account: str, ignored: list[int]
) -> Iterator[NormalisedMention | PayloadError]:
    if isinstance(value, list):  # a line (or document) holding an array of units
        for i, element in enumerate(value):
            for item in _units(unit, element, account, ignored):
                if isinstance(item, PayloadError):
                    item = _repath(item, "", f"[{i}]")
                yield item
        return
    try:
        yield from unit(value, account, ignored)
    except PayloadError as exc:
        yield exc


def _repath(exc: PayloadError, old: str, new: str) -> PayloadError:
    """The same error with the leading path `old` of its field (and message) renamed to
    `new`; with `old` empty, `new` is put in front ("[2]: ...")."""
    field, message = exc.field or "", exc.message
    if not old:
        return PayloadError(f"{new}: {message}", field=f"{new}.{field}" if field else new)
    if new:
        field = new + field[len(old) :] if field.startswith(old) else field
        message = message.replace(old, new, 1)
    else:
        field = field[len(old) :].lstrip(".") if field.startswith(old) else field
        message = message.replace(old + ".", "", 1).replace(old, "the review", 1)
    return PayloadError(message, field=field or None)


def _each(
    items: list[Any], key: str, parse: Callable[[Any], list[NormalisedMention]]
) -> Iterator[NormalisedMention | PayloadError]:
    for i, element in enumerate(items):
        try:
            yield from parse(element)
        except PayloadError as exc:
            yield _repath(exc, f"{key}[0]", f"{key}[{i}]")


def _google_unit(value: Any, account: str, ignored: list[int]):
    body = f.expect_dict(value, "")
    if "name" in body:  # a Review
        yield google.parse_review(body)
        return
    reviews = f.opt_list(body, "reviews", "")  # a reviews.list response
    for i, review in enumerate(reviews):
        try:
            yield google.parse_review(review, path=f.item("reviews", i))
        except PayloadError as exc:
            yield exc


def _meta_unit(value: Any, account: str, ignored: list[int]):
    result = meta.parse_webhook(value)
    ignored[0] += result.ignored_count
    yield from result.mentions
    yield from result.errors


def _x_unit(value: Any, account: str, ignored: list[int]):
    body = f.expect_dict(value, "")
    if "data" not in body and "id" in body and "text" in body:  # a single tweet
        yield from x.parse_tweets({"data": [body]}, account_external_id=account)
        return
    includes = f.opt_dict(body, "includes", "") or {}
    users: dict[Any, list[Any]] = {}
    for user in f.opt_list(includes, "users", "includes"):
        if isinstance(user, dict):
            users.setdefault(user.get("id"), []).append(user)

    def one(tweet: Any) -> list[NormalisedMention]:
        author = tweet.get("author_id") if isinstance(tweet, dict) else None
        sub = {"data": [tweet], "includes": {"users": users.get(author, [])}}
        return x.parse_tweets(sub, account_external_id=account)

    yield from _each(f.opt_list(body, "data", ""), "data", one)


def _yelp_unit(value: Any, account: str, ignored: list[int]):
    body = f.expect_dict(value, "")
    if "reviews" not in body:  # a single review object
        yield from _single(body, "reviews", lambda r: yelp.parse_reviews(r, account))
        return
    reviews = f.expect_list(body.get("reviews"), "reviews")
    yield from _each(reviews, "reviews", lambda r: yelp.parse_reviews({"reviews": [r]}, account))


def _tripadvisor_unit(value: Any, account: str, ignored: list[int]):
    body = f.expect_dict(value, "")
    if "data" not in body:  # a single review object
        yield from _single(body, "data", lambda r: tripadvisor.parse_reviews(r, account))
        return
    reviews = f.expect_list(body.get("data"), "data")
    yield from _each(reviews, "data", lambda r: tripadvisor.parse_reviews({"data": [r]}, account))


def _single(
    review: Any, key: str, parse: Callable[[Any], list[NormalisedMention]]
) -> Iterator[NormalisedMention | PayloadError]:
    try:
        yield from parse({key: [review]})
    except PayloadError as exc:
        yield _repath(exc, f"{key}[0]", "")


UNIT_PARSERS: dict[str, Unit] = {
    "google": _google_unit,
    "meta": _meta_unit,
    "x": _x_unit,
    "yelp": _yelp_unit,
    "tripadvisor": _tripadvisor_unit,
}


def is_header_warning(problem: PayloadError) -> bool:
    """csvfmt reports unknown columns on line 1 but still reads the file."""
    return problem.message.startswith("unknown column")
