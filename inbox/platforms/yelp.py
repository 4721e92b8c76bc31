"""Yelp Fusion reviews -> mentions.

Source: docs.developer.yelp.com, GET /v3/businesses/{business_id_or_alias}/reviews ->
{reviews: [{id, url, text, rating, time_created, user: {id, profile_url, image_url, name}}],
total, possible_languages}. `text` is an excerpt (Fusion returns up to 3 reviews with
shortened text); `time_created` is "YYYY-MM-DD HH:MM:SS" in Pacific time (the docs say
"PST"; we apply America/Los_Angeles, so summer times are read as PDT).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$")

try:
    PACIFIC: dt.tzinfo = ZoneInfo("America/Los_Angeles")
except ZoneInfoNotFoundError:  # no tz database: fall back to standard time
    PACIFIC = dt.timezone(dt.timedelta(hours=-8), "PST")


def _time_created(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str) and (m := _TIME_RE.match(value.strip())):
        try:
            local = dt.datetime(*(int(g) for g in m.groups()), tzinfo=PACIFIC)
        except ValueError:
            raise PayloadError(
                f"{field} is not a valid time: {value[:40]!r}", field=field
            ) from None
        return local.astimezone(f.UTC)
    if isinstance(value, str) and "T" in value:  # tolerate ISO-8601 with an offset
        return f.parse_datetime(value, field)
    raise PayloadError(f"{field} must be 'YYYY-MM-DD HH:MM:SS'", field=field)


def parse_reviews(obj: Any, business_id: str) -> list[NormalisedMention]:
    """A Fusion reviews response for `business_id` -> mentions (kind review)."""
    if not isinstance(business_id, str) or not business_id.strip():
        raise PayloadError("business_id is required", field="business_id")
    body = f.expect_dict(obj, "")
    reviews = f.expect_list(body.get("reviews"), "reviews")
    mentions = []
    for i, review in enumerate(reviews):
        path = f.item("reviews", i)
        review = f.expect_dict(review, path)
        extra: dict[str, Any] = {"excerpt": True}
        user = f.opt_dict(review, "user", path) or {}
        user_path = f.child(path, "user")
        if image := f.opt_str(user, "image_url", user_path):
            extra["author_photo_url"] = image
        if profile := f.opt_str(user, "profile_url", user_path):
            extra["author_profile_url"] = profile
        mentions.append(
            NormalisedMention(
                platform=Platform.YELP,
                external_id=f.req_id(review, "id", path),
                kind=Kind.REVIEW,
                text=f.cap_text(f.opt_str(review, "text", path), extra),
                posted_at=_time_created(review.get("time_created"), f.child(path, "time_created")),
                author_external_id=f.opt_id(user, "id", user_path),
                author_name=f.opt_str(user, "name", user_path),
                rating=f.stars(review.get("rating"), f.child(path, "rating"), allow_float=True),
                url=f.opt_str(review, "url", path),
                account_external_id=business_id.strip(),
                extra=extra,
            )
        )
    return mentions
