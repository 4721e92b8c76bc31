"""Our generic mention format, for integrations that push mentions (REST API, JSON Lines).

One mention is one JSON object:

| Field         | Type            | Req. | Rules                                                   |
|---------------|-----------------|------|---------------------------------------------------------|
| `external_id` | string          | yes  | 1-255 characters, unique per platform: sending the same |
|               |                 |      | platform + external_id again updates, never duplicates  |
| `text`        | string          | yes  | at most 20,000 characters; "" only when `rating` is set |
| `posted_at`   | string          | yes  | ISO-8601 date-time with a timezone, e.g.                |
|               |                 |      | "2025-03-01T14:05:00Z" or "2025-03-01T15:05:00+01:00"   |
| `platform`    | string          | no   | google, facebook, instagram, x, yelp, tripadvisor,      |
|               |                 |      | feed or api; default "api"                              |
| `kind`        | string          | no   | review, comment, post or article; default "review" when |
|               |                 |      | `rating` is set, else "post"                            |
| `author`      | object          | no   | {"name", "handle", "id"}: strings, each optional, no    |
|               |                 |      | other keys                                              |
| `rating`      | integer or null | no   | 1 to 5 stars                                            |
| `url`         | string          | no   | absolute http:// or https:// URL, at most 2,048 chars   |
| `account`     | string          | no   | the practice's own account the mention is about (page   |
|               |                 |      | id, location name, handle, feed URL)                    |
| `parent_id`   | string          | no   | external_id of the item this one answers                |
| `root_id`     | string          | no   | external_id of the first item of the conversation       |

Strict: an unknown field, a wrong type or a bad value is refused with an error naming the
field; `null` counts as absent for optional fields. Example:

    {"platform": "api", "external_id": "survey-8812", "text": "Lovely staff, long wait.",
     "posted_at": "2025-03-01T14:05:00Z", "rating": 4, "author": {"name": "Dana K."}}

JSON Lines (`parse_jsonl`): one such object per line, UTF-8; blank lines are skipped; each
line is accepted or refused on its own, reported with its 1-based line number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

MAX_TEXT = f.MAX_TEXT
MAX_URL = 2048
MAX_LINE_BYTES = 1_000_000
KINDS = (Kind.REVIEW, Kind.COMMENT, Kind.POST, Kind.ARTICLE)

FIELDS = (
    "platform",
    "external_id",
    "text",
    "posted_at",
    "author",
    "rating",
    "url",
    "account",
    "kind",
    "parent_id",
    "root_id",
)
AUTHOR_FIELDS = ("name", "handle", "id")


def _identity(name: str) -> str:
    return name


def _string(values: Mapping[str, Any], key: str, label: Callable[[str], str]) -> str:
    value = values.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        field = label(key)
        raise PayloadError(f"{field} must be a string, not {f.type_name(value)}", field=field)
    return f.storable(value, label(key))


def build_mention(
    values: Mapping[str, Any], label: Callable[[str], str] = _identity
) -> NormalisedMention:
    """Validate flat generic values and build the mention.

    `values` keys: FIELDS with `author` flattened to author_name/author_handle/author_id;
    `label` turns a key into the name the user knows (JSON path or CSV column) for errors.
    """
    platform = _string(values, "platform", label) or Platform.API
    if platform not in Platform.ALL:
        field = label("platform")
        allowed = ", ".join(code for code, _ in Platform.CHOICES)
        raise PayloadError(f"{field} must be one of {allowed}; got {platform[:40]!r}", field=field)

    external_id = _string(values, "external_id", label).strip()
    if not external_id:
        raise PayloadError(f"{label('external_id')} is required", field=label("external_id"))
    if len(external_id) > 255:
        field = label("external_id")
        raise PayloadError(f"{field} is longer than 255 characters", field=field)
    if "\x00" in external_id:
        field = label("external_id")
        raise PayloadError(f"{field} must not contain a NUL character", field=field)

    if values.get("text") is None:
        raise PayloadError(f"{label('text')} is required", field=label("text"))
    text = _string(values, "text", label)
    if len(text) > MAX_TEXT:
        field = label("text")
        raise PayloadError(f"{field} is longer than {MAX_TEXT:,} characters", field=field)

    if values.get("posted_at") is None:
        raise PayloadError(f"{label('posted_at')} is required", field=label("posted_at"))
    posted_at = f.parse_datetime(values["posted_at"], label("posted_at"), require_tz=True)

    rating = f.stars(values.get("rating"), label("rating"))
    if not text.strip() and rating is None:
        field = label("text")
        raise PayloadError(f"{field} must not be empty (unless a rating is given)", field=field)

    kind = _string(values, "kind", label) or (Kind.REVIEW if rating is not None else Kind.POST)
    if kind not in KINDS:
        field = label("kind")
        raise PayloadError(f"{field} must be one of {', '.join(KINDS)}", field=field)

    url = _string(values, "url", label).strip()
    if url:
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(url) > MAX_URL
            or any(c.isspace() for c in url)
        ):
            field = label("url")
            raise PayloadError(
                f"{field} must be an http(s) URL of at most {MAX_URL} characters", field=field
            )

    ids = {}
    for key in ("account", "parent_id", "root_id", "author_id"):
        ids[key] = _string(values, key, label).strip()
        if len(ids[key]) > 255:
            field = label(key)
            raise PayloadError(f"{field} is longer than 255 characters", field=field)

    return NormalisedMention(
        platform=platform,
        external_id=external_id,
        kind=kind,
        text=text,
        posted_at=posted_at,
        author_external_id=ids["author_id"],
        author_name=_string(values, "author_name", label).strip(),
        author_handle=_string(values, "author_handle", label).strip(),
        rating=rating,
        url=url,
        account_external_id=ids["account"],
        parent_external_id=ids["parent_id"],
        root_external_id=ids["root_id"],
    )


def _json_label(key: str) -> str:
    return {
        "author_name": "author.name",
        "author_handle": "author.handle",
        "author_id": "author.id",
    }.get(key, key)


def parse_mention(obj: Any) -> NormalisedMention:
    """One generic-format JSON object -> NormalisedMention (strict; see the module table)."""
    body = f.expect_dict(obj, "")
    unknown = sorted(str(k) for k in body if k not in FIELDS)
    if unknown:
        raise PayloadError(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(FIELDS)}",
            field=unknown[0],
        )
    values = {k: v for k, v in body.items() if k != "author"}
    author = body.get("author")
    if author is not None:
        author = f.expect_dict(author, "author")
        unknown = sorted(str(k) for k in author if k not in AUTHOR_FIELDS)
        if unknown:
            raise PayloadError(
                f"unknown field(s) in author: {', '.join(unknown)}; allowed: name, handle, id",
                field=f"author.{unknown[0]}",
            )
        for key in AUTHOR_FIELDS:
            values[f"author_{key}"] = author.get(key)
    return build_mention(values, _json_label)


def parse_jsonl(
    fileobj: Iterable[bytes] | Iterable[str],
) -> Iterator[tuple[int, NormalisedMention | PayloadError]]:
    """JSON Lines import: yields (1-based line number, mention or the error for that line)."""
    for lineno, raw in enumerate(fileobj, start=1):
        if isinstance(raw, (bytes, bytearray)):
            if len(raw) > MAX_LINE_BYTES:
                yield lineno, PayloadError(f"line is longer than {MAX_LINE_BYTES:,} bytes")
                continue
            try:
                line = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                yield lineno, PayloadError("line is not valid UTF-8")
                continue
        else:
            line = raw
            if len(line) > MAX_LINE_BYTES:
                yield lineno, PayloadError(f"line is longer than {MAX_LINE_BYTES:,} characters")
                continue
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, PayloadError(f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield lineno, PayloadError("invalid JSON: nested too deeply")
            continue
        try:
            yield lineno, parse_mention(obj)
        except PayloadError as exc:
            yield lineno, exc
