"""X (Twitter) API v2 tweets -> mentions.

Source: developer.x.com/en/docs/x-api/data-dictionary/object-model/tweet and
.../tweets/search/api-reference/get-tweets-search-recent. A response is
{data: [Tweet], includes: {users: [{id, name, username}], tweets: [...]}, meta: {newest_id,
oldest_id, result_count, next_token}, errors: [...]}; `data` is absent when nothing matched.
Tweet: id, text, author_id, created_at ("2021-01-06T18:40:40.000Z"), conversation_id (id of
the conversation's first tweet), in_reply_to_user_id, referenced_tweets [{type: replied_to|
quoted|retweeted, id}], note_tweet {text} (full text of posts longer than 280 characters).
"""

from __future__ import annotations

from typing import Any

from inbox.platforms import _fields as f
from inbox.platforms.base import Kind, NormalisedMention, Platform

_REFERENCE_TYPES = frozenset({"replied_to", "quoted", "retweeted"})


def _users(body: Any) -> dict[str, tuple[str, str]]:
    includes = f.opt_dict(body, "includes", "") or {}
    users: dict[str, tuple[str, str]] = {}
    for i, user in enumerate(f.opt_list(includes, "users", "includes")):
        path = f.item("includes.users", i)
        user = f.expect_dict(user, path)
        users[f.req_id(user, "id", path)] = (
            f.opt_str(user, "name", path),
            f.opt_str(user, "username", path),
        )
    return users


def parse_tweets(obj: Any, *, account_external_id: str = "") -> list[NormalisedMention]:
    """A v2 tweets response (search/recent, mentions timeline, lookup) -> mentions.

    `account_external_id` is the practice's X user id when known: tweets it wrote get
    from_owner=True. Replies are comments, other tweets posts. root_external_id is the
    conversation_id ("" for the conversation's first tweet itself).
    """
    body = f.expect_dict(obj, "")
    users = _users(body)
    mentions = []
    for i, tweet in enumerate(f.opt_list(body, "data", "")):
        path = f.item("data", i)
        tweet = f.expect_dict(tweet, path)
        tweet_id = f.req_id(tweet, "id", path)
        text = f.req_str(tweet, "text", path, allow_empty=True)
        extra: dict[str, Any] = {}
        note = f.opt_dict(tweet, "note_tweet", path)
        if note is not None and (long_text := f.opt_str(note, "text", f.child(path, "note_tweet"))):
            text = long_text
        posted_at = f.parse_datetime(tweet.get("created_at"), f.child(path, "created_at"))
        author_id = f.opt_id(tweet, "author_id", path)
        name, username = users.get(author_id, ("", ""))

        parent = ""
        for j, ref in enumerate(f.opt_list(tweet, "referenced_tweets", path)):
            ref_path = f.item(f.child(path, "referenced_tweets"), j)
            ref = f.expect_dict(ref, ref_path)
            ref_type = f.req_str(ref, "type", ref_path)
            ref_id = f.req_id(ref, "id", ref_path)
            if ref_type == "replied_to":
                parent = ref_id
            elif ref_type in _REFERENCE_TYPES:
                extra[f"{ref_type}_id"] = ref_id
        if reply_to_user := f.opt_id(tweet, "in_reply_to_user_id", path):
            extra["in_reply_to_user_id"] = reply_to_user
        if lang := f.opt_str(tweet, "lang", path):
            extra["lang"] = lang
        conversation = f.opt_id(tweet, "conversation_id", path)

        url = (
            f"https://x.com/{username}/status/{tweet_id}"
            if username
            else f"https://x.com/i/web/status/{tweet_id}"
        )
        mentions.append(
            NormalisedMention(
                platform=Platform.X,
                external_id=tweet_id,
                kind=Kind.COMMENT if parent else Kind.POST,
                text=f.cap_text(text, extra),
                posted_at=posted_at,
                author_external_id=author_id,
                author_name=name,
                author_handle=username,
                url=url,
                account_external_id=account_external_id,
                parent_external_id=parent,
                root_external_id=conversation if conversation != tweet_id else "",
                from_owner=bool(account_external_id) and author_id == account_external_id,
                extra=extra,
            )
        )
    return mentions
