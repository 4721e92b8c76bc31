"""Connecting accounts from the Accounts page, and keeping their tokens alive.

Three OAuth flows (Google Business Profile, Facebook Pages with their Instagram business
accounts, X with PKCE) and a form for what needs no OAuth (a feed URL, a Yelp business
id, a Tripadvisor location id). Each flow is one ConnectFlow row:

    connect_start     (manager, POST)  -> the platform's consent screen, state stored hashed
    connect_callback  (the platform redirects back) -> started -> authorized, once
    connect_finish    (the manager picks locations/pages) -> authorized -> done, once

The picked accounts are written through `services.social_account_save` (the webhook
route), their tokens encrypted in AccountCredential, all in one transaction: a refusal
saves nothing. Subscribing a Facebook Page to the app's webhooks is a platform write, so
it runs in the worker after the commit (and again from the sweep until it succeeds; the
call is idempotent on Meta's side, so no claim is needed).

`credentials_refresh_due` (every 5 minutes, per practice) refreshes tokens that expire
within 10 minutes; a refusal marks the connection failing with what to do, which the
Accounts and Sources pages and the header badge show.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inbox import services
from inbox.credentials import token_decrypt, token_encrypt
from inbox.models import AccountCredential, ConnectFlow, SocialAccount
from inbox.platforms import oauth
from inbox.platforms.base import Platform
from inbox.platforms.clients import PlatformError, vet_feed_url
from reputation.audit.services import audit_record
from reputation.core.errors import Refused
from reputation.core.tasks import enqueue
from tenants.selectors import current_practice, practice_url

log = logging.getLogger(__name__)

OAUTH_PLATFORMS = ("google", "facebook", "x")
LABELS = {"google": "Google", "facebook": "Facebook and Instagram", "x": "X"}
BY_ID_PLATFORMS = ("feed", "yelp", "tripadvisor")
STATE_TTL = dt.timedelta(minutes=15)
PICK_TTL = dt.timedelta(minutes=30)
REFRESH_AHEAD = dt.timedelta(minutes=10)
REFRESH_CLAIM = dt.timedelta(minutes=2)  # longer than the token call's timeout (15 s)
_YELP_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TRIPADVISOR_ID_RE = re.compile(r"^[0-9]{1,20}$")


def _required_settings(platform: str) -> list[str]:
    return {
        "google": ["GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET"],
        "facebook": ["META_APP_ID", "META_APP_SECRET"],
        "x": ["X_OAUTH_CLIENT_ID"],
    }[platform]


def connect_missing_settings(platform: str) -> list[str]:
    """The environment variables the operator must set before `platform` can connect."""
    return [name for name in _required_settings(platform) if not getattr(settings, name, "")]


def connect_options() -> list[dict[str, Any]]:
    """The connect buttons of the Accounts page: which work, and what is missing."""
    return [
        {"platform": p, "label": LABELS[p], "missing": connect_missing_settings(p)}
        for p in OAUTH_PLATFORMS
    ]


def callback_url(platform: str) -> str:
    """The one redirect URI per platform, on the practice's own host: it is what the
    operator registers with the platform (the practice's slug varies, the path not)."""
    return practice_url(current_practice(), reverse("inbox:connect-callback", args=[platform]))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _refuse(code: str, message: str) -> Refused:
    return Refused(code, message, status=400)


def _require_manager(actor: Any) -> None:
    services.require_role(actor, "manager", doing="connect accounts")


# ---------------------------------------------------------------- the OAuth flow


def connect_start(*, platform: str, actor: Any, session_key: str) -> str:
    """A new flow for `platform`: returns the platform's authorization URL."""
    _require_manager(actor)
    if platform not in OAUTH_PLATFORMS:
        raise _refuse("unknown_platform", "Unknown platform.")
    missing = connect_missing_settings(platform)
    if missing:
        raise _refuse(
            "not_configured",
            f"Connecting {LABELS[platform]} is not set up on this server: the operator must "
            f"set {' and '.join(missing)} (see README, Connecting accounts).",
        )
    state = oauth.new_state()
    secret: dict[str, str] = {}
    redirect_uri = callback_url(platform)
    if platform == "google":
        url = oauth.google_authorize_url(
            base=settings.GOOGLE_OAUTH_AUTHORIZE_URL,
            client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
            redirect_uri=redirect_uri,
            state=state,
        )
    elif platform == "facebook":
        url = oauth.meta_authorize_url(
            base=settings.META_DIALOG_URL,
            app_id=settings.META_APP_ID,
            redirect_uri=redirect_uri,
            state=state,
        )
    else:
        verifier, challenge = oauth.pkce_pair()
        secret["code_verifier"] = verifier
        url = oauth.x_authorize_url(
            base=settings.X_OAUTH_AUTHORIZE_URL,
            client_id=settings.X_OAUTH_CLIENT_ID,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge,
        )
    now = timezone.now()
    with transaction.atomic():
        flow = ConnectFlow.objects.create(
            platform=platform,
            state_hash=_hash(state),
            session_hash=_hash(session_key),
            user=actor,
            secret=token_encrypt(json.dumps(secret)) if secret else "",
            expires_at=now + STATE_TTL,
        )
        audit_record(
            action="account.connect_started", actor=actor, obj=flow, data={"platform": platform}
        )
    return url


def _flow_for(*, flow: ConnectFlow | None, actor: Any, session_key: str) -> ConnectFlow:
    """The same refusal for a missing flow, another person's, another session's."""
    if (
        flow is None
        or flow.user_id != getattr(actor, "pk", None)
        or flow.session_hash != _hash(session_key or "")
    ):
        log.warning(
            "connect refused: unknown state, or another person's or session's (flow %s)",
            flow.pk if flow is not None else None,
        )
        raise _refuse(
            "bad_state",
            "This connection attempt is unknown here, or was started in another browser "
            "session. Nothing was connected: start again with the Connect button.",
        )
    return flow


def _fail(flow: ConnectFlow, *, from_status: str, error: str) -> None:
    ConnectFlow.objects.filter(pk=flow.pk, status=from_status).update(
        status=ConnectFlow.Status.FAILED, error=error[:2000], secret=""
    )


def connect_callback(
    *, platform: str, params: dict[str, str], actor: Any, session_key: str
) -> ConnectFlow:
    """The platform sent the person back with `code` and `state` (or `error`). Exchanges
    the code, lists what may be picked, and keeps the tokens (encrypted) on the flow."""
    _require_manager(actor)
    state = params.get("state") or ""
    found = (
        ConnectFlow.objects.filter(state_hash=_hash(state), platform=platform).first()
        if state
        else None
    )
    flow = _flow_for(flow=found, actor=actor, session_key=session_key)
    label = LABELS[platform]
    if flow.status != ConnectFlow.Status.STARTED:
        log.warning("connect callback for flow %s replayed (status %s)", flow.pk, flow.status)
        raise _refuse(
            "state_used",
            f"This answer from {label} was already used. Nothing more was connected: "
            "start again with the Connect button if something is missing.",
        )
    if flow.expires_at <= timezone.now():
        _fail(flow, from_status=ConnectFlow.Status.STARTED, error="expired")
        raise _refuse(
            "state_expired",
            f"The connection to {label} took longer than {STATE_TTL.seconds // 60} minutes "
            "and has expired. Nothing was connected: start again.",
        )
    error = params.get("error") or ""
    if error:
        _fail(flow, from_status=ConnectFlow.Status.STARTED, error=error[:64])
        audit_record(
            action="account.connect_denied",
            actor=actor,
            obj=flow,
            data={"platform": platform, "error": error[:64]},
        )
        log.info("connect to %s refused by the person or the platform: %s", platform, error[:64])
        what = (
            "the permission was not given"
            if error in ("access_denied", "user_denied")
            else f"{label} answered {error[:64]}"
        )
        raise _refuse(
            "denied",
            f"{label} was not connected: {what}. To connect it, start again and accept "
            "the permissions asked for.",
        )
    code = params.get("code") or ""
    if not code:
        _fail(flow, from_status=ConnectFlow.Status.STARTED, error="no code")
        raise _refuse("no_code", f"{label} sent no authorization code. Start again.")
    # Claim the flow before calling out: a replayed callback racing this one loses here.
    if not ConnectFlow.objects.filter(pk=flow.pk, status=ConnectFlow.Status.STARTED).update(
        status=ConnectFlow.Status.AUTHORIZED
    ):
        raise _refuse("state_used", f"This answer from {label} was already used.")
    try:
        choices, secret = _authorize(platform, flow, code)
    except (PlatformError, InvalidToken, ValueError) as exc:
        detail = exc.message if isinstance(exc, PlatformError) else type(exc).__name__
        _fail(flow, from_status=ConnectFlow.Status.AUTHORIZED, error=detail)
        log.warning("connect to %s failed: %s", platform, detail)
        raise _refuse(
            "platform_error",
            f"{label} did not complete the connection ({detail}). Nothing was connected: "
            "try again in a moment.",
        ) from None
    if not choices:
        _fail(flow, from_status=ConnectFlow.Status.AUTHORIZED, error="nothing to pick")
        raise _refuse(
            "nothing_to_pick",
            {
                "google": "This Google account manages no Business Profile location. "
                "Connect with the Google account that manages the practice's profile.",
                "facebook": "This Facebook login manages no Page (or did not share any). "
                "Connect again and select the practice's Page.",
                "x": "X returned no account.",
            }[platform],
        )
    ConnectFlow.objects.filter(pk=flow.pk).update(
        choices=choices,
        secret=token_encrypt(json.dumps(secret)),
        expires_at=timezone.now() + PICK_TTL,
    )
    audit_record(
        action="account.connect_authorized",
        actor=actor,
        obj=flow,
        data={"platform": platform, "choices": len(choices)},
    )
    flow.refresh_from_db()
    return flow


def _authorize(platform: str, flow: ConnectFlow, code: str) -> tuple[list[dict], dict]:
    """Exchange the code; (what may be picked, the secrets kept until the pick)."""
    redirect_uri = callback_url(platform)
    now = timezone.now()
    if platform == "google":
        tokens = oauth.google_exchange_code(
            token_url=settings.GOOGLE_OAUTH_TOKEN_URL,
            client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
            client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
            code=code,
            redirect_uri=redirect_uri,
        )
        locations = oauth.google_locations(
            token=tokens.access_token,
            accounts_base=settings.GOOGLE_ACCOUNTS_API_BASE,
            locations_base=settings.GOOGLE_LOCATIONS_API_BASE,
        )
        return locations, {**_token_dict(tokens, now)}
    if platform == "facebook":
        tokens = oauth.meta_exchange_code(
            graph_base=settings.GRAPH_API_BASE,
            app_id=settings.META_APP_ID,
            app_secret=settings.META_APP_SECRET,
            code=code,
            redirect_uri=redirect_uri,
        )
        pages = oauth.meta_pages(graph_base=settings.GRAPH_API_BASE, user_token=tokens.access_token)
        choices = [{"id": p["id"], "name": p["name"], "instagram": p["instagram"]} for p in pages]
        return choices, {"pages": {p["id"]: p["access_token"] for p in pages}}
    verifier = (
        json.loads(token_decrypt(flow.secret)).get("code_verifier", "") if flow.secret else ""
    )
    tokens = oauth.x_exchange_code(
        token_url=settings.X_OAUTH_TOKEN_URL,
        client_id=settings.X_OAUTH_CLIENT_ID,
        client_secret=settings.X_OAUTH_CLIENT_SECRET,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )
    me = oauth.x_me(api_base=settings.X_API_BASE, token=tokens.access_token)
    return [me], _token_dict(tokens, now)


def _token_dict(tokens: oauth.TokenSet, now: dt.datetime) -> dict[str, Any]:
    expires_at = now + dt.timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "scope": tokens.scope,
    }


