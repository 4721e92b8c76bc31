"""RSS 2.0 / Atom feeds (blogs, forums, Google Alerts) -> article mentions, via feedparser.

Google Alerts "deliver to RSS feed" produce Atom: <entry><id>tag:google.com,2013:googlealerts/
feed:NNN</id><title type="html">… <b>match</b> …</title><link href="https://www.google.com/url?
rct=j&sa=t&url=<real URL>&ct=ga&…"/><published>…</published><content type="html">…</content>
</entry>. The redirect is unwrapped to the article URL and the <b> markup stripped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

_GOOGLE_HOST_RE = re.compile(r"^(?:www\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?$")


def unwrap_google_redirect(link: str) -> str:
    """https://www.google.com/url?...&url=<real>&... -> <real>; other links unchanged."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return link
    if parts.path != "/url" or not _GOOGLE_HOST_RE.match((parts.hostname or "").lower()):
        return link
    query = parse_qs(parts.query)
    for key in ("url", "q"):
        for target in query.get(key, []):
            if urlsplit(target).scheme in ("http", "https"):
                return target
    return link


def _struct_to_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:  # feedparser normalises parsed dates to UTC
        return dt.datetime.fromtimestamp(calendar.timegm(value), tz=f.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _entry_text(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary:
        for content in entry.get("content") or []:
            if isinstance(content, dict) and content.get("value"):
                summary = content["value"]
                break
    return f.strip_html(summary) if isinstance(summary, str) else ""


def parse_feed(
    content: bytes, feed_url: str, *, fetched_at: dt.datetime | None = None
) -> list[NormalisedMention]:
    """Feed document bytes -> one ARTICLE mention per entry.

    external_id is the entry id (<guid>/<id>), else its link, else a digest of title and
    text. An entry without any date gets the feed's date, else `fetched_at` (default now),
    flagged extra["posted_at_estimated"]. A document feedparser cannot read as a feed and
    that yields no entries raises PayloadError; a merely sloppy feed ("bozo") that still
    yields entries is accepted.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, (bytes, bytearray)) or not content.strip():
        raise PayloadError("feed content is empty", field="content")
    # Always hand feedparser a stream: given bytes it first tries them as a file name, and
    # given a str it may fetch it as a URL.
    try:
        parsed = feedparser.parse(io.BytesIO(bytes(content)))
    except Exception as exc:  # noqa: BLE001 - third-party parser on untrusted bytes
        # e.g. a corrupted <?xml encoding="..."?> makes feedparser raise UnicodeDecodeError
        raise PayloadError(
            f"not an RSS/Atom feed ({type(exc).__name__})", field="content"
        ) from None
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo") or not parsed.get("version"):
            raise PayloadError("not an RSS/Atom feed", field="content")
        return []

    feed_meta = parsed.get("feed") or {}
    feed_title = f.strip_html(feed_meta.get("title") or "")
    # dict.get: FeedParserDict.get("updated_parsed") silently falls back to the published
    # date with a DeprecationWarning (feedparser issue 310).
    feed_date = _struct_to_datetime(dict.get(feed_meta, "updated_parsed")) or _struct_to_datetime(
        dict.get(feed_meta, "published_parsed")
    )
    fallback_date = feed_date or fetched_at or dt.datetime.now(tz=f.UTC)

    mentions = []
    for entry in entries:
        extra: dict[str, Any] = {}
        if feed_title:
            extra["feed_title"] = feed_title
        raw_link = entry.get("link") or ""
        link = unwrap_google_redirect(raw_link) if isinstance(raw_link, str) else ""
        if link != raw_link:
            extra["wrapped_link"] = raw_link
        if urlsplit(link).scheme not in ("http", "https"):
            link = ""
        title = f.strip_html(entry.get("title") or "")
        body = _entry_text(entry)
        text = f"{title}\n\n{body}" if title and body and body != title else (title or body)

        external_id = entry.get("id") or raw_link
        if not isinstance(external_id, str) or not external_id.strip():
            digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
            external_id = f"sha256:{digest}"
        if len(external_id) > 255:  # long URLs as ids: keep them unique but bounded
            extra["entry_id"] = external_id
            external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()

        published = _struct_to_datetime(dict.get(entry, "published_parsed"))
        updated = _struct_to_datetime(dict.get(entry, "updated_parsed"))
        posted_at = published or updated
        if posted_at is None:
            posted_at = fallback_date
            extra["posted_at_estimated"] = True

        # RSS <author> is "email (Name)": feedparser splits it into author_detail.
        detail = entry.get("author_detail") or {}
        author = (detail.get("name") if isinstance(detail, dict) else "") or entry.get("author")
        author = author if isinstance(author, str) else ""
        mentions.append(
            NormalisedMention(
                platform=Platform.FEED,
                external_id=external_id.strip(),
                kind=Kind.ARTICLE,
                text=f.cap_text(text, extra),
                posted_at=posted_at,
                author_name=f.strip_html(author),
                url=link,
                account_external_id=feed_url,
                updated_at=updated if published and updated and updated != published else None,
                extra=extra,
            )
        )
    return mentions


def feed_bytes_to_text(content: bytes) -> tuple[str, str]:
    """Feed bytes as storable text, losslessly: UTF-8 as is, anything else (a feed in
    ISO-8859-1, say) mapped byte for byte through latin-1 and marked so, so feedparser
    later sees the original bytes and honours the feed's own encoding declaration."""
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return content.decode("latin-1"), "latin-1"


def feed_text_to_bytes(body: str, transport: str) -> bytes:
    return body.encode("latin-1" if transport == "latin-1" else "utf-8")
