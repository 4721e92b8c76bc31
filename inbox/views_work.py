"""The pages where the day's work is done: the inbox list (filters, keyset pages, bulk
assign and close, live new rows), closing a mention, next-step tasks, and people."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from inbox import selectors, services
from inbox.filters import MentionFilter
from inbox.models import Author, ImportJob, Mention, Task
from inbox.sources import import_jobs, importing
from reputation.core.errors import Refused
from tenants.decorators import practice_member_required
from tenants.selectors import practice_people, role_at_least

PAGE_SIZE = 50
# Query parameters that are not filters: kept in links, never passed to the filterset.
NOT_FILTERS = ("cursor", "sort", "after", "partial")


def _filter_params(request: HttpRequest) -> QueryDict:
    params = request.GET.copy()
    for key in NOT_FILTERS:
        params.pop(key, None)
    return params


@practice_member_required()
def inbox_list(request: HttpRequest) -> HttpResponse:
    params = _filter_params(request)
    filterset = MentionFilter(params, queryset=selectors.mention_list(), request=request)
    sort = request.GET.get("sort", "inbox")
    if sort not in selectors.SORTS:
        sort = "inbox"
    if request.GET.get("partial") == "new":
        return _new_rows(request, filterset, sort)
    errors = None
    try:
        if not filterset.is_valid():
            errors = filterset.errors
            raise selectors.BadCursor("")
        page = selectors.mention_page(
            filterset.qs, sort=sort, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except selectors.BadCursor:
        page = selectors.MentionPage([], None)
        if errors is None:
            messages.warning(request, "That page link is no longer valid: back to the first page.")
            return redirect(f"{request.path}?{urlencode({**params.dict(), 'sort': sort})}")
    kept = {**params.dict(), "sort": sort}
    newest_id = max((m.pk for m in page.mentions), default=0)
    return render(
        request,
        "inbox/inbox.html",
        {
            "page": page,
            "filter": filterset,
            "filter_errors": errors,
            "sort": sort,
            "first_page": not request.GET.get("cursor"),
            "filters_qs": urlencode(kept),
            "next_qs": urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else "",
            "poll_qs": urlencode({**kept, "partial": "new", "after": newest_id}),
            "result_count": selectors.count_bounded(filterset.qs) if not errors else 0,
            "counts": selectors.inbox_counts(user=request.user),
            "facets": selectors.facet_counts(),
            "people": practice_people(practice=request.practice),
            "outcomes": Mention.Outcome.choices,
            "can_work": role_at_least(request.practice_role, "responder"),
            "undelivered_alerts": selectors.threat_alerts_undelivered(),
            "history_count": selectors.mention_history_count(),
            "failing_accounts": selectors.account_failing_list().count(),
            "poll_seconds": settings.INBOX_POLL_SECONDS,
        },
    )


def _new_rows(request: HttpRequest, filterset: MentionFilter, sort: str) -> HttpResponse:
    """HTMX poll: rows that arrived since the page was drawn (matching its filters), put
    on top; the poller is replaced (out of band) to ask from the newest id onwards."""
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    rows = []
    if filterset.is_valid():
        rows = list(filterset.qs.filter(pk__gt=after).order_by("-pk")[:PAGE_SIZE])
    if not rows:
        return HttpResponse(status=204)  # htmx leaves the page as it is
    kept = {**_filter_params(request).dict(), "sort": sort}
    return render(
        request,
        "inbox/_rows.html",
        {
            "mentions": rows,
            "new": True,
            "can_work": role_at_least(request.practice_role, "responder"),
            "poll_qs": urlencode({**kept, "partial": "new", "after": rows[0].pk}),
            "poll_seconds": settings.INBOX_POLL_SECONDS,
        },
    )


@practice_member_required(min_role="responder")
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action", "")
    back = request.POST.get("next", "")
    if not back.startswith("/inbox/"):
        back = "/inbox/"
    try:
        if action == "assign":
            who = request.POST.get("assignee", "")
            assignee = None
            if who:
                assignee = practice_people(practice=request.practice).filter(pk=who).first()
                if assignee is None:
                    raise Refused("not_a_member", "That person does not work in this practice.")
            n = services.mentions_assign(ids=ids, assignee=assignee, actor=request.user)
            messages.success(request, f"Assigned {n} mention{'s' if n != 1 else ''}.")
        elif action == "close":
            n = services.mentions_close(
                ids=ids, outcome=request.POST.get("outcome", ""), actor=request.user
            )
            messages.success(request, f"Closed {n} mention{'s' if n != 1 else ''}.")
        else:
            messages.error(request, "Choose what to do with the selected mentions.")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect(back)


@practice_member_required(min_role="responder")
@require_POST
def mention_close(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    try:
        if request.POST.get("reopen"):
            services.mention_reopen(mention=mention, actor=request.user)
            messages.success(request, "Reopened.")
        else:
            services.mentions_close(
                ids=[mention.pk], outcome=request.POST.get("outcome", ""), actor=request.user
            )
            messages.success(request, "Closed.")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("inbox:detail", pk=pk)


@practice_member_required(min_role="responder")
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    owner = practice_people(practice=request.practice).filter(pk=request.POST.get("owner")).first()
    try:
        days = float(request.POST.get("due_days", "1"))
        if not 0 <= days <= 365:
            raise ValueError
    except ValueError:
        messages.error(request, "Due in: a number of days between 0 and 365.")
        return redirect("inbox:detail", pk=pk)
    try:
        if owner is None:
            raise Refused("not_a_member", "Choose who does it.")
        services.task_create(
            mention=mention,
            title=request.POST.get("title", ""),
            owner=owner,
            due_at=timezone.now() + dt.timedelta(days=days),
            actor=request.user,
        )
        messages.success(request, "Task added.")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("inbox:detail", pk=pk)


@practice_member_required(min_role="responder")
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = Task.objects.filter(pk=pk).first()
    if task is None:
        raise Http404
    services.task_done(task=task, actor=request.user)
    messages.success(request, f"Done: {task.title}")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/inbox/") else "inbox:tasks")


@practice_member_required()
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks: open first, soonest due first; done ones of the last week below."""
    return render(
        request,
        "inbox/tasks.html",
        {
            "open_tasks": selectors.tasks_open_for(user=request.user),
            "done_tasks": selectors.tasks_done_for(user=request.user),
            "now": timezone.now(),
        },
    )


