"""OAuth 2.0 for connecting accounts: authorization URLs, token endpoints, and the
listings a manager picks from (GBP locations, Facebook Pages, the X user).

Pure HTTP (httpx through clients._JsonClient): no Django, no database. Every failure is
a PlatformError; a token endpoint's refusal is an OAuthError carrying the OAuth error
code (`invalid_grant`: the grant was revoked or expired, the person must connect again).
Tokens, codes, verifiers and client secrets never appear in an error message.

Documented shapes used here:
- Google (OAuth 2.0 for web server apps): authorize with `access_type=offline` and
  `prompt=consent` (so a refresh token comes back every time); the token endpoint takes
  a form POST (`grant_type=authorization_code` or `refresh_token`) and answers
  {access_token, expires_in, refresh_token?, scope, token_type}. Account Management API
  `GET v1/accounts` -> {accounts: [{name: "accounts/1", accountName}], nextPageToken};
  Business Information API `GET v1/{account}/locations?readMask=name,title` ->
  {locations: [{name: "locations/2", title}], nextPageToken}.
- Meta (Facebook Login, manual flow): dialog/oauth, then `GET oauth/access_token` with
  the code (a short-lived user token), then `grant_type=fb_exchange_token` (a long-lived
  user token: Page tokens read with it do not expire). `GET me/accounts?fields=...` ->
  {data: [{id, name, access_token, instagram_business_account: {id, username}}],
  paging: {next}}; `POST {page-id}/subscribed_apps?subscribed_fields=...` -> {success}.
- X (OAuth 2.0 authorization code with PKCE, S256): token endpoint form POST, client id
  in the body (public client) or HTTP Basic (confidential client); answers {token_type,
  expires_in, access_token, scope, refresh_token}; refresh tokens rotate. `GET 2/users/me`
  -> {data: {id, name, username}}.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx

from inbox.platforms.clients import MAX_JSON_BYTES, PlatformError, _graph_id, _JsonClient

GOOGLE_SCOPE = "https://www.googleapis.com/auth/business.manage"
# Pages: list them, read and answer comments and ratings, subscribe them to webhooks;
# Instagram: the business account linked to a page, its comments and mentions.
META_SCOPES = (
    "pages_show_list,pages_read_engagement,pages_read_user_content,pages_manage_metadata,"
    "pages_manage_engagement,instagram_basic,instagram_manage_comments,business_management"
)
META_PAGE_FIELDS = "feed,mention,ratings"
X_SCOPES = "tweet.read tweet.write users.read offline.access"
MAX_PAGES = 20  # of a listing: 20 x 100 locations or pages is plenty for one practice


class OAuthError(PlatformError):
    """A token endpoint refused: `code` is the OAuth error (invalid_grant, ...)."""

    def __init__(self, message: str, *, code: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code


@dataclasses.dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_in: int | None = None
    scope: str = ""

    def __repr__(self) -> str:  # never print a token by accident
        return f"TokenSet(expires_in={self.expires_in!r}, scope={self.scope!r})"


def new_state() -> str:
    return secrets.token_urlsafe(32)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def google_authorize_url(*, base: str, client_id: str, redirect_uri: str, state: str) -> str:
    return _with_query(
        base,
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": GOOGLE_SCOPE,
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        },
    )


def meta_authorize_url(*, base: str, app_id: str, redirect_uri: str, state: str) -> str:
    return _with_query(
        base,
        {
            "client_id": app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": META_SCOPES,
        },
    )


def x_authorize_url(
    *, base: str, client_id: str, redirect_uri: str, state: str, code_challenge: str
) -> str:
    return _with_query(
        base,
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": X_SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        },
    )


def _oauth_error(platform: str, status: int, body: bytes) -> OAuthError:
    """The refusal of a token endpoint: RFC 6749 §5.2 {error, error_description}, or
    Meta's {error: {message, type, code}}."""
    code, detail = "", ""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, str):
            code = error[:64]
            description = data.get("error_description")
            detail = description[:200] if isinstance(description, str) else ""
        elif isinstance(error, dict):  # Meta
            meta_code = error.get("code")
            code = "invalid_grant" if meta_code in (100, 190) else f"meta_{meta_code}"
            message = error.get("message")
            detail = message[:200] if isinstance(message, str) else ""
    message = f"{platform} refused the token request (HTTP {status}"
    message += f", {code})" if code else ")"
    if detail:
        message += f": {detail}"
    return OAuthError(
        message,
        code=code or "http_error",
        retryable=status in (408, 429) or status >= 500,
        status=status,
        platform=platform,
    )


