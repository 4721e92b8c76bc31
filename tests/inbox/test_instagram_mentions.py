"""Instagram `mentions` webhooks carry ids only: the comment or caption is fetched from the
Graph API (mentioned_comment / mentioned_media) before the mention is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest
import respx
from django.conf import settings
from django.core.management import call_command

from inbox.models import Alert, Mention, MentionRevision, RawPayload, SocialAccount
from inbox.services import social_account_save
from tenants.models import WebhookDelivery
from tests.conftest import client_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "platforms" / "meta"
IG_USER = "17841405726653026"
GRAPH = f"https://graph.facebook.com/v25.0/{IG_USER}"
COMMENT_ID = "17894227972186120"
COMMENTED_MEDIA = "17918195224117852"
CAPTION_MEDIA = "17918195224117851"
TOKEN = "EAAG.page-token"
THREAT = "@brightsmiledental I know where your dentist lives and I will hurt him"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def post_meta(body: dict):
    raw = json.dumps(body).encode()
    signature = hmac.new(settings.META_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client_for("localhost").post(
        "/webhooks/meta/",
        data=raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=f"sha256={signature}",
    )


def webhook(*changes: tuple[str, dict]) -> dict:
    return {
        "object": "instagram",
        "entry": [
            {
                "id": IG_USER,
                "time": 1521504330,
                "changes": [{"field": field, "value": value} for field, value in changes],
            }
        ],
    }


COMMENT_MENTION = ("mentions", {"comment_id": COMMENT_ID, "media_id": COMMENTED_MEDIA})
CAPTION_MENTION = ("mentions", {"media_id": CAPTION_MEDIA})


def comment_change(comment_id: str, text: str) -> tuple[str, dict]:
    return (
        "comments",
        {
            "id": comment_id,
            "text": text,
            "from": {"id": "232323232323232", "username": "coffee.critic"},
            "media": {"id": COMMENTED_MEDIA, "media_product_type": "FEED"},
        },
    )


def comment_answer(text: str = THREAT) -> dict:
    answer = load("instagram_mentioned_comment.json")
    answer["mentioned_comment"]["text"] = text
    return answer


@pytest.fixture
def connect(cast, tenant):
    """Connect alpha's Instagram account, with a Page access token unless told otherwise."""

    def connect(token: str | None = TOKEN) -> SocialAccount:
        with tenant(cast.alpha):
            account = SocialAccount.objects.filter(
                platform="instagram", external_id=IG_USER
            ).first() or SocialAccount(
                platform="instagram",
                external_id=IG_USER,
                display_name="Alpha Dental on Instagram",
                handle="brightsmiledental",
                owner=cast.bob,
            )
            account.poll_state = {"token": token} if token else {}
            return social_account_save(account=account)

    return connect


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """POST a signed webhook and run its routing and processing, as the worker would."""

    def deliver(body: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_meta(body).status_code == 200

    return deliver


def test_a_comment_mention_is_fetched_analysed_and_assigned(cast, tenant, connect, deliver):
    connect()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(GRAPH).respond(json=comment_answer())
        deliver(webhook(COMMENT_MENTION))
        deliver(webhook(COMMENT_MENTION))  # Meta's retry: stored once, fetched once

    request = route.calls.last.request
    assert route.call_count == 1
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.url.params["fields"].startswith(f"mentioned_comment.comment_id({COMMENT_ID})")
    with tenant(cast.alpha):
        mention = Mention.objects.select_related("author", "account").get()
        assert (mention.platform, mention.external_id, mention.kind) == (
            "instagram",
            COMMENT_ID,
            "comment",
        )
        assert mention.text == THREAT
        assert mention.author_handle == mention.author.handle == "coffee.critic"
        assert mention.posted_at == dt.datetime(2018, 3, 20, 0, 5, 29, tzinfo=dt.UTC)
        assert mention.parent_external_id == COMMENTED_MEDIA
        assert mention.url == "https://www.instagram.com/p/BgYZ2f9Ahq3/"
        assert mention.category == "threat" and mention.severity == 3
        assert mention.account.external_id == IG_USER and not mention.is_indirect
        assert mention.assignee == cast.bob
        assert Alert.objects.filter(mention=mention, kind="threat").count() == 1
        assert list(RawPayload.objects.values_list("status", "error")) == [
            ("processed", ""),
            ("processed", ""),
        ]


def test_a_caption_mention_is_fetched_as_a_post(cast, tenant, connect, deliver):
    connect()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(GRAPH).respond(json=load("instagram_mentioned_media.json"))
        deliver(webhook(CAPTION_MENTION))

    fields = route.calls.last.request.url.params["fields"]
    assert fields.startswith(f"mentioned_media.media_id({CAPTION_MEDIA})")
    with tenant(cast.alpha):
        mention = Mention.objects.get()
        assert (mention.external_id, mention.kind) == (CAPTION_MEDIA, "post")
        assert mention.text == "bluebottle There can be only one!"
        assert mention.author_handle == "macleod.highlands"
        assert mention.posted_at == dt.datetime(2018, 3, 19, 23, 58, 2, tzinfo=dt.UTC)
        assert mention.url == "https://www.instagram.com/p/BgYXk3mAqQ1/"
        assert mention.assignee == cast.bob


def test_without_a_token_the_mention_is_kept_failed_until_the_account_is_connected(
    cast, tenant, connect, deliver
):
    connect(token=None)
    with respx.mock() as mock:
        deliver(webhook(COMMENT_MENTION, comment_change("17865799348089039", "Great cleaning")))
        assert not mock.calls  # nothing to call Meta with

    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.ROUTED
    with tenant(cast.alpha):
        raw = RawPayload.objects.get()
        assert raw.status == RawPayload.Status.FAILED
        assert raw.error == (
            f"Instagram mention (comment {COMMENT_ID}) not fetched: Instagram account"
            f" {IG_USER} has no access token: connect the account on the Accounts page"
            " (Connect Facebook and Instagram), then retry it on the Sources page"
        )
        # The rest of the batch is not held back by the mention.
        assert list(Mention.objects.values_list("external_id", flat=True)) == ["17865799348089039"]

    connect()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(GRAPH).respond(json=comment_answer())
        call_command("reprocess", "alpha")

    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert (raw.status, raw.error, raw.attempts) == (RawPayload.Status.PROCESSED, "", 2)
        assert sorted(Mention.objects.values_list("external_id", "category")) == [
            ("17865799348089039", "praise"),
            (COMMENT_ID, "threat"),
        ]


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (
            503,
            {},
            "instagram answered HTTP 503 (temporary: it is fetched again automatically)",
        ),
        (
            400,
            load("graph_error_rate_limited.json"),
            "instagram answered HTTP 400: (#4) Application request limit reached"
            " (temporary: it is fetched again automatically)",
        ),
        (
            400,
            load("graph_error_invalid_token.json"),
            "instagram answered HTTP 400: Error validating access token: Session has expired"
            " on Tuesday, 20-Mar-18 01:00:00 PDT. (not temporary: once the cause is fixed,"
            " e.g. with a new access token, `manage.py reprocess` fetches it again)",
        ),
    ],
    ids=["5xx", "throttled", "expired-token"],
)
def test_a_graph_error_keeps_the_mention_failed_and_reprocessable(
    cast, tenant, connect, deliver, status, answer, error
):
    connect()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(GRAPH).respond(status, json=answer)
        deliver(webhook(COMMENT_MENTION))

    with tenant(cast.alpha):
        raw = RawPayload.objects.get()
        assert raw.status == RawPayload.Status.FAILED
        assert raw.error == f"Instagram mention (comment {COMMENT_ID}) not fetched: {error}"
        assert Mention.objects.count() == 0
        # Temporary errors are retried by the sweep; an expired token waits for a person.
        temporary = "(temporary" in error
        assert raw.retryable is temporary
        assert (raw.next_attempt_at is not None) is temporary

    with respx.mock(assert_all_called=True) as mock:
        mock.get(GRAPH).respond(json=comment_answer("Thanks @brightsmiledental, lovely staff"))
        call_command("reprocess", "alpha")

    with tenant(cast.alpha):
        assert RawPayload.objects.get().status == RawPayload.Status.PROCESSED
        assert Mention.objects.get().text == "Thanks @brightsmiledental, lovely staff"


