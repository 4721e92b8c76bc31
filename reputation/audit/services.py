"""Recording audit events. Every app writes its trail through `audit_record`."""

from __future__ import annotations

from typing import Any

from reputation.audit.models import AuditEvent

SYSTEM = "system"


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_label: str = "",
    obj: Any = None,
    data: dict | None = None,
) -> AuditEvent:
    if not actor_label:
        actor_label = getattr(actor, "email", None) or (str(actor) if actor else SYSTEM)
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "email") else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label[:200],
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )
