"""Connecting accounts from the Accounts page: the OAuth flows of Google, Meta and X
against a fake authorization server over HTTP, accounts by id, encrypted tokens, the
refresh sweep, and every refusal (roles, state, consent, platform failures)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from inbox import connecting
from inbox.credentials import (
    google_client,
    instagram_token,
    stored_token,
    token_decrypt,
    token_encrypt,
)
from inbox.models import AccountCredential, ConnectFlow, SocialAccount
from reputation.audit.models import AuditEvent
from tenants.models import AccountRoute
from tests.conftest import client_for
from tests.inbox.oauth_fake import IG_USER, PAGE_1, PAGE_2, X_USER, FakeAuthServer


@pytest.fixture
def fake(settings):
    server = FakeAuthServer()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.close()


def _start(client, platform: str) -> str:
    """POST the Connect button; the authorization URL it redirects to."""
    response = client.post(f"/inbox/accounts/connect/{platform}/")
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def _consent(authorize_url: str) -> str:
    """The browser's trip to the (fake) platform: the URL it is sent back to."""
    response = httpx.get(authorize_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["location"])
    return f"{back.path}?{back.query}"


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _all_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(string_agg(row_to_json(t)::text, ' '), '') FROM {table} t")
        return cursor.fetchone()[0]


def _audit_text() -> str:
    return " ".join(json.dumps(d) for d in AuditEvent.objects.values_list("data", flat=True))


# ---------------------------------------------------------------- Google


def test_a_manager_connects_google_locations_end_to_end(cast, tenant, fake):
    client = client_for("alpha.localhost", cast.alice)
    authorize = _start(client, "google")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{fake.url}/google/authorize?")
    assert query["redirect_uri"] == [
        f"http://alpha.localhost{connecting_port()}/inbox/accounts/connect/google/callback/"
    ]
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]

    callback = _consent(authorize)
    response = client.get(callback)
    assert response.status_code == 302
    pick_url = response["Location"]
    page = client.get(pick_url).content.decode()
    assert "Alpha Dental, Oslo" in page and "accounts/108/locations/2002" in page

    response = client.post(pick_url, {"pick": ["accounts/108/locations/2001"]}, follow=True)
    assert "Connected: Alpha Dental, Oslo." in _messages(response)

    with tenant(cast.alpha):
        account = SocialAccount.objects.get(external_id="accounts/108/locations/2001")
        assert (account.platform, account.poll_enabled, account.owner_id) == (
            "google",
            True,
            cast.alice.pk,
        )
        assert not SocialAccount.objects.filter(external_id="accounts/108/locations/2002").exists()
        credential = AccountCredential.objects.get(account=account)
        token = token_decrypt(credential.access_token)
        refresh = token_decrypt(credential.refresh_token)
        assert token.startswith("google-access-") and refresh.startswith("google-refresh-")
        assert credential.expires_at > timezone.now() + dt.timedelta(minutes=55)
        # Encrypted at rest: neither token appears anywhere in the tables or the audit.
        for text in (_all_text("inbox_accountcredential"), _all_text("inbox_connectflow")):
            assert token not in text and refresh not in text
        assert token not in _audit_text() and refresh not in _audit_text()
        # The readers use it: polling and replies act with the connected token.
        assert stored_token(account) == token
        with google_client(account) as gc:
            assert gc._http.headers["Authorization"] == f"Bearer {token}"
        actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
        assert actions == [
            "account.connect_started",
            "account.connect_authorized",
            "account.created",
            "account.connected",
        ]
        assert ConnectFlow.objects.get().status == "done"
    assert AccountRoute.objects.filter(
        platform="google", external_id="accounts/108/locations/2001", practice=cast.alpha
    ).exists()

    # The pick cannot be replayed, nor the callback.
    assert client.post(pick_url, {"pick": ["accounts/108/locations/2002"]}).status_code == 404
    response = client.get(callback, follow=True)
    assert "already used" in _messages(response)
    with tenant(cast.alpha):
        assert SocialAccount.objects.filter(platform="google").count() == 1


