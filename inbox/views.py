from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inbox import connecting, guards, replies, selectors, services
from inbox.forms import AccountAddForm, AccountOwnersForm, InboxSettingsForm, ListeningRuleForm
from inbox.models import ListeningRule, Mention, Reply
from inbox.pipeline import accept
from reputation.core.errors import Refused
from tenants.decorators import practice_member_required
from tenants.selectors import practice_people, role_at_least


@practice_member_required()
def mention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    role = request.practice_role
    return render(
        request,
        "inbox/mention_detail.html",
        {
            "mention": mention,
            "revisions": list(mention.revisions.all()),
            "alerts": selectors.mention_alerts(mention),
            **selectors.mention_answering(mention, user=request.user),
            "can_reply": role_at_least(role, "responder"),
            "is_manager": role_at_least(role, "manager"),
            "confirm_reply": request.GET.get("confirm", ""),
            "openings": guards.suggested_openings(mention_text=mention.text),
            "tasks": mention.tasks.select_related("owner").order_by("done_at", "due_at"),
            "history": selectors.mention_audit_history(mention),
            "people": practice_people(practice=request.practice),
            "outcomes": Mention.Outcome.choices,
            "can_work": role_at_least(request.practice_role, "responder"),
        },
    )


def _answer(request: HttpRequest, mention_pk: int, call, *, ok: str = "") -> HttpResponse:
    """Run a reply service; a refusal comes back to the mention page as a message with
    its code (and, for someone else replying, the way to confirm)."""
    target = reverse("inbox:detail", args=[mention_pk])
    try:
        call()
    except replies.ReplyRefused as exc:
        messages.error(request, exc.message, extra_tags=f"refusal code-{exc.code}")
        if exc.code == "collision" and request.POST.get("reply"):
            return redirect(f"{target}?confirm={request.POST['reply']}#reply-box")
        return redirect(f"{target}#reply-box")
    if ok:
        messages.success(request, ok)
    return redirect(f"{target}#replies")


@practice_member_required()
@require_POST
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply box: save a draft, or save and publish it."""
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    action = request.POST.get("action", "draft")

    def call() -> None:
        reply = replies.reply_draft(
            mention=mention,
            actor=request.user,
            text=request.POST.get("text", ""),
            visibility=Reply.Visibility.PUBLIC,
        )
        request.POST = request.POST.copy()
        request.POST["reply"] = str(reply.pk)
        if action == "publish":
            replies.reply_publish(
                reply=reply, actor=request.user, confirm_collision=bool(request.POST.get("confirm"))
            )

    return _answer(request, pk, call, ok="Published." if action == "publish" else "Draft saved.")


@practice_member_required()
@require_POST
def reply_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to one reply, named by the form's `action`."""
    reply = Reply.objects.select_related("mention").filter(pk=pk).first()
    if reply is None:
        raise Http404
    post, user = request.POST, request.user
    confirm = bool(post.get("confirm"))
    actions = {
        "edit": (
            lambda: replies.reply_update(reply=reply, actor=user, text=post.get("text", "")),
            "Saved.",
        ),
        "publish": (
            lambda: replies.reply_publish(reply=reply, actor=user, confirm_collision=confirm),
            "Publishing.",
        ),
        "override": (
            lambda: replies.reply_override(
                reply=reply, actor=user, reason=post.get("reason", ""), confirm_collision=confirm
            ),
            "Override recorded; publishing.",
        ),
        "send_now": (
            lambda: replies.reply_send_now(reply=reply, actor=user, reason=post.get("reason", "")),
            "Cooling-off ended by a manager.",
        ),
        "cancel": (lambda: replies.reply_cancel(reply=reply, actor=user), "Cancelled."),
        "mark_posted": (
            lambda: replies.reply_mark_posted(reply=reply, actor=user, url=post.get("url", "")),
            "Marked posted.",
        ),
        "delete": (
            lambda: replies.reply_delete(reply=reply, actor=user, reason=post.get("reason", "")),
            "Deletion requested.",
        ),
    }
    if post.get("action") not in actions:
        messages.error(request, "Unknown action.")
        return redirect("inbox:detail", pk=reply.mention_id)
    call, ok = actions[post["action"]]
    request.POST = post.copy()
    request.POST["reply"] = str(reply.pk)
    return _answer(request, reply.mention_id, call, ok=ok)


