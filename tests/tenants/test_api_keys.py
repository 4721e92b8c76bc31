"""API keys: scoped, expiring, revocable, throttled per key; unknown filters refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from inbox.models import RawPayload
from tenants.models import ApiKey
from tenants.services import api_key_create
from tests.conftest import client_for

MENTION = {
    "platform": "tripadvisor",
    "external_id": "k-1",
    "text": "Friendly staff.",
    "posted_at": "2026-11-21T10:00:00+01:00",
}


def get(raw: str, path: str = "/api/v1/mentions/", **params):
    return client_for("alpha.localhost").get(path, params, HTTP_AUTHORIZATION=f"Api-Key {raw}")


def push(raw: str):
    return client_for("alpha.localhost").post(
        "/api/v1/mentions/push/",
        data=json.dumps(MENTION),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {raw}",
    )


def test_a_read_key_reads_but_cannot_write(cast, tenant):
    _, raw = api_key_create(practice=cast.alpha, scope="read")
    assert get(raw).status_code == 200
    response = push(raw)
    assert response.status_code == 403 and "scope (read)" in response.json()["error"]
    with tenant(cast.alpha):
        assert not RawPayload.objects.exists()


def test_a_write_key_pushes(cast):
    _, raw = api_key_create(practice=cast.alpha, scope="write")
    assert push(raw).status_code == 202


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_an_expired_or_revoked_key_is_refused(cast, state):
    key, raw = api_key_create(practice=cast.alpha)
    assert get(raw).status_code == 200
    if state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    else:
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    response = get(raw)
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid API key for this practice."


def test_each_key_is_throttled_with_retry_after(cast, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "api_key": "3/min"},
    }
    from tenants.auth import ApiKeyRateThrottle

    ApiKeyRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    cache.clear()
    try:
        _, first = api_key_create(practice=cast.alpha, name="one")
        _, second = api_key_create(practice=cast.alpha, name="two")
        assert [get(first).status_code for _ in range(3)] == [200, 200, 200]
        refused = get(first)
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        assert get(second).status_code == 200  # per key, not per practice
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = rates
        cache.clear()


def test_an_unknown_query_parameter_is_a_400_not_every_mention(cast):
    _, raw = api_key_create(practice=cast.alpha, scope="read")
    response = get(raw, assigne="me")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"
    assert "assigne" in response.json()["error"]
    assert get(raw, assignee="none", page=1).status_code == 200
