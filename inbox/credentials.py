"""Platform credentials of an account, and the API clients built from them.

Tokens are stored encrypted (AccountCredential, Fernet under TOKEN_ENCRYPTION_KEY). The
readers take an account's encrypted credential first and fall back to the legacy
`poll_state["token"]` (the demo and older set-ups), then to the service-wide setting.
No function here logs or puts a token in an error message.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from inbox.models import AccountCredential, SocialAccount
from inbox.platforms.clients import (
    FacebookClient,
    GoogleClient,
    InstagramClient,
    PlatformError,
    XClient,
)

log = logging.getLogger(__name__)


@functools.cache
def _fernet(key_setting: str) -> MultiFernet:
    """A Fernet key from each comma-separated value of TOKEN_ENCRYPTION_KEY: any string
    works (it is hashed to the 32 bytes Fernet wants); the first encrypts, all decrypt."""
    values = [v.strip() for v in key_setting.split(",") if v.strip()]
    if not values:
        raise ValueError("TOKEN_ENCRYPTION_KEY is empty")
    keys = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"repdesk-tokens:" + v.encode()).digest()))
        for v in values
    ]
    return MultiFernet(keys)


def token_encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.TOKEN_ENCRYPTION_KEY).encrypt(value.encode()).decode("ascii")


def token_decrypt(value: str) -> str:
    """The plain token, or InvalidToken (a key that was changed without keeping the old)."""
    if not value:
        return ""
    return _fernet(settings.TOKEN_ENCRYPTION_KEY).decrypt(value.encode("ascii")).decode()


def credential_of(account: SocialAccount | None) -> AccountCredential | None:
    if account is None or account.pk is None:
        return None
    try:
        return account.credential
    except AccountCredential.DoesNotExist:
        return None


def stored_token(account: SocialAccount | None) -> str:
    """The account's own access token: the encrypted credential, else the legacy
    poll_state["token"], else ""."""
    if account is None:
        return ""
    credential = credential_of(account)
    if credential is not None and credential.access_token:
        try:
            return token_decrypt(credential.access_token)
        except InvalidToken:
            # Never the token itself in the log: only which account cannot be read.
            log.error(
                "the token of account %s cannot be decrypted: was TOKEN_ENCRYPTION_KEY "
                "changed without keeping the old value?",
                account.pk,
            )
    legacy = account.poll_state.get("token")
    return legacy if isinstance(legacy, str) else ""


def account_token(account: SocialAccount, setting: str) -> str:
    return stored_token(account) or getattr(settings, setting, "")


def google_client(account: SocialAccount | None = None) -> GoogleClient:
    token = account_token(account, "GOOGLE_API_TOKEN") if account else settings.GOOGLE_API_TOKEN
    if not token:
        # Without a token Google answers 401, which reads like a revoked token; say what
        # is actually missing.
        where = f"Google location {account.external_id}" if account else "Google"
        raise PlatformError(
            f"{where} has no access token: connect the account on the Accounts page (Connect "
            "Google), or set GOOGLE_API_TOKEN, then retry it on the Sources page",
            retryable=False,
            platform="google",
        )
    return GoogleClient(token, base_url=settings.GOOGLE_API_BASE)


def instagram_token(account: SocialAccount | None) -> str:
    """The account's Page access token (the Page the Instagram account is linked to)."""
    return stored_token(account)


def _account_token_or_fail(account: SocialAccount | None, platform: str, what: str) -> str:
    token = stored_token(account)
    if not token:
        name = account.display_name if account is not None else f"the {platform} account"
        raise PlatformError(
            f"{name} has no {what}: connect the account from the Accounts page and try again",
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
