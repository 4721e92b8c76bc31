"""Scheduled polls, tested at the HTTP boundary with the platforms' documented answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from inbox.models import Mention, RawPayload, SocialAccount
from inbox.services import social_account_save
from inbox.sources.polling import poll_account, poll_due_accounts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "platforms"
FEED_URL = "https://www.google.com/alerts/feeds/0123/4567"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def in_alpha(cast, tenant):
    with tenant(cast.alpha):
        yield


def account(platform: str, external_id: str, **kw) -> SocialAccount:
    return social_account_save(
        account=SocialAccount(
            platform=platform,
            external_id=external_id,
            display_name=platform,
            poll_enabled=True,
            **kw,
        )
    )


def test_a_feed_is_fetched_with_conditional_get_and_304_adds_nothing(cast, in_alpha):
    from inbox.models import ListeningRule

    ListeningRule.objects.create(kind="brand", term="Bright Smile")
    feed = account("feed", FEED_URL, owner=cast.alice)
    content = fixture("feeds/google_alerts.atom")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(FEED_URL)
        route.side_effect = [
            httpx.Response(
                200,
                content=content,
                headers={"ETag": '"v1"', "Last-Modified": "Sun, 22 Nov 2026 10:00:00 GMT"},
            ),
            httpx.Response(304),
        ]
        first = poll_account(feed)
        feed.refresh_from_db()
        second = poll_account(feed)
        assert route.calls[1].request.headers["If-None-Match"] == '"v1"'
        assert (
            route.calls[1].request.headers["If-Modified-Since"] == "Sun, 22 Nov 2026 10:00:00 GMT"
        )
    assert first.status == RawPayload.Status.PROCESSED
    assert first.mentions_created + first.skipped == len(
        __import__("inbox.platforms.feeds", fromlist=["parse_feed"]).parse_feed(content, FEED_URL)
    )
    assert second is None
    assert RawPayload.objects.count() == 1
    assert (
        Mention.objects.filter(platform="feed", is_indirect=True).count() == first.mentions_created
    )


def test_a_latin1_feed_keeps_its_characters(cast, in_alpha):
    from inbox.models import ListeningRule

    ListeningRule.objects.create(kind="brand", term="Tannlege Ås")
    feed = account("feed", "https://forum.example.no/rss")
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
        "<title>Forum</title><item><guid>1</guid><title>Tannlege Ås er best</title>"
        "<description>Søt og flink tannlege</description>"
        "<pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode("latin-1")
    with respx.mock() as mock:
        mock.get("https://forum.example.no/rss").mock(
            return_value=httpx.Response(200, content=body)
        )
        poll_account(feed)
    assert "Søt og flink" in Mention.objects.get().text


def test_google_reviews_are_pulled_per_location(cast, in_alpha):
    listing = json.loads(fixture("google/reviews_list.json"))
    location = listing["reviews"][0]["name"].split("/reviews/")[0]
    gbp = account("google", location, owner=cast.bob, poll_state={"token": "ya29.test"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"https://mybusiness.googleapis.com/v4/{location}/reviews")
        route.side_effect = [
            httpx.Response(200, json=listing),
            httpx.Response(200, json=json.loads(fixture("google/reviews_list_last_page.json"))),
        ]
        raw = poll_account(gbp)
        # Every page is read: the second asks for the first page's nextPageToken.
        assert route.calls[1].request.url.params["pageToken"] == listing["nextPageToken"]
    assert raw.mentions_created == len(listing["reviews"])
    assert set(Mention.objects.values_list("assignee", flat=True)) == {cast.bob.pk}
    assert RawPayload.objects.filter(source="poll:google").count() == 2  # one per page


def _reviews_page(location: str, ids: list[str], token: str | None = None) -> dict:
    body = {
        "reviews": [
            {
                "name": f"{location}/reviews/{rid}",
                "reviewId": rid,
                "reviewer": {"displayName": f"Reviewer {rid}"},
                "starRating": "ONE",
                "comment": f"Review {rid}: slow and rude.",
                "createTime": "2026-11-20T10:00:00Z",
                "updateTime": "2026-11-20T10:00:00Z",
            }
            for rid in ids
        ],
        "totalReviewCount": 3,
    }
    if token:
        body["nextPageToken"] = token
    return body


def test_a_review_missing_from_the_complete_google_list_is_marked_removed(cast, in_alpha):
    location = "accounts/1/locations/9"
    gbp = account("google", location, poll_state={"token": "ya29.test"})
    url = f"https://mybusiness.googleapis.com/v4/{location}/reviews"
    with respx.mock() as mock:
        mock.get(url).mock(
            return_value=httpx.Response(200, json=_reviews_page(location, ["a", "b", "c"]))
        )
        poll_account(gbp)
    assert Mention.objects.filter(removed_on_platform=False).count() == 3
    # Next poll: "b" is gone. The list comes in two pages; both are read.
    with respx.mock() as mock:
        route = mock.get(url)
        route.side_effect = [
            httpx.Response(200, json=_reviews_page(location, ["a"], token="p2")),
            httpx.Response(200, json=_reviews_page(location, ["c"])),
        ]
        poll_account(gbp)
    removed = Mention.objects.filter(removed_on_platform=True)
    assert list(removed.values_list("external_id", flat=True)) == ["b"]
    from reputation.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="mention.removed_on_platform")
    assert event.object_id == str(removed.get().pk)
    assert event.data == {"detected": "missing from the platform's complete list"}


def test_an_incomplete_google_list_marks_nothing_removed(cast, in_alpha, monkeypatch):
    from inbox.sources import polling

    location = "accounts/1/locations/9"
    gbp = account("google", location, poll_state={"token": "ya29.test"})
    url = f"https://mybusiness.googleapis.com/v4/{location}/reviews"
    with respx.mock() as mock:
        mock.get(url).mock(
            return_value=httpx.Response(200, json=_reviews_page(location, ["a", "b"]))
        )
        poll_account(gbp)
    monkeypatch.setattr(polling, "GOOGLE_MAX_PAGES", 1)
    with respx.mock() as mock:  # one page read, more to come: the list is not complete
        mock.get(url).mock(
            return_value=httpx.Response(200, json=_reviews_page(location, ["a"], token="p2"))
        )
        poll_account(gbp)
    with respx.mock() as mock:  # a page that breaks the documented shape
        mock.get(url).mock(return_value=httpx.Response(200, json={"reviews": [{"name": 3}]}))
        poll_account(gbp)
    assert not Mention.objects.filter(removed_on_platform=True).exists()


def test_x_search_remembers_the_newest_id(cast, in_alpha):
    x = account("x", "2244994945", handle="@alphadental")
    body = json.loads(fixture("x/search_recent.json"))
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://api.x.com/2/tweets/search/recent").mock(
            return_value=httpx.Response(200, json=body)
        )
        poll_account(x)
        assert "@alphadental" in route.calls[0].request.url.params["query"]
    x.refresh_from_db()
    assert x.poll_state["since_id"] == body["meta"]["newest_id"]
    assert Mention.objects.filter(platform="x").count() == len(body["data"])


def test_yelp_reviews_are_pulled(cast, in_alpha):
    yelp = account("yelp", "bright-smile-dental-san-francisco")
    body = json.loads(fixture("yelp/reviews.json"))
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__regex=r"https://api\.yelp\.com/v3/businesses/.+/reviews").mock(
            return_value=httpx.Response(200, json=body)
        )
        poll_account(yelp)
    assert Mention.objects.filter(platform="yelp").count() == len(body["reviews"])


def test_a_failing_platform_is_recorded_and_does_not_stop_the_round(cast, in_alpha):
    broken = account("yelp", "broken-biz")
    feed = account("feed", FEED_URL)
    with respx.mock() as mock:
        mock.get(url__regex=r"https://api\.yelp\.com/.*").mock(return_value=httpx.Response(503))
        mock.get(FEED_URL).mock(return_value=httpx.Response(304))
        assert poll_due_accounts() == 2
    broken.refresh_from_db()
    feed.refresh_from_db()
    assert "503" in broken.last_poll_error and broken.last_polled_at is not None
    assert feed.last_poll_error == "" and feed.last_polled_at is not None
    # Polled just now: not due again in this round.
    assert poll_due_accounts() == 0


def test_a_failing_account_says_since_when_and_what_to_do(cast, in_alpha):
    yelp = account("yelp", "expired-biz")
    refused = {"error": {"code": "TOKEN_INVALID", "description": "Invalid access token."}}
    with respx.mock() as mock:
        route = mock.get(url__regex=r"https://api\.yelp\.com/v3/businesses/.+/reviews")
        route.mock(return_value=httpx.Response(401, json=refused))
        poll_account(yelp)
        yelp.refresh_from_db()
        assert yelp.last_poll_error == (
            "yelp answered HTTP 401: Invalid access token; the access token or API key was "
            "refused or has expired: renew it"
        )
        since = yelp.last_poll_error_at
        assert since is not None and since == yelp.last_polled_at

        # Still failing, for another reason: the error is the latest, "since" the first.
        route.mock(return_value=httpx.Response(503))
        poll_account(yelp)
        yelp.refresh_from_db()
        assert yelp.last_poll_error == (
            "yelp answered HTTP 503; tried again at every poll: if it keeps failing, "
            "check the account"
        )
        assert yelp.last_poll_error_at == since < yelp.last_polled_at

        route.mock(return_value=httpx.Response(200, json={"reviews": [], "total": 0}))
        poll_account(yelp)
    yelp.refresh_from_db()
    assert (yelp.last_poll_error, yelp.last_poll_error_at) == ("", None)


def test_an_account_id_the_client_refuses_is_recorded_and_the_round_goes_on(cast, in_alpha):
    bad = account("google", "locations/12", poll_state={"token": "ya29.test"})  # not a/{a}/l/{l}
    feed = account("feed", FEED_URL)
    with respx.mock() as mock:
        mock.get(FEED_URL).mock(return_value=httpx.Response(304))
        assert poll_due_accounts() == 2
    bad.refresh_from_db()
    feed.refresh_from_db()
    assert bad.last_poll_error == (
        "location_name must be accounts/{a}/locations/{l}; check the account's id on the platform"
    )
    assert bad.last_poll_error_at is not None and feed.last_poll_error == ""


def test_a_google_location_without_a_token_says_what_is_missing(cast, in_alpha):
    gbp = account("google", "accounts/1/locations/9")
    with respx.mock() as mock:  # nothing may be sent: a tokenless call would be a 401
        assert poll_due_accounts() == 1
        assert not mock.calls
    gbp.refresh_from_db()
    assert gbp.last_poll_error.startswith(
        "Google location accounts/1/locations/9 has no access token: connect the account"
    )
