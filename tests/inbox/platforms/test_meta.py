import copy
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from inbox.platforms import meta
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "meta"
UTC = dt.UTC
PAGE = "104998877665544"
IG_ACCOUNT = "17841405726653026"
SECRET = "0123456789abcdef0123456789abcdef"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- signature -----------------------------------------------------------------------------


def test_a_valid_signature_passes():
    body = (FIXTURES / "page_feed_batch.json").read_bytes()

    assert meta.verify_signature(body, sign(body), SECRET) is True


def test_the_signature_prefix_and_hex_case_do_not_matter():
    body = b'{"object":"page","entry":[]}'
    header = sign(body).replace("sha256=", "SHA256=").upper().replace("SHA256=", "sha256=")

    assert meta.verify_signature(body, header, SECRET) is True


def test_a_tampered_body_fails():
    body = (FIXTURES / "page_feed_batch.json").read_bytes()
    header = sign(body)

    assert meta.verify_signature(body.replace(b"Jane", b"John"), header, SECRET) is False


def test_a_reserialised_body_fails_because_the_hmac_covers_the_raw_bytes():
    body = (FIXTURES / "page_feed_batch.json").read_bytes()
    header = sign(body)
    reserialised = json.dumps(json.loads(body)).encode()

    assert meta.verify_signature(reserialised, header, SECRET) is False


def test_the_wrong_secret_fails():
    body = b'{"object":"page","entry":[]}'

    assert meta.verify_signature(body, sign(body, "another-secret"), SECRET) is False


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=zz" + "0" * 62,
        "sha256=abc",
        "sha1=" + "0" * 40,
        "0" * 64,
        "sha256 = " + "0" * 64,
    ],
)
def test_a_missing_or_malformed_header_fails(header):
    assert meta.verify_signature(b"{}", header, SECRET) is False


def test_an_unset_app_secret_never_validates():
    body = b"{}"

    assert meta.verify_signature(body, sign(body, ""), "") is False


# --- handshake -----------------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_when_the_token_matches():
    params = {"hub.mode": "subscribe", "hub.verify_token": "s3cret", "hub.challenge": "1158201444"}

    assert meta.verify_handshake(params, "s3cret") == "1158201444"


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, "s3cret"),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "s3cret", "hub.challenge": "1"}, "s3cret"),
        ({"hub.mode": "subscribe", "hub.verify_token": "s3cret"}, "s3cret"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "s3cret"),
        ({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, ""),
        ({}, "s3cret"),
    ],
)
def test_the_handshake_is_refused_otherwise(params, token):
    assert meta.verify_handshake(params, token) is None


# --- page feed -----------------------------------------------------------------------------


def test_it_turns_a_page_feed_batch_into_items():
    result = meta.parse_webhook(load("page_feed_batch.json"))

    assert result.object == "page"
    assert result.errors == []
    assert [(i.key[2], i.status, i.verb) for i in result.items] == [
        ("880011223344_1122334455667788", "mention", "add"),
        ("880011223344_1122334455669999", "mention", "add"),
        ("104998877665544_880011223344", "ignored", "add"),  # a like (reaction)
        ("104998877665544_880011223355", "ignored", "add"),  # a share with no text
        ("104998877665544_880011223366", "mention", "add"),
        ("880011223344_1122334455667788", "mention", "edited"),
        ("880011223344_1122334455670000", "removed", "remove"),
    ]
    assert result.ignored_count == 2
    assert [i.reason for i in result.items if i.status == "ignored"] == [
        "reaction",
        "share without text",
    ]


def test_a_top_level_comment_threads_under_its_post():
    comment = meta.parse_webhook(load("page_feed_batch.json")).items[0].mention

    assert comment.platform == Platform.FACEBOOK
    assert comment.kind == Kind.COMMENT
    assert comment.account_external_id == PAGE
    assert comment.text == "Is the clinic open on Saturday? My booking link is broken."
    assert comment.author_external_id == "6234987712345678"
    assert comment.author_name == "Jane Doe"
    assert comment.parent_external_id == "104998877665544_880011223344"
    assert comment.root_external_id == "104998877665544_880011223344"
    assert comment.posted_at == dt.datetime(2025, 3, 1, 14, 5, 50, tzinfo=UTC)
    assert comment.from_owner is False
    assert comment.removed is False


