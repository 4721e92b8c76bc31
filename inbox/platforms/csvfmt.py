"""CSV import of mentions (the generic format, flattened to columns).

| Column          | Required | Rules                                                        |
|-----------------|----------|--------------------------------------------------------------|
| `external_id`   | yes      | 1-255 characters, unique per platform                        |
| `posted_at`     | yes      | ISO-8601 date-time with a timezone ("2025-03-01T14:05:00Z") |
| `text`          | yes      | at most 20,000 characters; empty only when `rating` is set   |
| `platform`      | no       | google, facebook, instagram, x, yelp, tripadvisor, feed, api |
|                 |          | (empty: api)                                                 |
| `author_name`   | no       |                                                              |
| `author_handle` | no       |                                                              |
| `rating`        | no       | whole number 1-5, or empty                                   |
| `url`           | no       | absolute http(s) URL                                         |
| `account`       | no       | the practice's own account the mention is about              |
| `kind`          | no       | review, comment, post, article (empty: review when rated,    |
|                 |          | else post)                                                   |

The first row is the header (column names, any order, case-insensitive). The file is UTF-8
(a BOM is fine), comma-separated, with "double quotes" around values containing commas,
quotes or line breaks. Line numbers in errors are the file's own 1-based lines, header
included, so a spreadsheet user can find the row; a quoted value spanning several lines is
reported at the line where its row starts. Unknown columns are reported once (on line 1)
and their values ignored; a missing required column stops the import.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from typing import IO, Any

from inbox.platforms.base import NormalisedMention, PayloadError
from inbox.platforms.generic import build_mention

COLUMNS = (
    "platform",
    "external_id",
    "posted_at",
    "text",
    "author_name",
    "author_handle",
    "rating",
    "url",
    "account",
    "kind",
)
REQUIRED = ("external_id", "posted_at", "text")


def _lines(fileobj: IO[Any] | Iterable[Any]) -> Iterator[str]:
    """Text lines for csv.reader, keeping their line endings.

    Binary input (an uploaded file) is decoded as UTF-8 (a BOM is dropped). Iterating a
    binary file splits only at b"\n", so csv.reader's line_num stays the file's line number
    and line breaks inside quoted values survive (io.TextIOWrapper or codecs readers would
    also split at U+2028 and friends). Text input should be opened with newline="".
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for chunk in fileobj:
        if isinstance(chunk, str):
            yield chunk
        else:
            yield decoder.decode(bytes(chunk))
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _rating(cell: str) -> int | str | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        return cell  # build_mention reports it as "rating must be a whole number from 1 to 5"


def parse_rows(
    fileobj: IO[Any] | Iterable[Any],
) -> Iterator[tuple[int, NormalisedMention | PayloadError]]:
    """Yield (file line number, mention or the error for that row) for each data row."""
    reader = csv.reader(_lines(fileobj))
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        yield 1, PayloadError(f"cannot read the header: {exc}")
        return
    if not header or not any(h.strip() for h in header):
        yield 1, PayloadError("the file is empty: a header row is required")
        return
    names = [h.strip().lower().removeprefix("\ufeff") for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [n for n in REQUIRED if n not in names]
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if missing or duplicated:
        problem = (
            f"missing required column(s): {', '.join(missing)}"
            if missing
            else f"duplicated column(s): {', '.join(duplicated)}"
        )
        yield (
            1,
            PayloadError(
                f"{problem}; expected columns: {', '.join(COLUMNS)}",
                field=(missing or duplicated)[0],
            ),
        )
        return
    if unknown:
        yield (
            1,
            PayloadError(
                f"unknown column(s) ignored: {', '.join(unknown)}; expected: {', '.join(COLUMNS)}",
                field=unknown[0],
            ),
        )

    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield start, PayloadError(f"malformed CSV: {exc}")
            continue
        except UnicodeDecodeError:
            yield start, PayloadError("the file is not valid UTF-8")
            return
        last_line = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(names):
            yield (
                start,
                PayloadError(f"row has {len(row)} values but the header has {len(names)} columns"),
            )
            continue
        cells = {name: value for name, value in zip(names, row, strict=True) if name in COLUMNS}
        values: dict[str, Any] = {k: v for k, v in cells.items() if k != "rating"}
        values["rating"] = _rating(cells.get("rating", ""))
        if not values["posted_at"].strip():
            values["posted_at"] = None  # reported as "posted_at is required"
        try:
            yield start, build_mention(values)
        except PayloadError as exc:
            yield start, exc
