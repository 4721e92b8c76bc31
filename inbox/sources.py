"""Which adapter reads which raw payload: `RawPayload.source` -> normalised mentions.

A source is "<how>:<what>": api:google-review, api:mention, webhook:meta,
webhook:google (a Pub/Sub notification: the review itself is fetched), poll:feed,
poll:google, poll:x, poll:yelp, poll:tripadvisor. Poll payloads carry the account they
were fetched for in `headers["account"]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from inbox import importing
from inbox.models import RawPayload
from inbox.platforms import feeds, generic, google, meta, tripadvisor, x, yelp
from inbox.platforms.base import NormalisedMention, PayloadError, Platform

Parsed = tuple[list[NormalisedMention], list[PayloadError]]


def _json(raw: RawPayload):
    try:
        return json.loads(raw.body)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None


def _generic(raw: RawPayload) -> Parsed:
    data = _json(raw)
    items = data if isinstance(data, list) else [data]
    return [generic.parse_mention(item) for item in items], []


def _meta(raw: RawPayload) -> Parsed:
    result = meta.parse_webhook(_json(raw))
    return result.mentions, result.errors


def _google_notification(raw: RawPayload) -> Parsed:
    from inbox.models import SocialAccount
    from inbox.polling import google_client
    from inbox.routing import google_location

    note = google.parse_pubsub_push(_json(raw))
    if not note.review_name:
        return [], []
    account = SocialAccount.objects.filter(
        platform=Platform.GOOGLE, external_id=google_location(note)
    ).first()
    with google_client(account) as client:
        review = client.get_review(note.review_name)
    return [google.parse_review(review)], []


def _google_list(raw: RawPayload) -> Parsed:
    mentions, _next = google.parse_reviews_list(_json(raw))
    return mentions, []


def _account(raw: RawPayload) -> str:
    account = raw.headers.get("account", "")
    if not account:
        raise PayloadError("poll payload without its account", field="headers.account")
    return account


def _feed_bytes(raw: RawPayload) -> bytes:
    from inbox.polling import feed_text_to_bytes

    return feed_text_to_bytes(raw.body, raw.headers.get("transport", "utf-8"))


PARSERS: dict[str, Callable[[RawPayload], Parsed]] = {
    "api:google-review": lambda raw: ([google.parse_review(_json(raw))], []),
    "api:mention": _generic,
    "webhook:meta": _meta,
    "webhook:google": _google_notification,
    "poll:google": _google_list,
    "poll:feed": lambda raw: (feeds.parse_feed(_feed_bytes(raw), _account(raw)), []),
    "poll:x": lambda raw: (
        x.parse_tweets(_json(raw), account_external_id=raw.headers.get("account", "")),
        [],
    ),
    "poll:yelp": lambda raw: (yelp.parse_reviews(_json(raw), _account(raw)), []),
    "poll:tripadvisor": lambda raw: (tripadvisor.parse_reviews(_json(raw), _account(raw)), []),
    # Chunks of a file imported by `manage.py import_mentions` (see inbox.importing).
    "import:csv": importing.parse_chunk,
    "import:jsonl": importing.parse_chunk,
    "import:google": importing.parse_chunk,
    "import:meta": importing.parse_chunk,
    "import:x": importing.parse_chunk,
    "import:yelp": importing.parse_chunk,
    "import:tripadvisor": importing.parse_chunk,
}


def parse_raw(raw: RawPayload) -> Parsed:
    parser = PARSERS.get(raw.source)
    if parser is None:
        raise PayloadError(f"unknown source {raw.source!r}", field="source")
    return parser(raw)
