"""Platform payloads shared by several test modules, shaped as the platforms document them."""

from __future__ import annotations

from typing import Any


def meta_feed_comment(
    *, page_id: str, post_id: str, comment_id: str, message: str, now: int
) -> dict[str, Any]:
    """One new comment on a page's post, as Meta's page `feed` webhook sends it."""
    value = {
        "from": {"id": "6234987712345678", "name": "Jane Doe"},
        "message": message,
        "post_id": post_id,
        "comment_id": comment_id,
        "created_time": now,
        "item": "comment",
        "parent_id": post_id,
        "verb": "add",
    }
    change = {"field": "feed", "value": value}
    return {"object": "page", "entry": [{"id": page_id, "time": now, "changes": [change]}]}
