"""Replies through the API and the mention page: the guards answer 4xx with their
codes (never a 500), and the page shows what they found."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from inbox.models import Reply
from tenants.services import api_key_create
from tests.conftest import client_for
from tests.inbox.answering import GOOGLE_API, mention

HOST = "alpha.localhost"
SAFE = "Thank you for telling us. Please call us at 22 33 44 55."
PHI = "Thank you. Your root canal was done exactly as planned."


@pytest.fixture
def m(cast, tenant):
    with tenant(cast.alpha):
        return mention()


@pytest.fixture
def api(cast):
    _, raw = api_key_create(practice=cast.alpha)
    client = client_for(HOST)
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {raw}"
    return client


def post(client, url: str, body) -> object:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


@pytest.fixture
def google_ok():
    with respx.mock() as mock:
        mock.put(url__regex=rf"{GOOGLE_API}.+/reply").mock(
            return_value=httpx.Response(200, json={"comment": SAFE})
        )
        yield mock


def test_the_api_drafts_and_publishes_a_reply(
    cast, tenant, m, api, google_ok, django_capture_on_commit_callbacks
):
    response = post(api, f"/api/v1/mentions/{m.pk}/replies/", {"text": SAFE})
    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["status"], reply["visibility"], reply["channel"]) == (
        "draft",
        "public",
        "platform",
    )
    assert reply["created_by"].startswith("api-key")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, f"/api/v1/replies/{reply['id']}/publish/", {})
    assert response.status_code == 200 and response.json()["status"] == "publishing"
    listed = api.get(f"/api/v1/mentions/{m.pk}/replies/").json()
    assert [r["status"] for r in listed] == ["published"]


def test_a_reply_with_patient_details_answers_422_with_the_code_and_phrase(cast, tenant, m, api):
    reply = post(api, f"/api/v1/mentions/{m.pk}/replies/", {"text": PHI}).json()
    assert [p["code"] for p in reply["problems"]] == ["phi"]
    response = post(api, f"/api/v1/replies/{reply['id']}/publish/", {})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "phi"
    assert body["problems"][0]["phrase"] == "Your root canal"
    with tenant(cast.alpha):
        assert Reply.objects.get(pk=reply["id"]).status == "draft"


def test_an_api_key_cannot_override_or_send_now(cast, tenant, m, api):
    reply = post(api, f"/api/v1/mentions/{m.pk}/replies/", {"text": SAFE}).json()
    response = post(api, f"/api/v1/replies/{reply['id']}/override/", {"reason": "because"})
    assert (response.status_code, response.json()["code"]) == (403, "permission")
    response = post(api, f"/api/v1/replies/{reply['id']}/send-now/", {})
    assert (response.status_code, response.json()["code"]) == (403, "permission")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", None),
        ([1, 2], None),
        ({"text": 5}, "text"),
        ({"text": "hi", "colour": "red"}, "colour"),
        ({"text": "hi", "visibility": "secret"}, "visibility"),
        ({"text": "hi", "visibility": "private", "channel": "email"}, "contact"),
        ({"text": "x" * 20_001}, "text"),
    ],
)
def test_bad_input_is_a_400_never_a_500(cast, tenant, m, api, body, field):
    response = post(api, f"/api/v1/mentions/{m.pk}/replies/", body)
    assert response.status_code == 400, response.content
    assert response.json().get("field") == field
    with tenant(cast.alpha):
        assert not Reply.objects.exists()


def test_refused_transitions_through_the_api(cast, tenant, m, api):
    reply = post(api, f"/api/v1/mentions/{m.pk}/replies/", {"text": SAFE}).json()
    assert post(api, f"/api/v1/replies/{reply['id']}/cancel/", {}).json()["status"] == "cancelled"
    response = post(api, f"/api/v1/replies/{reply['id']}/cancel/", {})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    response = api.patch(
        f"/api/v1/replies/{reply['id']}/",
        data=json.dumps({"text": "new"}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    response = post(
        api, f"/api/v1/replies/{reply['id']}/mark-posted/", {"url": "https://yelp.com/x"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert api.get("/api/v1/replies/999999/").status_code == 404


def test_a_viewer_may_read_replies_but_not_write_them(cast, tenant, m):
    viewer = client_for(HOST, cast.vera)
    response = post(viewer, f"/api/v1/mentions/{m.pk}/replies/", {"text": SAFE})
    assert (response.status_code, response.json()["code"]) == (403, "permission")
    assert viewer.get(f"/api/v1/mentions/{m.pk}/replies/").json() == []
    page = viewer.get(f"/inbox/{m.pk}/")
    assert b'id="reply-form"' not in page.content


# ---------------------------------------------------------------- the page


def test_the_page_highlights_the_blocked_phrase(cast, tenant, m):
    client = client_for(HOST, cast.bob)
    response = client.post(f"/inbox/{m.pk}/reply/", {"text": PHI, "action": "publish"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<mark class="block phi" title="phi">Your root canal</mark>' in html
    assert "code-phi" in html and "discloses patient details" in html
    with tenant(cast.alpha):
        assert Reply.objects.get(mention=m).status == "draft"


def test_the_page_shows_the_cooling_off_and_cancels_it(cast, tenant):
    with tenant(cast.alpha):
        hostile = mention(category="threat", sentiment=-0.9, text="You will regret this")
    client = client_for(HOST, cast.bob)
    page = client.post(
        f"/inbox/{hostile.pk}/reply/", {"text": SAFE, "action": "publish"}, follow=True
    )
    html = page.content.decode()
    assert 'class="countdown"' in html and "Scheduled (cooling-off)" in html
    with tenant(cast.alpha):
        reply = Reply.objects.get(mention=hostile)
    client.post(f"/inbox/replies/{reply.pk}/", {"action": "cancel"})
    with tenant(cast.alpha):
        assert Reply.objects.get(pk=reply.pk).status == "cancelled"


def test_the_page_shows_who_else_is_replying_and_asks_to_confirm(cast, tenant, m):
    bob, alice = client_for(HOST, cast.bob), client_for(HOST, cast.alice)
    assert bob.post(f"/inbox/{m.pk}/presence/", {"active": "1"}).json() == {"others": []}
    assert alice.get(f"/inbox/{m.pk}/presence/").json() == {"others": ["Bob"]}
    response = alice.post(f"/inbox/{m.pk}/reply/", {"text": SAFE, "action": "publish"})
    assert "?confirm=" in response["Location"]
    page = alice.get(response["Location"]).content.decode()
    assert "Bob is replying" in page and 'name="confirm"' in page
    bob.post(f"/inbox/{m.pk}/presence/", {"active": "0"})
    assert alice.get(f"/inbox/{m.pk}/presence/").json() == {"others": []}


def test_a_troll_gets_the_do_not_engage_notice_instead_of_the_reply_box(cast, tenant):
    with tenant(cast.alpha):
        troll = mention(marker="troll", category="harassment")
    page = client_for(HOST, cast.bob).get(f"/inbox/{troll.pk}/").content.decode()
    assert "Do not engage." in page and 'id="reply-form"' not in page
    page = client_for(HOST, cast.alice).get(f"/inbox/{troll.pk}/").content.decode()
    assert "Do not engage." in page and 'id="reply-form"' in page  # a manager may override


def test_hiding_needs_a_manager_and_explains_why_it_backfires(cast, tenant):
    with tenant(cast.alpha):
        comment = mention("facebook")
    page = client_for(HOST, cast.alice).get(f"/inbox/{comment.pk}/").content.decode()
    assert "Streisand effect" in page
    bob = client_for(HOST, cast.bob)
    assert "Streisand" not in bob.get(f"/inbox/{comment.pk}/").content.decode()
    page = bob.post(f"/inbox/{comment.pk}/hide/", {"reason": "spam"}, follow=True).content.decode()
    assert "needs the manager role" in page
