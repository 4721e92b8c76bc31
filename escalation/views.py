"""Pages: escalations, platform reports, the customer list and the settings. Thin: every
change is a service call, which checks the role; a refusal is shown as a message."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from escalation import customers, evidence, selectors, services
from escalation.errors import Refused
from escalation.forms import EscalationSettingsForm
from escalation.models import CustomerCheck, Escalation
from escalation.practice_settings import escalation_settings_get, escalation_settings_update
from escalation.reasons import platform_reasons
from inbox.models import Mention
from tenants.decorators import practice_member_required
from tenants.selectors import role_at_least


def _mention_or_404(pk) -> Mention:
    try:
        mention = Mention.objects.select_related("author").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        mention = None
    if mention is None:
        raise Http404
    return mention


def _when(value: str) -> dt.datetime | None:
    parsed = parse_datetime(value or "")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the practice's zone (middleware)
    return parsed


# ---------------------------------------------------------------- escalations


@practice_member_required()
def escalation_list(request: HttpRequest) -> HttpResponse:
    return render(request, "escalation/list.html", {"escalations": selectors.escalation_list()})


@practice_member_required()
def escalation_new(request: HttpRequest) -> HttpResponse:
    mention = _mention_or_404(request.POST.get("mention") or request.GET.get("mention"))
    kind = request.POST.get("kind") or request.GET.get("kind") or Escalation.Kind.POLICE
    if request.method == "POST":
        try:
            escalation = services.escalation_open(
                mention=mention,
                kind=kind,
                actor=request.user,
                summary=request.POST.get("summary", ""),
                justification=request.POST.get("justification", ""),
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{escalation} opened.")
            return redirect("escalation:escalation-detail", pk=escalation.pk)
    return render(
        request,
        "escalation/new.html",
        {
            "mention": mention,
            "kind": kind,
            "kinds": Escalation.Kind.choices,
            "needs_approval": services.legal_needs_approval(mention),
            "min_chars": services.JUSTIFICATION_MIN_CHARS,
            "can_draft": role_at_least(request.practice_role, "responder"),
        },
    )


@practice_member_required()
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = selectors.escalation_get(pk=pk)
    if escalation is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            _escalation_action(request, escalation, action)
        except Refused as exc:
            messages.error(request, exc.message)
        return redirect("escalation:escalation-detail", pk=escalation.pk)
    return render(
        request,
        "escalation/detail.html",
        {
            "escalation": escalation,
            "mention": escalation.mention,
            "settings": escalation_settings_get(),
            "related": selectors.related_mentions(escalation.mention),
            "updates": escalation.updates.select_related("created_by").prefetch_related(
                "attachments"
            ),
            "trail": selectors.audit_trail(escalation),
            "can_draft": role_at_least(request.practice_role, "responder"),
            "can_manage": role_at_least(request.practice_role, "manager"),
        },
    )


def _escalation_action(request: HttpRequest, escalation: Escalation, action: str) -> None:
    post, user = request.POST, request.user
    if action == "approve":
        services.escalation_approve(escalation=escalation, actor=user)
        messages.success(request, "Approved: the escalation is open.")
    elif action == "contact":
        services.escalation_record_contact(
            escalation=escalation,
            who=post.get("who", ""),
            how=post.get("how", ""),
            when=_when(post.get("when", "")),
            actor=user,
        )
        messages.success(request, "Contact recorded.")
    elif action == "case_reference":
        services.escalation_record_case_reference(
            escalation=escalation, reference=post.get("reference", ""), actor=user
        )
        messages.success(request, "Case reference recorded.")
    elif action == "update":
        files = [(f.name, f.content_type or "", f.read()) for f in request.FILES.getlist("files")]
        services.escalation_add_update(
            escalation=escalation, note=post.get("note", ""), files=files, actor=user
        )
        messages.success(request, "Update added.")
    elif action == "due":
        due = _when(post.get("due_at", ""))
        if due is None:
            raise Refused("bad_date", "Enter a date and time.", field="due_at")
        services.escalation_set_due(escalation=escalation, due_at=due, actor=user)
        messages.success(request, "Due date changed.")
    elif action == "close":
        services.escalation_close(
            escalation=escalation, outcome=post.get("outcome", ""), actor=user
        )
        messages.success(request, "Closed.")
    else:
        raise Refused("unknown_action", "Unknown action.")


@practice_member_required()
def escalation_pack(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = selectors.escalation_get(pk=pk)
    if escalation is None:
        raise Http404
    return _zip(*evidence.evidence_pack_build(subject=escalation, actor=request.user))


def _zip(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- platform reports


@practice_member_required()
def report_list(request: HttpRequest) -> HttpResponse:
    try:
        days = max(1, min(int(request.GET.get("days", 90)), 3650))
    except ValueError:
        days = 90
    return render(
        request,
        "escalation/reports.html",
        {
            "open_groups": selectors.reports_open_by_platform_reason(),
            "rates": selectors.reports_success_rate(days=days),
            "days": days,
            "recent": selectors.report_list()[:50],
        },
    )


@practice_member_required()
def report_new(request: HttpRequest) -> HttpResponse:
    mention = _mention_or_404(request.POST.get("mention") or request.GET.get("mention"))
    table = platform_reasons(mention.platform)
    if request.method == "POST":
        try:
            report = services.report_create(
                mention=mention,
                reason=request.POST.get("reason", ""),
                grounds=request.POST.get("grounds", ""),
                actor=request.user,
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, "Report drafted. File it on the platform's page, then record it."
            )
            return redirect("escalation:report-detail", pk=report.pk)
    return render(
        request,
        "escalation/report_new.html",
        {
            "mention": mention,
            "table": table,
            "finding": services.customer_finding(mention),
            "can_draft": role_at_least(request.practice_role, "responder"),
        },
    )


@practice_member_required()
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(pk=pk)
    if report is None:
        raise Http404
    if request.method == "POST":
        post, user = request.POST, request.user
        action = post.get("action", "")
        try:
            if action == "submit":
                services.report_submit(
                    report=report,
                    platform_reference=post.get("reference", ""),
                    how=post.get("how", ""),
                    actor=user,
                )
            elif action == "under_review":
                services.report_mark_under_review(report=report, actor=user)
            elif action in ("removed", "rejected"):
                services.report_decide(
                    report=report, outcome=action, note=post.get("note", ""), actor=user
                )
            elif action == "appeal":
                services.report_appeal(report=report, grounds=post.get("grounds", ""), actor=user)
            else:
                raise Refused("unknown_action", "Unknown action.")
            messages.success(request, "Saved.")
        except Refused as exc:
            messages.error(request, exc.message)
        return redirect("escalation:report-detail", pk=report.pk)
    table = platform_reasons(report.platform)
    return render(
        request,
        "escalation/report_detail.html",
        {
            "report": report,
            "mention": report.mention,
            "table": table,
            "reason_label": table.reasons.get(report.reason, report.reason) if table else "",
            "report_url": table.url_for(report.mention.url) if table else "",
            "trail": selectors.audit_trail(report),
            "can_draft": role_at_least(request.practice_role, "responder"),
        },
    )


@practice_member_required()
def report_pack(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(pk=pk)
    if report is None:
        raise Http404
    return _zip(*evidence.evidence_pack_build(subject=report, actor=request.user))


# ---------------------------------------------------------------- customer check


@practice_member_required()
def customer_list(request: HttpRequest) -> HttpResponse:
    can_import = role_at_least(request.practice_role, "manager")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV file.")
        else:
            try:
                imported = customers.customer_list_import(
                    lines=customers.csv_text_lines(upload.read()), actor=request.user
                )
            except (Refused, customers.CustomerImportError) as exc:
                messages.error(request, getattr(exc, "message", None) or str(exc))
            else:
                messages.success(
                    request,
                    f"Customer list replaced: {imported.customers} customers from "
                    f"{imported.rows_read} rows, {imported.rejected} rows rejected.",
                )
        return redirect("escalation:customers")
    return render(
        request,
        "escalation/customers.html",
        {
            "current": selectors.customer_list_current(),
            "history": selectors.customer_list_history(),
            "can_import": can_import,
            "columns": customers.COLUMNS,
        },
    )


@practice_member_required()
@require_POST
def mention_customer(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _mention_or_404(pk)
    if mention.author_id is None:
        messages.error(request, "This mention has no author to check.")
        return redirect("inbox:detail", pk=pk)
    try:
        if request.POST.get("action") == "override":
            customers.customer_check_override(
                author=mention.author,
                status=request.POST.get("status", ""),
                reason=request.POST.get("reason", ""),
                actor=request.user,
            )
            messages.success(request, "Customer status saved.")
        else:
            check = customers.customer_check_author(author=mention.author, actor=request.user)
            label = CustomerCheck.Status(check.status).label
            messages.success(request, f"Checked: {label.lower()} ({check.reason}).")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("inbox:detail", pk=pk)


@practice_member_required()
@require_POST
def mention_defamatory(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _mention_or_404(pk)
    try:
        services.mention_mark_defamatory(
            mention=mention, note=request.POST.get("note", ""), actor=request.user
        )
        messages.success(request, "Marked defamatory.")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("inbox:detail", pk=pk)


@practice_member_required(min_role="manager")
def escalation_settings(request: HttpRequest) -> HttpResponse:
    current = escalation_settings_get()
    form = EscalationSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        current.refresh_from_db()
        try:
            escalation_settings_update(changes=changes, actor=request.user)
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Saved.")
        return redirect("escalation:settings")
    return render(request, "escalation/settings.html", {"form": form})
