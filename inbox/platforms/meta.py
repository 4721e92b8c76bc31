"""Meta (Facebook Page, Instagram) webhooks: verification and payload parsing.

Sources (developers.facebook.com):
- graph-api/webhooks/getting-started: GET handshake (hub.mode, hub.verify_token,
  hub.challenge); POST signed with X-Hub-Signature-256 "sha256=<hex HMAC-SHA256 of the raw
  body keyed with the app secret>"; batches of up to 1,000 updates; retries for 36 hours
  with no event id, so the receiver de-duplicates.
- graph-api/webhooks/reference/page: `feed` value {item: comment|post|status|photo|video|
  reaction|like|share|..., verb: add|edited|edit|remove|delete|hide|unhide|..., comment_id,
  post_id, parent_id, from{id,name}, message, created_time (UNIX int), edited_time};
  `ratings` value {item, verb, rating, review_text, recommendation_type positive|negative,
  reviewer_id, reviewer_name, open_graph_story_id, comment_id, parent_id, created_time};
  `mention` value {item, verb, post_id, comment_id, sender_id, sender_name, message}.
- instagram-platform/webhooks/examples: `comments` / `live_comments` value {id (or
  comment_id), text, from{id, username}, media{id, media_product_type}, parent_id};
  `mentions` value {media_id, comment_id?} (ids only: the text must be fetched).
- instagram-graph-api/reference/ig-user/mentioned_comment and mentioned_media: the fetch
  answers {"mentioned_comment": {id, text, timestamp (ISO 8601, "+0000"), username?,
  like_count, media{id, permalink}}, "id": ig-user-id} and {"mentioned_media": {id,
  caption, timestamp, username, permalink, media_type}, "id": ig-user-id}. A caption read
  this way has the @ of the mentioned account stripped unless the account owns the media.

Envelope: {"object": "page"|"instagram", "entry": [{"id", "time", "changes": [{"field",
"value"}]}]}. Instagram Login apps may put `field`/`value` directly on the entry, and
Messenger/IG DMs come as entry.messaging[]; both shapes are accepted (DMs are ignored).

Decisions:
- Facebook replaced 1-5 star page ratings with positive/negative recommendations (Graph
  API changelog, 2018-08-17). A `ratings` item keeps `rating` when Meta sends one; a bare
  recommendation gets rating None and extra["recommendation"] = "positive"|"negative". We
  do not invent stars from a recommendation.
- `from`/`sender_*` is often absent (Meta withholds the author of users who have not
  authorised the app); the mention is still kept, with empty author fields.
- Instagram comment webhooks carry no timestamp: posted_at is entry.time (when Meta sent
  the notification), noted in extra["posted_at_source"].
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

OBJECTS = ("page", "instagram")

MENTION = "mention"
REMOVED = "removed"
IGNORED = "ignored"

_ADD_VERBS = frozenset({"add", "edited", "edit", "update", "hide", "unhide"})
_REMOVE_VERBS = frozenset({"remove", "delete"})
_POST_ITEMS = frozenset({"post", "status", "photo", "video", "link", "share", "note", "story"})
_NOISE_ITEMS = frozenset({"reaction", "like"})


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Check X-Hub-Signature-256 ("sha256=<hex>") against the raw request body.

    The HMAC is over the exact bytes Meta sent: pass request.body, never re-serialised JSON.
    """
    if not header or not app_secret or not isinstance(header, str):
        return False
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        return False
    scheme, _, received = header.strip().partition("=")
    if scheme.lower() != "sha256" or len(received) != 64:
        return False
    try:
        received_bytes = bytes.fromhex(received)
    except ValueError:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
    return hmac.compare_digest(expected, received_bytes)


def verify_handshake(params: Mapping[str, Any], verify_token: str) -> str | None:
    """Answer Meta's subscription GET: the hub.challenge to echo back, or None to refuse."""
    if not verify_token:
        return None  # an unset token must never match an empty hub.verify_token
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not challenge or not hmac.compare_digest(token.encode("utf-8"), verify_token.encode()):
        return None
    return challenge