def connecting_port() -> str:
    from django.conf import settings

    return "" if settings.SITE_PORT in (80, 443) else f":{settings.SITE_PORT}"


# ---------------------------------------------------------------- Meta


def test_a_manager_connects_facebook_pages_with_instagram_and_subscribes_them(
    cast, tenant, fake, django_capture_on_commit_callbacks
):
    client = client_for("alpha.localhost", cast.alice)
    authorize = _start(client, "facebook")
    assert authorize.startswith(f"{fake.url}/facebook/dialog/oauth?")
    response = client.get(_consent(authorize))
    pick_url = response["Location"]
    page = client.get(pick_url).content.decode()
    assert "Alpha Dental" in page and "with Instagram @alphadental" in page and "Alpha Kids" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pick_url, {"pick": [PAGE_1]}, follow=True)
    assert "Connected: Alpha Dental, Alpha Dental on Instagram." in _messages(response)
    # The long-lived user token was asked for, and the page subscribed with its own token.
    assert ("GET", "/graph/oauth/access_token") in fake.requests
    assert fake.subscribed == [(PAGE_1, "feed,mention,ratings", "EAAPage1SecretToken")]
    with tenant(cast.alpha):
        fb = SocialAccount.objects.get(platform="facebook", external_id=PAGE_1)
        ig = SocialAccount.objects.get(platform="instagram", external_id=IG_USER)
        assert not fb.poll_enabled and ig.handle == "alphadental"
        assert not SocialAccount.objects.filter(external_id=PAGE_2).exists()
        assert stored_token(fb) == "EAAPage1SecretToken"
        assert instagram_token(ig) == "EAAPage1SecretToken"
        assert fb.credential.expires_at is None  # Page tokens do not expire
        assert fb.credential.webhooks_subscribed_at is not None
        assert "EAAPage1SecretToken" not in _all_text("inbox_accountcredential")
        assert "EAAUserLongLived" not in _all_text("inbox_connectflow")
        assert "EAAPage1SecretToken" not in _audit_text()
        assert AuditEvent.objects.filter(
            action="account.webhooks_subscribed", object_id=str(fb.pk)
        ).exists()
    assert set(
        AccountRoute.objects.filter(practice=cast.alpha).values_list("platform", "external_id")
    ) >= {("facebook", PAGE_1), ("instagram", IG_USER)}


# ---------------------------------------------------------------- X


def test_a_manager_connects_x_with_pkce(cast, tenant, fake):
    client = client_for("alpha.localhost", cast.alice)
    authorize = _start(client, "x")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    response = client.get(_consent(authorize))  # the fake checks the verifier
    pick_url = response["Location"]
    response = client.post(pick_url, {"pick": [X_USER]}, follow=True)
    assert "Connected: Alpha Dental." in _messages(response)
    with tenant(cast.alpha):
        account = SocialAccount.objects.get(platform="x", external_id=X_USER)
        assert account.handle == "@alpha" and account.poll_enabled
        assert token_decrypt(account.credential.refresh_token).startswith("x-refresh-")
        assert "x-access-" not in _all_text("inbox_accountcredential")


# ---------------------------------------------------------------- refresh


def _connected_google(cast, tenant, fake, *, expires_in: dt.timedelta) -> SocialAccount:
    client = client_for("alpha.localhost", cast.alice)
    response = client.get(_consent(_start(client, "google")))
    client.post(response["Location"], {"pick": ["accounts/108/locations/2001"]})
    with tenant(cast.alpha):
        AccountCredential.objects.update(expires_at=timezone.now() + expires_in)
        return SocialAccount.objects.select_related("credential").get(platform="google")


