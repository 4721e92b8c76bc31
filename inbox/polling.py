"""Scheduled pulls from platforms that are not pushed to us: GBP review lists, RSS/Atom
feeds (conditional GET), X recent search, Yelp and Tripadvisor reviews.

Each poll stores the platform's answer as a RawPayload first, then processes it like
any other payload. A failing platform is recorded on the account and retried at the
next round; it never stops the other accounts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inbox.models import ListeningRule, RawPayload, SocialAccount
from inbox.platforms.base import Platform
from inbox.platforms.clients import (
    FeedClient,
    GoogleClient,
    PlatformError,
    TripadvisorClient,
    XClient,
    YelpClient,
)

log = logging.getLogger(__name__)

POLLED = {Platform.GOOGLE, Platform.FEED, Platform.X, Platform.YELP, Platform.TRIPADVISOR}
INTERVAL = {
    Platform.FEED: dt.timedelta(minutes=15),
    Platform.GOOGLE: dt.timedelta(minutes=10),
    Platform.X: dt.timedelta(minutes=5),
    Platform.YELP: dt.timedelta(hours=1),
    Platform.TRIPADVISOR: dt.timedelta(hours=1),
}


def _token(account: SocialAccount, setting: str) -> str:
    return account.poll_state.get("token") or getattr(settings, setting, "")


def google_client(account: SocialAccount | None = None) -> GoogleClient:
    token = _token(account, "GOOGLE_API_TOKEN") if account else settings.GOOGLE_API_TOKEN
    return GoogleClient(token)


def poll_due_accounts(*, now: dt.datetime | None = None) -> int:
    """Poll every account whose interval has passed. Returns how many were polled."""
    now = now or timezone.now()
    polled = 0
    candidates = SocialAccount.objects.filter(
        is_active=True, poll_enabled=True, platform__in=POLLED
    ).filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=now - dt.timedelta(minutes=5)))
    for account in candidates:
        if account.last_polled_at and account.last_polled_at > now - INTERVAL[account.platform]:
            continue
        poll_account(account)
        polled += 1
    return polled


def poll_account(account: SocialAccount) -> RawPayload | None:
    """Fetch new items for one account and ingest them. Returns the stored payload,
    or None when the platform had nothing new (feed 304) or failed."""
    from inbox.services import raw_payload_accept, raw_payload_process

    state = dict(account.poll_state)
    try:
        fetched = FETCHERS[account.platform](account, state)
    except PlatformError as exc:
        log.warning("poll of %s %s failed: %s", account.platform, account.external_id, exc)
        SocialAccount.objects.filter(pk=account.pk).update(
            last_polled_at=timezone.now(), last_poll_error=str(exc)[:2000]
        )
        return None
    SocialAccount.objects.filter(pk=account.pk).update(
        last_polled_at=timezone.now(), last_poll_error="", poll_state=state
    )
    if fetched is None:
        return None
    headers = {"account": account.external_id}
    if isinstance(fetched, bytes):
        fetched, headers["transport"] = feed_bytes_to_text(fetched)
    raw = raw_payload_accept(
        source=f"poll:{account.platform}",
        platform=account.platform,
        body=fetched,
        headers=headers,
        process=False,  # already in the worker: process right here
    )
    return raw_payload_process(raw.pk)


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


def _feed(account: SocialAccount, state: dict) -> bytes | None:
    with FeedClient(allow_private=settings.FEED_ALLOW_PRIVATE) as client:
        fetch = client.fetch(
            account.external_id, etag=state.get("etag"), last_modified=state.get("last_modified")
        )
    if fetch.not_modified:
        return None
    state["etag"], state["last_modified"] = fetch.etag, fetch.last_modified
    return fetch.content


def _google(account: SocialAccount, state: dict) -> str:
    with google_client(account) as client:
        return json.dumps(client.list_reviews(account.external_id))


def _x(account: SocialAccount, state: dict) -> str:
    terms = list(
        ListeningRule.objects.filter(is_active=True)
        .exclude(kind=ListeningRule.Kind.EXCLUSION)
        .values_list("term", flat=True)[:10]
    )
    parts = [account.handle if account.handle.startswith("@") else f"@{account.handle}"]
    parts += [f'"{t}"' for t in terms]
    query = " OR ".join(p for p in parts if p.strip('@"'))
    with XClient(_token(account, "X_BEARER_TOKEN")) as client:
        body = client.search_recent(query, since_id=state.get("since_id"))
    newest = (body.get("meta") or {}).get("newest_id")
    if newest:
        state["since_id"] = newest
    return json.dumps(body)


def _yelp(account: SocialAccount, state: dict) -> str:
    with YelpClient(_token(account, "YELP_API_KEY")) as client:
        return json.dumps(client.reviews(account.external_id))


def _tripadvisor(account: SocialAccount, state: dict) -> str:
    with TripadvisorClient(_token(account, "TRIPADVISOR_API_KEY")) as client:
        return json.dumps(client.reviews(account.external_id))


FETCHERS = {
    Platform.FEED: _feed,
    Platform.GOOGLE: _google,
    Platform.X: _x,
    Platform.YELP: _yelp,
    Platform.TRIPADVISOR: _tripadvisor,
}
