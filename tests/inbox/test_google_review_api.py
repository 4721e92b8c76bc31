"""Pushing Google Business Profile reviews (v4 `Review` resource) into a practice."""

import json

import pytest

from inbox.models import Mention, RawPayload, SocialAccount
from tenants.services import api_key_create
from tests.conftest import client_for

LOCATION = "accounts/108/locations/2001"


def review(review_id: str = "AbFvOqn1", **overrides) -> dict:
    body = {
        "name": f"{LOCATION}/reviews/{review_id}",
        "reviewId": review_id,
        "reviewer": {
            "displayName": "Kari Nordmann",
            "profilePhotoUrl": "https://lh3.example/p.jpg",
        },
        "starRating": "TWO",
        "comment": "Waited 50 minutes past my appointment and nobody said sorry.",
        "createTime": "2026-11-20T09:15:32.123456789Z",
        "updateTime": "2026-11-20T09:15:32.123456789Z",
    }
    body.update(overrides)
    return body


@pytest.fixture
def alpha_key(cast):
    _, raw = api_key_create(practice=cast.alpha)
    return raw


@pytest.fixture
def location(cast, tenant):
    with tenant(cast.alpha):
        return SocialAccount.objects.create(
            platform="google",
            external_id=LOCATION,
            display_name="Alpha Dental, Oslo",
            owner=cast.bob,
        )


def post(host: str, key: str | None, body, content_type="application/json"):
    client = client_for(host)
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        "/api/v1/ingest/google/reviews/", data=data, content_type=content_type, **headers
    )


def test_a_review_becomes_a_mention_assigned_to_the_account_owner(
    cast, tenant, alpha_key, location, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post("alpha.localhost", alpha_key, review())
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    with tenant(cast.alpha):
        mention = Mention.objects.get()
        assert mention.platform == "google"
        assert mention.external_id == "AbFvOqn1"
        assert mention.rating == 2
        assert mention.author_name == "Kari Nordmann"
        assert mention.account == location
        assert mention.assignee == cast.bob
        assert mention.raw.status == RawPayload.Status.PROCESSED


def test_the_same_review_posted_twice_is_stored_once(
    cast, tenant, alpha_key, location, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post("alpha.localhost", alpha_key, review()).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert post("alpha.localhost", alpha_key, review()).status_code == 202
    with tenant(cast.alpha):
        assert Mention.objects.count() == 1
        assert list(RawPayload.objects.values_list("mentions_created", "duplicates")) in (
            [(1, 0), (0, 1)],
            [(0, 1), (1, 0)],
        )


def test_the_inbox_api_lists_the_pushed_review(
    cast, alpha_key, location, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post("alpha.localhost", alpha_key, review())
    client = client_for("alpha.localhost")
    body = client.get("/api/v1/mentions/", HTTP_AUTHORIZATION=f"Api-Key {alpha_key}").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["external_id"], row["rating"], row["assignee"]) == ("AbFvOqn1", 2, "bob@alpha.test")
    assert row["account"] == "Alpha Dental, Oslo"


def test_a_key_of_alpha_cannot_post_into_beta(cast, tenant, alpha_key):
    response = post("beta.localhost", alpha_key, review())
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid API key for this practice."}
    with tenant(cast.beta):
        assert RawPayload.objects.count() == 0 and Mention.objects.count() == 0


def test_a_key_of_alpha_cannot_read_betas_inbox(cast, alpha_key):
    response = client_for("beta.localhost").get(
        "/api/v1/mentions/", HTTP_AUTHORIZATION=f"Api-Key {alpha_key}"
    )
    assert response.status_code == 401


def test_no_key_is_401(cast):
    assert post("alpha.localhost", None, review()).status_code == 401


def test_a_viewer_cannot_push(cast, tenant):
    client = client_for("alpha.localhost", cast.vera)
    response = client.post(
        "/api/v1/ingest/google/reviews/", data=json.dumps(review()), content_type="application/json"
    )
    assert response.status_code == 403
    with tenant(cast.alpha):
        assert RawPayload.objects.count() == 0


BAD = [
    ("not json", "{not json", 400, None),
    ("a list", [review()], 400, None),
    ("missing name", {k: v for k, v in review().items() if k != "name"}, 400, "name"),
    ("unknown star rating", review(starRating="SIX"), 400, "starRating"),
    ("star rating as number", review(starRating=5), 400, "starRating"),
    ("bad time", review(createTime="yesterday"), 400, "createTime"),
    ("comment not text", review(comment={"text": "hi"}), 400, "comment"),
]


@pytest.mark.parametrize(("label", "body", "status", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_payloads_get_a_clear_4xx_and_store_nothing(
    cast, tenant, alpha_key, location, caplog, label, body, status, field
):
    response = post("alpha.localhost", alpha_key, body)
    assert response.status_code == status
    payload = response.json()
    assert payload["error"]
    if field:
        assert payload["field"] == field
    assert any("api POST" in r.getMessage() for r in caplog.records)
    with tenant(cast.alpha):
        assert RawPayload.objects.count() == 0 and Mention.objects.count() == 0


def test_a_2_mb_body_is_refused_with_413_and_stores_nothing(cast, tenant, alpha_key):
    body = review(comment="x" * 2_000_000)
    response = post("alpha.localhost", alpha_key, body)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    with tenant(cast.alpha):
        assert RawPayload.objects.count() == 0


def test_a_non_json_content_type_is_415(cast, alpha_key):
    response = post("alpha.localhost", alpha_key, "name=x", content_type="text/plain")
    assert response.status_code == 415


def test_a_review_for_a_location_the_practice_has_not_connected_is_400(cast, tenant, alpha_key):
    response = post("alpha.localhost", alpha_key, review())
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert "No connected google account" in response.json()["error"]
    with tenant(cast.alpha):
        assert RawPayload.objects.count() == 0
