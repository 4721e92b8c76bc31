"""Step 3: de-duplicate and insert. Normalised items -> stored, analysed, owned mentions.

A batch is de-duplicated against the database with one query, matched against the
listening rules (step 4), analysed in one pass (step 5), routed (step 6) and inserted
with one COPY; authors and conversations are resolved per batch too. A batch that races
another delivery of the same items falls back to item-by-item inserts, where the unique
constraint on (platform, external id) decides who stored it. An item seen before is an
edit (kept as a revision), a removal, or a replay that changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inbox.models import (
    Author,
    Conversation,
    ListeningRule,
    Mention,
    MentionRevision,
    RawPayload,
    SocialAccount,
)
from inbox.pipeline import analyse, route
from inbox.pipeline.listen import Listener, ListeningMatch
from inbox.platforms.base import Kind, NormalisedMention, Platform
from inbox.replies import reply_seen_on_platform
from inbox.services import inbox_settings_get
from reputation.analysis import Analysis
from reputation.audit.services import audit_record, audit_records_bulk
from reputation.core.events import event_emit
from reputation.core.pg import copy_insert, copy_insert_values, pg_text
from tenants.selectors import current_practice

log = logging.getLogger(__name__)


@dataclasses.dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    skipped: int = 0
    mentions: list[Mention] = dataclasses.field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.skipped += other.skipped
        self.mentions.extend(other.mentions)


class IngestContext:
    """What every mention of one batch needs, loaded once per batch."""

    def __init__(self) -> None:
        self.practice = current_practice()
        self.settings = inbox_settings_get()
        self.tz_name = getattr(self.practice, "timezone", "UTC")
        self.accounts = {
            (a.platform, a.external_id): a
            for a in SocialAccount.objects.filter(is_active=True).select_related("owner")
        }
        self.handles = {
            a.handle.lstrip("@").casefold(): a
            for a in self.accounts.values()
            if a.handle and a.platform == Platform.X
        }
        self.listener = Listener(
            ListeningRule.objects.filter(is_active=True).values_list("kind", "term")
        )
        self.analyser = analyse.get_analyser()

    def account_for(self, nm: NormalisedMention) -> SocialAccount | None:
        account = self.accounts.get((nm.platform, nm.account_external_id))
        if account is None and nm.platform == Platform.X and self.handles:
            for word in nm.text.split():
                handle = word[1:].strip(".,:;!?").casefold() if word.startswith("@") else ""
                if handle in self.handles:
                    return self.handles[handle]
        return account


def mentions_ingest(
    items: Iterable[NormalisedMention],
    *,
    raw: RawPayload | None = None,
    source: str = "",
    ctx: IngestContext | None = None,
) -> IngestResult:
    ctx = ctx or IngestContext()
    source = source or (raw.source if raw else "")
    result = IngestResult()
    # Within one batch the last version of an item wins (Meta may send add + edited).
    batch: dict[tuple[str, str], NormalisedMention] = {}
    for nm in items:
        key = (nm.platform, nm.external_id)
        if key in batch:
            result.duplicates += 1
        batch[key] = nm
    if not batch:
        return result
    existing = _existing(batch)
    fresh: list[NormalisedMention] = []
    for key, nm in batch.items():
        if key in existing:
            outcome = _mention_update(existing[key], nm, ctx=ctx)
            if outcome == "updated":
                result.updated += 1
            else:
                result.duplicates += 1
                route.threat_alert_ensure(existing[key])
        else:
            fresh.append(nm)
    if fresh:
        result.add(_insert_new(fresh, ctx=ctx, raw=raw, source=source))
    return result


def _existing(batch: dict[tuple[str, str], NormalisedMention]) -> dict[tuple[str, str], Mention]:
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in batch:
        by_platform.setdefault(platform, []).append(external_id)
    # Ids first, with one array parameter: a 2,000-item IN list is a 2,000-placeholder
    # query for the client to build and the server to parse, and an import finds none.
    pks: list[int] = []
    with connection.cursor() as cursor:
        for platform, ids in by_platform.items():
            cursor.execute(
                "SELECT id FROM inbox_mention WHERE platform = %s AND external_id = ANY(%s)",
                [platform, ids],
            )
            pks.extend(pk for (pk,) in cursor.fetchall())
    if not pks:
        return {}
    return {(m.platform, m.external_id): m for m in Mention.objects.filter(pk__in=pks)}


def _insert_new(
    items: list[NormalisedMention], *, ctx: IngestContext, raw: RawPayload | None, source: str
) -> IngestResult:
    result = IngestResult()
    now = timezone.now()
    planned: list[tuple[NormalisedMention, SocialAccount | None, ListeningMatch]] = []
    for nm in items:
        account = ctx.account_for(nm)
        listening = ctx.listener.match(nm.text)
        if _not_ours(nm, account, listening):
            result.skipped += 1
            continue
        planned.append((nm, account, listening))
    if not planned:
        return result
    analyses = analyse.analyse_batch(ctx.analyser, (nm for nm, _, _ in planned))
    authors = _authors_resolve([nm for nm, _, _ in planned])
    conversations, new_conversations = _conversations_resolve(planned)
    mentions = []
    for (nm, account, listening), analysis in zip(planned, analyses, strict=True):
        mention = _build(nm, account, listening, analysis, ctx=ctx, raw=raw, now=now)
        mention.author_id = authors.get(_author_key(nm))
        mention.conversation_id = conversations[(nm.platform, _root(nm))]
        route.mention_route(
            mention, account, settings=ctx.settings, tz_name=ctx.tz_name, source=source
        )
        mentions.append(mention)
    # Rows go in key order, as authors and conversations do: two batches that share keys
    # then take their index locks in the same order and cannot deadlock each other.
    mentions.sort(key=lambda m: (m.platform, m.external_id))
    try:
        with transaction.atomic():
            copy_insert(Mention, mentions)
    except IntegrityError:
        # Another delivery of some of these items won the race: go item by item.
        log.info("batch insert raced another delivery; inserting one by one")
        for mention in mentions:
            mention.pk = None
            try:
                with transaction.atomic():
                    mention.save()
            except IntegrityError:
                result.duplicates += 1
                continue
            result.created += 1
            result.mentions.append(mention)
    else:
        result.created += len(mentions)
        result.mentions.extend(mentions)
    _after_insert(result.mentions, ctx=ctx, now=now, new_conversations=new_conversations)
    return result


def mention_ingest(
    nm: NormalisedMention, *, raw: RawPayload | None = None, source: str = ""
) -> tuple[str, Mention | None]:
    """Ingest one item; returns (created|updated|duplicate|skipped, mention)."""
    result = mentions_ingest([nm], raw=raw, source=source)
    mention = Mention.objects.filter(platform=nm.platform, external_id=nm.external_id).first()
    for outcome in ("created", "updated", "skipped"):
        if getattr(result, outcome):
            return outcome, mention
    return "duplicate", mention


def _not_ours(nm: NormalisedMention, account: SocialAccount | None, listening) -> bool:
    # Feed items (alerts, blogs, forums) are only ours if a listening rule says so,
    # and an exclusion ("Fjord Dental Supplies") overrides a brand match.
    if nm.platform == Platform.FEED:
        return not listening.is_relevant
    # What is said on the practice's own accounts is always ours.
    if account is not None:
        return False
    return bool(listening.excluded_by)


def _build(
    nm: NormalisedMention,
    account: SocialAccount | None,
    listening: ListeningMatch,
    analysis: Analysis,
    *,
    ctx: IngestContext,
    raw: RawPayload | None,
    now: dt.datetime,
) -> Mention:
    values = {
        "account_id": account.pk if account is not None else None,
        "platform": nm.platform,
        "external_id": nm.external_id,
        "kind": nm.kind,
        "parent_external_id": nm.parent_external_id,
        "author_name": pg_text(nm.author_name[:200]),
        "author_handle": pg_text(nm.author_handle[:200]),
        "text": pg_text(nm.text),
        "rating": nm.rating,
        "url": nm.url[:1000],
        "posted_at": nm.posted_at,
        "received_at": now,
        "platform_updated_at": nm.updated_at,
        "removed_on_platform": nm.removed,
        "from_owner": nm.from_owner,
        # Alert feeds are the practice's own, but what they find is said elsewhere.
        "is_indirect": account is None or nm.platform == Platform.FEED,
        "owner_reply_text": nm.owner_reply_text,
        "owner_reply_at": nm.owner_reply_at,
        "raw_id": raw.pk if raw is not None else None,
        "language": analysis.language,
        "sentiment": analysis.sentiment,
        "category": analysis.category,
        "severity": analysis.severity,
        "evidence": list(analysis.evidence) + [f"listening: {t}" for t in listening.matched],
    }
    # Positional construction (Model.from_db's path) costs a fifth of keyword
    # construction, which resolves every keyword and related descriptor; by attname, so
    # a new model field cannot shift the values.
    mention = Mention(*[values[a] if a in values else d() for a, d in _mention_slots()])
    if account is not None:
        Mention.account.field.set_cached_value(mention, account)
    return mention


_MENTION_SLOTS: list[tuple[str, Any]] = []


def _mention_slots() -> list[tuple[str, Any]]:
    """(attname, default factory) for every concrete field of Mention, in model order."""
    if not _MENTION_SLOTS:
        fields = Mention._meta.concrete_fields
        stored = [f for f in fields if not f.generated]
        # Generated columns (Mention.pin) come last, so positions stay those of the model.
        assert list(fields[: len(stored)]) == stored, "generated fields must come last"
        _MENTION_SLOTS.extend((f.attname, f.get_default) for f in stored)
    return _MENTION_SLOTS


def _after_insert(
    mentions: list[Mention],
    *,
    ctx: IngestContext,
    now: dt.datetime,
    new_conversations: frozenset[int] = frozenset(),
) -> None:
    if not mentions:
        return
    _counters_update(mentions, now, new_conversations)
    audit_records_bulk(
        {
            "action": "mention.received",
            "object_type": "mention",
            "object_id": str(m.pk),
            "data": {
                "platform": m.platform,
                "external_id": m.external_id,
                "category": m.category,
                "assignee_id": m.assignee_id,
                "status": m.status,
                "due_at": m.due_at.isoformat() if m.due_at else None,
            },
        }
        for m in mentions
    )
    route.after_insert(mentions)


def _counters_update(
    mentions: list[Mention], now: dt.datetime, new_conversations: frozenset[int] = frozenset()
) -> None:
    """Author counts and conversation activity, locking rows in id order: two batches
    that share authors update them in the same order, so they wait, never deadlock."""
    counts: dict[int, int] = {}
    activity: dict[int, dt.datetime] = {}
    in_batch: dict[int, int] = {}
    for m in mentions:
        if m.author_id:
            counts[m.author_id] = counts.get(m.author_id, 0) + 1
        if m.conversation_id:
            activity[m.conversation_id] = max(
                activity.get(m.conversation_id, m.posted_at), m.posted_at
            )
            in_batch[m.conversation_id] = in_batch.get(m.conversation_id, 0) + 1
    # A conversation this batch created for one mention already has that mention's time.
    activity = {
        cid: t for cid, t in activity.items() if cid not in new_conversations or in_batch[cid] > 1
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if counts:
            ids = sorted(counts)
            cursor.execute(
                "SELECT id FROM inbox_author WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids]
            )
            cursor.execute(
                "UPDATE inbox_author a"
                " SET mention_count = a.mention_count + c.n, last_seen_at = %s"
                " FROM unnest(%s::bigint[], %s::int[]) AS c(id, n) WHERE a.id = c.id",
                [now, ids, [counts[i] for i in ids]],
            )
        if activity:
            ids = sorted(activity)
            cursor.execute(
                "SELECT id FROM inbox_conversation WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                [ids],
            )
            cursor.execute(
                "UPDATE inbox_conversation v"
                " SET last_activity_at = GREATEST(v.last_activity_at, c.t)"
                " FROM unnest(%s::bigint[], %s::timestamptz[]) AS c(id, t) WHERE v.id = c.id",
                [ids, [activity[i] for i in ids]],
            )


def _author_key(nm: NormalisedMention) -> tuple[str, str] | None:
    key = nm.author_external_id or nm.author_handle or nm.author_name
    return (nm.platform, key[:300]) if key else None


def _authors_resolve(items: list[NormalisedMention]) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], NormalisedMention] = {}
    for nm in items:
        key = _author_key(nm)
        if key:
            wanted.setdefault(key, nm)
    if not wanted:
        return {}
    ids, _ = _rows_ensure(
        Author,
        "key",
        wanted,
        lambda p, k, nm: {
            "platform": p,
            "key": k,
            "name": nm.author_name[:200],
            "handle": nm.author_handle[:200],
        },
    )
    return ids


def _root(nm: NormalisedMention) -> str:
    return nm.root_external_id or nm.parent_external_id or nm.external_id


def _conversations_resolve(planned) -> tuple[dict[tuple[str, str], int], frozenset[int]]:
    """Conversation ids by (platform, root), and the ids of those created here."""
    wanted: dict[tuple[str, str], tuple[NormalisedMention, SocialAccount | None]] = {}
    for nm, account, _ in planned:
        wanted.setdefault((nm.platform, _root(nm)), (nm, account))
    return _rows_ensure(
        Conversation,
        "root_external_id",
        wanted,
        lambda p, root, first: {
            "platform": p,
            "root_external_id": root,
            "account_id": first[1].pk if first[1] is not None else None,
            "started_at": first[0].posted_at,
            "last_activity_at": first[0].posted_at,
        },
    )


def _rows_ensure(
    model, field: str, wanted: dict[tuple[str, str], Any], values: Callable[..., dict[str, Any]]
) -> tuple[dict[tuple[str, str], int], frozenset[int]]:
    """Ids of the rows unique on (platform, field), creating the missing ones.

    Existing rows are looked up first (an author is usually known already); missing ones
    are inserted in key order, so concurrent batches take the unique-index locks in the
    same order and cannot deadlock. COPY first; if another delivery inserted some of
    them meanwhile, fall back to INSERT ... ON CONFLICT DO NOTHING.
    """
    ids = _ids_by(model, field, wanted)
    keys = [key for key in sorted(wanted) if key not in ids]
    if not keys:
        return ids, frozenset()
    rows = [values(*key, wanted[key]) for key in keys]
    try:
        with transaction.atomic():
            created = dict(zip(keys, copy_insert_values(model, rows), strict=True))
    except IntegrityError:
        model.objects.bulk_create(
            [model(**row) for row in rows], ignore_conflicts=True, batch_size=1000
        )
        ids.update(_ids_by(model, field, dict.fromkeys(keys)))
        return ids, frozenset()
    ids.update(created)
    return ids, frozenset(created.values())


def _ids_by(model, field: str, wanted: dict[tuple[str, str], object]) -> dict[tuple[str, str], int]:
    by_platform: dict[str, list[str]] = {}
    for platform, value in wanted:
        by_platform.setdefault(platform, []).append(value)
    ids: dict[tuple[str, str], int] = {}
    meta = model._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field(field).column)
    table = quote(meta.db_table)
    sql = f"SELECT id, {column} FROM {table} WHERE platform = %s AND {column} = ANY(%s)"
    with connection.cursor() as cursor:
        for platform, values in by_platform.items():
            cursor.execute(sql, [platform, values])
            for pk, value in cursor.fetchall():
                ids[(platform, value)] = pk
    return ids


def mention_removed_on_platform(mention: Mention, *, data: dict | None = None) -> bool:
    """The platform no longer shows this mention: flag it once, audit it, and tell the
    floors above ("mention.removed_on_platform"). False if it was flagged already."""
    if not Mention.objects.filter(pk=mention.pk, removed_on_platform=False).update(
        removed_on_platform=True
    ):
        return False
    audit_record(action="mention.removed_on_platform", obj=mention, data=data)
    event_emit("mention.removed_on_platform", id=mention.pk)
    return True


def mentions_missing_from_listing(
    *, account: SocialAccount, listed: set[str], listed_since: dt.datetime
) -> int:
    """A complete listing of an account's items (every page) no longer has these stored
    items: the platform removed them. Only items received before the listing was fetched
    are judged, so one that arrived meanwhile (a push racing the poll) is never taken for
    removed. Returns how many were newly flagged."""
    missing = (
        Mention.objects.filter(
            account=account,
            platform=account.platform,
            kind=Kind.REVIEW,
            removed_on_platform=False,
            received_at__lt=listed_since,
        )
        .exclude(external_id__in=listed)
        .order_by("pk")
    )
    flagged = 0
    for mention in missing:
        with transaction.atomic():
            flagged += mention_removed_on_platform(
                mention, data={"detected": "missing from the platform's complete list"}
            )
    return flagged


def _mention_update(mention: Mention, nm: NormalisedMention, *, ctx: IngestContext) -> str:
    """An item seen before. An edit keeps the earlier version as a revision (a 1-star
    review changed to 4 stars stays visible as history); a replay changes nothing."""
    if nm.removed:
        return "updated" if mention_removed_on_platform(mention) else "duplicate"
    if nm.text == mention.text and nm.rating == mention.rating:
        if nm.owner_reply_text and not mention.owner_reply_text:
            changes = {"owner_reply_text": nm.owner_reply_text, "owner_reply_at": nm.owner_reply_at}
            changes.update(route.answered_on_platform(mention, nm))
            Mention.objects.filter(pk=mention.pk).update(**changes)
            if "status" in changes:
                audit_record(action="mention.answered_on_platform", obj=mention)
            # Ours (published from the desk) is matched; one written there is recorded.
            reply_seen_on_platform(mention=mention, text=nm.owner_reply_text, at=nm.owner_reply_at)
            return "updated"
        return "duplicate"
    if (
        nm.updated_at is not None
        and mention.platform_updated_at is not None
        and nm.updated_at <= mention.platform_updated_at
    ):
        return "duplicate"  # an older version arriving late
    analysis = analyse.analyse_one(nm)
    with transaction.atomic():
        locked = Mention.objects.select_for_update().get(pk=mention.pk)
        if locked.text == nm.text and locked.rating == nm.rating:
            return "duplicate"  # a concurrent delivery of the same edit got here first
        MentionRevision.objects.create(
            mention=locked,
            text=locked.text,
            rating=locked.rating,
            platform_updated_at=locked.platform_updated_at,
        )
        listening = [e for e in locked.evidence if e.startswith("listening: ")]
        changes = dict(
            text=pg_text(nm.text),
            rating=nm.rating,
            platform_updated_at=nm.updated_at,
            sentiment=analysis.sentiment,
            category=analysis.category,
            severity=analysis.severity,
            evidence=list(analysis.evidence) + listening,
            language=analysis.language,
            owner_reply_text=nm.owner_reply_text or locked.owner_reply_text,
            owner_reply_at=nm.owner_reply_at or locked.owner_reply_at,
        )
        # A history threat edited and still a threat is a threat made now: back on the clock.
        recategorised = analysis.category != locked.category or (
            locked.status == Mention.Status.HISTORY and analysis.category == Mention.Category.THREAT
        )
        if locked.first_response_at is None and recategorised:
            changes.update(
                route.deadline_for_edit(
                    locked, analysis.category, settings=ctx.settings, tz_name=ctx.tz_name
                )
            )
        changes.update(route.answered_on_platform(locked, nm))
        Mention.objects.filter(pk=locked.pk).update(**changes)
        if nm.owner_reply_text and nm.owner_reply_text != locked.owner_reply_text:
            reply_seen_on_platform(mention=locked, text=nm.owner_reply_text, at=nm.owner_reply_at)
        audit_record(
            action="mention.edited_on_platform",
            obj=locked,
            data={
                "rating": [locked.rating, nm.rating],
                "category": [locked.category, analysis.category],
            },
        )
    if analysis.category == Mention.Category.THREAT:
        route.threat_alert_ensure(
            Mention.objects.select_related("account__owner").get(pk=mention.pk)
        )
    return "updated"