@dataclasses.dataclass(frozen=True)
class MetaItem:
    """One change in a webhook batch.

    `key` = (object, field, item id) identifies the thing changed (a comment, a post, a
    rating); `event_key` adds the verb and a fingerprint of the event (its times and text),
    so a retried delivery repeats it while an edit of the same comment does not. `status`
    is "mention" (store/update it), "removed" (mention.removed is True) or "ignored"
    (reactions, likes, shares without text, fields we do not ingest; `mention` is None and
    `reason` says why).
    """

    key: tuple[str, str, str]
    status: str
    verb: str = ""
    mention: NormalisedMention | None = None
    reason: str = ""
    # Digest of the event's own times and text (never entry.time, which is the send time
    # and may differ between retries).
    fingerprint: str = ""

    @property
    def event_key(self) -> tuple[str, str, str, str, str]:
        return (*self.key, self.verb, self.fingerprint)


@dataclasses.dataclass(frozen=True)
class MetaParseResult:
    object: str
    items: list[MetaItem]
    errors: list[PayloadError]

    @property
    def mentions(self) -> list[NormalisedMention]:
        return [i.mention for i in self.items if i.mention is not None]

    @property
    def ignored_count(self) -> int:
        return sum(1 for i in self.items if i.status == IGNORED)


def parse_webhook(body: Any) -> MetaParseResult:
    """A webhook POST body -> items plus per-change errors.

    An invalid envelope (not an object, unknown `object`, no `entry` array) raises
    PayloadError; a bad entry or change is reported in `errors` (with its field path) and
    the rest of the batch is still parsed.
    """
    envelope = f.expect_dict(body, "")
    obj = envelope.get("object")
    if obj not in OBJECTS:
        raise PayloadError(
            f"object must be one of {', '.join(OBJECTS)}; got {str(obj)[:40]!r}", field="object"
        )
    entries = f.expect_list(envelope.get("entry"), "entry")
    items: list[MetaItem] = []
    errors: list[PayloadError] = []
    for i, entry in enumerate(entries):
        path = f.item("entry", i)
        try:
            entry = f.expect_dict(entry, path)
            owner_id = f.req_id(entry, "id", path)
            # entry.time (when Meta sent the batch) is only a fallback for a missing
            # created_time, so an entry without it is still readable.
            sent_at = None
            if entry.get("time") is not None:
                sent_at = f.parse_unix(entry["time"], f.child(path, "time"))
            changes = _entry_changes(entry, path)
            messaging = f.opt_list(entry, "messaging", path)
        except PayloadError as exc:
            errors.append(exc)
            continue
        for change_path, change in changes:
            try:
                items.append(_parse_change(obj, owner_id, sent_at, change, change_path))
            except PayloadError as exc:
                errors.append(exc)
        for j, message in enumerate(messaging):  # Messenger / IG direct messages
            mid = ""
            if isinstance(message, Mapping) and isinstance(message.get("message"), Mapping):
                raw_mid = message["message"].get("mid")
                mid = raw_mid if isinstance(raw_mid, str) else ""
            key = (obj, "messaging", mid or f"{owner_id}:{i}:{j}")
            items.append(MetaItem(key, IGNORED, reason="direct message"))
    return MetaParseResult(object=obj, items=items, errors=errors)


def _entry_changes(entry: Mapping[str, Any], path: str) -> list[tuple[str, Mapping[str, Any]]]:
    if "changes" in entry:
        changes = f.expect_list(entry["changes"], f.child(path, "changes"))
        return [(f.item(f.child(path, "changes"), j), c) for j, c in enumerate(changes)]
    if "field" in entry:  # Instagram Login: field/value directly on the entry
        return [(path, entry)]
    if "messaging" in entry:
        return []
    raise PayloadError(f"{path} has no changes", field=f.child(path, "changes"))


def _parse_change(
    obj: str, owner_id: str, sent_at: dt.datetime | None, change: Any, path: str
) -> MetaItem:
    change = f.expect_dict(change, path)
    field = f.req_str(change, "field", path)
    value_path = f.child(path, "value")
    value = f.expect_dict(change.get("value"), value_path)
    ctx = _Ctx(obj, field, owner_id, sent_at, value, value_path)
    if obj == "page":
        if field in ("feed", "mention"):
            return _page_feed(ctx)
        if field == "ratings":
            return _page_rating(ctx)
    elif field in ("comments", "live_comments"):
        return _ig_comment(ctx)
    elif field == "mentions":
        return _ig_mention(ctx)
    thing = f.opt_id(value, "id", value_path) or f.opt_id(value, "media_id", value_path)
    return MetaItem((obj, field, thing), IGNORED, reason=f"field {field} is not ingested")


