"""Writes for escalations and platform reports. Each state change is one function: it
checks the actor's role, moves the status by compare-and-swap (a refused move raises
`Refused` with a stable code and changes nothing), writes the audit event in the same
transaction, and queues any email as an outbox row.

No function here contacts a reviewer: escalations go to the police, counsel, the insurer
or the platform's safety team; reports go to the platform. The product never sends a
legal threat to a reviewer (PRODUCT.md rule 8, FTC 16 CFR 465.7).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from escalation.errors import Refused
from escalation.models import (
    CustomerCheck,
    DefamationMark,
    Escalation,
    EscalationAttachment,
    EscalationUpdate,
    PlatformReport,
)
from escalation.notices import notice_queue
from escalation.permissions import is_api_key, require_role
from escalation.practice_settings import escalation_settings_get
from escalation.reasons import platform_reasons
from inbox.models import Mention
from inbox.pipeline.alerts import practice_manager_emails
from reputation.audit.services import audit_record
from tenants.selectors import current_practice, practice_url

JUSTIFICATION_MIN_CHARS = 40


def _user(actor: Any):
    return actor if getattr(actor, "email", None) and getattr(actor, "pk", None) else None


def _move(
    obj: Model,
    *,
    allowed: tuple[str, ...],
    to: str,
    changes: dict[str, Any],
    action: str,
    actor: Any,
    data: dict[str, Any] | None = None,
    verb: str,
) -> None:
    """Compare-and-swap a status inside the caller's transaction: lock the row, check
    its status is one the move starts from, update with the status in the filter."""
    model = type(obj)
    current = (
        model.objects.select_for_update().filter(pk=obj.pk).values_list("status", flat=True).first()
    )
    if current not in allowed or not model.objects.filter(pk=obj.pk, status=current).update(
        status=to, **changes
    ):
        label = dict(model.Status.choices).get(current, current)
        raise Refused(
            "transition_refused",
            f"Cannot {verb}: this {model._meta.verbose_name} is {str(label).lower()}.",
        )
    audit_record(
        action=action, actor=actor, obj=obj, data={"from": current, "to": to, **(data or {})}
    )


# ---------------------------------------------------------------- platform reports


def customer_finding(mention: Mention) -> str:
    """The customer check as evidence for a report: status and reason, never a value."""
    check = CustomerCheck.objects.filter(author_id=mention.author_id).first()
    if check is None:
        return "unknown: not checked"
    text = f"{check.get_effective_status_display().lower()}: {check.reason}"
    if check.override_status:
        verb = "confirmed" if check.override_status == check.status else "set"
        text = f"{check.get_effective_status_display().lower()} ({verb} by a manager)"
    return text[:250]


def report_create(*, mention: Mention, reason: str, grounds: str, actor: Any) -> PlatformReport:
    require_role(actor, "responder")
    table = platform_reasons(mention.platform)
    if table is None:
        raise Refused(
            "platform_not_reportable",
            f"{mention.get_platform_display()} mentions cannot be reported through the desk.",
        )
    if reason not in table.reasons:
        raise Refused(
            "unknown_reason", f"Choose one of {table.name}'s own reasons.", field="reason"
        )
    grounds = grounds.strip()
    if not grounds:
        raise Refused("grounds_required", "Say why, in your own words.", field="grounds")
    try:
        with transaction.atomic():
            report = PlatformReport.objects.create(
                mention=mention,
                platform=mention.platform,
                reason=reason,
                grounds=grounds,
                customer_finding=customer_finding(mention),
                created_by=_user(actor),
            )
            audit_record(
                action="platform_report.created",
                actor=actor,
                obj=report,
                data={"mention": mention.pk, "reason": reason, "finding": report.customer_finding},
            )
    except IntegrityError:
        raise Refused(
            "report_exists", "This mention already has a report in progress.", status=409
        ) from None
    return report


def report_submit(
    *, report: PlatformReport, actor: Any, platform_reference: str = "", how: str = ""
) -> PlatformReport:
    """Record that the report was filed on the platform's own page: when, by whom, how,
    and the platform's reference if it gave one."""
    require_role(actor, "responder")
    with transaction.atomic():
        _move(
            report,
            allowed=(PlatformReport.Status.DRAFT,),
            to=PlatformReport.Status.SUBMITTED,
            changes={
                "submitted_at": timezone.now(),
                "submitted_by": _user(actor),
                "platform_reference": platform_reference.strip()[:200],
                "submitted_how": (how.strip() or "the platform's reporting page")[:200],
            },
            action="platform_report.submitted",
            actor=actor,
            data={"reference": platform_reference.strip()[:200]},
            verb="submit",
        )
    report.refresh_from_db()
    return report


