"""Adapters get untrusted input: whatever its shape, only PayloadError may escape.

Every fixture is mutated at every path (each value replaced by values of the wrong type,
or deleted), random JSON shapes are generated from a fixed seed, and feed/CSV/JSONL bytes
are truncated and corrupted. Successful parses must still satisfy the mention invariants.
"""

import base64
import contextlib
import copy
import io
import json
import random
from pathlib import Path

import pytest

from inbox.platforms import csvfmt, feeds, generic, google, meta, tripadvisor, x, yelp
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms"
KINDS = {Kind.REVIEW, Kind.COMMENT, Kind.POST, Kind.ARTICLE}
REPLACEMENTS = [None, 0, -1, 1.5, 10**30, float("nan"), True, "", "x", "9" * 300]
REPLACEMENTS += [[], {}, [None], {"a": 1}, ["x"], "2025-13-45T99:99:99Z"]
DELETE = object()


def load(path):
    return json.loads((FIXTURES / path).read_text())


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def mutated(doc, path, replacement):
    if not path:
        return copy.deepcopy(replacement)
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if replacement is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(replacement)
    return doc


def mutations(doc):
    for path in paths(doc):
        for replacement in [*REPLACEMENTS, *([DELETE] if path else [])]:
            yield mutated(doc, path, replacement)


def random_json(rng, depth=0):
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.randint(-(10**12), 10**12)
    if choice == 3:
        return rng.random() * 1e6
    if choice in (4, 5):
        return rng.choice(["", "x", "accounts/1/locations/2/reviews/3", "2025-01-01T00:00:00Z"])
    keys = ["id", "text", "data", "entry", "changes", "value", "field", "object", "reviews"]
    keys += ["message", "from", "created_time", "time", "name", "rating", "user", "includes"]
    if choice in (6, 7):
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def check_mention(mention):
    assert isinstance(mention, NormalisedMention)
    assert mention.platform in Platform.ALL
    assert mention.kind in KINDS
    assert isinstance(mention.external_id, str) and mention.external_id
    assert isinstance(mention.text, str) and len(mention.text) <= 20_000
    assert mention.posted_at.tzinfo is not None
    assert mention.rating is None or 1 <= mention.rating <= 5


def check(result):
    """Walk whatever an adapter returned and check every mention in it."""
    if isinstance(result, NormalisedMention):
        check_mention(result)
    elif isinstance(result, meta.MetaParseResult):
        assert all(isinstance(e, PayloadError) for e in result.errors)
        for mention in result.mentions:
            check_mention(mention)
    elif isinstance(result, (list, tuple)):
        for part in result:
            check(part)


def run(adapter, payload):
    with contextlib.suppress(PayloadError):
        check(adapter(payload))


def pubsub(data):
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return {"message": {"data": encoded, "messageId": "1"}}


GENERIC = {
    "platform": "api",
    "external_id": "e-1",
    "text": "hello",
    "posted_at": "2025-03-01T14:05:00Z",
    "author": {"name": "A", "handle": "a", "id": "1"},
    "rating": 4,
    "url": "https://a.example/1",
    "account": "acc",
    "kind": "review",
    "parent_id": "p",
    "root_id": "r",
}

CASES = [
    ("google review", google.parse_review, load("google/review.json")),
    ("google list", google.parse_reviews_list, load("google/reviews_list.json")),
    ("google push", google.parse_pubsub_push, load("google/pubsub_push.json")),
    (
        "google push data",
        lambda data: google.parse_pubsub_push(pubsub(data)),
        {"type": "NEW_REVIEW", "review": "accounts/1/locations/2/reviews/3", "location": "x"},
    ),
    ("meta feed", meta.parse_webhook, load("meta/page_feed_batch.json")),
    ("meta ratings", meta.parse_webhook, load("meta/page_ratings.json")),
    ("meta ig comments", meta.parse_webhook, load("meta/instagram_comments.json")),
    ("meta ig mentions", meta.parse_webhook, load("meta/instagram_mentions.json")),
    ("x", x.parse_tweets, load("x/search_recent.json")),
    ("yelp", lambda b: yelp.parse_reviews(b, "biz"), load("yelp/reviews.json")),
    ("tripadvisor", lambda b: tripadvisor.parse_reviews(b, "1"), load("tripadvisor/reviews.json")),
    ("generic", generic.parse_mention, GENERIC),
]


@pytest.mark.parametrize(("adapter", "doc"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mutated_fixtures_raise_only_payload_errors(adapter, doc):
    count = 0
    for payload in mutations(doc):
        run(adapter, payload)
        count += 1
    assert count > 50


@pytest.mark.parametrize(("adapter", "doc"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_random_json_shapes_raise_only_payload_errors(adapter, doc):
    rng = random.Random(20250301)
    for _ in range(400):
        run(adapter, random_json(rng))


def test_meta_batches_of_garbage_entries_report_errors_and_keep_going():
    rng = random.Random(7)
    good = load("meta/page_feed_batch.json")["entry"][0]
    entries = [random_json(rng) for _ in range(200)] + [good]

    result = meta.parse_webhook({"object": "page", "entry": entries})
    assert len(result.mentions) >= 3  # the good entry survives the garbage around it


@pytest.mark.parametrize(
    "name", ["google_alerts.atom", "forum_rss.xml", "sloppy_rss.xml", "empty_rss.xml"]
)
def test_truncated_and_corrupted_feeds_raise_only_payload_errors(name):
    content = (FIXTURES / "feeds" / name).read_bytes()
    rng = random.Random(11)
    variants = [content[:cut] for cut in range(0, len(content), max(1, len(content) // 60))]
    for _ in range(60):
        data = bytearray(content)
        for _ in range(5):
            data[rng.randrange(len(data))] = rng.randrange(256)
        variants.append(bytes(data))
    variants += [
        b"\x00" * 10,
        b"\xff\xfe<\x00r\x00s\x00s\x00",
        b"<?xml version='1.0'?><!DOCTYPE x [",
    ]
    for variant in variants:
        run(lambda c: feeds.parse_feed(c, "https://a.example/rss"), variant)


def test_random_bytes_as_csv_and_jsonl_yield_only_payload_errors():
    rng = random.Random(3)
    header = b"external_id,posted_at,text,rating\n"
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        for line, result in csvfmt.parse_rows(io.BytesIO(header + blob)):
            assert isinstance(line, int)
            check(result) if not isinstance(result, PayloadError) else None
        for line, result in generic.parse_jsonl(io.BytesIO(blob)):
            assert isinstance(line, int)
            check(result) if not isinstance(result, PayloadError) else None