class OAuthClient(_JsonClient):
    """Token endpoints and listing calls of one platform. `token`, when given, is sent as
    a Bearer header (never in a URL)."""

    def __init__(self, platform: str, *, token: str = "", **kw: Any) -> None:
        self.platform = platform
        headers = {"Authorization": f"Bearer {token}"} if token else None
        # Every call here names an absolute URL; the base only satisfies the client.
        super().__init__(base_url="http://oauth.invalid/", headers=headers, **kw)

    def token_request(
        self,
        url: str,
        form: dict[str, str],
        *,
        method: str = "POST",
        basic_auth: tuple[str, str] | None = None,
    ) -> TokenSet:
        """POST a form (or GET with query parameters: Meta) to a token endpoint."""
        try:
            if method == "GET":
                response = self._http.get(url, params=form)
            else:
                response = self._http.post(
                    url,
                    data=form,
                    auth=basic_auth,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
        except httpx.TimeoutException:
            raise PlatformError(
                f"{self.platform} token endpoint timed out", retryable=True, platform=self.platform
            ) from None
        except httpx.RequestError as exc:
            raise PlatformError(
                f"{self.platform} token endpoint unreachable: {type(exc).__name__}",
                retryable=True,
                platform=self.platform,
            ) from None
        body = response.content[: MAX_JSON_BYTES + 1]
        if not 200 <= response.status_code < 300:
            raise _oauth_error(self.platform, response.status_code, body)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformError(
                f"{self.platform} token endpoint answered without an access token",
                retryable=True,
                platform=self.platform,
            )
        assert isinstance(data, dict)
        expires = data.get("expires_in")
        refresh = data.get("refresh_token")
        scope = data.get("scope")
        return TokenSet(
            access_token=token,
            refresh_token=refresh if isinstance(refresh, str) else "",
            expires_in=int(expires) if isinstance(expires, (int, float)) and expires > 0 else None,
            scope=" ".join(scope) if isinstance(scope, list) else str(scope or "")[:500],
        )

    def get(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._get_json(url, params)

    def post(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send_json("POST", url, params=params)


# ---------------------------------------------------------------- Google


def google_exchange_code(
    *, token_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str
) -> TokenSet:
    with OAuthClient("google") as client:
        return client.token_request(
            token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
            },
        )


def google_refresh(
    *, token_url: str, client_id: str, client_secret: str, refresh_token: str
) -> TokenSet:
    with OAuthClient("google") as client:
        return client.token_request(
            token_url,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            },
        )


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def google_locations(
    *, token: str, accounts_base: str, locations_base: str
) -> list[dict[str, str]]:
    """Every location of every account the person manages: [{id: "accounts/1/locations/2",
    name: title, account: account name}]."""
    found: list[dict[str, str]] = []
    with OAuthClient("google", token=token) as client:
        accounts: list[dict[str, Any]] = []
        page_token = ""
        for _ in range(MAX_PAGES):
            params = {"pageSize": 20, **({"pageToken": page_token} if page_token else {})}
            data = client.get(accounts_base.rstrip("/") + "/accounts", params)
            accounts += _items(data, "accounts")
            page_token = str(data.get("nextPageToken") or "")
            if not page_token:
                break
        for account in accounts:
            account_name = account.get("name")
            if not isinstance(account_name, str) or not account_name.startswith("accounts/"):
                continue
            page_token = ""
            for _ in range(MAX_PAGES):
                params = {"readMask": "name,title", "pageSize": 100}
                if page_token:
                    params["pageToken"] = page_token
                url = f"{locations_base.rstrip('/')}/{account_name}/locations"
                data = client.get(url, params)
                for location in _items(data, "locations"):
                    name = location.get("name")
                    if isinstance(name, str) and name.startswith("locations/"):
                        found.append(
                            {
                                "id": f"{account_name}/{name}",
                                "name": str(location.get("title") or name)[:200],
                                "account": str(account.get("accountName") or account_name)[:200],
                            }
                        )
                page_token = str(data.get("nextPageToken") or "")
                if not page_token:
                    break
    return found


# ---------------------------------------------------------------- Meta


def meta_exchange_code(
    *, graph_base: str, app_id: str, app_secret: str, code: str, redirect_uri: str
) -> TokenSet:
    """The code for a short-lived user token, then that for a long-lived one."""
    url = graph_base.rstrip("/") + "/oauth/access_token"
    with OAuthClient("facebook") as client:
        short = client.token_request(
            url,
            {
                "client_id": app_id,
                "redirect_uri": redirect_uri,
                "client_secret": app_secret,
                "code": code,
            },
            method="GET",
        )
        return client.token_request(
            url,
            {
                "grant_type": "fb_exchange_token",
                "client_id": app_id,
                "client_secret": app_secret,
                "fb_exchange_token": short.access_token,
            },
            method="GET",
        )


def meta_pages(*, graph_base: str, user_token: str) -> list[dict[str, Any]]:
    """The Pages the person manages: [{id, name, access_token, instagram: {id, username}
    or None}]."""
    pages: list[dict[str, Any]] = []
    url = graph_base.rstrip("/") + "/me/accounts"
    params: dict[str, Any] | None = {
        "fields": "id,name,access_token,instagram_business_account{id,username}",
        "limit": 100,
    }
    with OAuthClient("facebook", token=user_token) as client:
        for _ in range(MAX_PAGES):
            data = client.get(url, params)
            for page in _items(data, "data"):
                page_id, token = page.get("id"), page.get("access_token")
                if not isinstance(page_id, str) or not isinstance(token, str) or not token:
                    continue
                ig = page.get("instagram_business_account")
                instagram = None
                if isinstance(ig, dict) and isinstance(ig.get("id"), str):
                    instagram = {"id": ig["id"], "username": str(ig.get("username") or "")}
                pages.append(
                    {
                        "id": page_id,
                        "name": str(page.get("name") or page_id)[:200],
                        "access_token": token,
                        "instagram": instagram,
                    }
                )
            cursors = (data.get("paging") or {}).get("cursors") or {}
            after = cursors.get("after") if (data.get("paging") or {}).get("next") else None
            if not after:
                break
            params = {**(params or {}), "after": after}
    return pages


def meta_page_subscribe(*, graph_base: str, page_id: str, page_token: str) -> None:
    """POST /{page-id}/subscribed_apps: the page's changes come to the app's webhook.
    Idempotent on Meta's side (subscribing twice changes nothing)."""
    url = f"{graph_base.rstrip('/')}/{_graph_id(page_id, 'page_id')}/subscribed_apps"
    with OAuthClient("facebook", token=page_token) as client:
        answer = client.post(url, {"subscribed_fields": META_PAGE_FIELDS})
    if answer.get("success") is not True:
        raise PlatformError(
            "facebook did not confirm the webhook subscription", retryable=True, platform="facebook"
        )


# ---------------------------------------------------------------- X


def _x_client_auth(client_id: str, client_secret: str) -> tuple[dict, tuple[str, str] | None]:
    # A confidential client authenticates with HTTP Basic; a public one names itself.
    if client_secret:
        return {}, (client_id, client_secret)
    return {"client_id": client_id}, None


def x_exchange_code(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenSet:
    extra, auth = _x_client_auth(client_id, client_secret)
    with OAuthClient("x") as client:
        return client.token_request(
            token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                **extra,
            },
            basic_auth=auth,
        )


def x_refresh(
    *, token_url: str, client_id: str, client_secret: str, refresh_token: str
) -> TokenSet:
    extra, auth = _x_client_auth(client_id, client_secret)
    with OAuthClient("x") as client:
        return client.token_request(
            token_url,
            {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
            basic_auth=auth,
        )


def x_me(*, api_base: str, token: str) -> dict[str, str]:
    with OAuthClient("x", token=token) as client:
        data = client.get(api_base.rstrip("/") + "/users/me")
    user = data.get("data")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise PlatformError("x answered users/me without a user", retryable=True, platform="x")
    return {
        "id": user["id"],
        "name": str(user.get("name") or user.get("username") or user["id"])[:200],
        "username": str(user.get("username") or ""),
    }
