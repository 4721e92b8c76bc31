from django.db import connection

from inbox import selectors


def sources(request) -> dict:
    """The count of failing sources in every practice page's header: a failed payload is
    a review the practice is missing, so it must not fail out of sight."""
    if getattr(connection, "schema_name", "public") == "public" or not getattr(
        request, "practice_role", None
    ):
        return {}
    return {"sources_failing": selectors.sources_failing_count()}
