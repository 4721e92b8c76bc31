"""The one mention shape every platform adapter produces.

Adapters are pure functions (payload in, normalised mentions out): no database, no
network. The ingestion pipeline (inbox.pipeline) stores the raw payload first, then
calls an adapter, then de-duplicates on (platform, external_id).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from reputation.core.errors import PayloadError

__all__ = ["Kind", "NormalisedMention", "PayloadError", "Platform"]


class Platform:
    """Platform codes stored on accounts and mentions (kept in sync with inbox.models)."""

    GOOGLE = "google"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YELP = "yelp"
    TRIPADVISOR = "tripadvisor"
    FEED = "feed"  # RSS/Atom alert feeds, blogs, forums
    API = "api"  # pushed by an integration in the generic format

    CHOICES = [
        (GOOGLE, "Google Business Profile"),
        (FACEBOOK, "Facebook"),
        (INSTAGRAM, "Instagram"),
        (X, "X"),
        (YELP, "Yelp"),
        (TRIPADVISOR, "Tripadvisor"),
        (FEED, "Feed / web"),
        (API, "API"),
    ]
    ALL = frozenset(code for code, _ in CHOICES)


class Kind:
    REVIEW = "review"
    COMMENT = "comment"
    POST = "post"
    ARTICLE = "article"

    CHOICES = [(REVIEW, "Review"), (COMMENT, "Comment"), (POST, "Post"), (ARTICLE, "Article")]


@dataclasses.dataclass(frozen=True)
class NormalisedMention:
    platform: str  # one of Platform.ALL
    external_id: str  # unique per platform (review id, comment id, tweet id, feed entry id)
    kind: str  # one of Kind
    text: str
    posted_at: dt.datetime  # timezone-aware
    author_external_id: str = ""  # platform user id when the platform gives one
    author_name: str = ""
    author_handle: str = ""
    rating: int | None = None  # 1..5 stars, or None
    url: str = ""
    # The practice's own account the item was addressed to (GBP location name, Page id,
    # IG user id, X user id, Yelp business id, TA location id, feed URL). Empty: unknown.
    account_external_id: str = ""
    updated_at: dt.datetime | None = None
    # Threading: the item this one answers, and the root of its conversation.
    parent_external_id: str = ""
    root_external_id: str = ""
    # True when the platform says the item was removed (e.g. Meta verb "remove").
    removed: bool = False
    # The practice's own reply already on the platform (GBP reviewReply), if any.
    owner_reply_text: str = ""
    owner_reply_at: dt.datetime | None = None
    # True when the author is the practice itself (its own page replying).
    from_owner: bool = False
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
