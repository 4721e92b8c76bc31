"""Service-wide webhooks -> the practices they concern.

Meta and Google post to one URL for the whole service and name only the page or the
location. The body is stored first (tenants.WebhookDelivery); this module then splits
it by practice into each practice's RawPayload, which the practice's worker task
processes.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task
from django_tenants.utils import schema_context

from inbox.platforms import google
from inbox.platforms.base import PayloadError, Platform
from tenants.models import AccountRoute, WebhookDelivery

log = logging.getLogger(__name__)

META_OBJECT_PLATFORM = {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}


def delivery_accept(*, platform: str, body: str, headers: dict[str, str]) -> WebhookDelivery:
    from inbox.services import pg_text

    delivery = WebhookDelivery.objects.create(
        platform=platform, body=pg_text(body), headers=headers
    )
    transaction.on_commit(lambda: async_task("inbox.routing.delivery_route", delivery.pk))
    return delivery


def _practice_for(platform: str, external_id: str):
    route = (
        AccountRoute.objects.select_related("practice")
        .filter(platform=platform, external_id=external_id)
        .first()
    )
    return route.practice if route else None


def delivery_route(delivery_id: int) -> WebhookDelivery:
    """Split one delivery by practice. Safe to repeat: mentions de-duplicate."""
    from inbox.services import raw_payload_accept

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    try:
        body = json.loads(delivery.body)
        if delivery.platform == "meta":
            parts, unrouted = _split_meta(body)
            source = "webhook:meta"
        else:
            parts, unrouted = _split_google(body, delivery.body)
            source = "webhook:google"
    except (json.JSONDecodeError, PayloadError) as exc:
        return _finish(delivery, error=f"cannot route: {exc}")
    for practice, (platform, part) in parts.items():
        with schema_context(practice.schema_name), transaction.atomic():
            raw_payload_accept(
                source=source,
                platform=platform,
                body=part,
                headers={"delivery": str(delivery.pk)},
            )
    error = ""
    if unrouted:
        error = "no practice has connected: " + ", ".join(sorted(unrouted))
        log.warning("webhook delivery %s: %s", delivery.pk, error)
    return _finish(delivery, error=error)


def _finish(delivery: WebhookDelivery, *, error: str) -> WebhookDelivery:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED if error else WebhookDelivery.Status.ROUTED,
        error=error,
        routed_at=timezone.now(),
    )
    delivery.refresh_from_db()
    return delivery


def _split_meta(body) -> tuple[dict, set[str]]:
    if not isinstance(body, dict) or body.get("object") not in META_OBJECT_PLATFORM:
        raise PayloadError("not a Meta page/instagram webhook", field="object")
    platform = META_OBJECT_PLATFORM[body["object"]]
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("entry must be an array", field="entry")
    grouped: dict = defaultdict(list)
    unrouted: set[str] = set()
    for entry in entries:
        owner = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        practice = _practice_for(platform, owner) if owner else None
        if practice is None:
            unrouted.add(f"{platform} {owner or '(no id)'}")
            continue
        grouped[practice].append(entry)
    parts = {
        practice: (platform, json.dumps({"object": body["object"], "entry": own}))
        for practice, own in grouped.items()
    }
    return parts, unrouted


def _split_google(body, raw_body: str) -> tuple[dict, set[str]]:
    note = google.parse_pubsub_push(body)
    location = google_location(note)
    practice = _practice_for(Platform.GOOGLE, location) if location else None
    if practice is None:
        return {}, {f"google {location or '(no location)'}"}
    return {practice: (Platform.GOOGLE, raw_body)}, set()


def google_location(note: google.GoogleNotification) -> str:
    # "accounts/1/locations/2/reviews/3" names its location too.
    return note.location_name or (note.review_name or "").split("/reviews/")[0]


def delivery_reject(*, delivery: WebhookDelivery, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, error=error
    )


def delivery_reroute(*, delivery: WebhookDelivery) -> WebhookDelivery:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, error=""
    )
    return delivery_route(delivery.pk)
