"""Small synchronous HTTP clients for the platform APIs and for feeds (httpx).

They return the raw decoded JSON (or feed bytes): the ingestion pipeline stores the raw
payload first, then hands it to the matching adapter. Every failure is a PlatformError
whose `retryable` says whether trying again later can help: timeouts, network errors,
408, 429 and 5xx are retryable; other 4xx (bad token, unknown id, quota refused) are not.
Error messages never contain tokens or API keys (Tripadvisor's key travels in the URL, so
URLs are left out of messages too).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import socket
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urljoin

import httpcore
import httpx

from inbox.platforms.google import LOCATION_NAME_RE, REVIEW_NAME_RE

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_JSON_BYTES = 10 * 1024 * 1024
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "ReputationDesk/1.0 (+mention monitoring)"


class PlatformError(Exception):
    """A platform call failed. `retryable`: whether the same call may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        platform: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.platform = platform


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: leave the back-off to the caller's schedule


def _error_detail(body: bytes) -> str:
    """A short, printable summary of a platform's error body (never the request URL)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):  # Google, Yelp, Tripadvisor
            detail = error.get("message") or error.get("description") or error.get("code")
        elif isinstance(error, str):
            detail = data.get("error_description") or error
        else:  # X: {"title", "detail"}; X v2 errors: {"errors": [{"message"}]}
            detail = data.get("detail") or data.get("title")
            errors = data.get("errors")
            if not detail and isinstance(errors, list) and errors and isinstance(errors[0], dict):
                detail = errors[0].get("message")
        if isinstance(detail, (str, int)):
            return str(detail)[:200]
    return ""


def _read_capped(response: httpx.Response, limit: int, platform: str) -> bytes:
    """Read a streamed body, giving up as soon as it exceeds `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PlatformError(
            f"response is larger than {limit:,} bytes", retryable=False, platform=platform
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise PlatformError(
                f"response is larger than {limit:,} bytes", retryable=False, platform=platform
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _check_status(response: httpx.Response, body: bytes, platform: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = _error_detail(body)
    message = f"{platform} answered HTTP {status}" + (f": {detail}" if detail else "")
    retryable = status in (408, 429) or status >= 500
    raise PlatformError(
        message,
        retryable=retryable,
        status=status,
        retry_after=_retry_after(response) if retryable else None,
        platform=platform,
    )


class _JsonClient:
    platform = ""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check(self, response: httpx.Response, body: bytes) -> None:
        _check_status(response, body, self.platform)

    def _get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            with self._http.stream("GET", path, params=params) as response:
                body = _read_capped(response, MAX_JSON_BYTES, self.platform)
                self._check(response, body)
        except httpx.TimeoutException:
            raise PlatformError(
                f"{self.platform} timed out", retryable=True, platform=self.platform
            ) from None
        except httpx.RequestError as exc:  # network, TLS, bad compression, ...
            raise PlatformError(
                f"{self.platform} unreachable: {type(exc).__name__}",
                retryable=True,
                platform=self.platform,
            ) from None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise PlatformError(
                f"{self.platform} answered with invalid JSON",
                retryable=True,
                platform=self.platform,
            ) from None
        if not isinstance(data, dict):
            raise PlatformError(
                f"{self.platform} answered with a JSON {type(data).__name__}, not an object",
                retryable=False,
                platform=self.platform,
            )
        return data

    def _send_json(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A write (PUT/POST/DELETE). Failures as in _get_json; an empty 2xx body is {}.

        A timeout is retryable, but the platform may have done the write before the
        answer was lost: callers that must not write twice read back before retrying
        (inbox.publishing)."""
        try:
            response = self._http.request(method, path, json=json_body, params=params)
            body = response.content[: MAX_JSON_BYTES + 1]
            if len(body) > MAX_JSON_BYTES:
                raise PlatformError(
                    f"response is larger than {MAX_JSON_BYTES:,} bytes",
                    retryable=False,
                    platform=self.platform,
                )
            self._check(response, body)
        except httpx.TimeoutException:
            raise PlatformError(
                f"{self.platform} timed out", retryable=True, platform=self.platform
            ) from None
        except httpx.RequestError as exc:
            raise PlatformError(
                f"{self.platform} unreachable: {type(exc).__name__}",
                retryable=True,
                platform=self.platform,
            ) from None
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise PlatformError(
                f"{self.platform} answered with invalid JSON",
                retryable=True,
                platform=self.platform,
            ) from None
        if isinstance(data, bool):  # Graph answers {"success": true}, or a bare true
            return {"success": data}
        if not isinstance(data, dict):
            raise PlatformError(
                f"{self.platform} answered with a JSON {type(data).__name__}, not an object",
                retryable=False,
                platform=self.platform,
            )
        return data


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value.strip(), safe="")


class GoogleClient(_JsonClient):
    """Business Profile API v4 reviews (developers.google.com/my-business/reference/rest/v4).

    `token` is an OAuth 2.0 access token with the business.manage scope.
    """

    platform = "google"

    def __init__(
        self, token: str, *, base_url: str = "https://mybusiness.googleapis.com/v4/", **kw: Any
    ) -> None:
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, **kw)

    def get_review(self, review_name: str) -> dict[str, Any]:
        """GET /v4/accounts/{a}/locations/{l}/reviews/{r} -> a Review resource."""
        if not isinstance(review_name, str) or not REVIEW_NAME_RE.match(review_name):
            raise ValueError("review_name must be accounts/{a}/locations/{l}/reviews/{r}")
        return self._get_json("/".join(quote(p, safe="") for p in review_name.split("/")))

    def list_reviews(
        self, location_name: str, page_token: str | None = None, *, page_size: int = 50
    ) -> dict[str, Any]:
        """GET /v4/{location}/reviews -> {reviews, averageRating, totalReviewCount,
        nextPageToken}; newest updates first (the API's default order, updateTime desc)."""
        if (
            not isinstance(location_name, str)
            or not location_name.startswith("accounts/")
            or not LOCATION_NAME_RE.match(location_name)
        ):
            raise ValueError("location_name must be accounts/{a}/locations/{l}")
        params: dict[str, Any] = {"pageSize": max(1, min(page_size, 50))}
        if page_token:
            params["pageToken"] = page_token
        path = "/".join(quote(p, safe="") for p in location_name.split("/")) + "/reviews"
        return self._get_json(path, params)

    @staticmethod
    def _review_path(review_name: str) -> str:
        if not isinstance(review_name, str) or not REVIEW_NAME_RE.match(review_name):
            raise ValueError("review_name must be accounts/{a}/locations/{l}/reviews/{r}")
        return "/".join(quote(p, safe="") for p in review_name.split("/"))

    def put_reply(self, review_name: str, comment: str) -> dict[str, Any]:
        """PUT /v4/{review}/reply {"comment"} -> ReviewReply {comment, updateTime}.
        Creates the owner's reply, or replaces it: a review has at most one."""
        return self._send_json(
            "PUT", self._review_path(review_name) + "/reply", json_body={"comment": comment}
        )

    def delete_reply(self, review_name: str) -> dict[str, Any]:
        """DELETE /v4/{review}/reply -> {} (the owner's reply is gone)."""
        return self._send_json("DELETE", self._review_path(review_name) + "/reply")


# Pinned: an unversioned Graph call runs on the app's oldest available version.
GRAPH_API_VERSION = "v25.0"
# Meta sends most errors as HTTP 400/403 whatever their cause, so the status alone would
# call a throttled or briefly failing call permanent. Codes Meta documents as temporary
# (developers.facebook.com/docs/graph-api/guides/error-handling): 1 unknown (possibly
# downtime), 2 service, 4/17/32/341/613 rate limits; errors may also say is_transient.
_META_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
_GRAPH_ID_RE = re.compile(r"^[0-9A-Za-z_]{1,64}$")


def _meta_transient(body: bytes) -> bool:
    try:
        error = json.loads(body).get("error")
    except (ValueError, RecursionError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    return error.get("is_transient") is True or error.get("code") in _META_TRANSIENT_CODES


def _graph_id(value: str, what: str) -> str:
    # Ids go inside a `fields` expression (`comment_id(<id>){...}`), not just a path
    # segment: anything but an id's characters could rewrite the expression.
    if not isinstance(value, str) or not _GRAPH_ID_RE.match(value):
        raise ValueError(f"{what} must be a Graph API id")
    return value


class _GraphClient(_JsonClient):
    """Graph API writes shared by Facebook Pages and Instagram: answers, deletes, hides.
    Errors Meta documents as temporary are retryable whatever their HTTP status."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = f"https://graph.facebook.com/{GRAPH_API_VERSION}/",
        **kw: Any,
    ) -> None:
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, **kw)

    def _check(self, response: httpx.Response, body: bytes) -> None:
        try:
            _check_status(response, body, self.platform)
        except PlatformError as exc:
            if not exc.retryable and _meta_transient(body):
                exc.retryable = True
                exc.retry_after = _retry_after(response)
            raise

    def delete_object(self, object_id: str) -> dict[str, Any]:
        """DELETE /{comment-id} -> {"success": true}."""
        return self._send_json("DELETE", _graph_id(object_id, "object_id"))


class FacebookClient(_GraphClient):
    """Facebook Page comments (developers.facebook.com/docs/graph-api/reference/comment):
    `token` is the Page access token (pages_manage_engagement for replies and hiding)."""

    platform = "facebook"
    REPLY_FIELDS = "id,message,from{id,name},created_time"

    def comment_reply(self, object_id: str, message: str) -> dict[str, Any]:
        """POST /{object-id}/comments {message} -> {"id": the new comment's id}. The
        object is the comment answered (a reply in its thread) or the post or rating."""
        return self._send_json(
            "POST", f"{_graph_id(object_id, 'object_id')}/comments", json_body={"message": message}
        )

    def comment_replies(self, object_id: str) -> dict[str, Any]:
        """GET /{object-id}/comments -> {"data": [{id, message, from{id,name}, ...}]},
        newest first: the read-back before a publish is tried again."""
        return self._get_json(
            f"{_graph_id(object_id, 'object_id')}/comments",
            {"fields": self.REPLY_FIELDS, "order": "reverse_chronological", "limit": 100},
        )

    def comment_hide(self, comment_id: str) -> dict[str, Any]:
        """POST /{comment-id} {is_hidden: true}: hidden from everyone but its author and
        their friends (not deleted)."""
        return self._send_json(
            "POST", _graph_id(comment_id, "comment_id"), json_body={"is_hidden": True}
        )

    def private_reply(self, page_id: str, comment_id: str, message: str) -> dict[str, Any]:
        """POST /{page-id}/messages {recipient: {comment_id}, message: {text}} -> {recipient_id,
        message_id}: Meta's private reply to a comment (once per comment, within 7 days)."""
        return self._send_json(
            "POST",
            f"{_graph_id(page_id, 'page_id')}/messages",
            json_body={
                "recipient": {"comment_id": _graph_id(comment_id, "comment_id")},
                "message": {"text": message},
            },
        )


class InstagramClient(_GraphClient):
    """Instagram Graph API (Facebook Login), reads of @mentions of a business account.

    developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/
    mentioned_comment and .../mentioned_media: a `mentions` webhook names a comment or
    media by id only; these field expansions on the IG user are the documented way to read
    it (the comment node itself may only be read by the comment's author). `token` is the
    Page (or user) access token of the page the Instagram account is linked to; it is sent
    as a Bearer header so it never appears in a URL.
    """

    platform = "instagram"
    # `username` is not in mentioned_comment's own field table, but it is an IG Comment
    # field and the comment returned is one; the parser treats it as optional. Should the
    # Graph API refuse it, the documented fields alone are asked for (see below).
    COMMENT_FIELDS = "id,text,timestamp,username,like_count,media{id,permalink}"
    DOCUMENTED_COMMENT_FIELDS = "id,text,timestamp,like_count,media{id,permalink}"
    MEDIA_FIELDS = "id,caption,timestamp,username,permalink,media_type"

    def comment_reply(self, comment_id: str, message: str) -> dict[str, Any]:
        """POST /{ig-comment-id}/replies {message} -> {"id"}."""
        return self._send_json(
            "POST",
            f"{_graph_id(comment_id, 'comment_id')}/replies",
            json_body={"message": message},
        )

    def comment_replies(self, comment_id: str) -> dict[str, Any]:
        """GET /{ig-comment-id}/replies -> {"data": [{id, text, username, timestamp}]}."""
        return self._get_json(
            f"{_graph_id(comment_id, 'comment_id')}/replies",
            {"fields": "id,text,username,timestamp"},
        )

    def comment_hide(self, comment_id: str) -> dict[str, Any]:
        """POST /{ig-comment-id} {hide: true}."""
        return self._send_json(
            "POST", _graph_id(comment_id, "comment_id"), json_body={"hide": True}
        )

    def mentioned_comment(self, ig_user_id: str, comment_id: str) -> dict[str, Any]:
        """GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){...} ->
        {"mentioned_comment": {id, text, timestamp, username, like_count, media{id,
        permalink}}, "id": ig-user-id}."""
        comment = _graph_id(comment_id, "comment_id")
        user = _graph_id(ig_user_id, "ig_user_id")
        fields = f"mentioned_comment.comment_id({comment}){{{self.COMMENT_FIELDS}}}"
        try:
            return self._get_json(user, {"fields": fields})
        except PlatformError as exc:
            # A refused field would fail every mention for good: without the author's
            # name the mention still arrives.
            if exc.status != 400 or "username" not in exc.message:
                raise
            log.warning("instagram refused the username field; fetching without it")
        fields = f"mentioned_comment.comment_id({comment}){{{self.DOCUMENTED_COMMENT_FIELDS}}}"
        return self._get_json(user, {"fields": fields})

    def mentioned_media(self, ig_user_id: str, media_id: str) -> dict[str, Any]:
        """GET /{ig-user-id}?fields=mentioned_media.media_id({id}){...} ->
        {"mentioned_media": {id, caption, timestamp, username, permalink, media_type},
        "id": ig-user-id}."""
        media = _graph_id(media_id, "media_id")
        fields = f"mentioned_media.media_id({media}){{{self.MEDIA_FIELDS}}}"
        return self._get_json(_graph_id(ig_user_id, "ig_user_id"), {"fields": fields})


class YelpClient(_JsonClient):
    """Yelp Fusion (docs.developer.yelp.com): `token` is the API key, sent as a Bearer token."""

    platform = "yelp"

    def __init__(
        self, token: str, *, base_url: str = "https://api.yelp.com/v3/", **kw: Any
    ) -> None:
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, **kw)

    def reviews(self, business_id: str, *, locale: str | None = None) -> dict[str, Any]:
        """GET /v3/businesses/{id}/reviews -> {reviews, total, possible_languages}."""
        params = {"locale": locale} if locale else None
        return self._get_json(f"businesses/{_segment(business_id, 'business_id')}/reviews", params)


class TripadvisorClient(_JsonClient):
    """Tripadvisor Content API (tripadvisor-content-api.readme.io).

    The API key is a query parameter (`key`); keys restricted to a domain also need the
    matching Referer, hence `referer`.
    """

    platform = "tripadvisor"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.content.tripadvisor.com/api/v1/",
        referer: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(base_url=base_url, headers={"Referer": referer} if referer else None, **kw)
        self._key = token

    def reviews(self, location_id: str | int, *, language: str = "en") -> dict[str, Any]:
        """GET /location/{id}/reviews?key=…&language=… -> {data: [review, …]}."""
        location = _segment(str(location_id), "location_id")
        return self._get_json(
            f"location/{location}/reviews", {"key": self._key, "language": language}
        )


class XClient(_JsonClient):
    """X API v2 recent search (developer.x.com, GET /2/tweets/search/recent), app bearer token."""

    platform = "x"
    TWEET_FIELDS = "created_at,conversation_id,referenced_tweets,author_id,in_reply_to_user_id"

    def __init__(self, token: str, *, base_url: str = "https://api.x.com/2/", **kw: Any) -> None:
        super().__init__(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, **kw)

    def search_recent(
        self,
        query: str,
        since_id: str | None = None,
        *,
        next_token: str | None = None,
        max_results: int = 100,
    ) -> dict[str, Any]:
        """Tweets of the last 7 days matching `query`, newer than `since_id` when given."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        params: dict[str, Any] = {
            "query": query,
            "max_results": max(10, min(max_results, 100)),
            "expansions": "author_id",
            "tweet.fields": self.TWEET_FIELDS,
            "user.fields": "name,username",
        }
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        return self._get_json("tweets/search/recent", params)

    def tweet_reply(self, text: str, in_reply_to_tweet_id: str) -> dict[str, Any]:
        """POST /2/tweets {text, reply: {in_reply_to_tweet_id}} -> {"data": {id, text}}.
        Needs a user-context token of the practice's account (tweet.write)."""
        return self._send_json(
            "POST",
            "tweets",
            json_body={
                "text": text,
                "reply": {"in_reply_to_tweet_id": _segment(in_reply_to_tweet_id, "tweet id")},
            },
        )

    def user_tweets(self, user_id: str) -> dict[str, Any]:
        """GET /2/users/{id}/tweets: the account's latest tweets with what they answer
        (the read-back before a reply is tried again)."""
        return self._get_json(
            f"users/{_segment(user_id, 'user_id')}/tweets",
            {"max_results": 20, "tweet.fields": "created_at,referenced_tweets,conversation_id"},
        )

    def tweet_delete(self, tweet_id: str) -> dict[str, Any]:
        """DELETE /2/tweets/{id} -> {"data": {"deleted": true}}."""
        return self._send_json("DELETE", f"tweets/{_segment(tweet_id, 'tweet id')}")


@dataclasses.dataclass(frozen=True)
class FeedFetch:
    """Result of a conditional feed GET: status 200 (content) or 304 (not modified)."""

    status: int
    content: bytes
    etag: str | None
    last_modified: str | None
    url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# --- feeds: SSRF guard ---------------------------------------------------------------------
# Feed URLs are typed in by practices, so the worker must not become a way into the
# service's own network (databases, admin ports, the cloud metadata service at
# 169.254.169.254). Each hop's host is resolved once, every address it has must be public,
# and the connection then goes to exactly those addresses: a second lookup at connect time
# is what a DNS-rebinding server would answer differently.

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Checked in this order, so 127.0.0.1 is "loopback" rather than merely "private".
_NON_PUBLIC = (
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),
    ("is_multicast", "a multicast"),
    ("is_unspecified", "an unspecified"),
    ("is_reserved", "a reserved"),
    ("is_private", "a private"),
)


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` must not be fetched from ("a private", ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:a.b.c.d, 2002:a.b.c.d::/48 (6to4) and 64:ff9b::a.b.c.d (NAT64) all end up
        # at the embedded IPv4 host: judge that one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _non_public(embedded)
    for attribute, kind in _NON_PUBLIC:
        if getattr(address, attribute):
            return kind
    # is_global also leaves out shared space such as 100.64.0.0/10 (carrier-grade NAT).
    return None if address.is_global else "a non-public"


def _refused(message: str) -> PlatformError:
    return PlatformError(f"{message}; use a public feed URL", retryable=False, platform="feed")


def _resolve(host: str, port: int) -> tuple[str, ...]:
    """All IPv4/IPv6 addresses of `host`, in resolver order. DNS failures are retryable:
    a resolver outage or a domain being moved heals by itself."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PlatformError(
            f"feed host {host} could not be resolved ({reason}); check the feed URL",
            retryable=True,
            platform="feed",
        ) from None
    families = (socket.AF_INET, socket.AF_INET6)
    addresses = tuple(dict.fromkeys(str(i[4][0]) for i in infos if i[0] in families))
    if not addresses:
        raise PlatformError(
            f"feed host {host} has no IPv4 or IPv6 address; check the feed URL",
            retryable=True,
            platform="feed",
        )
    return addresses


def vet_feed_url(url: str, *, allow_private: bool = False) -> tuple[str, tuple[str, ...]]:
    """Check that `url` may be fetched: (host as httpx sends it, the addresses to use).

    Refused, not retryable: anything but http(s), localhost-like names, and hosts that are
    or resolve to any non-public address (private, loopback, link-local, multicast,
    reserved, IPv4-mapped forms of those). A DNS failure is retryable. With
    `allow_private` (development, tests) only the scheme is checked, nothing is resolved
    and the addresses are empty.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise PlatformError(
            "feed URL is not a valid URL", retryable=False, platform="feed"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise PlatformError("feed URL must be an http(s) URL", retryable=False, platform="feed")
    # raw_host is the IDNA (ASCII) form, the very name httpcore hands the network backend.
    host = parsed.raw_host.decode("ascii")
    if allow_private:
        return host, ()
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES):
        raise _refused(f"feed URL points to a local host ({name})")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if kind := _non_public(literal):
            raise _refused(f"feed URL points to {host}, {kind} address")
        return host, (host,)
    addresses = _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    for address in addresses:
        if kind := _non_public(ipaddress.ip_address(address)):
            # One bad address is enough: the connection could be made to any of them.
            raise _refused(f"feed host {name} resolves to {address}, {kind} address")
    return host, addresses


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects a host name only to the addresses vet_feed_url approved for it.

    httpcore passes connect_tcp the URL's host name; this backend never resolves it
    again, it looks it up in `pin`'s table (no entry: the connection is refused). TLS is
    started by httpcore on the returned stream with the URL's host name, so SNI and the
    certificate check are for the name, not the address, and the Host header is unchanged.
    """

    def __init__(self) -> None:
        self._pins: dict[str, tuple[str, ...]] = {}
        self._network: httpcore.NetworkBackend = httpcore.SyncBackend()

    def pin(self, host: str, addresses: tuple[str, ...]) -> None:
        self._pins[host] = addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins.get(host)
        if not addresses:
            raise httpcore.ConnectError(f"no vetted address for {host}")
        error: Exception | None = None
        for address in addresses:  # in resolver order, like socket.create_connection
            try:
                return self._network.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("feeds are fetched over TCP only")

    def sleep(self, seconds: float) -> None:
        self._network.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's default transport, connecting through a _PinnedBackend."""

    def __init__(self, backend: _PinnedBackend) -> None:
        ssl_context = httpx.create_ssl_context()
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=ssl_context, limits=limits)
        # httpx 0.28 cannot be given a network backend (encode/httpx#3749 proposes it), so
        # the pool HTTPTransport built is replaced by the same pool with ours.
        # tests/inbox/platforms/test_feed_ssrf.py checks the connection really goes to it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class FeedClient:
    """Conditional GET of RSS/Atom feeds with a size cap, every hop vetted against SSRF.

    Unless `allow_private` (development, tests) or a `transport` is given, connections go
    only to the addresses vet_feed_url approved for the hop. Passing a transport makes
    httpx ignore HTTP(S)_PROXY, so feeds always connect directly.
    """

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_bytes: int = MAX_FEED_BYTES,
        allow_private: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self._pinned: _PinnedBackend | None = None
        if transport is None and not allow_private:
            self._pinned = _PinnedBackend()
            transport = _PinnedTransport(self._pinned)
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, "
                "text/xml;q=0.9, */*;q=0.5",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FeedFetch:
        """GET `url` with If-None-Match / If-Modified-Since; 304 -> FeedFetch.not_modified."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            host, addresses = vet_feed_url(current, allow_private=self.allow_private)
            if self._pinned is not None:
                self._pinned.pin(host, addresses)
            try:
                with self._http.stream("GET", current, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code == 304:
                        return FeedFetch(
                            304,
                            b"",
                            response.headers.get("etag") or etag,
                            response.headers.get("last-modified") or last_modified,
                            current,
                        )
                    body = _read_capped(response, self.max_bytes, "feed")
                    _check_status(response, body, "feed")
                    return FeedFetch(
                        response.status_code,
                        body,
                        response.headers.get("etag"),
                        response.headers.get("last-modified"),
                        current,
                    )
            except httpx.TimeoutException:
                raise PlatformError("feed timed out", retryable=True, platform="feed") from None
            except httpx.RequestError as exc:  # network, TLS, bad compression, ...
                raise PlatformError(
                    f"feed unreachable: {type(exc).__name__}", retryable=True, platform="feed"
                ) from None
            except httpx.InvalidURL:
                raise PlatformError(
                    "feed URL is not a valid URL", retryable=False, platform="feed"
                ) from None
        raise PlatformError("feed redirected too many times", retryable=False, platform="feed")
