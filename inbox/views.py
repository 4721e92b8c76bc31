from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inbox import selectors, services
from inbox.forms import AccountOwnersForm, InboxSettingsForm, ListeningRuleForm
from inbox.models import ListeningRule, Mention
from inbox.pipeline import accept
from tenants.decorators import practice_member_required
from tenants.selectors import practice_people, role_at_least


@practice_member_required()
def mention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    return render(
        request,
        "inbox/mention_detail.html",
        {
            "mention": mention,
            "revisions": list(mention.revisions.all()),
            "alerts": selectors.mention_alerts(mention),
            "tasks": mention.tasks.select_related("owner").order_by("done_at", "due_at"),
            "people": practice_people(practice=request.practice),
            "outcomes": Mention.Outcome.choices,
            "can_work": role_at_least(request.practice_role, "responder"),
        },
    )


@practice_member_required()
def account_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "inbox/accounts.html",
        {
            "accounts": selectors.account_list(),
            "failing_accounts": selectors.account_failing_list().count(),
            "can_edit": role_at_least(request.practice_role, "manager"),
        },
    )


@practice_member_required()
def listening_rules(request: HttpRequest) -> HttpResponse:
    can_edit = role_at_least(request.practice_role, "manager")
    form = ListeningRuleForm(request.POST or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            services.listening_rule_create(
                kind=form.cleaned_data["kind"], term=form.cleaned_data["term"], actor=request.user
            )
            messages.success(request, "Rule added. New mentions are matched against it.")
            return redirect("inbox:listening")
    return render(
        request,
        "inbox/listening.html",
        {"rules": ListeningRule.objects.all(), "form": form, "can_edit": can_edit},
    )


@practice_member_required(min_role="manager")
@require_POST
def listening_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = ListeningRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    services.listening_rule_delete(rule=rule, actor=request.user)
    messages.success(request, f"Rule “{rule.term}” removed.")
    return redirect("inbox:listening")


@practice_member_required(min_role="manager")
def inbox_settings(request: HttpRequest) -> HttpResponse:
    current = services.inbox_settings_get()
    form = InboxSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        # The form must not save the instance itself: the service does, with the audit row.
        current.refresh_from_db()
        services.inbox_settings_update(settings=current, changes=changes, actor=request.user)
        messages.success(request, "Saved. New deadlines apply to mentions that arrive from now on.")
        return redirect("inbox:settings")
    return render(request, "inbox/settings.html", {"form": form})


@practice_member_required(min_role="manager")
def account_owners(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_list().filter(pk=pk).first()
    if account is None:
        raise Http404
    people = practice_people(practice=request.practice)
    form = AccountOwnersForm(
        request.POST or None,
        people=people,
        initial={
            "owner": account.owner,
            "backup_owner": account.backup_owner,
            "owner_away": account.owner_away,
        },
    )
    if request.method == "POST" and form.is_valid():
        for field in ("owner", "backup_owner", "owner_away"):
            setattr(account, field, form.cleaned_data[field])
        services.social_account_save(account=account, actor=request.user)
        messages.success(request, f"Saved: new mentions on {account.display_name} go to the owner.")
        return redirect("inbox:accounts")
    return render(request, "inbox/account_owners.html", {"account": account, "form": form})


@practice_member_required()
def sources(request: HttpRequest) -> HttpResponse:
    """Nothing fails out of sight: accounts whose polling fails and payloads that failed,
    each with its reason, what to do, and a retry."""
    if request.method == "POST":
        if not role_at_least(request.practice_role, "responder"):
            raise Http404
        raw = selectors.raw_payloads_failed().filter(pk=request.POST.get("raw") or 0).first()
        if raw is None:
            raise Http404
        raw = accept.raw_payload_reprocess(raw=raw, actor=request.user)
        if raw.status == raw.Status.PROCESSED:
            messages.success(request, f"Payload {raw.pk} processed: {raw.mentions_created} new.")
        else:
            messages.error(request, f"Payload {raw.pk} failed again: {raw.error[:300]}")
        return redirect("inbox:sources")
    return render(
        request,
        "inbox/sources.html",
        {
            "failing_accounts": selectors.account_failing_list().select_related("owner"),
            "failed": selectors.raw_payloads_failed()[:100],
            "can_retry": role_at_least(request.practice_role, "responder"),
        },
    )