def report_mark_under_review(*, report: PlatformReport, actor: Any) -> PlatformReport:
    require_role(actor, "responder")
    with transaction.atomic():
        _move(
            report,
            allowed=(PlatformReport.Status.SUBMITTED,),
            to=PlatformReport.Status.UNDER_REVIEW,
            changes={},
            action="platform_report.under_review",
            actor=actor,
            verb="mark it under review",
        )
    report.refresh_from_db()
    return report


def report_decide(
    *, report: PlatformReport, outcome: str, actor: Any, note: str = ""
) -> PlatformReport:
    """The platform's decision: removed or rejected (after the first filing or the
    appeal)."""
    require_role(actor, "responder")
    if outcome not in (PlatformReport.Status.REMOVED, PlatformReport.Status.REJECTED):
        raise Refused("bad_outcome", "The outcome is removed or rejected.", field="outcome")
    with transaction.atomic():
        _move(
            report,
            allowed=PlatformReport.WAITING_STATUSES,
            to=outcome,
            changes={"decided_at": timezone.now(), "decision_note": note.strip()},
            action=f"platform_report.{outcome}",
            actor=actor,
            data={"note": note.strip()[:500]},
            verb=f"record it as {outcome}",
        )
        _report_decided_notice(report, outcome)
    report.refresh_from_db()
    return report


def report_appeal(*, report: PlatformReport, grounds: str, actor: Any) -> PlatformReport:
    """One appeal after a rejection."""
    require_role(actor, "responder")
    grounds = grounds.strip()
    if not grounds:
        raise Refused(
            "grounds_required", "Say why the platform should look again.", field="grounds"
        )
    with transaction.atomic():
        if PlatformReport.objects.filter(pk=report.pk, appealed_at__isnull=False).exists():
            raise Refused("appeal_used", "This report has had its one appeal.")
        _move(
            report,
            allowed=(PlatformReport.Status.REJECTED,),
            to=PlatformReport.Status.APPEALED,
            changes={
                "appealed_at": timezone.now(),
                "appealed_by": _user(actor),
                "appeal_grounds": grounds,
                "decided_at": None,
            },
            action="platform_report.appealed",
            actor=actor,
            verb="appeal",
        )
    report.refresh_from_db()
    return report


def _filer_emails(report: PlatformReport) -> list[str]:
    return [u.email for u in (report.created_by, report.submitted_by, report.appealed_by) if u]


def _report_decided_notice(report: PlatformReport, outcome: str) -> None:
    report = PlatformReport.objects.select_related(
        "mention", "created_by", "submitted_by", "appealed_by"
    ).get(pk=report.pk)
    practice = current_practice()
    word = "removed" if outcome == PlatformReport.Status.REMOVED else "kept"
    notice_queue(
        key=f"report-{report.pk}-{outcome}-{report.appealed_at is not None}",
        recipients=_filer_emails(report),
        subject=f"[{practice.name}] {report.mention.get_platform_display()} {word} the "
        f"reported review",
        body=(
            f"Your report #{report.pk} ({report.reason}) is now {report.get_status_display()}."
            f"\n\n{report.decision_note}\n\n"
            f"Open it: {practice_url(practice, f'/escalation/reports/{report.pk}/')}\n"
        ),
    )


def reports_removed_on_platform(*, id: int) -> int:
    """Handler of "mention.removed_on_platform": the review is gone from the platform, so
    a report waiting for a decision on it is removed, and its filers are told."""
    moved = 0
    for report in PlatformReport.objects.filter(
        mention_id=id, status__in=PlatformReport.WAITING_STATUSES
    ):
        with transaction.atomic():
            try:
                _move(
                    report,
                    allowed=PlatformReport.WAITING_STATUSES,
                    to=PlatformReport.Status.REMOVED,
                    changes={
                        "decided_at": timezone.now(),
                        "removal_detected": True,
                        "decision_note": "The review is no longer on the platform.",
                    },
                    action="platform_report.removed",
                    actor=None,
                    data={"detected": "the review disappeared from the platform"},
                    verb="record the removal",
                )
            except Refused:
                continue  # decided meanwhile by a person
            _report_decided_notice(report, PlatformReport.Status.REMOVED)
            moved += 1
    return moved