def test_a_token_expiring_soon_is_refreshed_by_the_sweep(cast, tenant, fake):
    from inbox.tasks import credentials_sweep

    account = _connected_google(cast, tenant, fake, expires_in=dt.timedelta(minutes=8))
    with tenant(cast.alpha):
        before = stored_token(account)
        refresh_before = account.credential.refresh_token
        assert credentials_sweep() == {
            "refreshed": 1,
            "failing": 0,
            "retry": 0,
            "busy": 0,
            "subscribed": 0,
        }
        credential = AccountCredential.objects.get(account=account)
        after = token_decrypt(credential.access_token)
        assert after != before and after in fake.access
        assert credential.expires_at > timezone.now() + dt.timedelta(minutes=55)
        assert credential.refresh_token == refresh_before  # Google keeps the refresh token
        assert credential.problem == "" and credential.refreshed_at is not None
        # A token far from expiry is left alone.
        assert credentials_sweep()["refreshed"] == 0


def test_a_refused_refresh_marks_the_connection_failing_with_what_to_do(cast, tenant, fake):
    from inbox.tasks import credentials_sweep

    account = _connected_google(cast, tenant, fake, expires_in=dt.timedelta(minutes=3))
    with tenant(cast.alpha):
        fake.revoked.add(token_decrypt(account.credential.refresh_token))
        token_before = account.credential.access_token
        assert credentials_sweep()["failing"] == 1
        credential = AccountCredential.objects.get(account=account)
        assert credential.problem.startswith(
            "Reconnect Google: the permission was withdrawn or has expired"
        )
        assert "invalid_grant" in credential.problem
        assert credential.access_token == token_before  # nothing else changed
        assert AuditEvent.objects.filter(
            action="account.connection_failing", object_id=str(account.pk)
        ).exists()
        assert credentials_sweep()["failing"] == 0  # marked once, not retried in a loop

    client = client_for("alpha.localhost", cast.alice)
    page = client.get("/inbox/accounts/").content.decode()
    assert "Connection failing" in page and "Reconnect Google: the permission was withdrawn" in page
    assert 'action="/inbox/accounts/connect/google/"' in page
    assert "1 source failing" in page
    header = client.get("/inbox/").content.decode()
    assert 'id="nav-sources"' in header and ">1</span>" in header
    sources = client.get("/inbox/sources/").content.decode()
    assert "Reconnect Google: the permission was withdrawn" in sources

    # Reconnecting clears it.
    response = client.get(_consent(_start(client, "google")))
    client.post(response["Location"], {"pick": ["accounts/108/locations/2001"]})
    with tenant(cast.alpha):
        assert AccountCredential.objects.get(account=account).problem == ""
        assert SocialAccount.objects.filter(platform="google").count() == 1


def test_x_refresh_rotates_the_refresh_token(cast, tenant, fake):
    client = client_for("alpha.localhost", cast.alice)
    response = client.get(_consent(_start(client, "x")))
    client.post(response["Location"], {"pick": [X_USER]})
    with tenant(cast.alpha):
        credential = AccountCredential.objects.get()
        old_refresh = token_decrypt(credential.refresh_token)
        AccountCredential.objects.update(expires_at=timezone.now())
        credential.refresh_from_db()
        assert connecting.credential_refresh(credential=credential) == "refreshed"
        credential.refresh_from_db()
        assert token_decrypt(credential.refresh_token) not in ("", old_refresh)


def test_a_temporary_refresh_failure_is_retried_not_marked(cast, tenant, fake):
    account = _connected_google(cast, tenant, fake, expires_in=dt.timedelta(minutes=5))
    fake.token_failure = "500"
    with tenant(cast.alpha):
        credential = AccountCredential.objects.select_related("account").get(account=account)
        assert connecting.credential_refresh(credential=credential) == "retry"
        credential.refresh_from_db()
        assert credential.problem == "" and credential.refresh_claimed_until is None


