"""A fake authorization server over HTTP (a thread in the test process) for the connect
flows of Google, Meta and X, with the platforms' documented parameters and payloads.

- /google/authorize, /facebook/dialog/oauth, /x/authorize: check the request (client id,
  redirect URI, response_type, scope, state, Google's access_type=offline and
  prompt=consent, X's S256 code challenge), then redirect back to the redirect URI with
  `code` and `state` (or `error=access_denied` when `deny` is set).
- /google/token, /x/token (form POST) and /graph/oauth/access_token (GET): check
  grant_type, code (once), redirect_uri, client id and secret or the PKCE verifier;
  refresh_token grants (X rotates the refresh token); `revoked` refresh tokens answer
  400 invalid_grant; `token_failure` forces a 500 or garbage.
- Listings: Account Management /v1/accounts, Business Information
  /v1/{account}/locations?readMask=name,title, Graph /me/accounts, POST
  /{page}/subscribed_apps, X /2/users/me (each checks its Bearer token).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT = {
    "google": ("google-client-id.apps.googleusercontent.com", "google-client-secret"),
    "facebook": ("1234567890", "dev-meta-app-secret"),
    "x": ("x-client-id", "x-client-secret"),
}
GOOGLE_SCOPE = "https://www.googleapis.com/auth/business.manage"
PAGE_1, PAGE_2, IG_USER, X_USER = "104998877665544", "104998877665599", "17841400000000001", "1500"


class FakeAuthServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.codes: dict[str, dict] = {}  # code -> {platform, redirect_uri, challenge, used}
        self.access: dict[str, str] = {}  # bearer token -> platform/kind
        self.refresh: dict[str, str] = {}  # refresh token -> platform
        self.revoked: set[str] = set()
        self.subscribed: list[tuple[str, str, str]] = []  # (page, fields, token)
        self.deny = False
        self.token_failure = ""  # "500" or "garbage"
        self.locations_failure = False
        self._n = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict | bytes, headers: dict | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _bearer(self, kind: str) -> bool:
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ")
                if fake.access.get(token) != kind:
                    self._send(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
                    return False
                return True

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append(("GET", url.path))
                if url.path in ("/google/authorize", "/facebook/dialog/oauth", "/x/authorize"):
                    return self._authorize(url.path.split("/")[1], q)
                if url.path == "/graph/oauth/access_token":
                    return self._meta_token(q)
                if url.path == "/google/accounts/v1/accounts":
                    if self._bearer("google"):
                        self._send(
                            200,
                            {
                                "accounts": [
                                    {
                                        "name": "accounts/108",
                                        "accountName": "Alpha Dental group",
                                        "type": "LOCATION_GROUP",
                                    }
                                ]
                            },
                        )
                    return None
                if url.path == "/google/locations/v1/accounts/108/locations":
                    if not self._bearer("google"):
                        return None
                    if fake.locations_failure:
                        return self._send(503, {"error": {"code": 503, "message": "Backend"}})
                    assert q.get("readMask") == "name,title", q
                    return self._send(
                        200,
                        {
                            "locations": [
                                {"name": "locations/2001", "title": "Alpha Dental, Oslo"},
                                {"name": "locations/2002", "title": "Alpha Dental, Bergen"},
                            ]
                        },
                    )
                if url.path == "/graph/me/accounts":
                    if not self._bearer("facebook-user-long"):
                        return None
                    assert "instagram_business_account{id,username}" in q.get("fields", "")
                    return self._send(
                        200,
                        {
                            "data": [
                                {
                                    "id": PAGE_1,
                                    "name": "Alpha Dental",
                                    "access_token": "EAAPage1SecretToken",
                                    "instagram_business_account": {
                                        "id": IG_USER,
                                        "username": "alphadental",
                                    },
                                },
                                {
                                    "id": PAGE_2,
                                    "name": "Alpha Kids",
                                    "access_token": "EAAPage2SecretToken",
                                },
                            ],
                            "paging": {"cursors": {"before": "QVFIUm", "after": "QVFIUn"}},
                        },
                    )
                if url.path == "/x/2/users/me":
                    if self._bearer("x"):
                        self._send(
                            200,
                            {"data": {"id": X_USER, "name": "Alpha Dental", "username": "alpha"}},
                        )
                    return None
                return self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append(("POST", url.path))
                if url.path in ("/google/token", "/x/token"):
                    return self._token(url.path.split("/")[1], form)
                if url.path.endswith("/subscribed_apps"):
                    page = url.path.split("/")[2]
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if fake.access.get(token) != f"page:{page}":
                        return self._send(400, {"error": {"message": "Invalid OAuth", "code": 190}})
                    fake.subscribed.append((page, q.get("subscribed_fields", ""), token))
                    return self._send(200, {"success": True})
                return self._send(404, {"error": "not found"})

            # -- the pieces

            def _authorize(self, platform: str, q: dict) -> None:
                client_id, _ = CLIENT[platform]
                assert q["client_id"] == client_id, q
                assert q["response_type"] == "code", q
                assert q.get("state"), q
                if platform == "google":
                    assert q["scope"] == GOOGLE_SCOPE, q
                    assert q["access_type"] == "offline" and q["prompt"] == "consent", q
                if platform == "facebook":
                    assert "pages_show_list" in q["scope"] and "pages_manage_metadata" in q["scope"]
                if platform == "x":
                    assert set(q["scope"].split()) >= {
                        "tweet.read",
                        "users.read",
                        "offline.access",
                        "tweet.write",
                    }, q
                    assert q["code_challenge_method"] == "S256" and q["code_challenge"], q
                if fake.deny:
                    back = {"error": "access_denied", "state": q["state"]}
                else:
                    code = f"{platform}-code-{next(fake._n)}"
                    fake.codes[code] = {
                        "platform": platform,
                        "redirect_uri": q["redirect_uri"],
                        "challenge": q.get("code_challenge", ""),
                        "used": False,
                    }
                    back = {"code": code, "state": q["state"]}
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" + urlencode(back))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _failure(self) -> bool:
                if fake.token_failure == "500":
                    self._send(500, {"error": "server_error"})
                    return True
                if fake.token_failure == "garbage":
                    self._send(200, b"<html>Service Unavailable</html>")
                    return True
                return False

            def _code_ok(self, platform: str, form: dict) -> dict | None:
                grant = fake.codes.get(form.get("code", ""))
                if (
                    grant is None
                    or grant["used"]
                    or grant["platform"] != platform
                    or grant["redirect_uri"] != form.get("redirect_uri")
                ):
                    self._send(400, {"error": "invalid_grant", "error_description": "Bad code"})
                    return None
                grant["used"] = True
                return grant

            def _new_tokens(self, platform: str, *, refresh: bool = True) -> dict:
                n = next(fake._n)
                access = f"{platform}-access-{n}"
                fake.access[access] = platform
                body = {"access_token": access, "token_type": "Bearer", "expires_in": 3599}
                if refresh:
                    fake.refresh[f"{platform}-refresh-{n}"] = platform
                    body["refresh_token"] = f"{platform}-refresh-{n}"
                return body

            def _token(self, platform: str, form: dict) -> None:
                if self._failure():
                    return None
                client_id, secret = CLIENT[platform]
                if platform == "google":
                    if form.get("client_id") != client_id or form.get("client_secret") != secret:
                        return self._send(401, {"error": "invalid_client"})
                else:  # X, confidential client: HTTP Basic
                    expected = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}":
                        return self._send(401, {"error": "invalid_client"})
                grant_type = form.get("grant_type")
                if grant_type == "authorization_code":
                    grant = self._code_ok(platform, form)
                    if grant is None:
                        return None
                    if platform == "x":
                        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                        if challenge != grant["challenge"]:
                            return self._send(400, {"error": "invalid_request"})
                    body = self._new_tokens(platform)
                    body["scope"] = GOOGLE_SCOPE if platform == "google" else "tweet.read"
                    return self._send(200, body)
                if grant_type == "refresh_token":
                    token = form.get("refresh_token", "")
                    if token in fake.revoked or fake.refresh.get(token) != platform:
                        return self._send(
                            400,
                            {
                                "error": "invalid_grant",
                                "error_description": "Token has been expired or revoked.",
                            },
                        )
                    # Google keeps the refresh token; X rotates it.
                    body = self._new_tokens(platform, refresh=platform == "x")
                    if platform == "x":
                        fake.revoked.add(token)
                    return self._send(200, body)
                return self._send(400, {"error": "unsupported_grant_type"})

            def _meta_token(self, q: dict) -> None:
                if self._failure():
                    return None
                client_id, secret = CLIENT["facebook"]
                if q.get("client_id") != client_id or q.get("client_secret") != secret:
                    return self._send(
                        400, {"error": {"message": "Error validating client secret", "code": 1}}
                    )
                if q.get("grant_type") == "fb_exchange_token":
                    if fake.access.get(q.get("fb_exchange_token", "")) != "facebook-user-short":
                        return self._send(400, {"error": {"message": "Bad token", "code": 190}})
                    fake.access["EAAUserLongLived"] = "facebook-user-long"
                    for page in (PAGE_1, PAGE_2):
                        n = "1" if page == PAGE_1 else "2"
                        fake.access[f"EAAPage{n}SecretToken"] = f"page:{page}"
                    return self._send(
                        200,
                        {
                            "access_token": "EAAUserLongLived",
                            "token_type": "bearer",
                            "expires_in": 5183944,
                        },
                    )
                if self._code_ok("facebook", q) is None:
                    return None
                fake.access["EAAUserShort"] = "facebook-user-short"
                return self._send(
                    200,
                    {"access_token": "EAAUserShort", "token_type": "bearer", "expires_in": 5400},
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self) -> dict[str, str]:
        return {
            "GOOGLE_OAUTH_CLIENT_ID": CLIENT["google"][0],
            "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT["google"][1],
            "META_APP_ID": CLIENT["facebook"][0],
            "META_APP_SECRET": CLIENT["facebook"][1],
            "X_OAUTH_CLIENT_ID": CLIENT["x"][0],
            "X_OAUTH_CLIENT_SECRET": CLIENT["x"][1],
            "GOOGLE_OAUTH_AUTHORIZE_URL": f"{self.url}/google/authorize",
            "GOOGLE_OAUTH_TOKEN_URL": f"{self.url}/google/token",
            "GOOGLE_ACCOUNTS_API_BASE": f"{self.url}/google/accounts/v1/",
            "GOOGLE_LOCATIONS_API_BASE": f"{self.url}/google/locations/v1/",
            "META_DIALOG_URL": f"{self.url}/facebook/dialog/oauth",
            "GRAPH_API_BASE": f"{self.url}/graph/",
            "X_OAUTH_AUTHORIZE_URL": f"{self.url}/x/authorize",
            "X_OAUTH_TOKEN_URL": f"{self.url}/x/token",
            "X_API_BASE": f"{self.url}/x/2/",
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
