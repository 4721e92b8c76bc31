"""Integrations push mentions in the generic JSON format."""

import json

import pytest
from django.core.management import call_command

from inbox.models import Mention, RawPayload
from tenants.services import api_key_create
from tests.conftest import client_for


@pytest.fixture
def key(cast):
    return api_key_create(practice=cast.alpha)[1]


def push(key, body):
    return client_for("alpha.localhost").post(
        "/api/v1/mentions/push/",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def mention(external_id="m-1", **kw):
    return {
        "platform": "tripadvisor",
        "external_id": external_id,
        "text": "Great hygienist, painless cleaning.",
        "posted_at": "2026-11-21T10:00:00+01:00",
        "author": {"name": "Ola", "handle": "ola_n"},
        "rating": 5,
        **kw,
    }


def test_a_batch_is_accepted_and_ingested(cast, tenant, key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = push(key, [mention("m-1"), mention("m-2", rating=1, text="Rude and late")])
    assert response.status_code == 202
    with tenant(cast.alpha):
        assert dict(Mention.objects.values_list("external_id", "category")) == {
            "m-1": "praise",
            "m-2": "complaint",
        }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (mention(colour="blue"), None),
        (mention(platform="myspace"), "platform"),
        (mention(rating="five"), "rating"),
        (mention(posted_at="2026-11-21 10:00"), "posted_at"),
        (mention(account="not-connected"), "account"),
        ([mention(), mention(text=7)], "[1].text"),
        ([], None),
        ("[" + ",".join([json.dumps(mention(f"m{i}")) for i in range(1001)]) + "]", None),
    ],
    ids=[
        "unknown-field",
        "unknown-platform",
        "wrong-type",
        "no-timezone",
        "unknown-account",
        "bad-item",
        "empty",
        "too-many",
    ],
)
def test_bad_pushes_are_400_with_the_field_and_nothing_is_stored(cast, tenant, key, body, field):
    response = push(key, body)
    assert response.status_code == 400
    error = response.json()
    assert error["error"]
    if field:
        assert error["field"] == field
    with tenant(cast.alpha):
        assert RawPayload.objects.count() == 0


def test_a_payload_that_fails_later_stays_visible_and_reprocesses(
    cast, tenant, monkeypatch, capsys
):
    with tenant(cast.alpha):
        raw = RawPayload.objects.create(
            source="api:mention", platform="api", body=json.dumps(mention("late-1"))
        )

    def boom(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("inbox.pipeline.accept.mentions_ingest", boom)
    call_command("reprocess", "alpha", "--status", "pending")
    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert raw.status == "failed" and "database hiccup" in raw.error
    monkeypatch.undo()
    call_command("reprocess", "alpha")
    assert "Re-processed 1 payload(s); 0 still failing." in capsys.readouterr().out
    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert raw.status == "processed" and Mention.objects.filter(external_id="late-1").exists()