def connect_flow_for_pick(*, pk: int, actor: Any, session_key: str) -> ConnectFlow | None:
    """The flow the manager may pick from now, or None (missing, not theirs, finished)."""
    flow = ConnectFlow.objects.filter(pk=pk, status=ConnectFlow.Status.AUTHORIZED).first()
    if flow is None or flow.user_id != getattr(actor, "pk", None):
        return None
    if flow.session_hash != _hash(session_key or "") or flow.expires_at <= timezone.now():
        return None
    return flow


def connect_finish(
    *, flow: ConnectFlow, picked: list[str], actor: Any, session_key: str
) -> list[SocialAccount]:
    """Create (or reconnect) the picked accounts with their encrypted tokens."""
    _require_manager(actor)
    flow = _flow_for(flow=flow, actor=actor, session_key=session_key)
    label = LABELS[flow.platform]
    if flow.status != ConnectFlow.Status.AUTHORIZED:
        raise _refuse("state_used", "This connection was already finished. Nothing changed.")
    if flow.expires_at <= timezone.now():
        raise _refuse("state_expired", f"Picking took too long: connect {label} again.")
    offered = {c["id"]: c for c in flow.choices}
    picked = [p for p in dict.fromkeys(picked) if p in offered]
    if not picked:
        raise _refuse("nothing_picked", "Pick at least one to connect.")
    secret = json.loads(token_decrypt(flow.secret))
    accounts: list[SocialAccount] = []
    try:
        with transaction.atomic():
            if not ConnectFlow.objects.filter(
                pk=flow.pk, status=ConnectFlow.Status.AUTHORIZED
            ).update(status=ConnectFlow.Status.DONE, secret=""):
                raise _refuse("state_used", "This connection was already finished.")
            for choice_id in picked:
                accounts += _connect_choice(flow.platform, offered[choice_id], secret, actor)
    except services.AccountTaken as exc:
        raise _refuse("account_taken", f"{exc} Nothing was connected.") from None
    return accounts


