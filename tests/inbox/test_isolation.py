"""Every inbox page and API route of a practice refuses everyone but its members and
its agency's staff. The list of routes is read from the URL configuration, so a new
route is covered (and must be given sample arguments here) the day it is added."""

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from escalation.models import Escalation, PlatformReport
from inbox.models import (
    Author,
    ConnectFlow,
    ImportJob,
    ListeningRule,
    Mention,
    RawPayload,
    Reply,
    ReplyPresence,
    SocialAccount,
    Task,
)
from reputation.audit.models import AuditEvent
from tests.conftest import client_for

# Routes that are not practice data: served to anyone on any host.
PUBLIC_ROUTES = {"login", "logout", "handoff", "api-schema", "api-docs", "home", "switch"}


def _practice_routes():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name not in PUBLIC_ROUTES:
                yield prefix + str(p.pattern), p

    return list(walk(get_resolver("reputation.urls_tenant").url_patterns))


ROUTES = _practice_routes()


# Pages about a mention given in the query string (the escalation and report forms).
MENTION_QUERY = {"escalation-new", "report-new"}


def _url(pattern: str, route, ids: dict) -> str:
    # The connect routes take the platform: one sample stands for the three.
    pattern = pattern.replace("<slug:platform>", "google")
    if "<int:pk>" in pattern:
        # Every detail route needs a sample object here, or this raises KeyError.
        return "/" + pattern.replace("<int:pk>", str(ids[route.name]))
    if route.name in MENTION_QUERY:
        return f"/{pattern}?mention={ids['detail']}"
    return "/" + pattern


# Function views that only take POST (their GET is a 405 for members too).
WRITE_ONLY = {
    "listening-delete",
    "bulk",
    "close",
    "task-add",
    "task-done",
    "author-action",
    "reply-create",
    "reply-action",
    "switch-channel",
    "mention-hide",
    "connect",
    "account-add",
    "mention-customer",
    "mention-defamatory",
    "api-escalation-transition",
    "api-report-transition",
    "api-customers-import",
}
# Members and staff who did not start this connect flow: the platform's callback without
# its state sends them back to the Accounts page with a message; someone else's pick
# page is a 404 (tests/inbox/test_connect_accounts.py covers the person who started it).
MEMBER_ANSWERS = {"connect-callback": 302, "connect-pick": 404}


def _methods(callback) -> list[str]:
    view_class = getattr(callback, "cls", None)
    if view_class is None:
        return ["get", "post"]  # function views: outsiders must get 404 either way
    return [m for m in ("get", "post") if hasattr(view_class, m)]


