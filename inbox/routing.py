"""Service-wide webhooks -> the practices they concern.

Meta and Google post to one URL for the whole service and name only the page or the
location. The body is stored first (tenants.WebhookDelivery). A routing task then takes
every delivery that is waiting (not just its own: a micro-batch), splits the bodies by
practice, stores one RawPayload per practice and ingests it in the same task.

Why batch: the pipeline costs ~1 ms per mention in a batch of 200 against ~35 ms for a
batch of one (bench/README.md), and each queued task has its own broker overhead.
Under load, one task drains what the others queued; at rest, a batch is one webhook.
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
# Deliveries one routing task takes at most (Meta batches up to 1,000 changes each).
DRAIN_LIMIT = 200


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


def delivery_route(delivery_id: int | None = None) -> dict[str, int]:
    """Route every pending delivery (up to DRAIN_LIMIT), then ingest per practice.

    Safe to run twice and concurrently: deliveries are claimed with SKIP LOCKED, and
    mentions de-duplicate. A delivery another task already routed is simply not found.
    """
    from inbox.services import raw_payload_accept, raw_payload_process

    # (practice, source, platform, meta object) -> entries / google bodies, delivery ids
    parts: dict[tuple, dict] = defaultdict(lambda: {"entries": [], "bodies": [], "ids": []})
    routed = failed = 0
    with transaction.atomic():
        pending = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING)
            .order_by("pk")[:DRAIN_LIMIT]
        )
        for delivery in pending:
            error = _split_one(delivery, parts)
            _finish(delivery, error=error)
            failed += bool(error)
            routed += not error
        # Raw first: each practice's part is stored in the same commit that marks the
        # deliveries routed, so a crash after it loses nothing (the sweep ingests it).
        raws = []
        for (practice, source, platform, obj), part in parts.items():
            with schema_context(practice.schema_name):
                bodies = part["bodies"] or [json.dumps({"object": obj, "entry": part["entries"]})]
                for body in bodies:
                    raw = raw_payload_accept(
                        source=source,
                        platform=platform,
                        body=body,
                        headers={"deliveries": part["ids"]},
                        process=False,
                    )
                    raws.append((practice.schema_name, raw.pk))
    for schema, raw_id in raws:
        with schema_context(schema):
            raw_payload_process(raw_id)
    return {"routed": routed, "failed": failed, "payloads": len(raws)}


def _split_one(delivery: WebhookDelivery, parts: dict) -> str:
    """Add one delivery's content to `parts`; return the error text ('' when routed)."""
    try:
        body = json.loads(delivery.body)
        if delivery.platform == "meta":
            unrouted = _split_meta(body, delivery.pk, parts)
        else:
            unrouted = _split_google(body, delivery, parts)
    except (json.JSONDecodeError, PayloadError) as exc:
        return f"cannot route: {exc}"
    if unrouted:
        error = "no practice has connected: " + ", ".join(sorted(unrouted))
        log.warning("webhook delivery %s: %s", delivery.pk, error)
        return error
    return ""


def _finish(delivery: WebhookDelivery, *, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED if error else WebhookDelivery.Status.ROUTED,
        error=error,
        routed_at=timezone.now(),
    )


def _split_meta(body, delivery_id: int, parts: dict) -> set[str]:
    if not isinstance(body, dict) or body.get("object") not in META_OBJECT_PLATFORM:
        raise PayloadError("not a Meta page/instagram webhook", field="object")
    platform = META_OBJECT_PLATFORM[body["object"]]
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("entry must be an array", field="entry")
    unrouted: set[str] = set()
    for entry in entries:
        owner = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        practice = _practice_for(platform, owner) if owner else None
        if practice is None:
            unrouted.add(f"{platform} {owner or '(no id)'}")
            continue
        part = parts[(practice, "webhook:meta", platform, body["object"])]
        part["entries"].append(entry)
        if delivery_id not in part["ids"]:
            part["ids"].append(delivery_id)
    return unrouted


def google_location(note: google.GoogleNotification) -> str:
    # "accounts/1/locations/2/reviews/3" names its location too.
    return note.location_name or (note.review_name or "").split("/reviews/")[0]


def _split_google(body, delivery: WebhookDelivery, parts: dict) -> set[str]:
    note = google.parse_pubsub_push(body)
    location = google_location(note)
    practice = _practice_for(Platform.GOOGLE, location) if location else None
    if practice is None:
        return {f"google {location or '(no location)'}"}
    # Each notification names one review to fetch: one payload per notification.
    part = parts[(practice, "webhook:google", Platform.GOOGLE, "")]
    part["bodies"].append(delivery.body)
    part["ids"].append(delivery.pk)
    return set()


def delivery_reject(*, delivery: WebhookDelivery, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, error=error
    )


def delivery_reroute(*, delivery: WebhookDelivery) -> WebhookDelivery:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, error=""
    )
    delivery_route(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def deliveries_sweep() -> int:
    """Route deliveries left pending (a worker died between the commit and the task,
    or the queue lost the task). Run by a schedule in the public schema."""
    stale = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        received_at__lt=timezone.now() - timezone.timedelta(minutes=1),
    ).exists()
    return delivery_route()["routed"] if stale else 0