def reports_remind_due(*, now: dt.datetime | None = None) -> int:
    """Remind the filers (and managers) of reports with no decision after the practice's
    number of days; again after each further period."""
    now = now or timezone.now()
    days = escalation_settings_get().report_reminder_days
    if not days:
        return 0
    cutoff = now - dt.timedelta(days=days)
    practice = current_practice()
    count = 0
    waiting = PlatformReport.objects.filter(status__in=PlatformReport.WAITING_STATUSES).filter(
        submitted_at__lte=cutoff
    )
    for report in waiting.select_related("mention", "created_by", "submitted_by", "appealed_by"):
        since = report.waiting_since
        if since is None or since > cutoff or (report.reminded_at and report.reminded_at > cutoff):
            continue
        if not PlatformReport.objects.filter(
            pk=report.pk, reminded_at=report.reminded_at, status=report.status
        ).update(reminded_at=now):
            continue
        audit_record(action="platform_report.reminded", obj=report, data={"days": days})
        notice_queue(
            key=f"report-{report.pk}-reminder-{now:%Y%m%d%H%M}",
            recipients=_filer_emails(report) + practice_manager_emails(),
            subject=f"[{practice.name}] Report #{report.pk}: no decision after {days} days",
            body=(
                f"{report.mention.get_platform_display()} has not decided on report "
                f"#{report.pk} ({report.get_status_display()} since {since:%Y-%m-%d}).\n"
                "Check it on the platform, record its decision, or appeal a rejection.\n\n"
                f"{practice_url(practice, f'/escalation/reports/{report.pk}/')}\n"
            ),
        )
        count += 1
    return count


# ---------------------------------------------------------------- escalations


def mention_mark_defamatory(*, mention: Mention, note: str, actor: Any) -> DefamationMark:
    """A manager's judgement, for the Streisand guard: legal escalation on this mention
    then needs no separate approval."""
    require_role(actor, "manager")
    if is_api_key(actor):
        raise Refused("person_required", "A manager must do this in person.", status=403)
    note = note.strip()
    if not note:
        raise Refused("note_required", "Say what is defamatory in it.", field="note")
    with transaction.atomic():
        mark, created = DefamationMark.objects.get_or_create(
            mention=mention, defaults={"marked_by": _user(actor), "note": note}
        )
        if created:
            audit_record(
                action="mention.marked_defamatory", actor=actor, obj=mention, data={"note": note}
            )
    return mark


def legal_needs_approval(mention: Mention) -> bool:
    """The Streisand guard applies: not a threat and not marked defamatory by a manager."""
    return (
        not mention.is_threat and not DefamationMark.objects.filter(mention_id=mention.pk).exists()
    )


def _due(kind: str, now: dt.datetime) -> dt.datetime:
    if kind == Escalation.Kind.POLICE:
        return now + dt.timedelta(days=1)
    return now + dt.timedelta(days=escalation_settings_get().escalation_due_days or 7)


def escalation_open(
    *, mention: Mention, kind: str, actor: Any, summary: str = "", justification: str = ""
) -> Escalation:
    require_role(actor, "responder")
    if kind not in Escalation.Kind.values:
        raise Refused("unknown_kind", f"Unknown escalation kind {kind!r}.", field="kind")
    status = Escalation.Status.OPEN
    justification = justification.strip()
    if kind == Escalation.Kind.LEGAL and legal_needs_approval(mention):
        if len(justification) < JUSTIFICATION_MIN_CHARS:
            raise Refused(
                "justification_required",
                "This mention is negative but not a threat and not marked defamatory: a legal "
                f"escalation needs a written justification (at least {JUSTIFICATION_MIN_CHARS} "
                "characters) and a manager's approval.",
                field="justification",
            )
        status = Escalation.Status.AWAITING_APPROVAL
    now = timezone.now()
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                mention=mention,
                kind=kind,
                status=status,
                summary=summary.strip(),
                justification=justification,
                created_by=_user(actor),
                due_at=_due(kind, now),
            )
            audit_record(
                action="escalation.opened",
                actor=actor,
                obj=escalation,
                data={"mention": mention.pk, "kind": kind, "status": status},
            )
            if status == Escalation.Status.AWAITING_APPROVAL:
                _escalation_notice(
                    escalation,
                    key="approval",
                    recipients=practice_manager_emails(),
                    subject="A legal escalation waits for a manager's approval",
                    text=f"Justification given:\n{justification}",
                )
    except IntegrityError:
        raise Refused(
            "escalation_exists", f"This mention already has an active {kind} escalation."
        ) from None
    return escalation


