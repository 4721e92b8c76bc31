"""Step 1: accept a payload, store it raw, then run it through the pipeline, once.

Every source hands its payload to `raw_payload_accept` (webhook deliveries split per
practice, API pushes, polls, import chunks). `raw_payload_process` claims the stored
row and runs the next steps: `parse.parse_raw` (step 2), then `store.mentions_ingest`
(step 3, which calls listening, analysis and routing in turn). A failure is kept on the
row, retried by itself when it is temporary, and re-processable by a person.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Iterable
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from inbox.models import RawPayload
from inbox.pipeline.parse import parse_raw, platform_reason
from inbox.pipeline.store import mentions_ingest
from inbox.platforms.base import PayloadError
from inbox.platforms.clients import PlatformError
from reputation.audit.services import audit_record
from reputation.core.pg import pg_text
from reputation.core.tasks import enqueue
from tenants.selectors import current_practice

log = logging.getLogger(__name__)


def raw_payload_accept(
    *,
    source: str,
    platform: str,
    body: str,
    headers: dict[str, str] | None = None,
    process: bool = True,
) -> RawPayload:
    """Store an inbound payload before anything else, and queue its processing.

    The caller answers 2xx once this returns: the row is committed with the request
    (ATOMIC_REQUESTS is off, so autocommit) and the worker does the rest.
    """
    raw = RawPayload.objects.create(
        source=source, platform=platform, body=pg_text(body), headers=headers or {}
    )
    if process:
        enqueue("inbox.pipeline.accept.raw_payload_process", raw.pk)
    return raw


def raw_payload_push(
    *, source: str, platform: str, body: str, headers: dict[str, str], actor: Any
) -> RawPayload:
    """A payload pushed through the API by an integration: accepted like any other, and
    the push itself audited under the API key or user that sent it."""
    raw = raw_payload_accept(source=source, platform=platform, body=body, headers=headers)
    audit_record(
        action="raw.accepted",
        actor=actor,
        obj=raw,
        data={"source": source, "bytes": len(body.encode("utf-8"))},
    )
    return raw


# Automatic retries of a payload whose processing failed for a temporary reason (a
# platform outage or rate limit, a lost database connection): the wait before each
# retry. After the last one the payload stays failed, with what to do, for a person.
RETRY_BACKOFF: tuple[dt.timedelta, ...] = tuple(
    dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360)
)


MAX_RETRIES = len(RETRY_BACKOFF)


# A worker's claim on a payload it processes. Far longer than a task may run
# (Q_CLUSTER["timeout"]): a claim older than this belonged to a worker that died.
PROCESSING_LEASE = dt.timedelta(minutes=10)


# A payload still pending after this long lost its task (the worker died after the commit).
PENDING_GRACE = dt.timedelta(minutes=1)


def raw_payload_process(raw_id: int) -> RawPayload:
    """Parse and ingest one pending raw payload, once.

    Safe to run twice and concurrently: the row is claimed first (compare-and-swap from
    pending to processing, so of two workers only one gets it), and mentions
    de-duplicate on (platform, external id). A row that is not pending (done, failed and
    waiting for its retry, or claimed by another worker) is returned as it is.
    """
    claimed = RawPayload.objects.filter(pk=raw_id, status=RawPayload.Status.PENDING).update(
        **_claim(timezone.now(), retry=False)
    )
    if not claimed:
        return RawPayload.objects.get(pk=raw_id)
    return _raw_payload_run(raw_id)


def _claim(now: dt.datetime, *, retry: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": RawPayload.Status.PROCESSING,
        "attempts": F("attempts") + 1,
        "next_attempt_at": now + PROCESSING_LEASE,  # the sweep takes it back after this
    }
    if retry:
        values["retries"] = F("retries") + 1
    return values


def _raw_payload_run(raw_id: int) -> RawPayload:
    """Process a payload this worker has claimed, and record how it ended."""
    raw = RawPayload.objects.get(pk=raw_id)
    try:
        items, errors = parse_raw(raw)
        result = mentions_ingest(items, raw=raw)
    except PayloadError as exc:
        log.warning("raw payload %s rejected: %s", raw_id, exc)
        return _raw_payload_finish(raw, error=_error_text([exc]))
    except PlatformError as exc:  # e.g. the review a Pub/Sub notification names
        log.warning("raw payload %s: %s", raw_id, exc)
        return _raw_payload_finish(
            raw,
            error=platform_reason(exc),
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        )
    except Exception as exc:  # kept visible on the row, re-processable, never lost
        log.exception("raw payload %s failed", raw_id)
        return _raw_payload_finish(
            raw,
            error=f"{type(exc).__name__}: {exc}",
            # A dropped database connection clears by itself; a bug does not.
            retryable=isinstance(exc, OperationalError | InterfaceError),
        )
    # Items that could not be fetched for a temporary reason (an Instagram outage) make
    # the whole payload worth retrying; the rest de-duplicates on the retry.
    return _raw_payload_finish(
        raw,
        error=_error_text(errors),
        retryable=any(getattr(e, "retryable", False) for e in errors),
        retry_after=max((getattr(e, "retry_after", None) or 0 for e in errors), default=0),
        processed_at=timezone.now(),
        mentions_created=result.created,
        duplicates=result.duplicates,
        skipped=result.skipped,
    )


def _raw_payload_finish(
    raw: RawPayload,
    *,
    error: str,
    retryable: bool = False,
    retry_after: float | None = None,
    **fields: Any,
) -> RawPayload:
    """Processed, failed with a retry scheduled, or failed for a person to look at."""
    now = timezone.now()
    values: dict[str, Any] = {
        "status": RawPayload.Status.FAILED if error else RawPayload.Status.PROCESSED,
        "error": error[:5000],
        "retryable": bool(error) and retryable,
        "next_attempt_at": None,
        **fields,
    }
    if error and retryable and raw.retries < MAX_RETRIES:
        wait = max(RETRY_BACKOFF[raw.retries], dt.timedelta(seconds=retry_after or 0))
        # Capped; spread by up to 20% so one outage's payloads do not all return at once.
        wait = min(wait, RETRY_BACKOFF[-1]) * (1 + random.random() / 5)  # noqa: S311
        values["next_attempt_at"] = now + wait
        log.warning(
            "raw payload %s: temporary failure, automatic retry %d of %d at %s",
            raw.pk,
            raw.retries + 1,
            MAX_RETRIES,
            values["next_attempt_at"].isoformat(timespec="seconds"),
        )
    elif error and retryable:
        values["error"] = (error[:4000] + "\n" + _gave_up(raw)).strip()
        log.error(
            "raw payload %s: still failing after %d attempts, left failed for a person: %s",
            raw.pk,
            raw.attempts,
            error[:300],
        )
    # Only while our claim holds (same attempt): a worker that ran past its lease must
    # not overwrite the outcome of the one that took the payload over.
    mine = RawPayload.objects.filter(
        pk=raw.pk, status=RawPayload.Status.PROCESSING, attempts=raw.attempts
    )
    if not mine.update(**values):
        log.warning("raw payload %s: claim taken over by another worker; result dropped", raw.pk)
    return RawPayload.objects.get(pk=raw.pk)


def _reprocess_hint(raw: RawPayload) -> str:
    try:
        slug = current_practice().slug
    except Exception:  # noqa: BLE001 - only the hint's wording depends on it
        slug = "<practice>"
    return (
        f"re-process it: `manage.py reprocess {slug} --id {raw.pk}`, or the admin action"
        " “Re-process the selected payloads”."
    )


def _gave_up(raw: RawPayload) -> str:
    return (
        f"Gave up after {raw.attempts} attempts ({MAX_RETRIES} automatic retries over about"
        f" {sum(RETRY_BACKOFF, dt.timedelta()).total_seconds() / 3600:.0f} h): the temporary"
        " error above did not clear. Once the platform answers again (or the cause is"
        " fixed), " + _reprocess_hint(raw)
    )


def raw_payloads_due(at: dt.datetime) -> QuerySet[RawPayload]:
    """Payloads the sweep should take at `at`: pending past PENDING_GRACE, or whose
    next_attempt_at has come. Only failed-and-retrying and processing rows have one, so
    that half reads the small partial index alone."""
    return RawPayload.objects.filter(
        Q(status=RawPayload.Status.PENDING, received_at__lt=at - PENDING_GRACE)
        | Q(next_attempt_at__lte=at)
    )


def raw_payloads_due_process(
    *, now: dt.datetime | None = None, limit: int = 500, budget_s: float = 50.0
) -> dict[str, int]:
    """The sweep: process payloads whose time has come, one at a time.

    Due: pending past PENDING_GRACE (its task was lost), failed for a temporary reason
    whose retry time has come, or claimed by a worker whose lease ran out (it died). Each
    is claimed with SELECT ... FOR UPDATE SKIP LOCKED in a short transaction, then
    processed outside it, so concurrent sweeps and workers never process one twice.
    Stops after `budget_s` (below the task timeout); the next sweep carries on.
    """
    started = time.monotonic()
    counts = {"pending": 0, "retried": 0, "reclaimed": 0, "gave_up": 0}
    kinds = {
        RawPayload.Status.PENDING: "pending",
        RawPayload.Status.FAILED: "retried",
        RawPayload.Status.PROCESSING: "reclaimed",
    }
    for _ in range(limit):
        if time.monotonic() - started > budget_s:
            break
        at = now or timezone.now()
        with transaction.atomic():
            rows = list(
                raw_payloads_due(at)
                .select_for_update(skip_locked=True)
                .only("pk", "status", "retries", "attempts")[:1]
            )
            if not rows:
                break
            raw = rows[0]
            if raw.status == RawPayload.Status.PROCESSING and raw.retries >= MAX_RETRIES:
                # Its processing kept dying (worker killed, task timeout): stop there.
                RawPayload.objects.filter(pk=raw.pk).update(
                    status=RawPayload.Status.FAILED,
                    retryable=False,
                    next_attempt_at=None,
                    error=(
                        f"Processing never finished: {raw.attempts} attempts were cut off"
                        " (the worker died or the task timed out). Look for this payload in"
                        " the worker log, fix the cause, then " + _reprocess_hint(raw)
                    ),
                )
                log.error("raw payload %s: processing never finished; given up", raw.pk)
                counts["gave_up"] += 1
                continue
            kind = kinds[raw.status]
            RawPayload.objects.filter(pk=raw.pk).update(
                **_claim(at, retry=raw.status != RawPayload.Status.PENDING)
            )
        counts[kind] += 1
        _raw_payload_run(raw.pk)
    return counts


def _error_text(errors: Iterable[PayloadError]) -> str:
    return "\n".join(
        f"{e.field}: {e.message}" if getattr(e, "field", None) else str(e) for e in errors
    )[:5000]


def raw_payload_reprocess(*, raw: RawPayload, actor: Any = None) -> RawPayload:
    """Process again now, with a fresh round of automatic retries. A payload a worker is
    processing right now is left to that worker (returned as it is)."""
    reset = (
        RawPayload.objects.filter(pk=raw.pk)
        .exclude(status=RawPayload.Status.PROCESSING, next_attempt_at__gt=timezone.now())
        .update(
            status=RawPayload.Status.PENDING,
            error="",
            retryable=False,
            retries=0,
            next_attempt_at=None,
        )
    )
    if not reset:
        return RawPayload.objects.get(pk=raw.pk)
    audit_record(action="raw.reprocess", actor=actor, obj=raw)
    return raw_payload_process(raw.pk)