@dataclasses.dataclass(frozen=True)
class _Ctx:
    obj: str
    field: str
    owner_id: str
    sent_at: dt.datetime | None
    value: Mapping[str, Any]
    path: str

    def get_str(self, key: str) -> str:
        return f.opt_str(self.value, key, self.path)

    def get_id(self, key: str) -> str:
        return f.opt_id(self.value, key, self.path)

    def get_time(self, key: str) -> dt.datetime | None:
        if self.value.get(key) is None:
            return None
        return f.parse_time_value(self.value[key], f.child(self.path, key))


def _verb(ctx: _Ctx) -> str:
    verb = ctx.get_str("verb")
    return verb.strip().lower() or "add"


def _author(ctx: _Ctx) -> tuple[str, str, str]:
    """(id, name, username) from `from{}` or the older sender_*/reviewer_* fields."""
    sender = f.opt_dict(ctx.value, "from", ctx.path)
    if sender is not None:
        sender_path = f.child(ctx.path, "from")
        return (
            f.opt_id(sender, "id", sender_path),
            f.opt_str(sender, "name", sender_path),
            f.opt_str(sender, "username", sender_path),
        )
    for prefix in ("sender", "reviewer"):
        author_id = ctx.get_id(f"{prefix}_id")
        author_name = ctx.get_str(f"{prefix}_name")
        if author_id or author_name:
            return author_id, author_name, ""
    return "", "", ""


def _posted(ctx: _Ctx, extra: dict[str, Any]) -> dt.datetime:
    posted = ctx.get_time("created_time")
    if posted is not None:
        return posted
    if ctx.sent_at is None:
        field = f.child(ctx.path, "created_time")
        raise PayloadError(f"{field} is required when the entry has no time", field=field)
    extra["posted_at_source"] = "entry.time"
    return ctx.sent_at


def _mention(
    ctx: _Ctx,
    *,
    platform: str,
    external_id: str,
    kind: str,
    verb: str,
    text: str,
    extra: dict[str, Any],
    **fields: Any,
) -> MetaItem:
    removed = verb in _REMOVE_VERBS
    if verb == "hide":
        extra["hidden"] = True
    elif verb == "unhide":
        extra["hidden"] = False
    extra.update(verb=verb, field=ctx.field)
    posted_at = _posted(ctx, extra)
    updated_at = ctx.get_time("edited_time")
    if updated_at is None and verb in ("edited", "edit", "update"):
        updated_at = ctx.sent_at
    mention = NormalisedMention(
        platform=platform,
        external_id=external_id,
        kind=kind,
        text=f.cap_text(text, extra),
        posted_at=posted_at,
        account_external_id=ctx.owner_id,
        updated_at=updated_at,
        removed=removed,
        extra=extra,
        **fields,
    )
    stamp = f"{ctx.value.get('created_time')}|{ctx.value.get('edited_time')}|{text}"
    return MetaItem(
        (ctx.obj, ctx.field, external_id),
        REMOVED if removed else MENTION,
        verb=verb,
        mention=mention,
        fingerprint=hashlib.sha256(stamp.encode("utf-8", "replace")).hexdigest()[:16],
    )


def _ignored(ctx: _Ctx, thing: str, verb: str, reason: str) -> MetaItem:
    return MetaItem((ctx.obj, ctx.field, thing), IGNORED, verb=verb, reason=reason)


def _page_feed(ctx: _Ctx) -> MetaItem:
    """Page `feed` (and page `mention`, which shares its value schema)."""
    item = ctx.get_str("item").strip().lower()
    verb = _verb(ctx)
    post_id = ctx.get_id("post_id")
    comment_id = ctx.get_id("comment_id")
    if not item:
        item = "comment" if comment_id else "post"
    if item in _NOISE_ITEMS:
        return _ignored(ctx, comment_id or post_id, verb, item)
    if verb not in _ADD_VERBS and verb not in _REMOVE_VERBS:
        return _ignored(ctx, comment_id or post_id, verb, f"verb {verb}")
    author_id, author_name, _ = _author(ctx)
    text = ctx.get_str("message")
    extra: dict[str, Any] = {"item": item}
    if link := ctx.get_str("link"):
        extra["link"] = link
    common: dict[str, Any] = {
        "author_external_id": author_id,
        "author_name": author_name,
        "from_owner": bool(author_id) and author_id == ctx.owner_id,
    }
    if item == "comment":
        if not comment_id:
            field = f.child(ctx.path, "comment_id")
            raise PayloadError(f"{field} is required for a comment", field=field)
        parent_id = ctx.get_id("parent_id") or post_id
        return _mention(
            ctx,
            platform=Platform.FACEBOOK,
            external_id=comment_id,
            kind=Kind.COMMENT,
            verb=verb,
            text=text,
            extra=extra,
            parent_external_id=parent_id if parent_id != comment_id else "",
            root_external_id=post_id,
            **common,
        )
    if item in _POST_ITEMS:
        if not post_id:
            field = f.child(ctx.path, "post_id")
            raise PayloadError(f"{field} is required for a {item}", field=field)
        if item == "share" and not text.strip() and verb not in _REMOVE_VERBS:
            return _ignored(ctx, post_id, verb, "share without text")
        return _mention(
            ctx,
            platform=Platform.FACEBOOK,
            external_id=post_id,
            kind=Kind.POST,
            verb=verb,
            text=text,
            extra=extra,
            **common,
        )
    return _ignored(ctx, comment_id or post_id, verb, f"item {item}")


def _page_rating(ctx: _Ctx) -> MetaItem:
    item = ctx.get_str("item").strip().lower() or "rating"
    verb = _verb(ctx)
    story_id = ctx.get_id("open_graph_story_id")
    if item == "comment":  # a comment on a review/recommendation
        comment_id = ctx.get_id("comment_id")
        if not comment_id:
            field = f.child(ctx.path, "comment_id")
            raise PayloadError(f"{field} is required for a comment", field=field)
        author_id, author_name, _ = _author(ctx)
        parent_id = ctx.get_id("parent_id") or story_id
        return _mention(
            ctx,
            platform=Platform.FACEBOOK,
            external_id=comment_id,
            kind=Kind.COMMENT,
            verb=verb,
            text=ctx.get_str("message"),
            extra={"item": item},
            author_external_id=author_id,
            author_name=author_name,
            from_owner=bool(author_id) and author_id == ctx.owner_id,
            parent_external_id=parent_id,
            root_external_id=story_id or parent_id,
        )
    if item in _NOISE_ITEMS:
        return _ignored(ctx, story_id, verb, item)
    if verb not in _ADD_VERBS and verb not in _REMOVE_VERBS:
        return _ignored(ctx, story_id, verb, f"verb {verb}")
    author_id, author_name, _ = _author(ctx)
    external_id = story_id or (f"{ctx.owner_id}:rating:{author_id}" if author_id else "")
    if not external_id:
        field = f.child(ctx.path, "open_graph_story_id")
        raise PayloadError(f"{field} (or reviewer_id) is required for a rating", field=field)
    extra: dict[str, Any] = {"item": item}
    recommendation = ctx.get_str("recommendation_type").strip().lower()
    if recommendation:
        if recommendation not in ("positive", "negative"):
            field = f.child(ctx.path, "recommendation_type")
            raise PayloadError(f"{field} must be positive or negative", field=field)
        extra["recommendation"] = recommendation
    rating = f.stars(ctx.value.get("rating"), f.child(ctx.path, "rating"))
    return _mention(
        ctx,
        platform=Platform.FACEBOOK,
        external_id=external_id,
        kind=Kind.REVIEW,
        verb=verb,
        text=ctx.get_str("review_text"),
        extra=extra,
        rating=rating,
        author_external_id=author_id,
        author_name=author_name,
    )


def _ig_comment(ctx: _Ctx) -> MetaItem:
    comment_id = ctx.get_id("id") or ctx.get_id("comment_id")
    if not comment_id:
        field = f.child(ctx.path, "id")
        raise PayloadError(f"{field} is required for an Instagram comment", field=field)
    media = f.opt_dict(ctx.value, "media", ctx.path) or {}
    media_path = f.child(ctx.path, "media")
    media_id = f.opt_id(media, "id", media_path) or ctx.get_id("media_id")
    author_id, _, username = _author(ctx)
    extra: dict[str, Any] = {}
    if product := f.opt_str(media, "media_product_type", media_path):
        extra["media_product_type"] = product
    return _mention(
        ctx,
        platform=Platform.INSTAGRAM,
        external_id=comment_id,
        kind=Kind.COMMENT,
        verb=_verb(ctx),
        text=ctx.get_str("text"),
        extra=extra,
        author_external_id=author_id,
        author_handle=username,
        from_owner=bool(author_id) and author_id == ctx.owner_id,
        parent_external_id=ctx.get_id("parent_id") or media_id,
        root_external_id=media_id,
    )


