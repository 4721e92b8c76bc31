"""The feed poller must not reach internal addresses (SSRF), whatever a host name resolves
to, on every redirect hop, and must connect to the very address it checked (no DNS
rebinding between the check and the connection). DNS is faked (tests/inbox/conftest.py)."""

from __future__ import annotations

import http.server
import logging
import socket
import threading

import httpcore
import pytest
import respx

from inbox.forms import SocialAccountAdminForm
from inbox.models import RawPayload, SocialAccount
from inbox.platforms.clients import FeedClient, PlatformError, _PinnedBackend, vet_feed_url
from inbox.services import social_account_save
from inbox.sources.polling import poll_account
from tests.conftest import client_for
from tests.inbox.conftest import PUBLIC_ADDRESS

FEED = "https://alerts.example.com/feeds/1/2"
INTERNAL = [
    ("127.0.0.1", "a loopback"),
    ("10.0.0.5", "a private"),
    ("169.254.169.254", "a link-local"),  # the cloud metadata service
    ("::1", "a loopback"),
    ("::ffff:127.0.0.1", "a loopback"),  # IPv4-mapped IPv6
    ("::ffff:10.0.0.5", "a private"),
    ("fd00::5", "a private"),
    ("fe80::1", "a link-local"),
    ("224.0.0.1", "a multicast"),
    ("0.0.0.0", "an unspecified"),  # noqa: S104 (an answer, not a bind)
    ("240.0.0.1", "a reserved"),
    ("100.64.0.1", "a non-public"),  # carrier-grade NAT
    ("64:ff9b::a00:5", "a private"),  # NAT64 of 10.0.0.5
    ("2002:a00:5::1", "a private"),  # 6to4 of 10.0.0.5
]


# --- the client ----------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "kind"), INTERNAL)
def test_a_public_name_resolving_to_an_internal_address_is_not_fetched(dns, address, kind):
    dns.answers["alerts.example.com"] = [address]
    with respx.mock(assert_all_called=False) as mock, FeedClient() as client:
        route = mock.get(FEED).respond(200, content=b"<rss/>")
        with pytest.raises(PlatformError) as err:
            client.fetch(FEED)
    assert not route.called
    assert err.value.retryable is False
    assert err.value.message == (
        f"feed host alerts.example.com resolves to {address}, {kind} address; use a public feed URL"
    )


def test_one_internal_address_among_public_ones_is_enough_to_refuse(dns):
    dns.answers["alerts.example.com"] = [PUBLIC_ADDRESS, "2606:4700::1", "10.0.0.5"]
    with respx.mock(assert_all_called=False) as mock, FeedClient() as client:
        route = mock.get(FEED).respond(200, content=b"<rss/>")
        with pytest.raises(PlatformError, match="resolves to 10.0.0.5"):
            client.fetch(FEED)
    assert not route.called


def test_a_redirect_to_a_name_resolving_internally_is_refused(dns):
    dns.answers["evil.example.net"] = ["169.254.169.254"]
    with respx.mock(assert_all_called=False) as mock, FeedClient() as client:
        first = mock.get(FEED).respond(302, headers={"Location": "http://evil.example.net/"})
        second = mock.get("http://evil.example.net/").respond(200, content=b"secret")
        with pytest.raises(PlatformError) as err:
            client.fetch(FEED)
    assert first.called and not second.called
    assert err.value.retryable is False
    assert "evil.example.net resolves to 169.254.169.254, a link-local" in err.value.message
    assert dns.lookups == ["alerts.example.com", "evil.example.net"]  # every hop resolved


@pytest.mark.parametrize(
    "location", ["http://[::ffff:169.254.169.254]/latest/", "http://[fd00::1]/", "http://0.0.0.0/"]
)
def test_a_redirect_to_an_internal_literal_is_refused(location):
    with respx.mock(assert_all_called=False) as mock, FeedClient() as client:
        mock.get(FEED).respond(302, headers={"Location": location})
        with pytest.raises(PlatformError, match=r"feed URL points to .*; use a public feed URL"):
            client.fetch(FEED)


