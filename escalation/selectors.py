"""Reads for escalations, platform reports and the customer check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from escalation.models import (
    CustomerCheck,
    CustomerList,
    DefamationMark,
    Escalation,
    PlatformReport,
)
from escalation.reasons import platform_reasons
from inbox.models import Mention
from reputation.audit.models import AuditEvent


def escalation_list() -> QuerySet[Escalation]:
    """Active first (awaiting approval, open...), then closed; newest first within."""
    return Escalation.objects.select_related("mention", "created_by").order_by(
        "closed_at", "-created_at", "-id"
    )


def escalation_get(*, pk: int) -> Escalation | None:
    return (
        Escalation.objects.select_related(
            "mention",
            "mention__author",
            "mention__account",
            "created_by",
            "approved_by",
            "contacted_by",
            "closed_by",
        )
        .filter(pk=pk)
        .first()
    )


def report_list() -> QuerySet[PlatformReport]:
    return PlatformReport.objects.select_related("mention", "created_by", "submitted_by")


def report_get(*, pk: int) -> PlatformReport | None:
    return report_list().select_related("mention__author", "appealed_by").filter(pk=pk).first()


def audit_trail(obj: Any) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type=type(obj).__name__.lower(), object_id=str(obj.pk)
        ).order_by("created_at", "id")
    )


def related_mentions(mention: Mention) -> list[Mention]:
    """The same author's other mentions."""
    if not mention.author_id:
        return []
    return list(
        Mention.objects.filter(author_id=mention.author_id)
        .exclude(pk=mention.pk)
        .order_by("-posted_at")[:50]
    )


def reports_open_by_platform_reason(*, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Everything open, grouped by platform and reason, with days waiting."""
    now = now or timezone.now()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for report in (
        report_list()
        .filter(status__in=PlatformReport.OPEN_STATUSES)
        .order_by("platform", "reason", "submitted_at", "created_at")
    ):
        key = (report.platform, report.reason)
        table = platform_reasons(report.platform)
        group = groups.setdefault(
            key,
            {
                "platform": table.name if table else report.platform,
                "reason": table.reasons.get(report.reason, report.reason) if table else "",
                "reports": [],
            },
        )
        since = report.waiting_since
        report.days_waiting = (now - since).days if since else None
        group["reports"].append(report)
    return list(groups.values())


def reports_success_rate(*, days: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Decided reports in the period, per platform and reason: removed / decided."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    rows = (
        PlatformReport.objects.filter(
            status__in=PlatformReport.FINAL_STATUSES, decided_at__gte=since
        )
        .values("platform", "reason")
        .annotate(
            decided=Count("id"),
            removed=Count("id", filter=Q(status=PlatformReport.Status.REMOVED)),
        )
        .order_by("platform", "reason")
    )
    result = []
    for row in rows:
        table = platform_reasons(row["platform"])
        result.append(
            {
                "platform": table.name if table else row["platform"],
                "reason": table.reasons.get(row["reason"], row["reason"]) if table else "",
                "decided": row["decided"],
                "removed": row["removed"],
                "rate": round(100 * row["removed"] / row["decided"]) if row["decided"] else 0,
            }
        )
    return result


def customer_check_for(mention: Mention) -> CustomerCheck | None:
    if not mention.author_id:
        return None
    return (
        CustomerCheck.objects.select_related("override_by")
        .filter(author_id=mention.author_id)
        .first()
    )


def customer_list_current() -> CustomerList | None:
    return CustomerList.objects.filter(status=CustomerList.Status.CURRENT).first()


def customer_list_history() -> QuerySet[CustomerList]:
    return CustomerList.objects.all()[:10]


def mention_escalation_panel(mention: Mention) -> dict[str, Any]:
    return {
        "check": customer_check_for(mention),
        "escalations": list(
            Escalation.objects.filter(mention=mention).order_by("-created_at", "-id")
        ),
        "reports": list(PlatformReport.objects.filter(mention=mention).order_by("-created_at")),
        "defamation": DefamationMark.objects.filter(mention=mention).first(),
        "reasons": platform_reasons(mention.platform),
    }