def _connect_choice(
    platform: str, choice: dict[str, Any], secret: dict[str, Any], actor: Any
) -> list[SocialAccount]:
    if platform == "google":
        account = _account_upsert(
            platform=Platform.GOOGLE,
            external_id=choice["id"],
            display_name=choice["name"],
            poll_enabled=True,
            actor=actor,
        )
        _credential_save(account, tokens=secret, actor=actor)
        return [account]
    if platform == "x":
        account = _account_upsert(
            platform=Platform.X,
            external_id=choice["id"],
            display_name=choice["name"],
            handle=f"@{choice['username']}" if choice.get("username") else "",
            poll_enabled=True,
            actor=actor,
        )
        _credential_save(account, tokens=secret, actor=actor)
        return [account]
    page_token = secret["pages"][choice["id"]]
    page = _account_upsert(
        platform=Platform.FACEBOOK,
        external_id=choice["id"],
        display_name=choice["name"],
        poll_enabled=False,  # Pages push to the webhook
        actor=actor,
    )
    tokens = {"access_token": page_token, "scope": oauth.META_SCOPES}
    _credential_save(page, tokens=tokens, actor=actor)
    enqueue("inbox.tasks.facebook_page_subscribe", page.pk)
    accounts = [page]
    instagram = choice.get("instagram")
    if instagram:
        ig = _account_upsert(
            platform=Platform.INSTAGRAM,
            external_id=instagram["id"],
            display_name=f"{choice['name']} on Instagram",
            handle=instagram.get("username", ""),
            poll_enabled=False,
            actor=actor,
        )
        # Instagram's Graph API is called with the linked Page's token.
        _credential_save(ig, tokens=tokens, actor=actor)
        accounts.append(ig)
    return accounts


def _account_upsert(
    *,
    platform: str,
    external_id: str,
    display_name: str,
    poll_enabled: bool,
    actor: Any,
    handle: str = "",
) -> SocialAccount:
    account = SocialAccount.objects.filter(platform=platform, external_id=external_id).first()
    if account is None:
        # The manager who connects it owns it until they name someone else.
        account = SocialAccount(
            platform=platform, external_id=external_id, owner=actor if actor else None
        )
    account.display_name = display_name[:200]
    account.handle = handle[:100] or account.handle
    account.is_active = True
    account.poll_enabled = poll_enabled
    return services.social_account_save(account=account, actor=actor)


def _credential_save(account: SocialAccount, *, tokens: dict[str, Any], actor: Any) -> None:
    expires_at = tokens.get("expires_at")
    AccountCredential.objects.update_or_create(
        account=account,
        defaults={
            "access_token": token_encrypt(tokens["access_token"]),
            "refresh_token": token_encrypt(tokens.get("refresh_token") or ""),
            "expires_at": dt.datetime.fromisoformat(expires_at) if expires_at else None,
            "scopes": (tokens.get("scope") or "")[:500],
            "connected_by": actor if getattr(actor, "pk", None) else None,
            "connected_at": timezone.now(),
            "refreshed_at": None,
            "refresh_claimed_until": None,
            "webhooks_subscribed_at": None,
            "problem": "",
            "problem_at": None,
        },
    )
    # The legacy plain-text token, if any, goes: the encrypted one is read first anyway.
    if "token" in account.poll_state:
        state = {k: v for k, v in account.poll_state.items() if k != "token"}
        SocialAccount.objects.filter(pk=account.pk).update(poll_state=state)
    audit_record(
        action="account.connected",
        actor=actor,
        obj=account,
        data={
            "platform": account.platform,
            "external_id": account.external_id,
            "scopes": (tokens.get("scope") or "")[:500],
            "expires_at": expires_at,
        },
    )