# ---------------------------------------------------------------- refusals and bad input


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_responders_and_viewers_cannot_connect(cast, tenant, fake, who):
    client = client_for("alpha.localhost", getattr(cast, who))
    assert client.post("/inbox/accounts/connect/google/").status_code == 404
    assert client.get("/inbox/accounts/connect/google/callback/?state=x&code=y").status_code == 404
    assert (
        client.post(
            "/inbox/accounts/add/", {"platform": "yelp", "external_id": "alpha-dental"}
        ).status_code
        == 404
    )
    page = client.get("/inbox/accounts/").content.decode()
    assert "Connect Google" not in page
    with tenant(cast.alpha):
        assert not ConnectFlow.objects.exists() and not SocialAccount.objects.exists()
    with pytest.raises(Exception, match="Only a manager"), tenant(cast.alpha):
        connecting.connect_start(platform="google", actor=getattr(cast, who), session_key="s")


def test_a_callback_with_a_wrong_state_connects_nothing(cast, tenant, fake, caplog):
    client = client_for("alpha.localhost", cast.alice)
    callback = _consent(_start(client, "google"))
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged, follow=True)
    assert "unknown here, or was started in another browser session" in _messages(response)
    assert "connect refused: unknown state" in caplog.text
    # The same state from another session (another browser of the same person) is refused.
    other = client_for("alpha.localhost", cast.alice)
    response = other.get(callback, follow=True)
    assert "another browser session" in _messages(response)
    with tenant(cast.alpha):
        assert ConnectFlow.objects.get().status == "started"
        assert not SocialAccount.objects.exists() and not AccountCredential.objects.exists()
    # No code was spent on them: the real callback still works.
    assert client.get(callback).status_code == 302


def test_an_expired_state_is_refused(cast, tenant, fake):
    client = client_for("alpha.localhost", cast.alice)
    callback = _consent(_start(client, "google"))
    with tenant(cast.alpha):
        ConnectFlow.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(callback, follow=True)
    assert "has expired" in _messages(response)
    with tenant(cast.alpha):
        assert ConnectFlow.objects.get().status == "failed"
        assert not SocialAccount.objects.exists()


def test_denied_consent_is_said_plainly(cast, tenant, fake):
    fake.deny = True
    client = client_for("alpha.localhost", cast.alice)
    response = client.get(_consent(_start(client, "facebook")), follow=True)
    assert response.status_code == 200
    assert "Facebook and Instagram was not connected: the permission was not given" in (
        _messages(response)
    )
    with tenant(cast.alpha):
        assert ConnectFlow.objects.get().status == "failed"
        assert AuditEvent.objects.filter(action="account.connect_denied").exists()
        assert not SocialAccount.objects.exists()


@pytest.mark.parametrize("failure", ["500", "garbage"])
def test_a_failing_token_endpoint_is_a_message_not_a_500(cast, tenant, fake, failure, caplog):
    client = client_for("alpha.localhost", cast.alice)
    callback = _consent(_start(client, "google"))
    fake.token_failure = failure
    response = client.get(callback, follow=True)
    assert response.status_code == 200
    text = _messages(response)
    assert "Google did not complete the connection" in text and "Nothing was connected" in text
    assert "connect to google failed" in caplog.text
    with tenant(cast.alpha):
        assert ConnectFlow.objects.get().status == "failed"
        assert not SocialAccount.objects.exists() and not AccountCredential.objects.exists()


def test_a_code_the_token_endpoint_refuses_is_a_message(cast, tenant, fake):
    client = client_for("alpha.localhost", cast.alice)
    callback = _consent(_start(client, "google"))
    bad = callback.replace("code=google-code", "code=stolen-code")
    response = client.get(bad, follow=True)
    assert "google refused the token request (HTTP 400, invalid_grant)" in _messages(response)
    assert "stolen-code" not in _messages(response)


def test_a_platform_failing_while_listing_saves_nothing(cast, tenant, fake):
    fake.locations_failure = True
    client = client_for("alpha.localhost", cast.alice)
    response = client.get(_consent(_start(client, "google")), follow=True)
    assert "google answered HTTP 503" in _messages(response)
    with tenant(cast.alpha):
        flow = ConnectFlow.objects.get()
        assert flow.status == "failed" and flow.secret == ""


