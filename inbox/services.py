"""Writes for the inbox that people make: accounts and their owners, listening rules,
inbox settings, assigning and closing mentions, next-step tasks, people (markers and
merges). The path of a mention is `inbox.pipeline`. Each change here checks who may make
it (`require_role`) and is audited in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from inbox.models import Author, InboxSettings, ListeningRule, Mention, SocialAccount, Task
from reputation.audit.services import audit_record
from reputation.core.errors import Refused
from tenants.models import AccountRoute
from tenants.selectors import actor_role, current_practice, practice_people, role_at_least

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


# ---------------------------------------------------------------- permissions


def require_role(actor: Any, minimum: str, *, doing: str) -> str:
    """The actor's role in the current practice, or Refused("forbidden")."""
    role = actor_role(actor, current_practice())
    if not role_at_least(role, minimum):
        raise Refused("forbidden", f"Only a {minimum} or above can {doing}.", status=403)
    return role


# ---------------------------------------------------------------- work on mentions


def _mentions_for(ids: Iterable[int]) -> list[Mention]:
    pks = sorted({int(i) for i in ids})
    if not pks:
        raise Refused("nothing_selected", "Select at least one mention.", status=400)
    if len(pks) > BULK_LIMIT:
        raise Refused("too_many", f"At most {BULK_LIMIT} mentions at once.", status=400)
    # Locked in id order: two bulk actions on overlapping sets wait, never deadlock.
    return list(Mention.objects.select_for_update().filter(pk__in=pks).order_by("pk"))


BULK_LIMIT = 500


def mentions_assign(*, ids: Iterable[int], assignee: Any, actor: Any) -> int:
    """Hand mentions to a person who works in the practice (or to nobody). One audit
    event per mention that changed hands; returns how many did."""
    require_role(actor, "responder", doing="assign mentions")
    practice = current_practice()
    if assignee is not None and not practice_people(practice=practice).filter(pk=assignee.pk):
        raise Refused("not_a_member", "That person does not work in this practice.", status=400)
    changed = 0
    with transaction.atomic():
        for mention in _mentions_for(ids):
            if mention.assignee_id == (assignee.pk if assignee else None):
                continue
            before = mention.assignee_id
            Mention.objects.filter(pk=mention.pk).update(assignee=assignee)
            audit_record(
                action="mention.assigned",
                actor=actor,
                obj=mention,
                data={"assignee_id": [before, assignee.pk if assignee else None]},
            )
            changed += 1
    return changed


def mentions_close(*, ids: Iterable[int], outcome: str, actor: Any) -> int:
    """Close mentions with how they ended. A resolved complaint gets a next step: ask the
    author, politely, to update the review (rule 11). Returns how many were closed."""
    require_role(actor, "responder", doing="close mentions")
    if outcome not in Mention.Outcome.values:
        raise Refused("bad_outcome", f"Unknown outcome {outcome!r}.", status=400)
    now = timezone.now()
    settings = inbox_settings_get()
    closed = 0
    with transaction.atomic():
        for mention in _mentions_for(ids):
            if mention.status == Mention.Status.RESOLVED and mention.outcome == outcome:
                continue
            before = {"status": mention.status, "outcome": mention.outcome}
            Mention.objects.filter(pk=mention.pk).update(
                status=Mention.Status.RESOLVED, outcome=outcome, closed_at=now
            )
            audit_record(
                action="mention.closed",
                actor=actor,
                obj=mention,
                data={
                    "status": [before["status"], Mention.Status.RESOLVED],
                    "outcome": [before["outcome"], outcome],
                },
            )
            closed += 1
            if (
                outcome == Mention.Outcome.RESOLVED
                and mention.category == Mention.Category.COMPLAINT
                and not mention.tasks.filter(title__startswith=REVIEW_UPDATE_TASK).exists()
            ):
                owner = mention.assignee if mention.assignee_id else _user_or_none(actor)
                if owner is not None:
                    task_create(
                        mention=mention,
                        title=f"{REVIEW_UPDATE_TASK} ({mention.author_name or 'the author'})",
                        owner=owner,
                        due_at=now + dt.timedelta(days=settings.review_update_after_days),
                        actor=actor,
                    )
    return closed


REVIEW_UPDATE_TASK = "Ask politely whether they would update their review"


