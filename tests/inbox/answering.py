"""Mentions to answer, shared by the reply tests (services, API, pages, isolation)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from inbox.models import Author, Conversation, Mention, SocialAccount

LOCATION = "accounts/108/locations/2001"
GOOGLE_API = "https://mybusiness.googleapis.com/v4/"
GRAPH_API = "https://graph.facebook.com/v25.0/"
X_API = "https://api.x.com/2/"
PAGE_ID = "104998877665544"
_ids = itertools.count(1)


def account(platform: str = "google", **fields) -> SocialAccount:
    defaults = {
        "google": {"external_id": LOCATION, "display_name": "Alpha Dental, Oslo"},
        "facebook": {"external_id": PAGE_ID, "display_name": "Alpha Dental on Facebook"},
        "x": {
            "external_id": "1500000000000000001",
            "display_name": "Alpha on X",
            "handle": "@alphadental",
        },
        "yelp": {"external_id": "alpha-dental-oslo", "display_name": "Alpha on Yelp"},
        "instagram": {
            "external_id": "17841400000000001",
            "display_name": "Alpha IG",
            "handle": "alphadental",
        },
    }[platform]
    values = {**defaults, "poll_state": {"token": f"{platform}-token"}, **fields}
    found = SocialAccount.objects.filter(
        platform=platform, external_id=values["external_id"]
    ).first()
    return found or SocialAccount.objects.create(platform=platform, **values)


def mention(
    platform: str = "google",
    *,
    text: str = "Waited 50 minutes and nobody said sorry.",
    category: str = "complaint",
    sentiment: float = -0.4,
    marker: str = "",
    kind: str | None = None,
    author_key: str | None = None,
    conversation: Conversation | None = None,
    acct: SocialAccount | None = None,
    **fields,
) -> Mention:
    n = next(_ids)
    acct = acct or account(platform)
    now = timezone.now()
    author, _ = Author.objects.get_or_create(
        platform=platform,
        key=author_key or f"person-{n}",
        defaults={"name": "Kari Nordmann", "marker": marker},
    )
    if marker and author.marker != marker:
        Author.objects.filter(pk=author.pk).update(marker=marker)
        author.marker = marker
    external_id = f"{n}{int(now.timestamp())}" if platform != "google" else f"rev{n}x{now:%H%M%S%f}"
    conversation = conversation or Conversation.objects.create(
        platform=platform,
        root_external_id=external_id,
        account=acct,
        started_at=now,
        last_activity_at=now,
    )
    return Mention.objects.create(
        account=acct,
        platform=platform,
        external_id=external_id,
        kind=kind or ("review" if platform in ("google", "yelp") else "comment"),
        author=author,
        author_name=author.name,
        conversation=conversation,
        text=text,
        url=fields.pop(
            "url", "https://www.yelp.com/biz/alpha?hrid=1" if platform == "yelp" else ""
        ),
        posted_at=now - dt.timedelta(minutes=5),
        category=category,
        sentiment=sentiment,
        due_at=now + dt.timedelta(minutes=55),
        **fields,
    )


def review_name(m: Mention) -> str:
    return f"{m.account.external_id}/reviews/{m.external_id}"