@practice_member_required()
def author_detail(request: HttpRequest, pk: int) -> HttpResponse:
    author = Author.objects.filter(pk=pk).select_related("merged_into").first()
    if author is None:
        raise Http404
    person = author.merged_into or author
    return render(
        request,
        "inbox/author.html",
        {
            "author": author,
            "person": person,
            "identities": selectors.author_identities(person),
            "candidates": selectors.author_merge_candidates(author),
            "mentions": selectors.author_history(person),
            "markers": Author.Marker.choices,
            "can_mark": role_at_least(request.practice_role, "manager"),
            "can_merge": role_at_least(request.practice_role, "responder"),
        },
    )


@practice_member_required(min_role="responder")
@require_POST
def author_action(request: HttpRequest, pk: int) -> HttpResponse:
    author = Author.objects.filter(pk=pk).first()
    if author is None:
        raise Http404
    action = request.POST.get("action", "")
    try:
        if action == "mark":
            services.author_mark(
                author=author, marker=request.POST.get("marker", ""), actor=request.user
            )
            messages.success(request, "Marker saved.")
        elif action == "merge":
            into = Author.objects.filter(pk=request.POST.get("into") or 0).first()
            if into is None:
                raise Refused("not_found", "Choose the identity to merge with.", status=400)
            services.author_merge(author=author, into=into, actor=request.user)
            messages.success(request, "Merged. Undo below if this was a mistake.")
        elif action == "unmerge":
            services.author_unmerge(author=author, actor=request.user)
            messages.success(request, "Merge undone.")
        else:
            messages.error(request, "Unknown action.")
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("inbox:author", pk=pk)


@practice_member_required(min_role="manager")
def import_history(request: HttpRequest) -> HttpResponse:
    """Upload a CSV/JSONL (or platform export) of past mentions; a worker imports it."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Refused("no_file", "Choose a file to import.", status=400)
            job = import_jobs.import_job_create(
                upload=upload,
                fmt=request.POST.get("format", ""),
                account=request.POST.get("account", "").strip(),
                actor=request.user,
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            return redirect("inbox:import-job", pk=job.pk)
    return render(
        request,
        "inbox/import.html",
        {"jobs": ImportJob.objects.all()[:20], "formats": importing.FORMATS},
    )


@practice_member_required(min_role="manager")
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = ImportJob.objects.filter(pk=pk).first()
    if job is None:
        raise Http404
    template = (
        "inbox/_import_progress.html" if request.GET.get("partial") else "inbox/import_job.html"
    )
    return render(request, template, {"job": job})
