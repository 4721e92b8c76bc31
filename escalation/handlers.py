"""Handlers of the inbox's domain events (listed in settings.DOMAIN_EVENT_HANDLERS).
They run in the inbox's transaction: quick, idempotent, ids in, nothing slow."""

from __future__ import annotations

from escalation import customers, services
from inbox.models import Mention


def mentions_created(*, ids: list[int]) -> None:
    """New mentions: check their authors against the customer list on arrival."""
    author_ids = set(
        Mention.objects.filter(pk__in=ids, author__isnull=False, from_owner=False).values_list(
            "author_id", flat=True
        )
    )
    if author_ids:
        customers.customer_check_authors(author_ids)


def mention_threat(*, id: int) -> None:
    services.escalation_open_for_threat(id=id)


def mention_removed_on_platform(*, id: int) -> None:
    services.reports_removed_on_platform(id=id)
