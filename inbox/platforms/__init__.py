"""Platform adapters: pure functions from a platform's payload to NormalisedMention.

Modules: google (Business Profile reviews, Pub/Sub notifications), meta (Facebook Page and
Instagram webhooks), x (API v2 tweets), yelp (Fusion reviews), tripadvisor (Content API
reviews), feeds (RSS/Atom via feedparser), generic (our JSON / JSON Lines format), csvfmt
(CSV import) and clients (httpx clients that fetch the raw payloads).

Adapters never touch the database or the network and raise only PayloadError for bad
input; the clients raise only PlatformError (retryable or not) for failed calls.
"""

from inbox.platforms.base import Kind, NormalisedMention, PayloadError, Platform

__all__ = ["Kind", "NormalisedMention", "PayloadError", "Platform"]