def test_the_pages_own_reply_is_from_owner_and_threads_under_the_comment():
    reply = meta.parse_webhook(load("page_feed_batch.json")).items[1].mention

    assert reply.from_owner is True
    assert reply.parent_external_id == "880011223344_1122334455667788"
    assert reply.root_external_id == "104998877665544_880011223344"


def test_a_visitor_post_is_a_post():
    post = meta.parse_webhook(load("page_feed_batch.json")).items[4].mention

    assert post.kind == Kind.POST
    assert post.external_id == "104998877665544_880011223366"
    assert post.text == "Best dentist in town, no pain at all!"
    assert post.parent_external_id == ""


def test_an_edit_keeps_the_key_but_changes_the_event_key():
    items = meta.parse_webhook(load("page_feed_batch.json")).items
    added, edited = items[0], items[5]

    assert added.key == edited.key == ("page", "feed", "880011223344_1122334455667788")
    assert added.event_key != edited.event_key
    assert edited.mention.updated_at == dt.datetime(2025, 3, 1, 15, 6, 30, tzinfo=UTC)
    assert edited.mention.text.endswith("Booking link works now, thanks.")


def test_a_redelivered_batch_repeats_every_event_key():
    body = load("page_feed_batch.json")
    retry = copy.deepcopy(body)
    for entry in retry["entry"]:
        entry["time"] += 3600  # Meta's send time differs between retries

    first = [i.event_key for i in meta.parse_webhook(body).items]
    second = [i.event_key for i in meta.parse_webhook(retry).items]
    assert first == second


def test_a_removed_comment_is_marked_removed():
    item = meta.parse_webhook(load("page_feed_batch.json")).items[6]

    assert item.status == meta.REMOVED
    assert item.mention.removed is True
    assert item.mention.text == ""


def test_a_hidden_comment_stays_a_mention_flagged_hidden():
    body = load("page_feed_batch.json")
    body["entry"][0]["changes"][0]["value"]["verb"] = "hide"

    item = meta.parse_webhook(body).items[0]
    assert item.status == meta.MENTION
    assert item.mention.extra["hidden"] is True


def test_a_comment_without_from_keeps_empty_author_fields():
    result = meta.parse_webhook(load("page_batch_with_bad_entries.json"))
    withheld = result.items[-1].mention

    assert withheld.text == "second good comment, author withheld by Meta"
    assert (withheld.author_external_id, withheld.author_name, withheld.from_owner) == (
        "",
        "",
        False,
    )


def test_one_bad_entry_does_not_discard_the_good_ones():
    result = meta.parse_webhook(load("page_batch_with_bad_entries.json"))

    assert [i.mention.external_id for i in result.items] == ["880011223344_1", "880011223344_3"]
    assert [e.field for e in result.errors] == [
        "entry[0].changes[1].value.comment_id",
        "entry[0].changes[2].value",
        "entry[1].id",
        "entry[2]",
        "entry[3].changes[0].value.created_time",
    ]
    assert all(isinstance(e, PayloadError) for e in result.errors)


def test_an_overlong_message_is_truncated_not_rejected():
    body = load("page_feed_batch.json")
    body["entry"][0]["changes"][0]["value"]["message"] = "x" * 30_000

    mention = meta.parse_webhook(body).items[0].mention
    assert len(mention.text) == 20_000
    assert mention.extra["truncated_from_chars"] == 30_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], None),
        ("page", None),
        ({"entry": []}, "object"),
        ({"object": "user", "entry": []}, "object"),
        ({"object": "page"}, "entry"),
        ({"object": "page", "entry": {"id": "1"}}, "entry"),
    ],
)
def test_an_invalid_envelope_raises(body, field):
    with pytest.raises(PayloadError) as err:
        meta.parse_webhook(body)
    assert err.value.field == field


