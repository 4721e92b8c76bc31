"""Platform credentials of an account, and the API clients built from them."""

from __future__ import annotations

from django.conf import settings

from inbox.models import SocialAccount
from inbox.platforms.clients import GoogleClient, PlatformError


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
    return GoogleClient(token)


def instagram_token(account: SocialAccount | None) -> str:
    """The account's Page access token, stored like a Google account's: poll_state["token"]."""
    token = account.poll_state.get("token") if account is not None else ""
    return token if isinstance(token, str) else ""
