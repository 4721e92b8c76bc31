import datetime as dt
import json
from pathlib import Path

import pytest

from inbox.platforms import tripadvisor
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "tripadvisor"


def load():
    return json.loads((FIXTURES / "reviews.json").read_text())


def test_it_maps_content_api_reviews_to_mentions():
    first, second = tripadvisor.parse_reviews(load(), "188151")

    assert first.platform == Platform.TRIPADVISOR
    assert first.kind == Kind.REVIEW
    assert first.external_id == "987654321"
    assert first.rating == 5
    assert first.text == (
        "Absolutely painless\n\nCame in with a toothache on holiday and was seen within the hour."
    )
    assert first.extra["title"] == "Absolutely painless"
    assert first.extra["author_location"] == "London, United Kingdom"
    assert first.extra["trip_type"] == "Couples"
    assert first.author_name == "TravellerMarie"
    assert first.account_external_id == "188151"
    assert first.posted_at == dt.datetime(2024, 4, 10, 10, 15, tzinfo=dt.UTC)
    assert first.url.endswith("-r987654321-Review.html")
    assert second.external_id == "987650000"
    assert second.text == "Lange Wartezeit."
    assert second.posted_at == dt.datetime(2024, 3, 2, 13, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("title", "text", "combined"),
    [
        ("Great", "Friendly staff.", "Great\n\nFriendly staff."),
        ("", "Friendly staff.", "Friendly staff."),
        ("Great", "", "Great"),
        ("Great visit", "Great visit, friendly staff.", "Great visit, friendly staff."),
        ("  ", "  ", ""),
    ],
)
def test_title_and_text_are_combined_sensibly(title, text, combined):
    assert tripadvisor.combine_title_and_text(title, text) == combined


def test_a_numeric_location_id_is_accepted():
    assert tripadvisor.parse_reviews(load(), 188151)[0].account_external_id == "188151"


def test_a_bare_published_date_is_midnight_utc():
    body = load()
    body["data"][0]["published_date"] = "2024-04-10"

    assert tripadvisor.parse_reviews(body, "188151")[0].posted_at == dt.datetime(
        2024, 4, 10, tzinfo=dt.UTC
    )


def test_an_owner_response_becomes_the_owner_reply():
    body = load()
    body["data"][0]["owner_response"] = {
        "text": "Thanks Marie!",
        "published_date": "2024-04-11T09:00:00Z",
    }

    mention = tripadvisor.parse_reviews(body, "188151")[0]
    assert mention.owner_reply_text == "Thanks Marie!"
    assert mention.owner_reply_at == dt.datetime(2024, 4, 11, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("rating", "5", "data[1].rating"),
        ("rating", 6, "data[1].rating"),
        ("published_date", "last week", "data[1].published_date"),
        ("id", {"id": 1}, "data[1].id"),
        ("title", 12, "data[1].title"),
    ],
)
def test_bad_values_raise_naming_the_field(key, value, field):
    body = load()
    body["data"][1][key] = value

    with pytest.raises(PayloadError) as err:
        tripadvisor.parse_reviews(body, "188151")
    assert err.value.field == field


@pytest.mark.parametrize("location", ["", None, True])
def test_a_location_id_is_required(location):
    with pytest.raises(PayloadError) as err:
        tripadvisor.parse_reviews(load(), location)
    assert err.value.field == "location_id"
