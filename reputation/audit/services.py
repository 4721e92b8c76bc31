"""Recording audit events. Every app writes its trail through `audit_record` (one event)
or `audit_records_bulk` (a batch, by COPY), inside the transaction of the change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from reputation.audit.chain import chain_lock_and_tail, data_json, event_hash
from reputation.audit.context import current_request
from reputation.audit.models import AuditCheckpoint, AuditEvent

SYSTEM = "system"


def _actor(actor: Any, actor_label: str) -> tuple[int | None, str]:
    if not actor_label:
        actor_label = getattr(actor, "email", None) or (str(actor) if actor else SYSTEM)
    user_id = actor.pk if getattr(actor, "pk", None) and hasattr(actor, "email") else None
    return user_id, actor_label[:200]


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_label: str = "",
    obj: Any = None,
    data: dict | None = None,
) -> AuditEvent:
    user_id, label = _actor(actor, actor_label)
    request = current_request()
    values = {
        "created_at": timezone.now(),
        "actor_id": user_id,
        "actor_label": label,
        "action": action,
        "object_type": type(obj).__name__.lower() if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "data": None,  # set below from the one serialisation the hash also uses
        "ip": request.ip,
        "user_agent": request.user_agent,
        "request_id": request.request_id,
    }
    text = data_json(data)  # outside the lock: it is held until the transaction ends
    with transaction.atomic():
        seq, prev = chain_lock_and_tail()
        values["seq"] = seq + 1
        digest = event_hash(prev, values, data_text=text)
        # Stored as it reads back (datetimes as ISO strings, tuples as lists).
        values["data"] = json.loads(text)
        return AuditEvent.objects.create(**values, prev_hash=prev, hash=digest)


def audit_records_bulk(events: Iterable[dict[str, Any]]) -> int:
    """Many system events at once (a batch of mentions received): chained like single
    ones, written with one COPY. Each dict has action, object_type, object_id and data
    (JSON values only: numbers, strings, booleans, None, lists and dicts)."""
    request = current_request()
    now = timezone.now()
    count = 0
    with transaction.atomic():
        seq, prev = chain_lock_and_tail()
        columns = (
            "seq, created_at, actor_label, action, object_type, object_id, data, ip,"
            " user_agent, request_id, prev_hash, hash"
        )
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY audit_auditevent ({columns}) FROM STDIN"  # noqa: S608 - constant
            ) as copy,
        ):
            for event in events:
                seq += 1
                text = data_json(event.get("data"))
                values = {
                    "seq": seq,
                    "created_at": now,
                    "actor_id": None,
                    "actor_label": SYSTEM,
                    "action": event["action"],
                    "object_type": event.get("object_type", ""),
                    "object_id": event.get("object_id", ""),
                    "ip": request.ip,
                    "user_agent": request.user_agent,
                    "request_id": request.request_id,
                }
                digest = event_hash(prev, {**values, "data": None}, data_text=text)
                copy.write_row(
                    (
                        seq, now, SYSTEM, values["action"], values["object_type"],
                        values["object_id"], text, request.ip, request.user_agent,
                        request.request_id, prev, digest,
                    )
                )  # fmt: skip
                prev = digest
                count += 1
    return count


def audit_expire(*, before: dt.datetime) -> int:
    """Delete events written before `before` (the retention period), leaving a checkpoint
    with the last deleted event's seq and hash: the chain that remains verifies from it.
    Events go in chain order only, so the remaining chain has no hole."""
    with transaction.atomic(), connection.cursor() as cursor:
        chain_lock_and_tail()
        cursor.execute(
            "SELECT max(seq) FROM audit_auditevent WHERE seq IS NOT NULL AND created_at < %s",
            [before],
        )
        (last,) = cursor.fetchone()
        if last is None:
            return 0
        cursor.execute("SELECT hash FROM audit_auditevent WHERE seq = %s", [last])
        (last_hash,) = cursor.fetchone()
        cursor.execute("SET LOCAL repdesk.audit_expiring = 'on'")  # the trigger's one exception
        cursor.execute("DELETE FROM audit_auditevent WHERE seq <= %s", [last])
        deleted = cursor.rowcount
        cursor.execute("SET LOCAL repdesk.audit_expiring = 'off'")
        AuditCheckpoint.objects.create(seq=last, hash=last_hash, expired=deleted)
    audit_record(action="audit.expired", data={"up_to_seq": last, "events": deleted})
    return deleted