def test_an_unconfigured_platform_says_which_variable_to_set(cast, tenant, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    settings.GOOGLE_OAUTH_CLIENT_SECRET = ""
    client = client_for("alpha.localhost", cast.alice)
    page = client.get("/inbox/accounts/").content.decode()
    assert (
        "not set up: the operator must set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET"
        in page
    )
    response = client.post("/inbox/accounts/connect/google/", follow=True)
    assert "the operator must set GOOGLE_OAUTH_CLIENT_ID" in _messages(response)
    with tenant(cast.alpha):
        assert not ConnectFlow.objects.exists()


def test_an_account_taken_by_another_practice_connects_nothing(cast, tenant, fake):
    from inbox.services import social_account_save

    with tenant(cast.beta):
        social_account_save(
            account=SocialAccount(
                platform="google",
                external_id="accounts/108/locations/2002",
                display_name="Beta's",
            )
        )
    client = client_for("alpha.localhost", cast.alice)
    pick_url = client.get(_consent(_start(client, "google")))["Location"]
    response = client.post(
        pick_url,
        {"pick": ["accounts/108/locations/2001", "accounts/108/locations/2002"]},
        follow=True,
    )
    assert "already connected to another practice" in _messages(response)
    with tenant(cast.alpha):
        assert not SocialAccount.objects.exists() and not AccountCredential.objects.exists()
        assert ConnectFlow.objects.get().status == "authorized"  # nothing half-done


# ---------------------------------------------------------------- by id


def test_feeds_yelp_and_tripadvisor_are_added_by_id(cast, tenant, dns):
    client = client_for("alpha.localhost", cast.alice)
    for platform, ident in [
        ("feed", "https://alerts.example.com/feeds/123"),
        ("yelp", "alpha-dental-oslo"),
        ("tripadvisor", "1234567"),
    ]:
        response = client.post(
            "/inbox/accounts/add/", {"platform": platform, "external_id": ident}, follow=True
        )
        assert "it is polled from now on" in _messages(response), _messages(response)
    with tenant(cast.alpha):
        assert sorted(SocialAccount.objects.values_list("platform", "poll_enabled")) == [
            ("feed", True),
            ("tripadvisor", True),
            ("yelp", True),
        ]
        assert AuditEvent.objects.filter(action="account.created").count() == 3


@pytest.mark.parametrize(
    ("platform", "ident", "says"),
    [
        ("feed", "http://169.254.169.254/latest/meta-data", "a link-local address"),
        ("feed", "http://localhost:5432/", "local host"),
        ("feed", "file:///etc/passwd", "http(s) URL"),
        ("yelp", "../../admin", "Yelp business id"),
        ("tripadvisor", "d1234", "Tripadvisor location id"),
    ],
)
def test_bad_ids_are_refused_with_the_reason(cast, tenant, platform, ident, says):
    client = client_for("alpha.localhost", cast.alice)
    response = client.post(
        "/inbox/accounts/add/", {"platform": platform, "external_id": ident}, follow=True
    )
    assert says in _messages(response)
    with tenant(cast.alpha):
        assert not SocialAccount.objects.exists()


# ---------------------------------------------------------------- readers


def test_readers_fall_back_to_the_legacy_poll_state_token(cast, tenant):
    with tenant(cast.alpha):
        legacy = SocialAccount.objects.create(
            platform="google",
            external_id="accounts/1/locations/1",
            display_name="Old",
            poll_state={"token": "ya29.legacy"},
        )
        assert stored_token(legacy) == "ya29.legacy"
        AccountCredential.objects.create(account=legacy, access_token=token_encrypt("ya29.new"))
        legacy = SocialAccount.objects.get(pk=legacy.pk)
        assert stored_token(legacy) == "ya29.new"
        # A credential the key cannot read falls back, and says why in the log.
        AccountCredential.objects.update(access_token="gAAAAA-not-a-token")
        legacy = SocialAccount.objects.get(pk=legacy.pk)
        assert stored_token(legacy) == "ya29.legacy"
