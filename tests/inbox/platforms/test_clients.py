import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
import respx

from inbox.platforms import feeds, google, meta, tripadvisor, x, yelp
from inbox.platforms.base import Kind, NormalisedMention, Platform
from inbox.platforms.clients import (
    FeedClient,
    GoogleClient,
    InstagramClient,
    PlatformError,
    TripadvisorClient,
    XClient,
    YelpClient,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms"
LOCATION = "accounts/108234567890123456789/locations/4417210374185837581"
REVIEW = f"{LOCATION}/reviews/AbFvOqnR3kTw1sNjYh8"
GBP = "https://mybusiness.googleapis.com/v4"


def fixture_json(path):
    return json.loads((FIXTURES / path).read_text())


@pytest.fixture
def mock():
    # assert_all_mocked (the default) makes any request without a route fail: no network.
    with respx.mock(assert_all_called=True) as router:
        yield router


@pytest.fixture
def gbp():
    with GoogleClient("ya29.token") as client:
        yield client


# --- Google --------------------------------------------------------------------------------


def test_google_get_review_fetches_the_named_review(mock, gbp):
    route = mock.get(f"{GBP}/{REVIEW}").respond(json=fixture_json("google/review.json"))

    body = gbp.get_review(REVIEW)

    assert route.calls.last.request.headers["Authorization"] == "Bearer ya29.token"
    assert google.parse_review(body).external_id == "AbFvOqnR3kTw1sNjYh8"


def test_google_list_reviews_pages_with_the_token(mock, gbp):
    route = mock.get(f"{GBP}/{LOCATION}/reviews").respond(
        json=fixture_json("google/reviews_list.json")
    )

    body = gbp.list_reviews(LOCATION, page_token="CiAK")

    params = route.calls.last.request.url.params
    assert (params["pageSize"], params["pageToken"]) == ("50", "CiAK")
    mentions, token = google.parse_reviews_list(body)
    assert (len(mentions), token) == (3, "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA")


def test_google_list_reviews_first_page_sends_no_token(mock, gbp):
    route = mock.get(f"{GBP}/{LOCATION}/reviews").respond(json={})

    assert gbp.list_reviews(LOCATION) == {}
    assert "pageToken" not in route.calls.last.request.url.params


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "accounts/1/locations/2", "accounts/1/locations/2/reviews/", ""]
)
def test_google_get_review_refuses_malformed_names_without_calling(gbp, name):
    with respx.mock(assert_all_mocked=True), pytest.raises(ValueError):
        gbp.get_review(name)


@pytest.mark.parametrize("name", ["../../etc/passwd", "locations/2", f"{REVIEW}", ""])
def test_google_list_reviews_refuses_malformed_names_without_calling(gbp, name):
    with respx.mock(assert_all_mocked=True), pytest.raises(ValueError):
        gbp.list_reviews(name)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (403, False), (404, False), (408, True), (429, True)]
    + [(500, True), (502, True), (503, True)],
)
def test_status_codes_map_to_retryable_or_not(mock, gbp, status, retryable):
    mock.get(f"{GBP}/{REVIEW}").respond(
        status,
        json={
            "error": {"code": status, "message": "Requested entity was not found.", "status": "X"}
        },
    )

    with pytest.raises(PlatformError) as err:
        gbp.get_review(REVIEW)
    assert (err.value.status, err.value.retryable) == (status, retryable)
    assert err.value.message == f"google answered HTTP {status}: Requested entity was not found."


def test_a_429_carries_retry_after(mock, gbp):
    mock.get(f"{GBP}/{REVIEW}").respond(429, headers={"Retry-After": "30"}, json={})

    with pytest.raises(PlatformError) as err:
        gbp.get_review(REVIEW)
    assert (err.value.retryable, err.value.retry_after) == (True, 30.0)


@pytest.mark.parametrize("exc", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError])
def test_network_failures_are_retryable(mock, gbp, exc):
    mock.get(f"{GBP}/{REVIEW}").mock(side_effect=exc("boom"))

    with pytest.raises(PlatformError) as err:
        gbp.get_review(REVIEW)
    assert err.value.retryable is True


def test_invalid_json_is_a_retryable_error(mock, gbp):
    mock.get(f"{GBP}/{REVIEW}").respond(200, text="<html>oops</html>")

    with pytest.raises(PlatformError) as err:
        gbp.get_review(REVIEW)
    assert (err.value.retryable, err.value.message) == (True, "google answered with invalid JSON")