@pytest.fixture
def alpha_data(cast, tenant):
    with tenant(cast.alpha):
        account = SocialAccount.objects.create(
            platform="google", external_id="accounts/1/locations/1", display_name="Alpha"
        )
        author = Author.objects.create(platform="google", key="u1", name="Kari Nordmann")
        mention = Mention.objects.create(
            account=account,
            author=author,
            platform="google",
            external_id="r1",
            text="Secret of alpha",
            posted_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        raw = RawPayload.objects.create(source="api:mention", platform="api", body="{}")
        rule = ListeningRule.objects.create(kind="brand", term="Alpha Dental")
        task = Task.objects.create(
            mention=mention, title="Secret of alpha", owner=cast.alice, due_at=mention.posted_at
        )
        reply = Reply.objects.create(mention=mention, text="Secret of alpha's reply")
        job = ImportJob.objects.create(
            file_name="Secret of alpha.csv", stored_path="/nonexistent", format="csv"
        )
        flow = ConnectFlow.objects.create(
            platform="google",
            state_hash="0" * 64,
            session_hash="1" * 64,
            user=cast.alice,
            status=ConnectFlow.Status.AUTHORIZED,
            choices=[{"id": "accounts/9/locations/9", "name": "Secret of alpha"}],
            expires_at=mention.posted_at + dt.timedelta(days=36500),
        )
        escalation = Escalation.objects.create(mention=mention, kind="police")
        report = PlatformReport.objects.create(
            mention=mention, platform="google", reason="spam", grounds="Secret of alpha"
        )
    on_mention = ("reply-create", "switch-channel", "mention-hide", "reply-presence")
    on_reply = (
        "reply-action",
        "api-reply",
        "api-reply-publish",
        "api-reply-override",
        "api-reply-send-now",
        "api-reply-cancel",
        "api-reply-mark-posted",
    )
    return {
        "detail": mention.pk,
        "close": mention.pk,
        "import-job": job.pk,
        "task-add": mention.pk,
        "task-done": task.pk,
        "author": author.pk,
        "author-action": author.pk,
        "api-raw": raw.pk,
        "listening-delete": rule.pk,
        "account-owners": account.pk,
        "api-mention-replies": mention.pk,
        "connect-pick": flow.pk,
        **dict.fromkeys(on_mention, mention.pk),
        **dict.fromkeys(on_reply, reply.pk),
        # escalation/
        "escalation-detail": escalation.pk,
        "escalation-pack": escalation.pk,
        "report-detail": report.pk,
        "report-pack": report.pk,
        "mention-customer": mention.pk,
        "mention-defamatory": mention.pk,
        "api-escalation": escalation.pk,
        "api-escalation-transition": escalation.pk,
        "api-escalation-pack": escalation.pk,
        "api-report": report.pk,
        "api-report-transition": report.pk,
        "api-report-pack": report.pk,
        "api-mention-customer-check": mention.pk,
    }


def test_the_route_list_is_not_empty():
    names = {p.name for _, p in ROUTES}
    assert {"list", "detail", "accounts", "api-mentions", "api-ingest-google-review"} <= names


@pytest.mark.parametrize(("pattern", "route"), ROUTES, ids=[p for p, _ in ROUTES])
@pytest.mark.parametrize("outsider", ["charlie", "oscar"])
def test_outsiders_get_404_on_every_practice_route(
    cast, tenant, alpha_data, pattern, route, outsider
):
    client = client_for("alpha.localhost", getattr(cast, outsider))
    url = _url(pattern, route, alpha_data)
    for method in _methods(route.callback):
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data="{}", content_type="application/json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert b"Secret of alpha" not in response.content
    with tenant(cast.alpha):
        assert ListeningRule.objects.count() == 1  # nothing was changed by the attempts
        assert list(Reply.objects.values_list("status", "text")) == [
            ("draft", "Secret of alpha's reply")
        ]
        assert not ReplyPresence.objects.exists()
        assert SocialAccount.objects.count() == 1
        assert list(ConnectFlow.objects.values_list("status", flat=True)) == ["authorized"]
        assert Escalation.objects.get().status == "open"
        assert PlatformReport.objects.get().status == "draft"
        assert not AuditEvent.objects.filter(action__startswith="escalation").exists()


READABLE = [(p, r) for p, r in ROUTES if "get" in _methods(r.callback) and r.name not in WRITE_ONLY]


@pytest.mark.parametrize(("pattern", "route"), READABLE, ids=[p for p, _ in READABLE])
@pytest.mark.parametrize("insider", ["alice", "agnes"])
def test_members_and_agency_staff_can_read_every_practice_route(
    cast, alpha_data, pattern, route, insider
):
    client = client_for("alpha.localhost", getattr(cast, insider))
    url = _url(pattern, route, alpha_data)
    response = client.get(url)
    assert response.status_code == MEMBER_ANSWERS.get(route.name, 200), (url, response.status_code)
    if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
        # A block left open in a template swallows the page into <title> (seen once).
        title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
        assert title and "<" not in title.group(1), (url, title and title.group(1)[:80])


def test_a_member_of_beta_sees_none_of_alphas_mentions_through_the_api(cast, alpha_data):
    from tenants.services import membership_set

    membership_set(user=cast.charlie, practice=cast.beta, role="owner")
    body = client_for("beta.localhost", cast.charlie).get("/api/v1/mentions/").json()
    assert body["count"] == 0


MANAGER_ONLY = {
    "settings",
    "account-owners",
    "import",
    "import-job",
    "connect-callback",
    "connect-pick",
}  # with inbox:settings, escalation:settings is manager-only too


@pytest.mark.parametrize(("pattern", "route"), READABLE, ids=[p for p, _ in READABLE])
def test_a_viewer_reads_everything_but_manager_pages(cast, alpha_data, pattern, route):
    response = client_for("alpha.localhost", cast.vera).get(_url(pattern, route, alpha_data))
    expected = 404 if route.name in MANAGER_ONLY else MEMBER_ANSWERS.get(route.name, 200)
    assert response.status_code == expected
