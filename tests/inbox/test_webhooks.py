"""Service-wide webhooks: Meta Graph (page feed, ratings, Instagram) and Google Pub/Sub."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path

import httpx
import pytest
import respx
from django.conf import settings
from django.db import connection, connections
from django_tenants.utils import schema_context

from inbox.models import Conversation, Mention, RawPayload, SocialAccount
from inbox.services import social_account_save
from inbox.sources import deliveries as routing
from tenants.models import AccountRoute, WebhookDelivery
from tests.conftest import client_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "platforms"
PAGE_ID = "104998877665544"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str | None = None) -> str:
    secret = secret or settings.META_APP_SECRET
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        signature = sign(body)
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client_for("localhost").post(
        "/webhooks/meta/", data=body, content_type="application/json", **headers
    )


@pytest.fixture
def page(cast, tenant):
    with tenant(cast.alpha):
        return social_account_save(
            account=SocialAccount(
                platform="facebook",
                external_id=PAGE_ID,
                display_name="Alpha Dental on Facebook",
                owner=cast.bob,
            )
        )


def test_the_handshake_echoes_the_challenge_for_the_right_token(db):
    response = client_for("localhost").get(
        "/webhooks/meta/",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": settings.META_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_the_handshake_refuses_a_wrong_token(db, caplog):
    response = client_for("localhost").get(
        "/webhooks/meta/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert response.status_code == 403
    assert "handshake refused" in caplog.text


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=00", "sha1=abc", sign(b"another body"), "__wrong_secret__"],
    ids=["missing", "short", "sha1", "other-body", "wrong-secret"],
)
def test_a_bad_signature_is_403_and_nothing_is_stored(db, page, caplog, signature):
    body = fixture("meta/page_feed_batch.json")
    if signature == "__wrong_secret__":
        signature = sign(body, "not-the-app-secret")
    response = post_meta(body, signature)
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 0
    assert "signature refused" in caplog.text


def test_a_signed_batch_lands_in_the_pages_practice(
    cast, tenant, page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_meta(fixture("meta/page_feed_batch.json"))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.ROUTED
    with tenant(cast.alpha):
        question = Mention.objects.get(external_id="880011223344_1122334455667788")
        assert question.platform == "facebook"
        assert question.account == page
        assert question.assignee == cast.bob
        assert question.category == "question"
        # The page's own reply stopped the question's clock and joined its conversation.
        assert question.status == Mention.Status.ANSWERED
        assert question.first_response_at is not None
        reply = Mention.objects.get(external_id="880011223344_1122334455669999")
        assert reply.from_owner and reply.conversation_id == question.conversation_id
    with tenant(cast.beta):
        assert Mention.objects.count() == 0


def test_a_page_no_practice_has_connected_is_kept_with_the_reason(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_meta(fixture("meta/page_feed_batch.json"))
    assert response.status_code == 200  # Meta would retry for 36 h otherwise
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert f"facebook {PAGE_ID}" in delivery.error


def test_malformed_json_with_a_good_signature_is_400_and_kept(db):
    body = b'{"object": "page", "entry": [}'
    response = post_meta(body)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    kept = WebhookDelivery.objects.get()
    assert kept.body == body.decode() and kept.status == WebhookDelivery.Status.FAILED


def test_an_oversize_body_is_413(db, settings):
    settings.WEBHOOK_MAX_BYTES = 1000
    body = json.dumps({"object": "page", "entry": [], "pad": "x" * 2000}).encode()
    assert post_meta(body).status_code == 413
    assert WebhookDelivery.objects.count() == 0


def test_bad_entries_do_not_lose_the_good_ones(
    cast, tenant, page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_meta(fixture("meta/page_batch_with_bad_entries.json")).status_code == 200
    with tenant(cast.alpha):
        raw = RawPayload.objects.get()
        assert raw.mentions_created >= 1
        assert raw.status == RawPayload.Status.FAILED and raw.error  # the bad ones, named
        assert Mention.objects.count() == raw.mentions_created


def test_a_pubsub_notification_fetches_the_review(
    cast, tenant, google, django_capture_on_commit_callbacks
):
    with respx.mock(assert_all_called=True) as mock:
        mock.get(google["url"]).mock(return_value=httpx.Response(200, json=google["review"]))
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for("localhost").post(
                f"/webhooks/google/?token={settings.GOOGLE_PUBSUB_TOKEN}",
                data=json.dumps(google["note"]),
                content_type="application/json",
            )
    assert response.status_code == 200
    with tenant(cast.alpha):
        mention = Mention.objects.get()
        assert mention.platform == "google" and mention.assignee == cast.alice


def test_a_pubsub_push_with_a_bad_token_is_403(db, caplog):
    response = client_for("localhost").post(
        "/webhooks/google/?token=nope", data="{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 0
    assert "bad token" in caplog.text


def test_an_account_cannot_be_connected_to_two_practices(cast, tenant, page):
    from inbox.services import AccountTaken

    with tenant(cast.beta), pytest.raises(AccountTaken):
        social_account_save(
            account=SocialAccount(platform="facebook", external_id=PAGE_ID, display_name="Stolen")
        )
    assert AccountRoute.objects.get(external_id=PAGE_ID).practice == cast.alpha


@pytest.fixture
def committed_page(django_db_setup, django_db_blocker):
    """Concurrency needs committed rows that other connections can see; cleaned after."""
    from tenants.models import Practice

    with django_db_blocker.unblock():
        alpha = Practice.objects.get(slug="alpha")
        with schema_context(alpha.schema_name):
            social_account_save(
                account=SocialAccount(platform="facebook", external_id=PAGE_ID, display_name="P")
            )
        yield alpha
        with schema_context(alpha.schema_name), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE audit_auditevent, inbox_alert, inbox_mentionrevision, inbox_mention,"
                " inbox_conversation, inbox_author, inbox_rawpayload, inbox_socialaccount,"
                " inbox_inboxsettings CASCADE"
            )
        AccountRoute.objects.all().delete()
        WebhookDelivery.objects.all().delete()
        connection.set_schema_to_public()


def test_five_concurrent_replays_of_every_webhook_store_each_mention_once(committed_page):
    body = fixture("meta/page_feed_batch.json").decode()
    deliveries = [routing.delivery_accept(platform="meta", body=body, headers={}) for _ in range(5)]
    # on_commit ran each routing inline already (autocommit); route again, at once,
    # from five connections, as five redelivered webhooks would be.
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def replay(delivery_id: int) -> None:
        try:
            barrier.wait()
            routing.delivery_reroute(delivery=WebhookDelivery.objects.get(pk=delivery_id))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=replay, args=(d.pk,)) for d in deliveries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with schema_context(committed_page.schema_name):
        ids = list(Mention.objects.values_list("external_id", flat=True))
        assert len(ids) == len(set(ids)) > 0
        assert Conversation.objects.filter(root_external_id__contains="880011223344").count() == 1
        # Routing batches whatever is waiting, so the payload count depends on timing;
        # what must hold: every payload processed, every delivery routed.
        assert set(RawPayload.objects.values_list("status", flat=True)) == {"processed"}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"routed"}