def test_a_json_array_is_not_an_acceptable_answer(mock, gbp):
    mock.get(f"{GBP}/{REVIEW}").respond(200, json=[1, 2])

    with pytest.raises(PlatformError) as err:
        gbp.get_review(REVIEW)
    assert err.value.retryable is False


def test_clients_set_timeouts():
    with GoogleClient("t") as client:
        timeout = client._http.timeout
    assert (timeout.connect, timeout.read) == (5.0, 15.0)


# --- Yelp ----------------------------------------------------------------------------------


def test_yelp_reviews_uses_the_bearer_api_key(mock):
    route = mock.get(
        "https://api.yelp.com/v3/businesses/bright-smile-dental-san-francisco/reviews"
    ).respond(json=fixture_json("yelp/reviews.json"))

    with YelpClient("yelp-key") as client:
        body = client.reviews("bright-smile-dental-san-francisco")

    assert route.calls.last.request.headers["Authorization"] == "Bearer yelp-key"
    assert len(yelp.parse_reviews(body, "bright-smile-dental-san-francisco")) == 2


def test_yelp_business_ids_cannot_escape_the_path(mock):
    route = mock.get("https://api.yelp.com/v3/businesses/..%2Fadmin/reviews").respond(
        json={"reviews": []}
    )

    with YelpClient("k") as client:
        client.reviews("../admin")
    assert route.called


# --- Tripadvisor ---------------------------------------------------------------------------


def test_tripadvisor_sends_the_key_as_a_query_parameter(mock):
    route = mock.get("https://api.content.tripadvisor.com/api/v1/location/188151/reviews").respond(
        json=fixture_json("tripadvisor/reviews.json")
    )

    with TripadvisorClient("TA-KEY-123", referer="https://app.example") as client:
        body = client.reviews(188151)

    request = route.calls.last.request
    assert request.url.params["key"] == "TA-KEY-123"
    assert request.url.params["language"] == "en"
    assert request.headers["Referer"] == "https://app.example"
    assert [m.external_id for m in tripadvisor.parse_reviews(body, "188151")] == [
        "987654321",
        "987650000",
    ]


def test_tripadvisor_errors_never_reveal_the_key(mock):
    mock.get("https://api.content.tripadvisor.com/api/v1/location/1/reviews").respond(
        401, json={"error": {"message": "Invalid key", "type": "UnauthorizedException", "code": 1}}
    )

    with TripadvisorClient("TA-KEY-123") as client, pytest.raises(PlatformError) as err:
        client.reviews("1")
    assert "TA-KEY-123" not in str(err.value)
    assert err.value.message == "tripadvisor answered HTTP 401: Invalid key"


# --- X -------------------------------------------------------------------------------------


def test_x_search_recent_asks_for_authors_and_threading_fields(mock):
    route = mock.get("https://api.x.com/2/tweets/search/recent").respond(
        json=fixture_json("x/search_recent.json")
    )

    with XClient("AAAA-bearer") as client:
        body = client.search_recent('"Bright Smile Dental" -is:retweet', since_id="1896")

    request = route.calls.last.request
    params = request.url.params
    assert request.headers["Authorization"] == "Bearer AAAA-bearer"
    assert params["query"] == '"Bright Smile Dental" -is:retweet'
    assert params["since_id"] == "1896"
    assert params["expansions"] == "author_id"
    assert set(params["tweet.fields"].split(",")) >= {
        "created_at",
        "conversation_id",
        "referenced_tweets",
        "author_id",
    }
    assert params["user.fields"] == "name,username"
    assert "next_token" not in params
    assert [t.author_handle for t in x.parse_tweets(body)] == ["sunny_kate", "rob_says", ""]


def test_x_rate_limit_is_retryable(mock):
    mock.get("https://api.x.com/2/tweets/search/recent").respond(
        429, json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    )

    with XClient("t") as client, pytest.raises(PlatformError) as err:
        client.search_recent("dentist")
    assert (err.value.retryable, err.value.message) == (
        True,
        "x answered HTTP 429: Too Many Requests",
    )


# --- feeds ---------------------------------------------------------------------------------

FEED = "https://www.google.com/alerts/feeds/17849810695950872924/15842463258895766468"


def test_feed_fetch_returns_content_and_validators(mock):
    atom = (FIXTURES / "feeds" / "google_alerts.atom").read_bytes()
    mock.get(FEED).respond(
        200,
        content=atom,
        headers={"ETag": '"abc"', "Last-Modified": "Tue, 04 Mar 2025 16:18:45 GMT"},
    )

    with FeedClient() as client:
        fetched = client.fetch(FEED)

    assert (fetched.status, fetched.not_modified, fetched.content) == (200, False, atom)
    assert (fetched.etag, fetched.last_modified) == ('"abc"', "Tue, 04 Mar 2025 16:18:45 GMT")
    assert len(feeds.parse_feed(fetched.content, FEED)) == 2


def test_feed_fetch_is_conditional_and_understands_304(mock):
    route = mock.get(FEED).respond(304)

    with FeedClient() as client:
        fetched = client.fetch(FEED, etag='"abc"', last_modified="Tue, 04 Mar 2025 16:18:45 GMT")

    headers = route.calls.last.request.headers
    assert headers["If-None-Match"] == '"abc"'
    assert headers["If-Modified-Since"] == "Tue, 04 Mar 2025 16:18:45 GMT"
    assert (fetched.status, fetched.not_modified, fetched.content) == (304, True, b"")
    assert (fetched.etag, fetched.last_modified) == ('"abc"', "Tue, 04 Mar 2025 16:18:45 GMT")


def test_a_declared_oversized_feed_is_refused_before_reading(mock):
    mock.get(FEED).respond(200, headers={"Content-Length": str(6 * 1024 * 1024)}, content=b"")

    with FeedClient() as client, pytest.raises(PlatformError) as err:
        client.fetch(FEED)
    assert err.value.retryable is False


def test_an_undeclared_oversized_feed_is_aborted_while_streaming(mock):
    served = []

    def chunks():
        for _ in range(100):
            served.append(1)
            yield b"x" * (256 * 1024)

    mock.get(FEED).mock(return_value=httpx.Response(200, content=chunks()))

    with FeedClient(max_bytes=1024 * 1024) as client, pytest.raises(PlatformError) as err:
        client.fetch(FEED)
    assert err.value.message == "response is larger than 1,048,576 bytes"
    assert len(served) == 5  # stopped right after crossing 1 MB, not after 25 MB


def test_feed_redirects_are_followed(mock):
    mock.get("http://blog.example/feed").respond(
        301, headers={"Location": "https://blog.example/rss"}
    )
    mock.get("https://blog.example/rss").respond(200, content=b"<rss/>")

    with FeedClient() as client:
        fetched = client.fetch("http://blog.example/feed")
    assert (fetched.url, fetched.content) == ("https://blog.example/rss", b"<rss/>")


def test_a_redirect_to_an_internal_address_is_refused(mock):
    mock.get("https://blog.example/feed").respond(
        302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )

    with FeedClient() as client, pytest.raises(PlatformError) as err:
        client.fetch("https://blog.example/feed")
    assert (err.value.retryable, err.value.message) == (
        False,
        "feed URL points to 169.254.169.254, a link-local address; use a public feed URL",
    )


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "http://localhost:8000/feed",
        "http://127.0.0.1/feed",
        "http://10.0.0.8/feed",
        "http://[::1]/feed",
        "not a url",
    ],
)
def test_non_http_and_internal_feed_urls_are_refused_without_a_request(url):
    with (
        respx.mock(assert_all_mocked=True),
        FeedClient() as client,
        pytest.raises(PlatformError) as err,
    ):
        client.fetch(url)
    assert err.value.retryable is False


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (410, False), (503, True)])
def test_feed_http_errors(mock, status, retryable):
    mock.get(FEED).respond(status)

    with FeedClient() as client, pytest.raises(PlatformError) as err:
        client.fetch(FEED)
    assert (err.value.status, err.value.retryable) == (status, retryable)


def test_too_many_redirects_is_an_error(mock):
    mock.get("https://loop.example/a").respond(302, headers={"Location": "https://loop.example/a"})

    with FeedClient() as client, pytest.raises(PlatformError) as err:
        client.fetch("https://loop.example/a")
    assert err.value.message == "feed redirected too many times"


# --- Instagram Graph API (mentions) --------------------------------------------------------

IG_USER = "17841405726653026"
GRAPH = f"https://graph.facebook.com/v25.0/{IG_USER}"


@pytest.fixture
def ig():
    with InstagramClient("EAAG.page-token") as client:
        yield client


