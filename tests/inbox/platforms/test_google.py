import base64
import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from inbox.platforms import google
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "google"
UTC = dt.UTC
LOCATION = "accounts/108234567890123456789/locations/4417210374185837581"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def push_body(data):
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return {"message": {"data": encoded, "messageId": "42"}, "subscription": "projects/p/s/x"}


def test_it_maps_a_documented_review_to_a_mention():
    mention = google.parse_review(load("review.json"))

    assert mention.platform == Platform.GOOGLE
    assert mention.kind == Kind.REVIEW
    assert mention.external_id == "AbFvOqnR3kTw1sNjYh8"
    assert mention.account_external_id == LOCATION
    assert mention.text == "Waited 50 minutes past my appointment time and nobody explained why."
    assert mention.rating == 2
    assert mention.author_name == "Maria Lopez"
    assert mention.url == ""
    assert mention.posted_at == dt.datetime(2025, 3, 1, 14, 5, 9, 123456, tzinfo=UTC)
    assert mention.updated_at == dt.datetime(2025, 3, 1, 14, 7, 30, 500000, tzinfo=UTC)
    assert mention.owner_reply_text.startswith("We are sorry about the wait, Maria.")
    assert mention.owner_reply_at == dt.datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    assert mention.extra["resource_name"] == f"{LOCATION}/reviews/AbFvOqnR3kTw1sNjYh8"
    assert mention.extra["author_photo_url"].startswith("https://lh3.googleusercontent.com/")


@pytest.mark.parametrize(
    ("word", "stars"),
    [
        ("ONE", 1),
        ("TWO", 2),
        ("THREE", 3),
        ("FOUR", 4),
        ("FIVE", 5),
        ("STAR_RATING_UNSPECIFIED", None),
    ],
)
def test_it_maps_star_rating_words_to_numbers(word, stars):
    review = load("review.json")
    review["starRating"] = word

    assert google.parse_review(review).rating == stars


def test_a_missing_star_rating_is_unspecified_because_proto3_json_omits_defaults():
    review = load("review.json")
    del review["starRating"]

    assert google.parse_review(review).rating is None


@pytest.mark.parametrize("bad", ["5", "five", 5, 0, True, "SIX", ["FIVE"]])
def test_it_refuses_star_ratings_outside_the_enum(bad):
    review = load("review.json")
    review["starRating"] = bad

    with pytest.raises(PayloadError) as err:
        google.parse_review(review)
    assert err.value.field == "starRating"


def test_a_rating_only_review_has_empty_text():
    review = load("review.json")
    del review["comment"]

    mention = google.parse_review(review)
    assert mention.text == ""
    assert mention.rating == 2


def test_an_anonymous_reviewer_is_flagged_and_their_photo_dropped():
    review = load("review.json")
    review["reviewer"] = {
        "displayName": "A Google User",
        "isAnonymous": True,
        "profilePhotoUrl": "x",
    }

    mention = google.parse_review(review)
    assert mention.author_name == "A Google User"
    assert mention.extra["reviewer_anonymous"] is True
    assert "author_photo_url" not in mention.extra


def test_the_review_id_falls_back_to_the_last_segment_of_the_name():
    review = load("review.json")
    del review["reviewId"]

    assert google.parse_review(review).external_id == "AbFvOqnR3kTw1sNjYh8"


@pytest.mark.parametrize(
    "name",
    [
        "reviews/abc",
        "accounts/1/locations/2",
        "accounts/1/locations/2/reviews/",
        "x/1/y/2/reviews/3",
    ],
)
def test_it_refuses_a_malformed_resource_name(name):
    review = load("review.json")
    review["name"] = name

    with pytest.raises(PayloadError) as err:
        google.parse_review(review)
    assert err.value.field == "name"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("createTime", None),
        ("createTime", "2025-03-01 14:05"),
        ("createTime", "2025-02-30T10:00:00Z"),
        ("createTime", 1740837909),
        ("updateTime", "soon"),
    ],
)
def test_it_refuses_bad_timestamps_naming_the_field(field, value):
    review = load("review.json")
    review[field] = value

    with pytest.raises(PayloadError) as err:
        google.parse_review(review)
    assert err.value.field == field