def escalation_open_for_threat(*, id: int) -> Escalation | None:
    """Handler of "mention.threat": open a police escalation draft once per mention.

    The owners are told by the inbox's own threat alert, emailed at the same moment to
    the same people with a link to the mention, whose page shows this draft at the top
    of its escalation panel: a second email about the same threat would be noise. Runs in
    the ingest transaction: one lookup and at most one insert."""
    mention = Mention.objects.filter(pk=id).select_related("account__owner").first()
    if mention is None or Escalation.objects.filter(mention_id=id, auto_opened=True).exists():
        return None
    if Escalation.objects.filter(
        mention_id=id, kind=Escalation.Kind.POLICE, status__in=Escalation.ACTIVE_STATUSES
    ).exists():
        return None  # a person opened one already
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                mention=mention,
                kind=Escalation.Kind.POLICE,
                auto_opened=True,
                summary="Opened automatically: the mention was categorised as a threat.",
                due_at=_due(Escalation.Kind.POLICE, timezone.now()),
            )
            audit_record(
                action="escalation.opened",
                obj=escalation,
                data={"mention": id, "kind": "police", "automatic": True},
            )
    except IntegrityError:
        return None  # a concurrent delivery of the same threat got here first
    return escalation


def _escalation_notice(
    escalation: Escalation, *, key: str, recipients: list[str], subject: str, text: str
) -> None:
    practice = current_practice()
    notice_queue(
        key=f"escalation-{escalation.pk}-{key}",
        recipients=recipients,
        subject=f"[{practice.name}] {subject}",
        body=f"{text}\n\nOpen it: {practice_url(practice, f'/escalation/{escalation.pk}/')}\n",
    )


def escalation_approve(*, escalation: Escalation, actor: Any) -> Escalation:
    """The Streisand guard's second step: a manager, in person, approves."""
    require_role(actor, "manager")
    if is_api_key(actor):
        raise Refused("person_required", "A manager must approve in person.", status=403)
    with transaction.atomic():
        _move(
            escalation,
            allowed=(Escalation.Status.AWAITING_APPROVAL,),
            to=Escalation.Status.OPEN,
            changes={"approved_by": _user(actor), "approved_at": timezone.now()},
            action="escalation.approved",
            actor=actor,
            verb="approve",
        )
    escalation.refresh_from_db()
    return escalation


def escalation_record_contact(
    *, escalation: Escalation, who: str, how: str, actor: Any, when: dt.datetime | None = None
) -> Escalation:
    require_role(actor, "responder")
    who, how = who.strip(), how.strip()
    if not who:
        raise Refused("who_required", "Who was contacted?", field="who")
    if not how:
        raise Refused("how_required", "How (phone, email, in person)?", field="how")
    when = when or timezone.now()
    with transaction.atomic():
        _move(
            escalation,
            allowed=(Escalation.Status.OPEN,),
            to=Escalation.Status.CONTACTED,
            changes={
                "contacted_at": when,
                "contacted_by": _user(actor),
                "contact_who": who[:200],
                "contact_how": how[:100],
            },
            action="escalation.contacted",
            actor=actor,
            data={"who": who[:200], "how": how[:100], "when": when.isoformat()},
            verb="record a contact",
        )
    escalation.refresh_from_db()
    return escalation


def escalation_record_case_reference(
    *, escalation: Escalation, reference: str, actor: Any
) -> Escalation:
    require_role(actor, "responder")
    reference = reference.strip()
    if not reference:
        raise Refused("reference_required", "Enter the case reference.", field="reference")
    with transaction.atomic():
        _move(
            escalation,
            allowed=(Escalation.Status.CONTACTED,),
            to=Escalation.Status.CASE_RECORDED,
            changes={"case_reference": reference[:200], "case_recorded_at": timezone.now()},
            action="escalation.case_reference",
            actor=actor,
            data={"reference": reference[:200]},
            verb="record a case reference (record the contact first)",
        )
    escalation.refresh_from_db()
    return escalation


