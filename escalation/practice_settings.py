"""The practice's escalation settings row: contacts to call and follow-up clocks."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from escalation import hashing
from escalation.models import EscalationSettings
from escalation.permissions import require_role
from reputation.audit.services import audit_record
from tenants.selectors import current_practice


def escalation_settings_get() -> EscalationSettings:
    settings = EscalationSettings.objects.order_by("pk").first()
    if settings is None:
        settings = EscalationSettings.objects.create(
            phone_region=hashing.region_for_timezone(current_practice().timezone)
        )
    return settings


def escalation_settings_update(*, changes: dict[str, Any], actor: Any) -> EscalationSettings:
    require_role(actor, "manager")
    settings = escalation_settings_get()
    allowed = {f.name for f in EscalationSettings._meta.fields if f.name != "id"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    if "phone_region" in changes:
        changes["phone_region"] = (changes["phone_region"] or "").upper()
    with transaction.atomic():
        EscalationSettings.objects.filter(pk=settings.pk).update(**changes)
        audit_record(
            action="escalation_settings.changed",
            actor=actor,
            obj=settings,
            data={k: str(v) for k, v in changes.items()},
        )
    settings.refresh_from_db()
    return settings