def _stub(external_id: str, kind: str) -> NormalisedMention:
    return NormalisedMention(
        platform=Platform.INSTAGRAM,
        external_id=external_id,
        kind=kind,
        text="",
        posted_at=dt.datetime(2018, 3, 20, 0, 6, tzinfo=dt.UTC),
        account_external_id=IG_USER,
        extra={"needs_fetch": True, "media_id": "17918195224117852"},
    )


def test_instagram_mentioned_comment_asks_for_the_documented_fields(mock, ig):
    route = mock.get(GRAPH).respond(json=fixture_json("meta/instagram_mentioned_comment.json"))

    body = ig.mentioned_comment(IG_USER, "17894227972186120")

    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer EAAG.page-token"
    assert "access_token" not in request.url.params  # the token stays out of URLs
    assert request.url.params["fields"] == (
        "mentioned_comment.comment_id(17894227972186120)"
        "{id,text,timestamp,username,like_count,media{id,permalink}}"
    )
    mention = meta.parse_mentioned_comment(body, _stub("17894227972186120", Kind.COMMENT))
    assert (mention.text, mention.author_handle) == ("@bluebottle challenge?", "coffee.critic")


def test_instagram_mentioned_comment_does_without_a_refused_username_field(mock, ig):
    refused = {
        "error": {
            "message": "(#100) Tried accessing nonexisting field (username) on node type "
            "(IGComment)",
            "type": "OAuthException",
            "code": 100,
        }
    }
    body = fixture_json("meta/instagram_mentioned_comment.json")
    body["mentioned_comment"].pop("username", None)
    route = mock.get(GRAPH).mock(
        side_effect=[httpx.Response(400, json=refused), httpx.Response(200, json=body)]
    )

    answer = ig.mentioned_comment(IG_USER, "17894227972186120")

    assert route.calls.last.request.url.params["fields"] == (
        "mentioned_comment.comment_id(17894227972186120)"
        "{id,text,timestamp,like_count,media{id,permalink}}"
    )
    mention = meta.parse_mentioned_comment(answer, _stub("17894227972186120", Kind.COMMENT))
    assert mention.text == "@bluebottle challenge?"


def test_instagram_mentioned_media_asks_for_the_documented_fields(mock, ig):
    route = mock.get(GRAPH).respond(json=fixture_json("meta/instagram_mentioned_media.json"))

    body = ig.mentioned_media(IG_USER, "17918195224117851")

    assert route.calls.last.request.url.params["fields"] == (
        "mentioned_media.media_id(17918195224117851)"
        "{id,caption,timestamp,username,permalink,media_type}"
    )
    mention = meta.parse_mentioned_media(body, _stub("17918195224117851", Kind.POST))
    assert mention.text == "bluebottle There can be only one!"


@pytest.mark.parametrize("bad", ["1)}{id", "1,mentioned_media", "", "../me", "1 2"])
def test_instagram_ids_cannot_rewrite_the_fields_expression(ig, bad):
    with respx.mock(assert_all_mocked=True), pytest.raises(ValueError):
        ig.mentioned_comment(IG_USER, bad)
    with respx.mock(assert_all_mocked=True), pytest.raises(ValueError):
        ig.mentioned_media(bad, "17918195224117851")


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (400, "meta/graph_error_invalid_token.json", False),
        (400, "meta/graph_error_rate_limited.json", True),  # Meta throttles with a 400
        (403, "meta/graph_error_rate_limited.json", True),
        (500, "meta/graph_error_invalid_token.json", True),
        (503, None, True),
    ],
)
def test_instagram_graph_errors_are_retryable_when_meta_says_they_are_temporary(
    mock, ig, status, body, retryable
):
    mock.get(GRAPH).respond(status, json=fixture_json(body) if body else {})

    with pytest.raises(PlatformError) as err:
        ig.mentioned_comment(IG_USER, "17894227972186120")
    assert (err.value.status, err.value.retryable) == (status, retryable)
    assert "EAAG" not in err.value.message


def test_an_expired_instagram_token_says_so(mock, ig):
    mock.get(GRAPH).respond(400, json=fixture_json("meta/graph_error_invalid_token.json"))

    with pytest.raises(PlatformError) as err:
        ig.mentioned_media(IG_USER, "17918195224117851")
    assert err.value.message.startswith(
        "instagram answered HTTP 400: Error validating access token: Session has expired"
    )