def test_a_publicly_resolving_host_is_fetched(dns):
    dns.answers["alerts.example.com"] = [PUBLIC_ADDRESS, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    with respx.mock() as mock, FeedClient() as client:
        route = mock.get(FEED).respond(200, content=b"<rss/>")
        fetched = client.fetch(FEED)
    assert route.called and fetched.content == b"<rss/>"
    assert dns.lookups == ["alerts.example.com"]


def test_a_dns_failure_is_retryable_and_fetches_nothing(dns):
    dns.answers["alerts.example.com"] = socket.gaierror(
        socket.EAI_AGAIN, "Temporary failure in name resolution"
    )
    with respx.mock(assert_all_called=False) as mock, FeedClient() as client:
        route = mock.get(FEED).respond(200, content=b"<rss/>")
        with pytest.raises(PlatformError) as err:
            client.fetch(FEED)
    assert not route.called
    assert err.value.retryable is True
    assert err.value.message == (
        "feed host alerts.example.com could not be resolved "
        "(Temporary failure in name resolution); check the feed URL"
    )


def test_allow_private_skips_the_guard_and_the_lookup(dns):
    dns.answers["feeds.lan"] = ["10.0.0.5"]
    with respx.mock() as mock, FeedClient(allow_private=True) as client:
        mock.get("http://feeds.lan/rss").respond(200, content=b"<rss/>")
        mock.get("http://127.0.0.1:8080/rss").respond(200, content=b"<rss/>")
        assert client.fetch("http://feeds.lan/rss").content == b"<rss/>"
        assert client.fetch("http://127.0.0.1:8080/rss").content == b"<rss/>"
    assert dns.lookups == []


def test_vet_feed_url_returns_the_addresses_to_connect_to(dns):
    dns.answers["alerts.example.com"] = [PUBLIC_ADDRESS]
    assert vet_feed_url(FEED) == ("alerts.example.com", (PUBLIC_ADDRESS,))
    assert vet_feed_url("http://[2606:4700::1]/") == ("2606:4700::1", ("2606:4700::1",))
    # International names are resolved (and pinned) in their IDNA form, as httpx sends them.
    assert vet_feed_url("https://bücher.example/")[0] == "xn--bcher-kva.example"
    assert dns.lookups == ["alerts.example.com", "xn--bcher-kva.example"]


# --- the connection goes to the vetted address ---------------------------------------------


class RecordingNetwork(httpcore.MockBackend):
    """A network that records where it was asked to connect and what TLS name was used,
    and answers every connection with the same HTTP response."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        super().__init__([])
        self.refuse = refuse
        self.connected: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []
        self.sent = b""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append((host, port))
        if host in self.refuse:
            raise httpcore.ConnectError("connection refused")
        network = self

        class Stream(httpcore.MockStream):
            def write(self, buffer, timeout=None):
                network.sent += buffer

            def start_tls(self, ssl_context, server_hostname=None, timeout=None):
                network.tls_names.append(server_hostname)
                return self

        return Stream([b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", b"<rss/>"])


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(dns):
    # A rebinding DNS server: public when checked, loopback for any later lookup.
    answers = iter([[PUBLIC_ADDRESS]])
    dns.answers["alerts.example.com"] = lambda: next(answers, ["127.0.0.1"])
    network = RecordingNetwork()
    with FeedClient() as client:
        client._pinned._network = network
        fetched = client.fetch(FEED)
    assert fetched.content == b"<rss/>"
    assert network.connected == [(PUBLIC_ADDRESS, 443)]
    assert dns.lookups == ["alerts.example.com"]  # resolved once, by the check
    # TLS (SNI and certificate check) and the Host header keep the name.
    assert network.tls_names == ["alerts.example.com"]
    assert b"\r\nHost: alerts.example.com\r\n" in network.sent


def test_the_next_vetted_address_is_tried_when_one_refuses(dns):
    dns.answers["alerts.example.com"] = ["2606:4700::1", PUBLIC_ADDRESS]
    network = RecordingNetwork(refuse=("2606:4700::1",))
    with FeedClient() as client:
        client._pinned._network = network
        client.fetch(FEED)
    assert network.connected == [("2606:4700::1", 443), (PUBLIC_ADDRESS, 443)]


def test_respx_still_mocks_the_http_boundary_in_front_of_the_pinned_network(dns):
    network = RecordingNetwork()
    with respx.mock() as mock, FeedClient() as client:
        client._pinned._network = network
        mock.get(FEED).respond(200, content=b"<rss/>")
        assert client.fetch(FEED).content == b"<rss/>"
    assert network.connected == []  # respx answered at the connection pool


def test_a_real_socket_connects_to_the_pinned_address_with_the_name_as_host():
    # Only the pinning is under test here: 127.0.0.1 is pinned by hand, as if vetted.
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"<rss/>")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        with FeedClient() as client:
            client._pinned.pin("feeds.example", ("127.0.0.1",))
            response = client._http.get(f"http://feeds.example:{port}/rss")
    finally:
        thread.join(5)
        server.server_close()
    assert (response.status_code, response.content) == (200, b"<rss/>")
    assert seen == [f"feeds.example:{port}"]


def test_the_pinned_backend_refuses_a_host_it_has_no_vetted_address_for():
    with pytest.raises(httpcore.ConnectError):
        _PinnedBackend().connect_tcp("alerts.example.com", 443)


# --- polling: the error reaches the account like any other feed error --------------------


@pytest.fixture
def in_alpha(cast, tenant):
    with tenant(cast.alpha):
        yield


def feed_account(url: str) -> SocialAccount:
    return social_account_save(
        account=SocialAccount(
            platform="feed", external_id=url, display_name="Alert", poll_enabled=True
        )
    )


def test_a_refused_feed_is_recorded_on_the_account_and_logged(cast, in_alpha, dns, caplog):
    dns.answers["alerts.example.com"] = ["10.0.0.5"]
    account = feed_account(FEED)
    with respx.mock(assert_all_called=False) as mock, caplog.at_level(logging.WARNING):
        route = mock.get(FEED).respond(200, content=b"<rss/>")
        assert poll_account(account) is None
    assert not route.called
    account.refresh_from_db()
    assert account.last_poll_error == (
        "feed host alerts.example.com resolves to 10.0.0.5, a private address; "
        "use a public feed URL"
    )
    assert account.last_polled_at is not None
    assert not RawPayload.objects.exists()
    assert "resolves to 10.0.0.5" in caplog.text


def test_a_dns_failure_is_recorded_and_the_feed_polled_again_later(cast, in_alpha, dns):
    dns.answers["alerts.example.com"] = socket.gaierror(socket.EAI_NONAME, "Name not known")
    account = feed_account(FEED)
    with respx.mock(assert_all_called=False):
        assert poll_account(account) is None
    account.refresh_from_db()
    assert "could not be resolved (Name not known)" in account.last_poll_error
    assert account.poll_enabled and account.is_active


def test_feed_allow_private_setting_reaches_the_poller(cast, in_alpha, dns, settings):
    settings.FEED_ALLOW_PRIVATE = True
    dns.answers["feeds.lan"] = ["10.0.0.5"]
    account = feed_account("http://feeds.lan/rss")
    with respx.mock() as mock:
        mock.get("http://feeds.lan/rss").respond(304)
        poll_account(account)
    account.refresh_from_db()
    assert account.last_poll_error == ""


# --- saving a feed in the admin ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "answer", "error"),
    [
        ("http://10.0.0.8/rss", None, "Feed URL points to 10.0.0.8, a private address"),
        ("http://localhost/rss", None, "Feed URL points to a local host (localhost)"),
        (FEED, ["169.254.169.254"], "Feed host alerts.example.com resolves to 169.254.169.254"),
        (FEED, socket.gaierror(socket.EAI_NONAME, "Name not known"), "could not be resolved"),
        ("ftp://alerts.example.com/rss", None, "Feed URL must be an http(s) URL"),
    ],
)
def test_the_admin_form_refuses_feed_urls_the_poller_would_refuse(
    cast, in_alpha, dns, url, answer, error
):
    if answer is not None:
        dns.answers["alerts.example.com"] = answer
    form = SocialAccountAdminForm(data={"platform": "feed", "external_id": url})
    assert not form.is_valid()
    assert error in form.errors["external_id"][0]
    assert form.errors["external_id"][0].endswith(".")


def test_the_admin_form_accepts_public_feeds_and_leaves_other_platforms_alone(cast, in_alpha, dns):
    assert SocialAccountAdminForm(data={"platform": "feed", "external_id": FEED}).is_valid()
    assert SocialAccountAdminForm(data={"platform": "yelp", "external_id": "10.0.0.8"}).is_valid()
    assert dns.lookups == ["alerts.example.com"]


def test_the_practice_admin_shows_the_error_when_saving(cast, dns):
    from tenants.models import User

    dns.answers["alerts.example.com"] = ["10.0.0.5"]
    root = User.objects.create_superuser("root-ssrf@service.test", "pw-root-123")
    admin = client_for("alpha.localhost", root)
    response = admin.post(
        "/admin/inbox/socialaccount/add/",
        {
            "platform": "feed",
            "external_id": FEED,
            "display_name": "Alert",
            "poll_state": "{}",
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with the error, not a 500
    assert "resolves to 10.0.0.5, a private address; use a public feed URL." in (
        response.content.decode()
    )
