"""Google Business Profile (My Business API v4) reviews and Pub/Sub notifications.

Formats, from developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews:

    Review {name: "accounts/{a}/locations/{l}/reviews/{r}", reviewId, reviewer{profilePhotoUrl,
            displayName, isAnonymous}, starRating: STAR_RATING_UNSPECIFIED|ONE..FIVE, comment,
            createTime, updateTime (RFC 3339 UTC, up to 9 fractional digits), reviewReply{comment,
            updateTime}, reviewMediaItems[]}
    reviews.list -> {reviews[], averageRating, totalReviewCount, nextPageToken (absent on the
            last page)}

The API speaks proto3 JSON, which omits fields holding their default value: a missing
`comment` is a rating-only review, a missing `starRating` is STAR_RATING_UNSPECIFIED, a
missing `isAnonymous` is false, a missing `reviews` is an empty page.

Notifications (reference/rest/v4/Notifications and notifications/v1 NotificationSetting)
reach us as Pub/Sub push requests carrying resource names only; the review itself must be
fetched (GoogleClient.get_review), and delivery is at least once.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from typing import Any

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

STAR_RATINGS: dict[str, int | None] = {
    "STAR_RATING_UNSPECIFIED": None,
    "ONE": 1,
    "TWO": 2,
    "THREE": 3,
    "FOUR": 4,
    "FIVE": 5,
}

REVIEW_NAME_RE = re.compile(r"^(accounts/[^/\s]+/locations/[^/\s]+)/reviews/([^/\s]+)$")
# v4 names a location accounts/{a}/locations/{l}; the newer APIs just locations/{l}.
LOCATION_NAME_RE = re.compile(r"^(?:accounts/[^/\s]+/)?locations/[^/\s]+$")

# Notification types that point at a review (NotificationSetting.NotificationType).
REVIEW_NOTIFICATION_TYPES = frozenset({"NEW_REVIEW", "UPDATED_REVIEW"})


def parse_review(obj: Any, *, path: str = "") -> NormalisedMention:
    """One v4 Review resource -> NormalisedMention (platform google, kind review).

    external_id is the reviewId (Google's "encrypted unique identifier"), which stays the
    same when the location is reached through another account; the full resource name is
    kept in extra["resource_name"] and its location prefix becomes account_external_id.
    """
    review = f.expect_dict(obj, path)
    name = f.req_str(review, "name", path)
    match = REVIEW_NAME_RE.match(name)
    if not match:
        field = f.child(path, "name")
        raise PayloadError(
            f"{field} must look like accounts/{{a}}/locations/{{l}}/reviews/{{r}}", field=field
        )
    location_name, id_from_name = match.groups()
    review_id = f.opt_str(review, "reviewId", path) or id_from_name

    star_word = review.get("starRating")
    if star_word is None:
        rating = None
    elif isinstance(star_word, str) and star_word in STAR_RATINGS:
        rating = STAR_RATINGS[star_word]
    else:
        field = f.child(path, "starRating")
        raise PayloadError(
            f"{field} must be one of {', '.join(STAR_RATINGS)}; got {str(star_word)[:40]!r}",
            field=field,
        )

    extra: dict[str, Any] = {"resource_name": name}
    reviewer = f.opt_dict(review, "reviewer", path) or {}
    reviewer_path = f.child(path, "reviewer")
    author_name = f.opt_str(reviewer, "displayName", reviewer_path)
    anonymous = f.opt_bool(reviewer, "isAnonymous", reviewer_path)
    photo = f.opt_str(reviewer, "profilePhotoUrl", reviewer_path)
    if anonymous:
        extra["reviewer_anonymous"] = True
    if photo and not anonymous:
        extra["author_photo_url"] = photo

    text = f.cap_text(f.opt_str(review, "comment", path), extra)
    posted_at = f.parse_datetime(review.get("createTime"), f.child(path, "createTime"))
    updated_at = None
    if review.get("updateTime") is not None:
        updated_at = f.parse_datetime(review["updateTime"], f.child(path, "updateTime"))

    reply_text = ""
    reply_at = None
    reply = f.opt_dict(review, "reviewReply", path)
    if reply is not None:
        reply_path = f.child(path, "reviewReply")
        reply_text = f.opt_str(reply, "comment", reply_path)
        if reply.get("updateTime") is not None:
            reply_at = f.parse_datetime(reply["updateTime"], f.child(reply_path, "updateTime"))

    media = f.opt_list(review, "reviewMediaItems", path)
    if media:
        extra["media_count"] = len(media)

    return NormalisedMention(
        platform=Platform.GOOGLE,
        external_id=review_id,
        kind=Kind.REVIEW,
        text=text,
        posted_at=posted_at,
        author_name=author_name,
        rating=rating,
        url="",  # the v4 API gives no public link to a review
        account_external_id=location_name,
        updated_at=updated_at,
        owner_reply_text=reply_text,
        owner_reply_at=reply_at,
        extra=extra,
    )


def parse_reviews_list(obj: Any) -> tuple[list[NormalisedMention], str | None]:
    """A reviews.list response -> (mentions, nextPageToken or None on the last page).

    Strict: one malformed review raises PayloadError naming it ("reviews[3].createTime"),
    because a list response that breaks the documented shape means the format changed.
    """
    body = f.expect_dict(obj, "")
    reviews = f.opt_list(body, "reviews", "")
    mentions = [parse_review(r, path=f.item("reviews", i)) for i, r in enumerate(reviews)]
    token = f.opt_str(body, "nextPageToken", "") or None
    return mentions, token


@dataclasses.dataclass(frozen=True)
class GoogleNotification:
    """A decoded Business Profile Pub/Sub notification.

    `review_name` is set for NEW_REVIEW / UPDATED_REVIEW; other types (GOOGLE_UPDATE,
    NEW_QUESTION, ...) carry only what Google sent and are for the caller to ignore.
    `message_id` is Pub/Sub's id, unique per topic: use it to drop redeliveries.
    """

    type: str
    review_name: str | None
    location_name: str | None
    message_id: str = ""
    publish_time: str = ""
    subscription: str = ""

    @property
    def is_review(self) -> bool:
        return self.type in REVIEW_NOTIFICATION_TYPES


# The v4 docs call the fields reviewName/locationName, the notifications v1 docs
# review_name/location_name; payloads seen in the wild also use review/location.
_TYPE_KEYS = ("type", "notificationType")
_REVIEW_KEYS = ("review", "reviewName", "review_name")
_LOCATION_KEYS = ("location", "locationName", "location_name")


def _first_str(data: Any, keys: tuple[str, ...], path: str) -> str:
    for key in keys:
        if data.get(key) is not None:
            return f.req_str(data, key, path)
    return ""


def parse_pubsub_push(body: Any) -> GoogleNotification:
    """A Pub/Sub push request body -> GoogleNotification.

    Envelope (cloud.google.com/pubsub/docs/push): {"message": {"data": base64 JSON,
    "messageId", "publishTime", "attributes"}, "subscription": "projects/.../subscriptions/..."}
    """
    envelope = f.expect_dict(body, "")
    message = f.expect_dict(envelope.get("message"), "message")
    raw = f.req_str(message, "data", "message")
    try:
        padded = raw.strip() + "=" * (-len(raw.strip()) % 4)
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        data = json.loads(decoded.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise PayloadError(
            "message.data must be base64-encoded JSON", field="message.data"
        ) from None
    data = f.expect_dict(data, "message.data")

    kind = _first_str(data, _TYPE_KEYS, "message.data")
    if not kind:
        raise PayloadError("message.data.type is required", field="message.data.type")
    review_name = _first_str(data, _REVIEW_KEYS, "message.data") or None
    location_name = _first_str(data, _LOCATION_KEYS, "message.data") or None

    if kind in REVIEW_NOTIFICATION_TYPES:
        match = REVIEW_NAME_RE.match(review_name or "")
        if not match:
            raise PayloadError(
                "message.data.review must be a review resource name "
                "accounts/{a}/locations/{l}/reviews/{r}",
                field="message.data.review",
            )
        location_name = match.group(1)  # the account-qualified form, as on the Review
    elif location_name and not LOCATION_NAME_RE.match(location_name):
        raise PayloadError(
            "message.data.location must look like [accounts/{a}/]locations/{l}",
            field="message.data.location",
        )

    return GoogleNotification(
        type=kind,
        review_name=review_name,
        location_name=location_name,
        message_id=f.opt_str(message, "messageId", "message")
        or f.opt_str(message, "message_id", "message"),
        publish_time=f.opt_str(message, "publishTime", "message"),
        subscription=f.opt_str(envelope, "subscription", ""),
    )


def google_location(note: GoogleNotification) -> str:
    # "accounts/1/locations/2/reviews/3" names its location too.
    return note.location_name or (note.review_name or "").split("/reviews/")[0]
