"""Tripadvisor Content API location reviews -> mentions.

Source: tripadvisor-content-api.readme.io, GET /api/v1/location/{locationId}/reviews ->
{data: [{id, lang, location_id, published_date (ISO-8601), rating (1..5), helpful_votes,
rating_image_url, url, text, title, trip_type, travel_date, user: {username, user_location:
{id, name}, avatar: {...}}, subratings, owner_response?}]}. Ids are numbers in the schema
and strings in published examples; both are accepted.
"""

from __future__ import annotations

from typing import Any

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform


def combine_title_and_text(title: str, text: str) -> str:
    """Tripadvisor reviews have a headline and a body; keep both, headline first.

    The headline is dropped when the body already starts with it (some clients repeat it).
    """
    title, text = title.strip(), text.strip()
    if not title or text.startswith(title):
        return text
    if not text:
        return title
    return f"{title}\n\n{text}"


def parse_reviews(obj: Any, location_id: str) -> list[NormalisedMention]:
    """A location reviews response for `location_id` -> mentions (kind review)."""
    if isinstance(location_id, bool) or not isinstance(location_id, (str, int)):
        raise PayloadError("location_id is required", field="location_id")
    location = str(location_id).strip()
    if not location:
        raise PayloadError("location_id is required", field="location_id")
    body = f.expect_dict(obj, "")
    mentions = []
    for i, review in enumerate(f.expect_list(body.get("data"), "data")):
        path = f.item("data", i)
        review = f.expect_dict(review, path)
        title = f.opt_str(review, "title", path)
        extra: dict[str, Any] = {}
        if title:
            extra["title"] = title
        for key in ("lang", "trip_type", "travel_date"):
            if value := f.opt_str(review, key, path):
                extra[key] = value
        user = f.opt_dict(review, "user", path) or {}
        user_path = f.child(path, "user")
        user_location = f.opt_dict(user, "user_location", user_path)
        if user_location is not None and (
            place := f.opt_str(user_location, "name", f.child(user_path, "user_location"))
        ):
            extra["author_location"] = place

        reply_text, reply_at = "", None
        response = f.opt_dict(review, "owner_response", path)
        if response is not None:  # shape not published in the Content API docs; read defensively
            response_path = f.child(path, "owner_response")
            reply_text = f.opt_str(response, "text", response_path)
            if response.get("published_date") is not None:
                reply_at = f.parse_datetime(
                    response["published_date"],
                    f.child(response_path, "published_date"),
                    require_tz=False,
                    allow_date=True,
                )

        mentions.append(
            NormalisedMention(
                platform=Platform.TRIPADVISOR,
                external_id=f.req_id(review, "id", path),
                kind=Kind.REVIEW,
                text=f.cap_text(
                    combine_title_and_text(title, f.opt_str(review, "text", path)), extra
                ),
                # Examples show "2024-04-10T10:15:00Z"; a bare date or a missing offset is UTC.
                posted_at=f.parse_datetime(
                    review.get("published_date"),
                    f.child(path, "published_date"),
                    require_tz=False,
                    allow_date=True,
                ),
                author_name=f.opt_str(user, "username", user_path),
                author_handle=f.opt_str(user, "username", user_path),
                rating=f.stars(review.get("rating"), f.child(path, "rating"), allow_float=True),
                url=f.opt_str(review, "url", path),
                account_external_id=location,
                owner_reply_text=reply_text,
                owner_reply_at=reply_at,
                extra=extra,
            )
        )
    return mentions