# ---------------------------------------------------------------- by id, no OAuth


def account_add_by_id(
    *, platform: str, external_id: str, display_name: str = "", actor: Any
) -> SocialAccount:
    """A feed URL (SSRF-checked), a Yelp business id or a Tripadvisor location id."""
    _require_manager(actor)
    external_id = (external_id or "").strip()
    if platform == "feed":
        try:
            vet_feed_url(external_id, allow_private=settings.FEED_ALLOW_PRIVATE)
        except PlatformError as exc:
            raise _refuse("bad_feed_url", exc.message) from None
        if len(external_id) > 500:
            raise _refuse("bad_feed_url", "The feed URL is longer than 500 characters.")
    elif platform == "yelp":
        if not _YELP_ID_RE.match(external_id):
            raise _refuse(
                "bad_id",
                "A Yelp business id is the last part of the page's address "
                "(yelp.com/biz/<id>): letters, digits, - and _.",
            )
    elif platform == "tripadvisor":
        if not _TRIPADVISOR_ID_RE.match(external_id):
            raise _refuse(
                "bad_id",
                "A Tripadvisor location id is the number after -d in the page's address "
                "(…-d1234567-…).",
            )
    else:
        raise _refuse("unknown_platform", "Pick a feed, Yelp or Tripadvisor.")
    if SocialAccount.objects.filter(platform=platform, external_id=external_id).exists():
        raise _refuse("already_connected", "This account is already on the list.")
    account = SocialAccount(
        platform=platform,
        external_id=external_id,
        display_name=(display_name or "").strip()[:200] or external_id[:200],
        owner=actor if getattr(actor, "pk", None) else None,
        poll_enabled=True,
    )
    try:
        with transaction.atomic():
            return services.social_account_save(account=account, actor=actor)
    except services.AccountTaken as exc:
        raise _refuse("account_taken", str(exc)) from None


# ---------------------------------------------------------------- keeping tokens alive


def _mark_failing(credential: AccountCredential, problem: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        changed = (
            AccountCredential.objects.filter(pk=credential.pk)
            .exclude(problem=problem)
            .update(problem=problem[:2000], problem_at=now, refresh_claimed_until=None)
        )
        if changed:
            audit_record(
                action="account.connection_failing",
                obj=credential.account,
                data={"platform": credential.account.platform, "problem": problem[:500]},
            )
    log.warning("account %s connection failing: %s", credential.account_id, problem[:500])


def _refresh_problem(platform: str, exc: PlatformError) -> str:
    label = LABELS.get(platform, platform)
    if isinstance(exc, oauth.OAuthError) and exc.code == "invalid_grant":
        return (
            f"Reconnect {label}: the permission was withdrawn or has expired ({exc.message}). "
            f"Use Connect {label} on the Accounts page."
        )
    if isinstance(exc, oauth.OAuthError) and exc.code in ("invalid_client", "unauthorized_client"):
        return (
            f"{label} refused this server's app credentials ({exc.code}): the operator must "
            "check the client id and secret, then reconnect."
        )
    return f"Reconnect {label}: renewing the access failed ({exc.message})."


def credential_refresh(*, credential: AccountCredential, now: dt.datetime | None = None) -> str:
    """Refresh one credential: "refreshed", "failing", "retry" (a temporary failure,
    tried again at the next sweep) or "busy" (another worker holds the claim).

    Routine refreshes are not audited (one a token lifetime per account would drown the
    trail); a connection that starts failing is."""
    now = now or timezone.now()
    account = credential.account
    platform = account.platform
    if platform not in ("google", "x"):
        # Meta Page tokens do not expire; one that does was read with a short-lived user
        # token, and nothing can renew it without the person.
        _mark_failing(
            credential,
            f"Reconnect {LABELS.get(platform, platform)}: the page's access expires "
            f"{credential.expires_at:%Y-%m-%d %H:%M} UTC and cannot be renewed without you. "
            "Use Connect Facebook and Instagram on the Accounts page.",
        )
        return "failing"
    try:
        refresh_token = token_decrypt(credential.refresh_token)
    except InvalidToken:
        _mark_failing(
            credential,
            f"Reconnect {LABELS[platform]}: the stored token cannot be read (the server's "
            "TOKEN_ENCRYPTION_KEY changed).",
        )
        return "failing"
    if not refresh_token:
        _mark_failing(
            credential,
            f"Reconnect {LABELS[platform]}: the access expires and there is no refresh token.",
        )
        return "failing"
    claimed = (
        AccountCredential.objects.filter(pk=credential.pk)
        .filter(Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now))
        .update(refresh_claimed_until=now + REFRESH_CLAIM)
    )
    if not claimed:
        return "busy"
    try:
        if platform == "google":
            tokens = oauth.google_refresh(
                token_url=settings.GOOGLE_OAUTH_TOKEN_URL,
                client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
                client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
                refresh_token=refresh_token,
            )
        else:
            tokens = oauth.x_refresh(
                token_url=settings.X_OAUTH_TOKEN_URL,
                client_id=settings.X_OAUTH_CLIENT_ID,
                client_secret=settings.X_OAUTH_CLIENT_SECRET,
                refresh_token=refresh_token,
            )
    except PlatformError as exc:
        if exc.retryable:
            AccountCredential.objects.filter(pk=credential.pk).update(refresh_claimed_until=None)
            log.warning("token refresh of account %s failed, retried: %s", account.pk, exc)
            return "retry"
        _mark_failing(credential, _refresh_problem(platform, exc))
        return "failing"
    fields: dict[str, Any] = {
        "access_token": token_encrypt(tokens.access_token),
        "expires_at": now + dt.timedelta(seconds=tokens.expires_in) if tokens.expires_in else None,
        "refreshed_at": now,
        "refresh_claimed_until": None,
        "problem": "",
        "problem_at": None,
    }
    if tokens.refresh_token:  # X rotates it; Google keeps the old one
        fields["refresh_token"] = token_encrypt(tokens.refresh_token)
    if tokens.scope:
        fields["scopes"] = tokens.scope[:500]
    AccountCredential.objects.filter(pk=credential.pk).update(**fields)
    return "refreshed"


