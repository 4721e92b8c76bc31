"""Scheduled pulls from platforms that are not pushed to us: GBP review lists, RSS/Atom
feeds (conditional GET), X recent search, Yelp and Tripadvisor reviews.

Each poll stores the platform's answer as a RawPayload first, then processes it like
any other payload. A failing platform is recorded on the account (the error, what to do,
since when: shown on the accounts page) and retried at the next round; it never stops
the other accounts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox.credentials import account_token, google_client
from inbox.models import ListeningRule, RawPayload, SocialAccount
from inbox.pipeline import store
from inbox.pipeline.accept import raw_payload_accept, raw_payload_process
from inbox.platforms import feeds, google
from inbox.platforms.base import PayloadError, Platform
from inbox.platforms.clients import (
    FeedClient,
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
    state = dict(account.poll_state)
    started = timezone.now()
    try:
        fetched = FETCHERS[account.platform](account, state)
    except (PlatformError, ValueError) as exc:  # ValueError: an id the client refuses
        log.warning("poll of %s %s failed: %s", account.platform, account.external_id, exc)
        now = timezone.now()
        SocialAccount.objects.filter(pk=account.pk).update(
            last_polled_at=now,
            last_poll_error=poll_error_text(exc),
            # "Failing since": the first failure of a run, not the latest one.
            last_poll_error_at=Coalesce(F("last_poll_error_at"), Value(now)),
        )
        return None
    SocialAccount.objects.filter(pk=account.pk).update(
        last_polled_at=timezone.now(), last_poll_error="", last_poll_error_at=None, poll_state=state
    )
    if fetched is None:
        return None
    pages = fetched if isinstance(fetched, list) else [fetched]
    processed = [_ingest(account, page) for page in pages]
    if account.platform == Platform.GOOGLE:
        _google_removed(account, pages, listed_since=started)
    return processed[0]


def _ingest(account: SocialAccount, fetched: str | bytes) -> RawPayload:
    headers = {"account": account.external_id}
    if isinstance(fetched, bytes):
        fetched, headers["transport"] = feeds.feed_bytes_to_text(fetched)
    raw = raw_payload_accept(
        source=f"poll:{account.platform}",
        platform=account.platform,
        body=fetched,
        headers=headers,
        process=False,  # already in the worker: process right here
    )
    return raw_payload_process(raw.pk)


def poll_error_text(exc: PlatformError | ValueError) -> str:
    """The error as the accounts page shows it, ending with what to do about it."""
    text = str(exc).rstrip(".")
    if not isinstance(exc, PlatformError):
        text += "; check the account's id on the platform"
    elif exc.status in (401, 403):
        text += "; the access token or API key was refused or has expired: renew it"
    elif exc.status == 404:
        text += "; the platform does not know this account: check its id"
    elif exc.retryable:
        text += "; tried again at every poll: if it keeps failing, check the account"
    elif "; " not in text:  # the feed guard's refusals already say what to do
        text += "; check the account's settings"
    return text[:2000]


def _feed(account: SocialAccount, state: dict) -> bytes | None:
    with FeedClient(allow_private=settings.FEED_ALLOW_PRIVATE) as client:
        fetch = client.fetch(
            account.external_id, etag=state.get("etag"), last_modified=state.get("last_modified")
        )
    if fetch.not_modified:
        return None
    state["etag"], state["last_modified"] = fetch.etag, fetch.last_modified
    return fetch.content


# Pages of a location's reviews read per poll (50 each). A location with more reviews is
# still polled (newest updates come first), but its list is never complete, so removals
# there are not detected by the poll.
GOOGLE_MAX_PAGES = 20


def _google(account: SocialAccount, state: dict) -> list[str]:
    """Every page of the location's reviews (up to GOOGLE_MAX_PAGES), each kept as its
    own payload, exactly as Google sent it."""
    pages: list[str] = []
    token = None
    with google_client(account) as client:
        while len(pages) < GOOGLE_MAX_PAGES:
            body = client.list_reviews(account.external_id, token)
            pages.append(json.dumps(body))
            token = body.get("nextPageToken") if isinstance(body, dict) else None
            if not token:
                break
    return pages


def _google_removed(account: SocialAccount, pages: list[str], *, listed_since) -> int:
    """When the poll read the location's complete list (its last page has no
    nextPageToken), the stored reviews missing from it were removed on Google."""
    listed: set[str] = set()
    try:
        for page in pages:
            mentions, token = google.parse_reviews_list(json.loads(page))
            listed.update(m.external_id for m in mentions)
    except (PayloadError, ValueError):
        return 0  # a page we cannot read: the list is not known to be complete
    if token:
        log.info("google %s: over %d pages, removals not checked", account.pk, len(pages))
        return 0
    return store.mentions_missing_from_listing(
        account=account, listed=listed, listed_since=listed_since
    )


def _x(account: SocialAccount, state: dict) -> str:
    terms = list(
        ListeningRule.objects.filter(is_active=True)
        .exclude(kind=ListeningRule.Kind.EXCLUSION)
        .values_list("term", flat=True)[:10]
    )
    parts = [account.handle if account.handle.startswith("@") else f"@{account.handle}"]
    parts += [f'"{t}"' for t in terms]
    query = " OR ".join(p for p in parts if p.strip('@"'))
    with XClient(account_token(account, "X_BEARER_TOKEN")) as client:
        body = client.search_recent(query, since_id=state.get("since_id"))
    newest = (body.get("meta") or {}).get("newest_id")
    if newest:
        state["since_id"] = newest
    return json.dumps(body)


def _yelp(account: SocialAccount, state: dict) -> str:
    with YelpClient(account_token(account, "YELP_API_KEY")) as client:
        return json.dumps(client.reviews(account.external_id))


def _tripadvisor(account: SocialAccount, state: dict) -> str:
    with TripadvisorClient(account_token(account, "TRIPADVISOR_API_KEY")) as client:
        return json.dumps(client.reviews(account.external_id))


FETCHERS = {
    Platform.FEED: _feed,
    Platform.GOOGLE: _google,
    Platform.X: _x,
    Platform.YELP: _yelp,
    Platform.TRIPADVISOR: _tripadvisor,
}