def test_a_bad_reply_timestamp_names_the_nested_field():
    review = load("review.json")
    review["reviewReply"]["updateTime"] = "later"

    with pytest.raises(PayloadError) as err:
        google.parse_review(review)
    assert err.value.field == "reviewReply.updateTime"


def test_an_overlong_comment_is_truncated_and_the_original_length_kept():
    review = load("review.json")
    review["comment"] = "a" * 25_000

    mention = google.parse_review(review)
    assert len(mention.text) == 20_000
    assert mention.extra["truncated_from_chars"] == 25_000


def test_it_reads_a_reviews_list_page_and_its_next_page_token():
    mentions, token = google.parse_reviews_list(load("reviews_list.json"))

    assert token == "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA"
    assert [m.external_id for m in mentions] == [
        "AbFvOqnR3kTw1sNjYh8",
        "AbFvOqkQ9xZpLm2Vt0c",
        "AbFvOqmW7cHs4Ke1Ra5",
    ]
    assert [m.rating for m in mentions] == [2, 5, None]
    assert mentions[1].text == ""
    assert mentions[2].owner_reply_text == "Thank you!"
    assert mentions[2].posted_at == dt.datetime(2025, 2, 20, 18, 30, 0, 45000, tzinfo=UTC)


def test_the_last_page_has_no_reviews_key_and_no_token():
    assert google.parse_reviews_list(load("reviews_list_last_page.json")) == ([], None)


def test_a_bad_review_in_a_list_names_its_index():
    page = load("reviews_list.json")
    page["reviews"][1]["createTime"] = "never"

    with pytest.raises(PayloadError) as err:
        google.parse_reviews_list(page)
    assert err.value.field == "reviews[1].createTime"


def test_it_decodes_a_pubsub_push_notification():
    note = google.parse_pubsub_push(load("pubsub_push.json"))

    assert note.type == "NEW_REVIEW"
    assert note.is_review is True
    assert note.review_name == f"{LOCATION}/reviews/AbFvOqnR3kTw1sNjYh8"
    assert note.location_name == LOCATION
    assert note.message_id == "2070443601311540"
    assert note.publish_time == "2025-03-01T14:05:12.379Z"
    assert note.subscription == "projects/reputation-desk/subscriptions/gbp-reviews-push"


@pytest.mark.parametrize(
    "data",
    [
        {"notificationType": "UPDATED_REVIEW", "reviewName": f"{LOCATION}/reviews/r9"},
        {
            "type": "UPDATED_REVIEW",
            "review_name": f"{LOCATION}/reviews/r9",
            "location_name": LOCATION,
        },
    ],
)
def test_it_accepts_the_documented_field_name_variants(data):
    note = google.parse_pubsub_push(push_body(data))

    assert (note.type, note.review_name, note.location_name) == (
        "UPDATED_REVIEW",
        f"{LOCATION}/reviews/r9",
        LOCATION,
    )


def test_non_review_notifications_are_decoded_for_the_caller_to_ignore():
    note = google.parse_pubsub_push(
        push_body({"type": "GOOGLE_UPDATE", "location": "locations/77"})
    )

    assert note.is_review is False
    assert note.review_name is None
    assert note.location_name == "locations/77"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": {}}, "message.data"),
        ({"message": {"data": "!!!not base64!!!"}}, "message.data"),
        ({"message": {"data": base64.b64encode(b"not json").decode()}}, "message.data"),
        ({"message": {"data": base64.b64encode(b"[1, 2]").decode()}}, "message.data"),
        (push_body({"review": f"{LOCATION}/reviews/r"}), "message.data.type"),
        (push_body({"type": "NEW_REVIEW"}), "message.data.review"),
        (push_body({"type": "NEW_REVIEW", "review": "reviews/r"}), "message.data.review"),
        (push_body({"type": "NEW_REVIEW", "review": 12}), "message.data.review"),
    ],
)
def test_it_refuses_malformed_pubsub_pushes(body, field):
    with pytest.raises(PayloadError) as err:
        google.parse_pubsub_push(copy.deepcopy(body))
    assert err.value.field == field