def test_a_batch_of_a_thousand_entries_is_parsed():
    template = load("page_feed_batch.json")["entry"][0]
    entries = []
    for n in range(1000):
        entry = copy.deepcopy(template)
        entry["changes"] = [entry["changes"][0]]
        entry["changes"][0]["value"]["comment_id"] = f"880011223344_{n}"
        entries.append(entry)

    result = meta.parse_webhook({"object": "page", "entry": entries})
    assert len(result.mentions) == 1000
    assert len({i.key for i in result.items}) == 1000


def test_messenger_messages_are_ignored_and_counted():
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1740837960,
                "messaging": [
                    {
                        "sender": {"id": "1"},
                        "recipient": {"id": PAGE},
                        "message": {"mid": "m_1", "text": "hi"},
                    }
                ],
            }
        ],
    }
    result = meta.parse_webhook(body)

    assert result.errors == []
    assert [(i.key, i.status) for i in result.items] == [(("page", "messaging", "m_1"), "ignored")]


# --- ratings -------------------------------------------------------------------------------


def test_a_bare_recommendation_has_no_stars_but_keeps_its_direction():
    review = meta.parse_webhook(load("page_ratings.json")).items[0].mention

    assert review.kind == Kind.REVIEW
    assert review.platform == Platform.FACEBOOK
    assert review.external_id == "4455667788990011"
    assert review.rating is None
    assert review.extra["recommendation"] == "negative"
    assert review.text == "They charged me for a consultation that never happened."
    assert (review.author_external_id, review.author_name) == ("5550001112223334", "Alex Kim")
    assert review.account_external_id == PAGE


def test_a_rating_with_stars_keeps_them():
    review = meta.parse_webhook(load("page_ratings.json")).items[1].mention

    assert review.rating == 5
    assert review.extra["recommendation"] == "positive"


def test_the_pages_comment_on_a_review_threads_under_it():
    reply = meta.parse_webhook(load("page_ratings.json")).items[2].mention

    assert reply.kind == Kind.COMMENT
    assert reply.from_owner is True
    assert reply.parent_external_id == "4455667788990011"
    assert reply.root_external_id == "4455667788990011"


@pytest.mark.parametrize(("key", "value"), [("rating", 6), ("recommendation_type", "meh")])
def test_bad_rating_values_are_reported_per_change(key, value):
    body = load("page_ratings.json")
    body["entry"][0]["changes"][0]["value"][key] = value

    result = meta.parse_webhook(body)
    assert [e.field for e in result.errors] == [f"entry[0].changes[0].value.{key}"]
    assert len(result.items) == 2


# --- instagram -----------------------------------------------------------------------------


def test_instagram_comments_in_both_envelope_shapes():
    result = meta.parse_webhook(load("instagram_comments.json"))

    assert result.errors == []
    first, reply, flat = result.mentions
    assert first.platform == Platform.INSTAGRAM
    assert first.external_id == "17865799348089039"
    assert first.author_handle == "lena.travels"
    assert first.account_external_id == IG_ACCOUNT
    assert first.parent_external_id == "17918195224117851"
    assert first.root_external_id == "17918195224117851"
    assert first.posted_at == dt.datetime(2025, 3, 1, 14, 8, 20, tzinfo=UTC)
    assert first.extra["posted_at_source"] == "entry.time"
    assert reply.external_id == "17865799348089040"
    assert reply.from_owner is True
    assert reply.parent_external_id == "17865799348089039"
    assert flat.external_id == "17865799348089041"
    assert flat.extra["media_product_type"] == "REELS"


def test_instagram_mentions_carry_ids_only_and_ask_to_be_fetched():
    result = meta.parse_webhook(load("instagram_mentions.json"))

    on_media, in_comment = result.mentions
    assert (on_media.external_id, on_media.kind, on_media.text) == (
        "17918195224117851",
        Kind.POST,
        "",
    )
    assert on_media.extra["needs_fetch"] is True
    assert (in_comment.external_id, in_comment.kind, in_comment.parent_external_id) == (
        "17894227972186120",
        Kind.COMMENT,
        "17918195224117852",
    )
    assert result.items[1].key == ("instagram", "mentions", "17894227972186120")