def _ig_mention(ctx: _Ctx) -> MetaItem:
    """@mention of the account in someone's caption or comment: ids only, fetch the rest.

    The external id is the comment id (the media id for a caption), the same key an
    Instagram `comments` item has, so a comment seen through both fields is one mention.
    extra["needs_fetch"] marks the stub; parse_mentioned_* turn it into the mention.
    """
    media_id = ctx.get_id("media_id")
    comment_id = ctx.get_id("comment_id")
    if not media_id:
        field = f.child(ctx.path, "media_id")
        raise PayloadError(f"{field} is required for an Instagram mention", field=field)
    extra: dict[str, Any] = {"needs_fetch": True, "media_id": media_id}
    return _mention(
        ctx,
        platform=Platform.INSTAGRAM,
        external_id=comment_id or media_id,
        kind=Kind.COMMENT if comment_id else Kind.POST,
        verb="add",
        text="",
        extra=extra,
        parent_external_id=media_id if comment_id else "",
        root_external_id=media_id if comment_id else "",
    )


def needs_fetch(nm: NormalisedMention) -> bool:
    """An Instagram `mentions` stub whose text is still to be read from the Graph API."""
    return nm.platform == Platform.INSTAGRAM and bool(nm.extra.get("needs_fetch"))


def parse_mentioned_comment(body: Any, stub: NormalisedMention) -> NormalisedMention:
    """The Graph answer to mentioned_comment.comment_id(...) + the webhook stub -> mention."""
    comment = _fetched(body, "mentioned_comment", stub)
    path = "mentioned_comment"
    media = f.opt_dict(comment, "media", path) or {}
    media_path = f.child(path, "media")
    extra = _fetched_extra(stub, comment, path)
    if permalink := f.opt_str(media, "permalink", media_path):
        extra["media_permalink"] = permalink
    return _filled(
        stub,
        comment,
        path,
        text=f.opt_str(comment, "text", path),
        extra=extra,
        url=extra.get("media_permalink", ""),
    )


def parse_mentioned_media(body: Any, stub: NormalisedMention) -> NormalisedMention:
    """The Graph answer to mentioned_media.media_id(...) + the webhook stub -> mention."""
    media = _fetched(body, "mentioned_media", stub)
    path = "mentioned_media"
    extra = _fetched_extra(stub, media, path)
    if media_type := f.opt_str(media, "media_type", path):
        extra["media_type"] = media_type
    return _filled(
        stub,
        media,
        path,
        text=f.opt_str(media, "caption", path),
        extra=extra,
        url=f.opt_str(media, "permalink", path),
    )


def _fetched(body: Any, key: str, stub: NormalisedMention) -> Mapping[str, Any]:
    data = f.expect_dict(body, "")
    if data.get(key) is None:
        raise PayloadError(f"{key} is missing from the Graph API answer", field=key)
    obj = f.expect_dict(data[key], key)
    fetched_id = f.opt_id(obj, "id", key)
    if fetched_id and fetched_id != stub.external_id:
        field = f.child(key, "id")
        raise PayloadError(f"{field} is {fetched_id}, not {stub.external_id}", field=field)
    return obj


def _fetched_extra(stub: NormalisedMention, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
    extra = {k: v for k, v in stub.extra.items() if k not in ("needs_fetch", "posted_at_source")}
    extra["fetched"] = path
    likes = obj.get("like_count")
    if isinstance(likes, int) and not isinstance(likes, bool):
        extra["like_count"] = likes
    return extra


def _filled(
    stub: NormalisedMention,
    obj: Mapping[str, Any],
    path: str,
    *,
    text: str,
    extra: dict[str, Any],
    url: str,
) -> NormalisedMention:
    posted_at = stub.posted_at
    if obj.get("timestamp") is not None:
        posted_at = f.parse_datetime(obj["timestamp"], f.child(path, "timestamp"))
    elif "posted_at_source" in stub.extra:
        extra["posted_at_source"] = stub.extra["posted_at_source"]
    return dataclasses.replace(
        stub,
        text=f.cap_text(text, extra),
        posted_at=posted_at,
        # Graph gives the author's username only (no IG-scoped id) for a mention.
        author_handle=f.opt_str(obj, "username", path),
        url=url,
        extra=extra,
    )
