"""django-q2 entry points, run inside a practice's schema (reputation.core.tasks) and
safe to run twice."""

from __future__ import annotations

from escalation import customers, notices, services


def followup_sweep() -> dict[str, int]:
    """The "escalation follow-ups" fan-out: reports without a decision, escalations past
    their due date, and emails still unsent."""
    return {
        "reports_reminded": services.reports_remind_due(),
        "escalations_reminded": services.escalations_remind_due(),
        "notices_requeued": notices.notices_resend_unsent(),
    }


def customer_checks_refresh(generation_id: int) -> int:
    return customers.customer_checks_refresh(generation_id)