def credentials_refresh_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Refresh every token expiring within REFRESH_AHEAD; subscribe Pages not yet
    subscribed to the webhooks. Safe to run twice (claims, idempotent subscriptions)."""
    now = now or timezone.now()
    counts = {"refreshed": 0, "failing": 0, "retry": 0, "busy": 0, "subscribed": 0}
    due = (
        AccountCredential.objects.filter(
            account__is_active=True,
            problem="",
            expires_at__isnull=False,
            expires_at__lte=now + REFRESH_AHEAD,
        )
        .select_related("account")
        .order_by("expires_at")
    )
    for credential in due:
        counts[credential_refresh(credential=credential, now=now)] += 1
    unsubscribed = AccountCredential.objects.filter(
        account__is_active=True,
        account__platform=Platform.FACEBOOK,
        webhooks_subscribed_at__isnull=True,
        problem="",
    ).values_list("account_id", flat=True)
    for account_id in unsubscribed:
        counts["subscribed"] += facebook_page_subscribe(account_id=account_id)
    return counts


def facebook_page_subscribe(*, account_id: int) -> int:
    """Subscribe the Page to the app's webhooks (feed, mention, ratings). 1 if done now."""
    credential = (
        AccountCredential.objects.filter(account_id=account_id, account__platform=Platform.FACEBOOK)
        .select_related("account")
        .first()
    )
    if credential is None or credential.webhooks_subscribed_at is not None:
        return 0
    try:
        oauth.meta_page_subscribe(
            graph_base=settings.GRAPH_API_BASE,
            page_id=credential.account.external_id,
            page_token=token_decrypt(credential.access_token),
        )
    except InvalidToken:
        _mark_failing(
            credential, "Reconnect Facebook: the stored token cannot be read (key changed)."
        )
        return 0
    except PlatformError as exc:
        if exc.retryable:
            log.warning("subscribing page %s failed, retried: %s", account_id, exc)
            return 0
        _mark_failing(
            credential,
            "Reconnect Facebook and Instagram: the page could not be subscribed to new "
            f"comments and reviews ({exc.message}). Connect again and allow managing the page.",
        )
        return 0
    AccountCredential.objects.filter(pk=credential.pk).update(webhooks_subscribed_at=timezone.now())
    audit_record(
        action="account.webhooks_subscribed",
        obj=credential.account,
        data={"platform": "facebook", "fields": oauth.META_PAGE_FIELDS},
    )
    return 1
