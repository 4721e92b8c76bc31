"""Writes for the inbox that people make: accounts and their owners, listening rules,
inbox settings. The path of a mention is `inbox.pipeline`; each change here is audited."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from inbox.models import InboxSettings, ListeningRule, SocialAccount
from reputation.audit.services import audit_record
from tenants.models import AccountRoute
from tenants.selectors import current_practice

log = logging.getLogger(__name__)


def inbox_settings_get() -> InboxSettings:
    settings = InboxSettings.objects.order_by("pk").first()
    return settings or InboxSettings.objects.create()


# ---------------------------------------------------------------- accounts


class AccountTaken(ValueError):
    pass


def social_account_save(*, account: SocialAccount, actor: Any = None) -> SocialAccount:
    """Create or change an account, keeping the service-wide webhook route in step."""
    created = account.pk is None
    practice = current_practice()
    route = AccountRoute.objects.filter(
        platform=account.platform, external_id=account.external_id
    ).first()
    if route is not None and route.practice_id != practice.pk:
        # A page answers to one practice; two claiming it would split its webhooks.
        raise AccountTaken(
            f"This {account.get_platform_display()} account is already connected to another "
            "practice. Disconnect it there first."
        )
    with transaction.atomic():
        account.save()
        if route is None:
            AccountRoute.objects.create(
                platform=account.platform,
                external_id=account.external_id,
                practice=practice,
            )
    audit_record(
        action="account.created" if created else "account.changed",
        actor=actor,
        obj=account,
        data={
            "platform": account.platform,
            "owner": account.owner.email if account.owner else None,
            "backup_owner": account.backup_owner.email if account.backup_owner else None,
        },
    )
    return account


# ---------------------------------------------------------------- listening and settings


def listening_rule_create(*, kind: str, term: str, actor: Any = None) -> ListeningRule:
    term = " ".join(term.split())
    if not term:
        raise ValueError("A rule needs a word or phrase.")
    if kind not in ListeningRule.Kind.values:
        raise ValueError(f"Unknown rule kind {kind!r}.")
    rule, created = ListeningRule.objects.get_or_create(kind=kind, term=term)
    if created:
        audit_record(
            action="listening_rule.created",
            actor=actor,
            obj=rule,
            data={"kind": kind, "term": term},
        )
    return rule


def listening_rule_delete(*, rule: ListeningRule, actor: Any = None) -> None:
    audit_record(
        action="listening_rule.deleted",
        actor=actor,
        obj=rule,
        data={"kind": rule.kind, "term": rule.term},
    )
    rule.delete()


def inbox_settings_update(
    *, settings: InboxSettings, changes: dict, actor: Any = None
) -> InboxSettings:
    before = {field: str(getattr(settings, field)) for field in changes}
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.save(update_fields=list(changes))
    after = {field: str(getattr(settings, field)) for field in changes}
    diff = {f: [before[f], after[f]] for f in changes if before[f] != after[f]}
    if diff:
        audit_record(action="inbox_settings.changed", actor=actor, obj=settings, data=diff)
    return settings
