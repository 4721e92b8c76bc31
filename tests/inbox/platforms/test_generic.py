import datetime as dt
import io
from pathlib import Path

import pytest

from inbox.platforms import generic
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "generic"


def minimal(**overrides):
    body = {"external_id": "m-1", "text": "Nice visit", "posted_at": "2025-03-01T14:05:00Z"}
    body.update(overrides)
    return body


def test_a_minimal_mention_defaults_to_an_api_post():
    mention = generic.parse_mention(minimal())

    assert mention == NormalisedMention(
        platform=Platform.API,
        external_id="m-1",
        kind=Kind.POST,
        text="Nice visit",
        posted_at=dt.datetime(2025, 3, 1, 14, 5, tzinfo=dt.UTC),
    )


def test_every_documented_field_is_mapped():
    mention = generic.parse_mention(
        {
            "platform": "facebook",
            "external_id": "c-9",
            "text": "Thanks!",
            "posted_at": "2025-03-01T15:05:00+01:00",
            "author": {"name": "Pat R", "handle": "pat.r", "id": "555"},
            "rating": None,
            "url": "https://www.facebook.com/x/posts/1",
            "account": "104998877665544",
            "kind": "comment",
            "parent_id": "p-1",
            "root_id": "p-0",
        }
    )

    assert (mention.platform, mention.kind, mention.rating) == ("facebook", "comment", None)
    assert mention.posted_at == dt.datetime(2025, 3, 1, 14, 5, tzinfo=dt.UTC)
    assert (mention.author_name, mention.author_handle, mention.author_external_id) == (
        "Pat R",
        "pat.r",
        "555",
    )
    assert mention.url == "https://www.facebook.com/x/posts/1"
    assert mention.account_external_id == "104998877665544"
    assert (mention.parent_external_id, mention.root_external_id) == ("p-1", "p-0")


def test_a_rated_mention_defaults_to_a_review_and_may_have_empty_text():
    mention = generic.parse_mention(minimal(text="", rating=3))

    assert (mention.kind, mention.rating, mention.text) == (Kind.REVIEW, 3, "")


def test_unknown_fields_are_refused_by_name():
    with pytest.raises(PayloadError) as err:
        generic.parse_mention(minimal(stars=5, body="x"))

    assert err.value.field == "body"
    assert "unknown field(s): body, stars" in err.value.message


def test_unknown_author_fields_are_refused():
    with pytest.raises(PayloadError) as err:
        generic.parse_mention(minimal(author={"name": "A", "email": "a@example.com"}))
    assert err.value.field == "author.email"


def test_an_unknown_platform_lists_the_allowed_ones():
    with pytest.raises(PayloadError) as err:
        generic.parse_mention(minimal(platform="myspace"))

    assert err.value.field == "platform"
    assert "google, facebook, instagram, x, yelp, tripadvisor, feed, api" in err.value.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": None}, "external_id"),
        ({"external_id": "  "}, "external_id"),
        ({"external_id": 12}, "external_id"),
        ({"external_id": "x" * 256}, "external_id"),
        ({"text": None}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"posted_at": None}, "posted_at"),
        ({"posted_at": "2025-03-01T14:05:00"}, "posted_at"),
        ({"posted_at": "2025-03-01"}, "posted_at"),
        ({"posted_at": 1740837900}, "posted_at"),
        ({"posted_at": "2025-13-01T00:00:00Z"}, "posted_at"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": True}, "rating"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": 5}, "url"),
        ({"kind": "tweet"}, "kind"),
        ({"account": {"id": 1}}, "account"),
        ({"author": "Pat"}, "author"),
        ({"author": {"name": 7}}, "author.name"),
        ({"parent_id": 1}, "parent_id"),
    ],
)
def test_wrong_types_and_values_are_refused_naming_the_field(overrides, field):
    with pytest.raises(PayloadError) as err:
        generic.parse_mention(minimal(**overrides))
    assert err.value.field == field


def test_text_of_exactly_twenty_thousand_characters_is_accepted():
    assert len(generic.parse_mention(minimal(text="x" * 20_000)).text) == 20_000


@pytest.mark.parametrize("body", [None, [], "text", 5])
def test_a_non_object_is_refused(body):
    with pytest.raises(PayloadError):
        generic.parse_mention(body)


def test_jsonl_reports_each_line_on_its_own():
    with (FIXTURES / "mentions.jsonl").open("rb") as fileobj:
        results = list(generic.parse_jsonl(fileobj))

    summary = [
        (line, r.external_id if isinstance(r, NormalisedMention) else f"error:{r.field}")
        for line, r in results
    ]
    assert summary == [
        (1, "survey-8812"),
        (2, "fb-group-post-77"),
        (4, "survey-8813"),
        (5, "error:posted_at"),
        (6, "error:platform"),
        (7, "error:stars"),
        (8, "error:None"),
        (9, "error:None"),
        (10, "survey-8817"),
    ]
    assert results[6][1].message.startswith("invalid JSON")


def test_jsonl_accepts_text_lines_a_bom_and_bad_utf8():
    lines = [
        '\ufeff{"external_id": "a", "text": "x", "posted_at": "2025-01-01T00:00:00Z"}\n',
    ]
    assert [r.external_id for _, r in generic.parse_jsonl(lines)] == ["a"]

    ((line, error),) = generic.parse_jsonl(io.BytesIO(b'{"text": "\xff"}\n'))
    assert (line, error.message) == (1, "line is not valid UTF-8")


def test_jsonl_survives_deeply_nested_garbage():
    ((line, error),) = generic.parse_jsonl([("[" * 100_000) + "\n"])

    assert line == 1
    assert isinstance(error, PayloadError)