def test_a_fetched_mentioned_comment_fills_the_stub():
    stub = meta.parse_webhook(load("instagram_mentions.json")).mentions[1]

    mention = meta.parse_mentioned_comment(load("instagram_mentioned_comment.json"), stub)

    assert mention.external_id == "17894227972186120"  # the key a `comments` item has
    assert (mention.platform, mention.kind) == (Platform.INSTAGRAM, Kind.COMMENT)
    assert mention.text == "@bluebottle challenge?"
    assert mention.author_handle == "coffee.critic"
    assert mention.posted_at == dt.datetime(2018, 3, 20, 0, 5, 29, tzinfo=UTC)
    assert mention.url == "https://www.instagram.com/p/BgYZ2f9Ahq3/"
    assert mention.account_external_id == IG_ACCOUNT
    assert mention.parent_external_id == mention.root_external_id == "17918195224117852"
    assert mention.extra == {
        "media_id": "17918195224117852",
        "verb": "add",
        "field": "mentions",
        "fetched": "mentioned_comment",
        "like_count": 2,
        "media_permalink": "https://www.instagram.com/p/BgYZ2f9Ahq3/",
    }
    assert not meta.needs_fetch(mention)


def test_a_fetched_mentioned_media_fills_the_caption_stub():
    stub = meta.parse_webhook(load("instagram_mentions.json")).mentions[0]

    mention = meta.parse_mentioned_media(load("instagram_mentioned_media.json"), stub)

    assert (mention.external_id, mention.kind) == ("17918195224117851", Kind.POST)
    assert mention.text == "bluebottle There can be only one!"
    assert mention.author_handle == "macleod.highlands"
    assert mention.posted_at == dt.datetime(2018, 3, 19, 23, 58, 2, tzinfo=UTC)
    assert mention.url == "https://www.instagram.com/p/BgYXk3mAqQ1/"
    assert mention.extra["media_type"] == "IMAGE"


def test_a_fetched_mention_without_timestamp_or_username_keeps_the_stub_time():
    stub = meta.parse_webhook(load("instagram_mentions.json")).mentions[1]
    body = {"mentioned_comment": {"id": "17894227972186120", "text": "hi"}, "id": IG_ACCOUNT}

    mention = meta.parse_mentioned_comment(body, stub)

    assert (mention.text, mention.author_handle) == ("hi", "")
    assert mention.posted_at == stub.posted_at
    assert mention.extra["posted_at_source"] == "entry.time"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": IG_ACCOUNT}, "mentioned_comment"),
        ({"mentioned_comment": "text"}, "mentioned_comment"),
        ({"mentioned_comment": {"id": "999", "text": "other"}}, "mentioned_comment.id"),
        ({"mentioned_comment": {"timestamp": "yesterday"}}, "mentioned_comment.timestamp"),
    ],
)
def test_a_fetched_mention_that_breaks_the_documented_shape_is_refused(body, field):
    stub = meta.parse_webhook(load("instagram_mentions.json")).mentions[1]

    with pytest.raises(PayloadError) as err:
        meta.parse_mentioned_comment(body, stub)
    assert err.value.field == field


def test_unknown_instagram_fields_are_ignored():
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT,
                "time": 1520622968,
                "changes": [{"field": "story_insights", "value": {"media_id": "1", "reach": 3}}],
            }
        ],
    }
    result = meta.parse_webhook(body)

    assert [(i.key, i.status) for i in result.items] == [
        (("instagram", "story_insights", "1"), "ignored")
    ]


def test_an_entry_without_time_is_still_read_when_changes_carry_created_time():
    body = load("page_feed_batch.json")
    del body["entry"][0]["time"]

    result = meta.parse_webhook(body)
    assert result.errors == []
    assert len(result.mentions) == 5


def test_an_instagram_comment_needs_the_entry_time_since_it_has_no_timestamp():
    body = load("instagram_comments.json")
    del body["entry"][0]["time"]

    result = meta.parse_webhook(body)
    assert [e.field for e in result.errors] == [
        "entry[0].changes[0].value.created_time",
        "entry[0].changes[1].value.created_time",
    ]
    assert [m.external_id for m in result.mentions] == ["17865799348089041"]
