"""Service-wide webhooks -> the practices they concern.

Meta and Google post to one URL for the whole service and name only the page or the
location. The body is stored first (tenants.WebhookDelivery). A routing task then takes
every delivery that is waiting (not just its own: a micro-batch), splits the bodies by
practice, stores one RawPayload per practice and ingests it in the same task.

Why batch: the pipeline costs ~1 ms per mention in a batch of 200 against ~35 ms for a
batch of one (bench/README.md), and each queued task has its own broker overhead.

One routing task at a time (single flight). Queuing a task per webhook left the queue
growing by ~65 tasks/s at 100 webhooks/s (almost all of them found nothing left to
route) and put the threat emails' tasks behind that backlog. So a flag row in the
public schema (tenants.TaskFlag, one per django-q queue) says "a routing task is queued
or running since T":

- `delivery_accept` commits the delivery, then reads the flag. Only if it is clear (or
  stale: older than FLAG_STALE_S, a task that died) does it take it with a
  compare-and-swap (an upsert that only writes a clear or stale flag) and queue the
  task, in one transaction: the ORM broker's queue is a table in the same database, so
  there is never a flag without its task, nor a second task for a flag already taken.
- The task drains until a batch comes back short, then *releases the flag first and
  looks for pending deliveries second*. If it finds any, it takes the flag back and goes
  on draining; if someone else took the flag meanwhile, their task will drain.
  The race this closes: the web commits delivery D and then sees the flag still set,
  so it queues nothing. Then the task's release came after that read, so its look comes
  after D's commit and finds D. If the web read the flag after the release, it took the
  flag and queued a task itself. Either way D has a drain after it.
- A task routes for at most TASK_BUDGET_S and then queues its own successor, keeping the
  flag (django-q kills a task after Q_CLUSTER["timeout"]). On an error it clears the
  flag, so the next webhook queues a fresh task at once instead of waiting out
  FLAG_STALE_S.
- The once-a-minute `deliveries_sweep` stays the safety net for anything left pending
  (a web process killed between commit and queueing, a flag left by a killed worker).

Why not advisory locks: `pg_try_advisory_xact_lock` in the task would stop two drains
from running at once, but that is already harmless (rows are claimed with SKIP LOCKED,
mentions de-duplicate). It cannot tell the web process that a task is *queued*, which is
the question here: an advisory lock lives only as long as the session or transaction
that holds it, and a task waiting in the broker has neither. A flag row is needed for
that anyway, and then an advisory lock adds nothing.

Duplicates are allowed and harmless: a stale-flag takeover while the old task still
runs, or a task releasing a flag that another took over, only costs one extra task.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task
from django_tenants.utils import get_public_schema_name, schema_context

from inbox.pipeline.accept import raw_payload_accept, raw_payload_process
from inbox.platforms import google
from inbox.platforms.base import PayloadError, Platform
from reputation.core.payload import payload_json
from reputation.core.pg import pg_text
from tenants.models import AccountRoute, TaskFlag, WebhookDelivery

log = logging.getLogger(__name__)

META_OBJECT_PLATFORM = {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}
# Deliveries one routing task takes at most (Meta batches up to 1,000 changes each).
DRAIN_LIMIT = 200
ROUTE_TASK = "inbox.sources.deliveries.delivery_route"
# A flag not refreshed for this long belongs to a task that died (its worker was killed,
# or the task was lost): the next webhook, or the sweep, takes it over. A running task
# refreshes it after every batch.
FLAG_STALE_S = 60
# One task routes for at most this long, then queues its successor: well under
# Q_CLUSTER["timeout"] (120 s), after which django-q kills the task.
TASK_BUDGET_S = 20.0


def delivery_accept(*, platform: str, body: str, headers: dict[str, str]) -> WebhookDelivery:
    """Store a webhook body; after commit, make sure a routing task will see it."""
    delivery = WebhookDelivery.objects.create(
        platform=platform, body=pg_text(body), headers=headers
    )
    transaction.on_commit(route_kick)
    return delivery


def route_kick() -> bool:
    """Queue a routing task unless one is already queued or running; True if queued.

    Call only after the deliveries to route are committed (see the module docstring).
    """
    if _flag_held():  # the common case under load: one read, no row lock
        return False
    with transaction.atomic():
        if not _flag_take():
            return False
        # Same transaction as the flag (ORM broker): both commit, or neither does.
        async_task(ROUTE_TASK)
    return True


# ---------------------------------------------------------------- the flag


def _flag_name() -> str:
    # One flag per django-q queue: a task waiting on another cluster's queue (a bench's,
    # another deployment's on the same database) is not one this queue's workers run.
    return f"webhook-routing:{Conf.CLUSTER_NAME}"


def _flag_table() -> str:
    return f'"{get_public_schema_name()}"."{TaskFlag._meta.db_table}"'


def _flag_held() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {_flag_table()} WHERE name = %s"
            " AND queued_at >= clock_timestamp() - make_interval(secs => %s)",
            [_flag_name(), FLAG_STALE_S],
        )
        return cursor.fetchone() is not None


def _flag_take() -> bool:
    """Compare-and-swap: set the flag if it is clear or stale; True if we set it.

    An upsert, so a missing row (a fresh or flushed database) is simply created.
    """
    table = _flag_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS flag (name, queued_at) VALUES (%s, clock_timestamp())"
            " ON CONFLICT (name) DO UPDATE SET queued_at = EXCLUDED.queued_at"
            " WHERE flag.queued_at IS NULL"
            " OR flag.queued_at < clock_timestamp() - make_interval(secs => %s)"
            " RETURNING 1",
            [_flag_name(), FLAG_STALE_S],
        )
        return cursor.fetchone() is not None


def _flag_set(*, held: bool) -> None:
    """Refresh (held) or clear the flag, whoever holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_flag_table()} SET queued_at ="
            f" {'clock_timestamp()' if held else 'NULL'} WHERE name = %s",
            [_flag_name()],
        )