def test_an_outage_is_met_once_per_batch_not_once_per_mention(cast, tenant, connect, deliver):
    connect()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(GRAPH).respond(502)
        deliver(webhook(COMMENT_MENTION, CAPTION_MENTION))

    assert route.call_count == 1
    with tenant(cast.alpha):
        error = RawPayload.objects.get().error
        assert error.count("instagram answered HTTP 502 (temporary") == 2
        assert f"(caption of media {CAPTION_MEDIA}) not fetched" in error


def test_a_comment_seen_through_comments_and_mentions_is_stored_once(
    cast, tenant, connect, deliver
):
    connect()
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(GRAPH).respond(json=comment_answer())
        deliver(webhook(comment_change(COMMENT_ID, THREAT)))
        deliver(webhook(COMMENT_MENTION))  # already stored: no Graph call
        deliver(webhook(comment_change(COMMENT_ID, THREAT), COMMENT_MENTION))  # same batch

    assert route.call_count == 0
    with tenant(cast.alpha):
        mention = Mention.objects.get()
        assert (mention.external_id, mention.text, mention.category) == (
            COMMENT_ID,
            THREAT,
            "threat",
        )
        assert MentionRevision.objects.count() == 0
        assert set(RawPayload.objects.values_list("status", flat=True)) == {"processed"}


def test_a_fetched_mention_and_the_later_comments_item_are_one_mention(
    cast, tenant, connect, deliver
):
    connect()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(GRAPH).respond(json=comment_answer())
        deliver(webhook(COMMENT_MENTION))
    deliver(webhook(comment_change(COMMENT_ID, THREAT)))

    with tenant(cast.alpha):
        assert list(Mention.objects.values_list("external_id", flat=True)) == [COMMENT_ID]
        assert MentionRevision.objects.count() == 0
        assert list(RawPayload.objects.order_by("pk").values_list("duplicates", flat=True)) == [
            0,
            1,
        ]