def escalation_add_update(
    *,
    escalation: Escalation,
    note: str,
    actor: Any,
    files: list[tuple[str, str, bytes]] = (),
) -> EscalationUpdate:
    """A note, with attachments (name, content type, bytes) kept in the database."""
    require_role(actor, "responder")
    note = note.strip()
    if not note and not files:
        raise Refused("note_required", "Write a note or attach a file.", field="note")
    for name, _, data in files:
        if len(data) > EscalationAttachment.MAX_BYTES:
            raise Refused(
                "attachment_too_large",
                f"{name[:100]} is over {EscalationAttachment.MAX_BYTES // 2**20} MB.",
                field="files",
                status=413,
            )
    with transaction.atomic():
        locked = Escalation.objects.select_for_update().filter(pk=escalation.pk).first()
        if locked is None or locked.status not in Escalation.ACTIVE_STATUSES:
            raise Refused(
                "transition_refused",
                "Updates are added to an open escalation (approve it first, or it is closed).",
            )
        update = EscalationUpdate.objects.create(
            escalation=escalation, created_by=_user(actor), note=note
        )
        attached = []
        for name, content_type, data in files:
            attachment = EscalationAttachment.objects.create(
                update=update,
                filename=_safe_filename(name),
                content_type=(content_type or "application/octet-stream")[:100],
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
            attached.append({"file": attachment.filename, "sha256": attachment.sha256})
        audit_record(
            action="escalation.update",
            actor=actor,
            obj=escalation,
            data={"update": update.pk, "note": note[:500], "attachments": attached},
        )
    return update


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base)
    return (cleaned or "attachment")[:200]


def escalation_set_due(*, escalation: Escalation, due_at: dt.datetime, actor: Any) -> Escalation:
    require_role(actor, "responder")
    with transaction.atomic():
        if not Escalation.objects.filter(
            pk=escalation.pk, status__in=Escalation.ACTIVE_STATUSES
        ).update(due_at=due_at, reminded_at=None):
            raise Refused("transition_refused", "Only an active escalation has a due date.")
        audit_record(
            action="escalation.due_changed",
            actor=actor,
            obj=escalation,
            data={"due_at": due_at.isoformat()},
        )
    escalation.refresh_from_db()
    return escalation


def escalation_close(*, escalation: Escalation, outcome: str, actor: Any) -> Escalation:
    """Closed with an outcome; a manager decides. A legal escalation awaiting approval is
    closed this way too (declined)."""
    require_role(actor, "manager")
    outcome = outcome.strip()
    if not outcome:
        raise Refused("outcome_required", "Say how it ended.", field="outcome")
    with transaction.atomic():
        _move(
            escalation,
            allowed=(*Escalation.ACTIVE_STATUSES, Escalation.Status.AWAITING_APPROVAL),
            to=Escalation.Status.CLOSED,
            changes={"closed_at": timezone.now(), "closed_by": _user(actor), "outcome": outcome},
            action="escalation.closed",
            actor=actor,
            data={"outcome": outcome[:500]},
            verb="close",
        )
    escalation.refresh_from_db()
    return escalation


def escalations_remind_due(*, now: dt.datetime | None = None) -> int:
    """Remind once per due date: active escalations past their due date."""
    now = now or timezone.now()
    count = 0
    due = Escalation.objects.filter(
        status__in=Escalation.ACTIVE_STATUSES, due_at__lte=now, reminded_at__isnull=True
    ).select_related("created_by", "contacted_by")
    for escalation in due:
        if not Escalation.objects.filter(pk=escalation.pk, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            continue
        audit_record(action="escalation.reminded", obj=escalation)
        people = [u.email for u in (escalation.created_by, escalation.contacted_by) if u]
        _escalation_notice(
            escalation,
            key=f"due-{escalation.due_at:%Y%m%d%H%M}",
            recipients=people + practice_manager_emails(),
            subject=f"{escalation.get_kind_display()} escalation #{escalation.pk} is due",
            text=(
                f"Status: {escalation.get_status_display()}. "
                f"Due {escalation.due_at:%Y-%m-%d %H:%M} UTC."
            ),
        )
        count += 1
    return count