def mention_reopen(*, mention: Mention, actor: Any) -> Mention:
    require_role(actor, "responder", doing="reopen mentions")
    with transaction.atomic():
        if not Mention.objects.filter(pk=mention.pk, status=Mention.Status.RESOLVED).update(
            status=Mention.Status.OPEN, outcome="", closed_at=None
        ):
            raise Refused("not_closed", "Only a closed mention can be reopened.", status=409)
        audit_record(
            action="mention.reopened", actor=actor, obj=mention, data={"outcome": mention.outcome}
        )
    mention.refresh_from_db()
    return mention


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "email", None) and getattr(actor, "pk", None) else None


# ---------------------------------------------------------------- next-step tasks


def task_create(
    *, mention: Mention | None, title: str, owner: Any, due_at: dt.datetime, actor: Any
) -> Task:
    require_role(actor, "responder", doing="create tasks")
    title = " ".join(title.split())[:300]
    if not title:
        raise Refused("empty_title", "A task needs a title.", status=400)
    if not practice_people(practice=current_practice()).filter(pk=owner.pk).exists():
        raise Refused("not_a_member", "That person does not work in this practice.", status=400)
    task = Task.objects.create(
        mention=mention,
        title=title,
        owner=owner,
        due_at=due_at,
        created_by=_user_or_none(actor),
    )
    audit_record(
        action="task.created",
        actor=actor,
        obj=task,
        data={
            "mention_id": mention.pk if mention else None,
            "owner_id": owner.pk,
            "due_at": due_at.isoformat(),
        },
    )
    return task


def task_done(*, task: Task, actor: Any) -> Task:
    require_role(actor, "responder", doing="complete tasks")
    now = timezone.now()
    if Task.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now):
        audit_record(action="task.done", actor=actor, obj=task)
    task.refresh_from_db()
    return task


# ---------------------------------------------------------------- people


def author_mark(*, author: Author, marker: str, actor: Any) -> Author:
    """Mark a person: troll, professional complainer, advocate, blocked (or clear it)."""
    require_role(actor, "manager", doing="mark authors")
    if marker not in Author.Marker.values:
        raise Refused("bad_marker", f"Unknown marker {marker!r}.", status=400)
    before = author.marker
    Author.objects.filter(pk=author.pk).update(marker=marker, marker_automatic=False)
    audit_record(action="author.marked", actor=actor, obj=author, data={"marker": [before, marker]})
    author.refresh_from_db()
    return author


def author_merge(*, author: Author, into: Author, actor: Any) -> Author:
    """The same person on another platform or channel: `author`'s history shows under
    `into` from now on (undone by `author_unmerge`). Merges never chain: merging into an
    identity that is itself merged goes to the one it was merged into."""
    require_role(actor, "responder", doing="merge people")
    target = into.merged_into or into
    if target.pk == author.pk:
        raise Refused("same_person", "That is already the same person.", status=400)
    with transaction.atomic():
        Author.objects.filter(pk=author.pk).update(merged_into=target)
        # Identities merged into `author` follow it to the target.
        Author.objects.filter(merged_into=author).update(merged_into=target)
        audit_record(action="author.merged", actor=actor, obj=author, data={"into": target.pk})
    author.refresh_from_db()
    return author


def author_unmerge(*, author: Author, actor: Any) -> Author:
    require_role(actor, "responder", doing="undo merges")
    before = author.merged_into_id
    if before is None:
        raise Refused("not_merged", "This identity is not merged into another.", status=409)
    Author.objects.filter(pk=author.pk).update(merged_into=None)
    audit_record(action="author.unmerged", actor=actor, obj=author, data={"from": before})
    author.refresh_from_db()
    return author


def authors_complaints_check(author_ids: Iterable[int]) -> int:
    """The system marks an author a professional complainer once they pass the practice's
    number of complaints in its period; a marker a person set is never overwritten."""
    settings = inbox_settings_get()
    since = timezone.now() - dt.timedelta(days=settings.complainer_period_days)
    ids = sorted(set(author_ids))
    if not ids:
        return 0
    heavy = (
        Mention.objects.filter(
            author_id__in=ids, category=Mention.Category.COMPLAINT, posted_at__gte=since
        )
        .values("author_id")
        .annotate(n=models.Count("id"))
        .filter(n__gte=settings.complainer_threshold)
        .values_list("author_id", flat=True)
    )
    marked = 0
    for author_id in heavy:
        if Author.objects.filter(pk=author_id, marker="").update(
            marker=Author.Marker.PROFESSIONAL_COMPLAINER, marker_automatic=True
        ):
            audit_record(
                action="author.marked",
                obj=Author(pk=author_id),
                data={
                    "marker": ["", Author.Marker.PROFESSIONAL_COMPLAINER],
                    "reason": f"{settings.complainer_threshold} or more complaints in"
                    f" {settings.complainer_period_days} days",
                },
            )
            marked += 1
    return marked
