import datetime as dt
import json
from pathlib import Path

import pytest

from inbox.platforms import yelp
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "yelp"
BUSINESS = "bright-smile-dental-san-francisco"


def load():
    return json.loads((FIXTURES / "reviews.json").read_text())


def test_it_maps_fusion_reviews_to_mentions():
    first, second = yelp.parse_reviews(load(), BUSINESS)

    assert first.platform == Platform.YELP
    assert first.kind == Kind.REVIEW
    assert first.external_id == "xAG4O7l-t1ubbwVAlPnDKg"
    assert first.rating == 2
    assert first.author_external_id == "W8UK02IDdRS2GL_66fuq6w"
    assert first.author_name == "Ella A."
    assert first.account_external_id == BUSINESS
    assert first.url.startswith("https://www.yelp.com/biz/bright-smile-dental-san-francisco")
    assert first.extra["excerpt"] is True
    assert first.extra["author_photo_url"].endswith("/o.jpg")
    assert "author_photo_url" not in second.extra  # image_url null


def test_time_created_is_pacific_time_with_daylight_saving():
    summer, winter = yelp.parse_reviews(load(), BUSINESS)

    # 2025-07-29 00:41:13 PDT (UTC-7) and 2025-01-03 17:15:35 PST (UTC-8)
    assert summer.posted_at == dt.datetime(2025, 7, 29, 7, 41, 13, tzinfo=dt.UTC)
    assert winter.posted_at == dt.datetime(2025, 1, 4, 1, 15, 35, tzinfo=dt.UTC)


def test_a_float_rating_with_a_whole_value_is_accepted():
    body = load()
    body["reviews"][0]["rating"] = 4.0

    assert yelp.parse_reviews(body, BUSINESS)[0].rating == 4


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("rating", 4.5, "reviews[0].rating"),
        ("rating", 0, "reviews[0].rating"),
        ("time_created", "29/07/2025", "reviews[0].time_created"),
        ("time_created", "2025-02-30 10:00:00", "reviews[0].time_created"),
        ("id", None, "reviews[0].id"),
        ("user", "Ella", "reviews[0].user"),
    ],
)
def test_bad_values_raise_naming_the_field(key, value, field):
    body = load()
    body["reviews"][0][key] = value

    with pytest.raises(PayloadError) as err:
        yelp.parse_reviews(body, BUSINESS)
    assert err.value.field == field


def test_a_response_without_reviews_raises():
    with pytest.raises(PayloadError) as err:
        yelp.parse_reviews({"total": 0}, BUSINESS)
    assert err.value.field == "reviews"
