"""Step 2: parse per platform. Which adapter reads which raw payload (`RawPayload.source`)
and turns it into normalised mentions.

A source is "<how>:<what>": api:google-review, api:mention, webhook:meta,
webhook:google (a Pub/Sub notification: the review itself is fetched), poll:feed,
poll:google, poll:x, poll:yelp, poll:tripadvisor. Poll payloads carry the account they
were fetched for in `headers["account"]`. Instagram `mentions` items in webhook:meta
carry ids only: their comment or caption is fetched here too.
"""

from __future__ import annotations

from collections.abc import Callable

from inbox.credentials import google_client, instagram_token
from inbox.models import Mention, RawPayload, SocialAccount
from inbox.pipeline import chunks
from inbox.platforms import feeds, generic, google, meta, tripadvisor, x, yelp
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform
from inbox.platforms.clients import InstagramClient, PlatformError
from reputation.core.payload import payload_json

Parsed = tuple[list[NormalisedMention], list[PayloadError]]


class FetchFailed(PayloadError):
    """An item whose content could not be fetched. `retryable`: the platform's error was
    temporary, so processing the payload again later can succeed (it is retried
    automatically, see inbox.pipeline.accept)."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def _json(raw: RawPayload):
    return payload_json(raw.body)


def _generic(raw: RawPayload) -> Parsed:
    data = _json(raw)
    items = data if isinstance(data, list) else [data]
    return [generic.parse_mention(item) for item in items], []


def _meta(raw: RawPayload) -> Parsed:
    result = meta.parse_webhook(_json(raw))
    mentions, errors = result.mentions, list(result.errors)
    if any(meta.needs_fetch(nm) for nm in mentions):
        mentions, fetch_errors = instagram_mentions_fetch(mentions)
        errors += fetch_errors
    return mentions, errors


def instagram_mentions_fetch(mentions: list[NormalisedMention]) -> Parsed:
    """Replace each Instagram `mentions` stub with the comment or caption it names.

    A stub that cannot be fetched (no token, a Graph error) is left out of the batch and
    reported as an error naming it, so the payload is kept as failed while the rest of the
    batch is stored. A temporary error (timeout, 5xx, rate limit) is retried automatically;
    otherwise `manage.py reprocess` fetches it again (the others de-duplicate).
    A stub whose comment is already stored, or arrives in the same batch through the
    `comments` field, is dropped without a call: it would only repeat what we have.
    """
    stubs: dict[tuple[str, str], NormalisedMention] = {
        (nm.platform, nm.external_id): nm for nm in mentions if meta.needs_fetch(nm)
    }
    have = {(nm.platform, nm.external_id) for nm in mentions if not meta.needs_fetch(nm)}
    have.update(
        (Platform.INSTAGRAM, external_id)
        for external_id in Mention.objects.filter(
            platform=Platform.INSTAGRAM, external_id__in=[key[1] for key in stubs]
        ).values_list("external_id", flat=True)
    )
    by_account: dict[str, list[NormalisedMention]] = {}
    for key, nm in stubs.items():
        if key not in have:
            by_account.setdefault(nm.account_external_id, []).append(nm)
    accounts = {
        a.external_id: a
        for a in SocialAccount.objects.filter(
            platform=Platform.INSTAGRAM, is_active=True, external_id__in=list(by_account)
        ).select_related("credential")
    }
    fetched: dict[tuple[str, str], NormalisedMention] = {}
    errors: list[PayloadError] = []
    for ig_user_id, items in by_account.items():
        token = instagram_token(accounts.get(ig_user_id))
        if not token:
            reason = (
                f"Instagram account {ig_user_id} has no access token: connect the account"
                " on the Accounts page (Connect Facebook and Instagram), then retry it on"
                " the Sources page"
            )
            errors += [_not_fetched(nm, reason) for nm in items]
            continue
        with InstagramClient(token) as client:
            outage: PlatformError | None = None
            for nm in items:
                if outage:  # one timeout or 5xx per account and batch, not one per item
                    errors.append(_not_fetched(nm, outage))
                    continue
                try:
                    fetched[(nm.platform, nm.external_id)] = _instagram_mention_fetch(client, nm)
                except PlatformError as exc:
                    outage = exc if exc.retryable else None
                    errors.append(_not_fetched(nm, exc))
                except PayloadError as exc:  # an answer that breaks the documented shape
                    errors.append(_not_fetched(nm, f"unexpected Graph API answer: {exc}"))
    # Stubs not fetched (known already, or failed) leave the batch: a stub stored with no
    # text would be analysed as empty, and its fetched text later taken for an edit.
    out = []
    for nm in mentions:
        if not meta.needs_fetch(nm):
            out.append(nm)
        elif (full := fetched.get((nm.platform, nm.external_id))) is not None:
            out.append(full)
    return out, errors


def _instagram_mention_fetch(client: InstagramClient, stub: NormalisedMention) -> NormalisedMention:
    if stub.kind == Kind.COMMENT:
        body = client.mentioned_comment(stub.account_external_id, stub.external_id)
        return meta.parse_mentioned_comment(body, stub)
    body = client.mentioned_media(stub.account_external_id, stub.external_id)
    return meta.parse_mentioned_media(body, stub)


def platform_reason(exc: PlatformError) -> str:
    """A platform error as stored on a failed payload: what happened and what follows."""
    if exc.retryable:
        return f"{exc.message} (temporary: it is fetched again automatically)"
    return (
        f"{exc.message} (not temporary: once the cause is fixed, e.g. with a new access"
        " token, `manage.py reprocess` fetches it again)"
    )


def _not_fetched(stub: NormalisedMention, reason: str | PlatformError) -> FetchFailed:
    what = "comment" if stub.kind == Kind.COMMENT else "caption of media"
    message = f"Instagram mention ({what} {stub.external_id}) not fetched: "
    if isinstance(reason, str):
        return FetchFailed(message + reason)
    return FetchFailed(
        message + platform_reason(reason),
        retryable=reason.retryable,
        retry_after=reason.retry_after,
    )


def _google_notification(raw: RawPayload) -> Parsed:
    note = google.parse_pubsub_push(_json(raw))
    if not note.review_name:
        return [], []
    account = SocialAccount.objects.filter(
        platform=Platform.GOOGLE, external_id=google.google_location(note)
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
    return feeds.feed_text_to_bytes(raw.body, raw.headers.get("transport", "utf-8"))


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
    # Chunks of a file imported by `manage.py import_mentions` (see inbox.sources.importing).
    "import:csv": chunks.parse_chunk,
    "import:jsonl": chunks.parse_chunk,
    "import:google": chunks.parse_chunk,
    "import:meta": chunks.parse_chunk,
    "import:x": chunks.parse_chunk,
    "import:yelp": chunks.parse_chunk,
    "import:tripadvisor": chunks.parse_chunk,
}


def parse_raw(raw: RawPayload) -> Parsed:
    parser = PARSERS.get(raw.source)
    if parser is None:
        raise PayloadError(f"unknown source {raw.source!r}", field="source")
    return parser(raw)
