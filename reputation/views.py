"""Pages of the project itself, composed from several apps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from inbox.selectors import practice_overview
from tenants.selectors import (
    agencies_for_onboarding,
    agency_list_for_user,
    practice_list_for_user,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Public host: the practices this user can open, and the agency overview."""
    if connection.tenant.schema_name != "public":
        return redirect("inbox:list")
    practices = list(practice_list_for_user(user=request.user).select_related("agency"))
    overview = practice_overview(practices=practices)
    return render(
        request,
        "tenants/home.html",
        {
            "overview": overview,
            "agencies": agency_list_for_user(user=request.user),
            "can_onboard": agencies_for_onboarding(user=request.user).exists(),
        },
    )
