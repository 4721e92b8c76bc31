from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def practice_timezone(get_response: Callable) -> Callable:
    """Show times on a practice's pages in the practice's own time zone."""

    def middleware(request: HttpRequest) -> HttpResponse:
        tz = getattr(connection.tenant, "timezone", None)
        if tz and connection.schema_name != "public":
            timezone.activate(tz)
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware
