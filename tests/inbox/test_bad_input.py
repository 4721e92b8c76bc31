"""Input found to break the desk while trying it as a new user would. Each is refused at
the door with a 4xx naming what is wrong, never a 500, and nothing accepted is lost."""

from __future__ import annotations

import json

import pytest

from inbox.models import RawPayload
from tenants.models import WebhookDelivery
from tests.conftest import client_for
from tests.inbox.test_push_api import key, mention, push  # noqa: F401 - fixture by name
from tests.inbox.test_webhooks import post_meta

DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_json_is_a_400_on_the_push_api(cast, tenant, key):  # noqa: F811
    response = push(key, DEEP)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    with tenant(cast.alpha):
        assert not RawPayload.objects.exists()


def test_deeply_nested_json_is_a_400_on_the_google_review_api(cast, key):  # noqa: F811
    response = client_for("alpha.localhost").post(
        "/api/v1/ingest/google/reviews/",
        data=DEEP,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 400


def test_deeply_nested_json_on_a_webhook_is_a_400_and_kept_as_received(db):
    response = post_meta(DEEP.encode())
    assert response.status_code == 400
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "nested too deeply" in delivery.error
    assert delivery.body == DEEP  # authentic, so kept


def test_deeply_nested_json_on_google_pubsub_is_a_400(settings, db):
    response = client_for("localhost").post(
        f"/webhooks/google/?token={settings.GOOGLE_PUBSUB_TOKEN}",
        data=DEEP,
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (mention(external_id="abc\u0000def"), "external_id"),
        (mention(text="broken \ud800 text"), "text"),
        (mention(posted_at="2099-01-01T00:00:00Z"), "posted_at"),
        (mention(posted_at="0001-01-01T00:00:00Z"), "posted_at"),
    ],
    ids=["nul-in-id", "lone-surrogate", "far-future", "year-1"],
)
def test_unstorable_values_are_refused_at_the_door(cast, tenant, key, item, field):  # noqa: F811
    body = json.dumps(item)  # escapes \u0000 and \ud800 as JSON does
    response = push(key, body)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    with tenant(cast.alpha):
        assert not RawPayload.objects.exists()


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+20:00", "2026-01-01T00:00:00-23:59"])
def test_a_date_filter_with_a_far_offset_answers_in_the_api_and_the_inbox(cast, key, value):  # noqa: F811
    api = client_for("alpha.localhost").get(
        "/api/v1/mentions/", {"posted_before": value}, HTTP_AUTHORIZATION=f"Api-Key {key}"
    )
    assert api.status_code == 200
    page = client_for("alpha.localhost", cast.alice).get("/inbox/", {"posted_before": value})
    assert page.status_code == 200
