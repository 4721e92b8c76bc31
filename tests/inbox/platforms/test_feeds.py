import datetime as dt
from pathlib import Path

import pytest

from inbox.platforms import feeds
from inbox.platforms.base import Kind, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "feeds"
ALERT_URL = "https://www.google.com/alerts/feeds/17849810695950872924/15842463258895766468"


def read(name):
    return (FIXTURES / name).read_bytes()


def test_google_alert_entries_become_articles_with_unwrapped_links_and_plain_text():
    first, second = feeds.parse_feed(read("google_alerts.atom"), ALERT_URL)

    assert first.platform == Platform.FEED
    assert first.kind == Kind.ARTICLE
    assert first.account_external_id == ALERT_URL
    assert first.external_id == "tag:google.com,2013:googlealerts/feed:12501224780620368192"
    assert first.url == "https://www.citynews.example/2025/03/04/bright-smile-billing/"
    assert first.text == (
        "Local clinic Bright Smile Dental fined over billing\n\n"
        "Patients of Bright Smile Dental say they were charged twice ..."
    )
    assert first.posted_at == dt.datetime(2025, 3, 4, 14, 26, 15, tzinfo=dt.UTC)
    assert first.extra["feed_title"] == 'Google Alert - "Bright Smile Dental"'
    assert first.extra["wrapped_link"].startswith("https://www.google.com/url?rct=j")
    assert second.url == "https://blog.example.org/top-10-dentists?ref=rss"


@pytest.mark.parametrize(
    ("link", "unwrapped"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://a.example/x&ct=ga",
            "https://a.example/x",
        ),
        ("https://www.google.co.uk/url?q=https://b.example/y&sa=U", "https://b.example/y"),
        (
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)",
        ),
        (
            "https://evil.example/url?url=https://a.example/x",
            "https://evil.example/url?url=https://a.example/x",
        ),
        ("https://a.example/plain", "https://a.example/plain"),
    ],
)
def test_only_google_redirects_to_http_urls_are_unwrapped(link, unwrapped):
    assert feeds.unwrap_google_redirect(link) == unwrapped


def test_rss_items_use_guid_author_name_and_strip_html():
    thread, undated = feeds.parse_feed(
        read("forum_rss.xml"), "https://forum.example.net/rss", fetched_at=None
    )

    assert thread.external_id == "forum-thread-4411"
    assert thread.author_name == "Kids Mom"
    assert (
        thread.text
        == "Dentist recommendations?\n\nHas anyone tried Bright Smile? Heard mixed things."
    )
    assert thread.posted_at == dt.datetime(2025, 3, 4, 16, 30, tzinfo=dt.UTC)
    assert "posted_at_estimated" not in thread.extra
    assert undated.external_id == "https://forum.example.net/t/no-date/4412"


def test_an_undated_entry_takes_the_feed_date_and_is_flagged_estimated():
    undated = feeds.parse_feed(read("forum_rss.xml"), "https://forum.example.net/rss")[1]

    assert undated.posted_at == dt.datetime(2025, 3, 4, 18, 0, tzinfo=dt.UTC)
    assert undated.extra["posted_at_estimated"] is True


def test_an_undated_entry_in_an_undated_feed_takes_fetched_at():
    content = (
        b'<rss version="2.0"><channel><title>t</title><item><title>Hello</title>'
        b"<link>https://a.example/1</link></item></channel></rss>"
    )
    fetched = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)

    (entry,) = feeds.parse_feed(content, "https://a.example/rss", fetched_at=fetched)
    assert entry.posted_at == fetched


def test_a_sloppy_feed_that_still_has_entries_is_accepted():
    (entry,) = feeds.parse_feed(read("sloppy_rss.xml"), "https://sloppy.example/rss")

    assert entry.text == "Review of Bright Smile & Co\n\nFine & friendly."
    assert entry.url == "https://sloppy.example/posts/1"


@pytest.mark.parametrize("name", ["not_a_feed.html", "truncated.xml"])
def test_documents_that_are_not_feeds_raise(name):
    with pytest.raises(PayloadError) as err:
        feeds.parse_feed(read(name), "https://a.example/rss")
    assert err.value.message == "not an RSS/Atom feed"


@pytest.mark.parametrize("content", [b"", b"   \n", None, 42])
def test_empty_or_non_bytes_content_raises(content):
    with pytest.raises(PayloadError):
        feeds.parse_feed(content, "https://a.example/rss")


def test_a_valid_feed_with_no_entries_yields_nothing():
    assert feeds.parse_feed(read("empty_rss.xml"), "https://quiet.example/rss") == []


def test_content_that_looks_like_a_file_path_is_never_opened():
    # feedparser.parse(bytes) would first try open(bytes): a body naming a local file
    # must be parsed as (bad) XML, not read from disk.
    with pytest.raises(PayloadError):
        feeds.parse_feed(str(FIXTURES / "google_alerts.atom").encode(), "https://a.example/rss")


def test_entries_without_id_or_link_get_a_stable_digest_id():
    content = (
        b'<rss version="2.0"><channel><title>t</title><item><title>Same</title>'
        b"<description>text</description><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    first = feeds.parse_feed(content, "https://a.example/rss")[0].external_id
    again = feeds.parse_feed(content, "https://a.example/rss")[0].external_id

    assert first == again
    assert first.startswith("sha256:")


def test_javascript_links_are_dropped():
    content = (
        b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        b"<link>javascript:alert(1)</link><guid>g1</guid>"
        b"<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    assert feeds.parse_feed(content, "https://a.example/rss")[0].url == ""