@practice_member_required()
@require_POST
def conversation_switch(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    return _answer(
        request,
        pk,
        lambda: replies.conversation_switch_channel(
            mention=mention,
            actor=request.user,
            channel=request.POST.get("channel", ""),
            contact=request.POST.get("contact", ""),
            text=request.POST.get("text", ""),
        ),
        ok="The switch to a private channel is recorded.",
    )


@practice_member_required()
@require_POST
def mention_hide(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    return _answer(
        request,
        pk,
        lambda: replies.mention_hide(
            mention=mention, actor=request.user, reason=request.POST.get("reason", "")
        ),
        ok="Hiding requested.",
    )


@practice_member_required()
def reply_presence(request: HttpRequest, pk: int) -> JsonResponse:
    """The reply box's heartbeat: POST active=1 while someone has it open (active=0 when
    they leave); both answer who else is replying."""
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    if request.method == "POST" and role_at_least(request.practice_role, "responder"):
        replies.presence_touch(
            mention=mention, user=request.user, active=request.POST.get("active") == "1"
        )
    return JsonResponse({"others": replies.presence_others(mention, request.user)})


@practice_member_required()
def account_list(request: HttpRequest) -> HttpResponse:
    can_edit = role_at_least(request.practice_role, "manager")
    return render(
        request,
        "inbox/accounts.html",
        {
            "accounts": selectors.account_list(),
            "failing_accounts": selectors.account_failing_list().count(),
            "can_edit": can_edit,
            "connect_options": connecting.connect_options() if can_edit else [],
            "add_form": AccountAddForm() if can_edit else None,
            "reconnectable": ["google", "facebook", "instagram", "x"],
        },
    )


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


@practice_member_required(min_role="manager")
@require_POST
def account_connect(request: HttpRequest, platform: str) -> HttpResponse:
    """Start connecting: off to the platform's consent screen."""
    if platform not in connecting.OAUTH_PLATFORMS:
        raise Http404
    try:
        url = connecting.connect_start(
            platform=platform, actor=request.user, session_key=_session_key(request)
        )
    except Refused as exc:
        messages.error(request, exc.message, extra_tags=f"refusal code-{exc.code}")
        return redirect("inbox:accounts")
    return redirect(url)


@practice_member_required(min_role="manager")
def account_connect_callback(request: HttpRequest, platform: str) -> HttpResponse:
    """Where the platform sends the person back (one fixed URL per platform)."""
    if platform not in connecting.OAUTH_PLATFORMS:
        raise Http404
    params = {k: request.GET.get(k, "")[:2000] for k in ("state", "code", "error")}
    try:
        flow = connecting.connect_callback(
            platform=platform, params=params, actor=request.user, session_key=_session_key(request)
        )
    except Refused as exc:
        messages.error(request, exc.message, extra_tags=f"refusal code-{exc.code}")
        return redirect("inbox:accounts")
    return redirect("inbox:connect-pick", pk=flow.pk)


@practice_member_required(min_role="manager")
def account_connect_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the locations, pages or account to connect."""
    flow = connecting.connect_flow_for_pick(
        pk=pk, actor=request.user, session_key=_session_key(request)
    )
    if flow is None:
        raise Http404
    if request.method == "POST":
        try:
            accounts = connecting.connect_finish(
                flow=flow,
                picked=request.POST.getlist("pick"),
                actor=request.user,
                session_key=_session_key(request),
            )
        except Refused as exc:
            messages.error(request, exc.message, extra_tags=f"refusal code-{exc.code}")
            if exc.code == "nothing_picked":
                return redirect("inbox:connect-pick", pk=pk)
            return redirect("inbox:accounts")
        names = ", ".join(a.display_name for a in accounts)
        messages.success(request, f"Connected: {names}.")
        return redirect("inbox:accounts")
    return render(
        request,
        "inbox/account_connect_pick.html",
        {"flow": flow, "label": connecting.LABELS[flow.platform]},
    )


@practice_member_required(min_role="manager")
@require_POST
def account_add(request: HttpRequest) -> HttpResponse:
    """A feed URL, a Yelp business id or a Tripadvisor location id."""
    form = AccountAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a kind of account and give its URL or id.")
        return redirect("inbox:accounts")
    try:
        account = connecting.account_add_by_id(
            platform=form.cleaned_data["platform"],
            external_id=form.cleaned_data["external_id"],
            display_name=form.cleaned_data["display_name"],
            actor=request.user,
        )
    except Refused as exc:
        messages.error(request, exc.message, extra_tags=f"refusal code-{exc.code}")
        return redirect("inbox:accounts")
    messages.success(request, f"Added {account.display_name}: it is polled from now on.")
    return redirect("inbox:accounts")


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
