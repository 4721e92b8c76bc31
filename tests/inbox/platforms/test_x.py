import datetime as dt
import json
from pathlib import Path

import pytest

from inbox.platforms import x
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "x"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def test_it_joins_authors_from_includes_users():
    first = x.parse_tweets(load("search_recent.json"))[0]

    assert first.platform == Platform.X
    assert first.kind == Kind.POST
    assert first.external_id == "1897000000000000001"
    assert first.author_external_id == "1449821213212344321"
    assert first.author_name == "Kate Sun"
    assert first.author_handle == "sunny_kate"
    assert first.url == "https://x.com/sunny_kate/status/1897000000000000001"
    assert first.posted_at == dt.datetime(2025, 3, 4, 9, 15, 2, tzinfo=dt.UTC)
    assert first.root_external_id == ""  # it is the conversation's first tweet


def test_a_reply_is_a_comment_with_parent_and_conversation_root():
    reply = x.parse_tweets(load("search_recent.json"))[1]

    assert reply.kind == Kind.COMMENT
    assert reply.parent_external_id == "1897000000000000001"
    assert reply.root_external_id == "1897000000000000001"
    assert reply.extra["in_reply_to_user_id"] == "1449821213212344321"
    assert reply.url == "https://x.com/rob_says/status/1897000000000000002"


def test_an_author_missing_from_includes_gets_the_generic_status_url():
    retweet = x.parse_tweets(load("search_recent.json"))[2]

    assert retweet.author_handle == ""
    assert retweet.url == "https://x.com/i/web/status/1897000000000000003"
    assert retweet.extra["retweeted_id"] == "1896000000000000009"
    assert retweet.kind == Kind.POST


def test_tweets_by_the_practice_itself_are_from_owner():
    tweets = x.parse_tweets(load("search_recent.json"), account_external_id="3301234567")

    assert [t.from_owner for t in tweets] == [False, True, False]
    assert {t.account_external_id for t in tweets} == {"3301234567"}


def test_an_empty_result_has_no_data_key():
    assert x.parse_tweets(load("search_recent_empty.json")) == []


def test_note_tweet_text_replaces_the_truncated_text():
    body = load("search_recent.json")
    body["data"][0]["note_tweet"] = {"text": "long " * 100}

    assert x.parse_tweets(body)[0].text == "long " * 100


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["data"][1].pop("created_at"), "data[1].created_at"),
        (lambda b: b["data"][1].update(created_at="04/03/2025"), "data[1].created_at"),
        (lambda b: b["data"][0].pop("id"), "data[0].id"),
        (lambda b: b["data"][0].update(text=None), "data[0].text"),
        (
            lambda b: b["data"][1]["referenced_tweets"][0].pop("id"),
            "data[1].referenced_tweets[0].id",
        ),
        (lambda b: b["includes"].update(users={"id": "1"}), "includes.users"),
        (lambda b: b.update(data={"id": "1"}), "data"),
    ],
)
def test_malformed_tweets_raise_naming_the_field(mutate, field):
    body = load("search_recent.json")
    mutate(body)

    with pytest.raises(PayloadError) as err:
        x.parse_tweets(body)
    assert err.value.field == field
