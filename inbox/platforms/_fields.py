"""Small, strict readers shared by the adapters.

Every reader takes the dotted `path` of the value it reads so that a PayloadError names
the exact field to fix ("entry[2].changes[0].value.created_time"). None of them raises
anything but PayloadError for bad input: adapters are fed untrusted JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any, ClassVar

from inbox.platforms.base import PayloadError

# Cap for free text from platform payloads: truncate (and say so in `extra`), never reject.
MAX_TEXT = 20_000

UTC = dt.UTC

# RFC 3339 / ISO 8601 date-time, as used by Google (up to 9 fractional digits, "Z"),
# X ("2021-01-06T18:40:40.000Z"), Tripadvisor and our generic format. Offsets may be
# written "+05:30" or "+0530" (Meta's Graph API writes "+0000").
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Timestamps outside this range are mistakes (year 1, 2099): they would sort to the top
# of the inbox or show a local-mean-time offset. A day of slack for skewed clocks.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = dt.timedelta(days=1)


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def expect_dict(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PayloadError(
            f"{path or 'payload'} must be an object, not {type_name(value)}", field=path or None
        )
    return value


def expect_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{path} must be an array, not {type_name(value)}", field=path)
    return value


def opt_dict(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    return expect_dict(value, child(path, key))


def opt_list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    return expect_list(value, child(path, key))


def storable(value: str, field: str) -> str:
    """PostgreSQL stores UTF-8: a lone UTF-16 surrogate (JSON "\\ud800") cannot be
    written, and would fail in the worker after the payload was accepted."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(
            f"{field} contains an invalid character (a lone UTF-16 surrogate)", field=field
        ) from None
    return value


def req_str(obj: Mapping[str, Any], key: str, path: str, *, allow_empty: bool = False) -> str:
    field = child(path, key)
    if key not in obj or obj[key] is None:
        raise PayloadError(f"{field} is required", field=field)
    value = obj[key]
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be a string, not {type_name(value)}", field=field)
    if not allow_empty and not value.strip():
        raise PayloadError(f"{field} must not be empty", field=field)
    return storable(value, field)


def opt_str(obj: Mapping[str, Any], key: str, path: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        field = child(path, key)
        raise PayloadError(f"{field} must be a string, not {type_name(value)}", field=field)
    return storable(value, child(path, key))


def id_value(value: Any, field: str) -> str:
    """An identifier: platforms send ids as strings, some (Tripadvisor, Meta) as numbers."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError(f"{field} must be a string id, not {type_name(value)}", field=field)
    text = str(value).strip()
    if not text:
        raise PayloadError(f"{field} must not be empty", field=field)
    if len(text) > 255:
        raise PayloadError(f"{field} is longer than 255 characters", field=field)
    if "\x00" in text:
        raise PayloadError(f"{field} must not contain a NUL character", field=field)
    return storable(text, field)


def req_id(obj: Mapping[str, Any], key: str, path: str) -> str:
    field = child(path, key)
    if obj.get(key) is None:
        raise PayloadError(f"{field} is required", field=field)
    return id_value(obj[key], field)


def opt_id(obj: Mapping[str, Any], key: str, path: str) -> str:
    if obj.get(key) is None:
        return ""
    return id_value(obj[key], child(path, key))


def opt_bool(obj: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        field = child(path, key)
        raise PayloadError(f"{field} must be true or false, not {type_name(value)}", field=field)
    return value


def stars(value: Any, field: str, *, allow_float: bool = False) -> int | None:
    """A 1..5 star rating. Floats only where the platform documents a number (Yelp)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{field} must be a number from 1 to 5", field=field)
    if isinstance(value, float) and allow_float and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise PayloadError(f"{field} must be a whole number from 1 to 5", field=field)
    return value


def parse_datetime(
    value: Any, field: str, *, require_tz: bool = True, allow_date: bool = False
) -> dt.datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Fractions beyond microseconds (Google sends nanoseconds) are truncated. Without
    `require_tz`, a missing offset means UTC.
    """
    if not isinstance(value, str):
        raise PayloadError(
            f"{field} must be an ISO-8601 timestamp string, not {type_name(value)}", field=field
        )
    text = value.strip()
    if allow_date and (d := _DATE_RE.match(text)):
        try:
            return dt.datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=UTC)
        except ValueError:
            raise PayloadError(f"{field} is not a valid date: {text[:40]!r}", field=field) from None
    m = _DATETIME_RE.match(text)
    if not m:
        raise PayloadError(f"{field} is not an ISO-8601 timestamp: {text[:40]!r}", field=field)
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = m.groups()
    if zulu:
        tz: dt.tzinfo = UTC
    elif sign:
        if int(oh) > 23 or int(om) > 59:
            raise PayloadError(f"{field} has an invalid UTC offset", field=field)
        offset = dt.timedelta(hours=int(oh), minutes=int(om))
        tz = dt.timezone(-offset if sign == "-" else offset)
    elif require_tz:
        raise PayloadError(
            f"{field} must include a timezone (e.g. 'Z' or '+02:00'): {text[:40]!r}", field=field
        )
    else:
        tz = UTC
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PayloadError(
            f"{field} is not a valid timestamp: {text[:40]!r}", field=field
        ) from None
    if not EARLIEST <= moment <= dt.datetime.now(UTC) + FUTURE_SLACK:
        raise PayloadError(
            f"{field} is out of range: {text[:40]!r} (expected a time between"
            f" {EARLIEST:%Y-%m-%d} and now)",
            field=field,
        )
    return moment


def parse_unix(value: Any, field: str) -> dt.datetime:
    """A UNIX timestamp (Meta `created_time`, `entry.time`).

    Meta's Instagram messaging samples carry milliseconds; anything past year 5138 in
    seconds is taken as milliseconds.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError(
            f"{field} must be a UNIX timestamp number, not {type_name(value)}", field=field
        )
    seconds = value / 1000 if value > 100_000_000_000 else value
    try:
        if not 0 < seconds < 253_402_300_800:  # 9999-12-31
            raise ValueError
        return dt.datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"{field} is not a plausible UNIX timestamp", field=field) from None


def parse_time_value(value: Any, field: str) -> dt.datetime:
    """Meta sends `created_time` as a UNIX int in webhooks, as a string in Graph reads."""
    if isinstance(value, str):
        return parse_datetime(value, field)
    return parse_unix(value, field)


def cap_text(text: str, extra: dict[str, Any]) -> str:
    """Truncate platform text to MAX_TEXT and record the original length in `extra`."""
    if len(text) > MAX_TEXT:
        extra["truncated_from_chars"] = len(text)
        return text[:MAX_TEXT]
    return text


class _TextExtractor(HTMLParser):
    _SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style"})
    _BREAK: ClassVar[frozenset[str]] = frozenset(
        {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(markup: str) -> str:
    """Plain text from an HTML fragment (Google Alerts wrap matches in <b>)."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    # html.parser is lenient (it never raises on bad markup) and decodes entities itself.
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())