def route_flag_release() -> None:
    """Clear the flag, e.g. after emptying the broker's queue by hand (bench, tests):
    a flag whose task is gone would hold routing back until it goes stale."""
    _flag_set(held=False)


def _pending_unclaimed() -> bool:
    """Is a delivery waiting that no drain is working on? Rows another drain has
    locked are skipped: that drain routes them (and if it fails, the sweep does)."""
    table = WebhookDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{get_public_schema_name()}"."{table}" WHERE status = %s'
            " LIMIT 1 FOR UPDATE SKIP LOCKED",
            [WebhookDelivery.Status.PENDING],
        )
        return cursor.fetchone() is not None


# ---------------------------------------------------------------- routing


def _practice_for(platform: str, external_id: str):
    route = (
        AccountRoute.objects.select_related("practice")
        .filter(platform=platform, external_id=external_id)
        .first()
    )
    return route.practice if route else None


def delivery_route(delivery_id: int | None = None) -> dict[str, int]:
    """The routing task: drain until nothing is waiting, then hand the flag back.

    `delivery_id` is ignored; tasks queued before single flight still carry one.
    Safe to run twice and concurrently (see `deliveries_drain`).
    """
    totals = {"routed": 0, "failed": 0, "payloads": 0, "batches": 0}
    deadline = time.monotonic() + TASK_BUDGET_S
    try:
        while True:
            batch = deliveries_drain()
            for key in ("routed", "failed", "payloads"):
                totals[key] += batch[key]
            totals["batches"] += 1
            if batch["claimed"] < DRAIN_LIMIT:
                # Release first, look second (the race in the module docstring).
                _flag_set(held=False)
                if not _pending_unclaimed() or not _flag_take():
                    return totals
            else:
                _flag_set(held=True)  # still working: not stale
            if time.monotonic() >= deadline:
                with transaction.atomic():
                    _flag_set(held=True)
                    async_task(ROUTE_TASK)  # the successor inherits the flag
                return totals
    except BaseException:
        # Do not leave routing waiting for the flag to go stale: the next webhook queues
        # a fresh task (django-q also retries this one after Q_CLUSTER["retry"]).
        with contextlib.suppress(Exception):
            _flag_set(held=False)
        raise


def deliveries_drain() -> dict[str, int]:
    """Route the pending deliveries (up to DRAIN_LIMIT), then ingest per practice.

    Safe to run twice and concurrently: deliveries are claimed with SKIP LOCKED, and
    mentions de-duplicate. A delivery another drain already routed is simply not found.
    """
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
    return {"claimed": len(pending), "routed": routed, "failed": failed, "payloads": len(raws)}


def _split_one(delivery: WebhookDelivery, parts: dict) -> str:
    """Add one delivery's content to `parts`; return the error text ('' when routed)."""
    try:
        body = payload_json(delivery.body)
        if delivery.platform == "meta":
            unrouted = _split_meta(body, delivery.pk, parts)
        else:
            unrouted = _split_google(body, delivery, parts)
    except PayloadError as exc:
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


def _split_google(body, delivery: WebhookDelivery, parts: dict) -> set[str]:
    note = google.parse_pubsub_push(body)
    location = google.google_location(note)
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
    deliveries_drain()  # here and now, for the person who asked; not the task's flag
    delivery.refresh_from_db()
    return delivery


def deliveries_sweep() -> int:
    """Route deliveries left pending (a web process died between the commit and queueing
    the task, a worker died holding the flag, the queue lost the task). Run by a
    schedule in the public schema."""
    stale = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        received_at__lt=timezone.now() - timezone.timedelta(minutes=1),
    ).exists()
    if not stale:
        return 0
    log.warning("webhook deliveries pending for over a minute: routing them now")
    if _flag_take():  # nobody holds the flag (or it went stale): route as the task does
        return delivery_route()["routed"]
    # A task holds a fresh flag; drain once anyway, as a safety net should.
    return deliveries_drain()["routed"]
