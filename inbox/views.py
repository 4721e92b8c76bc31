from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from inbox import selectors
from inbox.filters import MentionFilter
from tenants.decorators import practice_member_required


@practice_member_required()
def inbox_list(request: HttpRequest) -> HttpResponse:
    filterset = MentionFilter(request.GET, queryset=selectors.mention_list())
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "inbox/inbox.html",
        {
            "page": page,
            "filter": filterset,
            "counts": selectors.inbox_counts(),
            "now": timezone.now(),
        },
    )


@practice_member_required()
def mention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mention = selectors.mention_get(pk=pk)
    if mention is None:
        raise Http404
    return render(
        request,
        "inbox/mention_detail.html",
        {"mention": mention, "revisions": mention.revisions.all()},
    )


@practice_member_required()
def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/accounts.html", {"accounts": selectors.account_list()})
