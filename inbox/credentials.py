"""Platform credentials of an account, and the API clients built from them."""

from __future__ import annotations

from django.conf import settings

from inbox.models import SocialAccount
from inbox.platforms.clients import (
    FacebookClient,
    GoogleClient,
    InstagramClient,
    PlatformError,
    XClient,
)


def account_token(account: SocialAccount, setting: str) -> str:
    return account.poll_state.get("token") or getattr(settings, setting, "")


def google_client(account: SocialAccount | None = None) -> GoogleClient:
    token = account_token(account, "GOOGLE_API_TOKEN") if account else settings.GOOGLE_API_TOKEN
    if not token:
        # Without a token Google answers 401, which reads like a revoked token; say what
        # is actually missing.
        where = f"Google location {account.external_id}" if account else "Google"
        raise PlatformError(
            f"{where} has no access token: connect the account (its OAuth token goes in "
            'the account\'s poll_state["token"], or set GOOGLE_API_TOKEN), then run '
            "manage.py reprocess",
            retryable=False,
            platform="google",
        )
    return GoogleClient(token, base_url=settings.GOOGLE_API_BASE)


def instagram_token(account: SocialAccount | None) -> str:
    """The account's Page access token, stored like a Google account's: poll_state["token"]."""
    token = account.poll_state.get("token") if account is not None else ""
    return token if isinstance(token, str) else ""


def _account_token_or_fail(account: SocialAccount | None, platform: str, what: str) -> str:
    token = account.poll_state.get("token") if account is not None else ""
    if not token or not isinstance(token, str):
        name = account.display_name if account is not None else f"the {platform} account"
        raise PlatformError(
            f"{name} has no {what}: connect the account (the token goes in its "
            'poll_state["token"]) and try again',
            retryable=False,
            platform=platform,
        )
    return token


def facebook_client(account: SocialAccount | None) -> FacebookClient:
    """Replies, hides and private replies act as the Page: its Page access token."""
    token = _account_token_or_fail(account, "facebook", "Page access token")
    return FacebookClient(token, base_url=settings.GRAPH_API_BASE)


def instagram_client(account: SocialAccount | None) -> InstagramClient:
    token = _account_token_or_fail(account, "instagram", "Page access token")
    return InstagramClient(token, base_url=settings.GRAPH_API_BASE)


def x_client(account: SocialAccount | None) -> XClient:
    """Posting needs the account's own user-context token; the app's bearer token (used
    for search) cannot post."""
    token = _account_token_or_fail(account, "x", "user access token (tweet.write)")
    return XClient(token, base_url=settings.X_API_BASE)
