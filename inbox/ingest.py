"""The mention pipeline: normalised items -> stored, analysed, owned mentions.

One path for every source. A batch is de-duplicated against the database with one
query, analysed in one pass and inserted with one statement; authors and
conversations are resolved per batch too. A batch that races another delivery of the
same items falls back to item-by-item inserts, where the unique constraint on
(platform, external id) decides who stored it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import operator
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from inbox import deadlines
from inbox.listening import Listener, ListeningMatch
from inbox.models import (
    AuditEvent,
    Author,
    Conversation,
    ListeningRule,
    Mention,
    MentionRevision,
    RawPayload,
    SocialAccount,
)
from inbox.platforms.base import NormalisedMention, Platform
from inbox.services import audit_record, inbox_settings_get, pg_text, threat_alert_raise
from reputation.analysis import Analysis, get_analyser
from tenants.selectors import current_practice

log = logging.getLogger(__name__)

# Imported history older than this gets no response deadline: nobody can answer a
# two-year-old review "within the hour", and it must not flood the overdue alerts.
BACKFILL_AGE = dt.timedelta(days=7)


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
        self.analyser = get_analyser()

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
                _threat_alert_ensure(existing[key])
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
    analyses = [ctx.analyser.analyse(nm.text, rating=_stars(nm.rating)) for nm, _, _ in planned]
    authors = _authors_resolve([nm for nm, _, _ in planned])
    conversations, new_conversations = _conversations_resolve(planned)
    mentions = []
    for (nm, account, listening), analysis in zip(planned, analyses, strict=True):
        mention = _build(nm, account, listening, analysis, ctx=ctx, raw=raw, now=now)
        mention.author_id = authors.get(_author_key(nm))
        mention.conversation_id = conversations[(nm.platform, _root(nm))]
        _route(mention, account, ctx, source=source)
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


def _stars(rating: int | None) -> int | None:
    # Adapters validate ratings; this keeps a stray value from failing a whole batch.
    return rating if isinstance(rating, int) and 1 <= rating <= 5 else None


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


def _route(mention: Mention, account: SocialAccount | None, ctx: IngestContext, source: str):
    """Owner (or backup when the owner is away) and the first-response deadline."""
    if account is not None:
        away = account.owner_away and account.backup_owner_id
        mention.assignee_id = account.backup_owner_id if away else account.owner_id
    if mention.from_owner:
        mention.status = Mention.Status.ANSWERED
        return
    if mention.owner_reply_text:  # already answered on the platform (GBP reviewReply)
        mention.status = Mention.Status.ANSWERED
        mention.first_response_at = mention.owner_reply_at or mention.received_at
        return
    if mention.category in deadlines.NO_REPLY_CATEGORIES:
        mention.status = Mention.Status.NO_REPLY
        return
    if source.startswith("import") and mention.posted_at < mention.received_at - BACKFILL_AGE:
        mention.status = Mention.Status.HISTORY  # on record, not open work
        return
    mention.due_at = deadlines.due_at(
        category=mention.category,
        start=mention.received_at,
        settings=ctx.settings,
        tz_name=getattr(ctx.practice, "timezone", "UTC"),
    )


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
    copy_rows(
        AuditEvent,
        ["actor_label", "action", "object_type", "object_id", "created_at", "data"],
        (
            (
                "system",
                "mention.received",
                "mention",
                str(m.pk),
                now,
                {
                    "platform": m.platform,
                    "external_id": m.external_id,
                    "category": m.category,
                    "assignee_id": m.assignee_id,
                    "status": m.status,
                    "due_at": m.due_at.isoformat() if m.due_at else None,
                },
            )
            for m in mentions
        ),
    )
    for mention in mentions:
        if mention.from_owner and mention.parent_external_id:
            Mention.objects.filter(
                platform=mention.platform,
                external_id=mention.parent_external_id,
                first_response_at__isnull=True,
            ).update(first_response_at=mention.posted_at, status=Mention.Status.ANSWERED)
        elif mention.category == Mention.Category.THREAT and mention.due_at is not None:
            # Threats alert at once; imported history (no deadline) does not page anyone.
            threat_alert_raise(mention)


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


def _next_ids(cursor, model, count: int) -> list[int]:
    meta = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def copy_insert_values(model, rows: list[dict[str, Any]]) -> list[int]:
    """COPY rows given as {attname: value} (missing fields get their model default);
    returns their new ids, in order. Cheaper than building model instances."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key and not f.generated]
    defaults = {f.attname: f.get_default() for f in fields}  # once per batch
    with connection.cursor() as cursor:
        ids = _next_ids(cursor, model, len(rows))
        _copy(
            cursor,
            model,
            [meta.pk, *fields],
            (
                [pk, *(row.get(f.attname, defaults[f.attname]) for f in fields)]
                for pk, row in zip(ids, rows, strict=True)
            ),
        )
    return ids


def copy_insert(model, objs: list) -> None:
    """Insert model instances with one COPY: several times faster than bulk_create,
    which sends every value through the ORM and psycopg's Python array adapters.

    The ids are drawn from the table's sequence first and set on the instances (as
    bulk_create does). A unique violation raises IntegrityError: call it inside
    transaction.atomic() so that a failed COPY leaves nothing behind.
    """
    if not objs:
        return
    meta = model._meta
    # PostgreSQL computes generated columns itself and refuses values for them.
    fields = [meta.pk, *(f for f in meta.concrete_fields if not f.primary_key and not f.generated)]
    if any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields):
        values = lambda obj: [f.pre_save(obj, True) for f in fields]  # noqa: E731
    else:  # nothing to fill in on save: read the attributes in one C call
        values = operator.attrgetter(*(f.attname for f in fields))
    with connection.cursor() as cursor:
        for obj, pk in zip(objs, _next_ids(cursor, model, len(objs)), strict=True):
            obj.pk = pk
        _copy(cursor, model, fields, map(values, objs))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def copy_rows(model, names: list[str], rows) -> None:
    """COPY plain value rows into the model's table, without building instances
    (audit events: thousands per import, never read back)."""
    fields = [model._meta.get_field(name) for name in names]
    with connection.cursor() as cursor:
        _copy(cursor, model, fields, rows)


def _copy(cursor, model, fields, rows) -> None:
    quote = connection.ops.quote_name
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy would be asked once per value
    converters = [(i, _copy_value(f, conn)) for i, f in enumerate(fields)]
    # Only the columns that need it are converted (JSON, naive datetimes...).
    pairs = [(i, conv) for i, conv in converters if conv is not _identity]
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        if not pairs:
            for row in rows:
                write(row)
            return
        for row in rows:
            row = list(row)
            for i, conv in pairs:
                row[i] = conv(row[i])
            write(row)


def _identity(value):
    return value


_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.AutoField,
    models.BigAutoField,
    models.ForeignKey,
)


def _copy_value(field, conn):
    """How COPY gets a field's value: as it is for plain types and aware datetimes,
    JSON as text, anything else through the field's own database preparation."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if isinstance(field, _PLAIN_FIELDS):
        return _identity

    def prepare(value):
        if value is None or (isinstance(value, dt.datetime) and value.tzinfo is not None):
            return value
        return field.get_db_prep_save(value, conn)

    return prepare


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


def _deadline_for_edit(mention: Mention, category: str, ctx: IngestContext) -> dict:
    """An edit that changes what a mention is changes its clock too (a complaint edited
    into praise is no longer due in an hour; one edited into a threat is due now)."""
    is_threat = category == Mention.Category.THREAT
    if mention.status == Mention.Status.HISTORY and not is_threat:
        return {}  # imported history stays off the clock; only a threat made now is work now
    if category in deadlines.NO_REPLY_CATEGORIES:
        return {"due_at": None, "status": Mention.Status.NO_REPLY}
    if mention.due_at is None and mention.status not in _CLOCK_STARTS_FROM:
        return {}  # no clock before (e.g. history imported before the history status)
    start = timezone.now() if is_threat else mention.received_at
    due = deadlines.due_at(
        category=category,
        start=start,
        settings=ctx.settings,
        tz_name=getattr(ctx.practice, "timezone", "UTC"),
    )
    status = Mention.Status.NEW if mention.status in _CLOCK_STARTS_FROM else mention.status
    return {"due_at": due, "status": status, "reminder_sent_at": None, "overdue_alerted_at": None}


# Statuses without a clock that an edit can turn into work (history: only by a threat).
_CLOCK_STARTS_FROM = (Mention.Status.NO_REPLY, Mention.Status.HISTORY)


def _threat_alert_ensure(mention: Mention) -> None:
    """A replayed threat whose alert was never raised (its first processing failed
    after the insert) gets it now, so re-processing heals a lost alert."""
    if (
        mention.category == Mention.Category.THREAT
        and mention.due_at is not None
        and not mention.from_owner
        and not mention.alerts.filter(kind="threat").exists()
    ):
        threat_alert_raise(mention)


def _answered_on_platform(mention: Mention, nm: NormalisedMention) -> dict[str, Any]:
    """Someone at the practice answered on the platform itself (a GBP reviewReply, a
    Tripadvisor owner response): the clock stops, or the overdue alerts would nag about
    a review that already has its answer."""
    if (
        not nm.owner_reply_text
        or mention.owner_reply_text
        or mention.first_response_at is not None
        or mention.status not in _AWAITING_ANSWER
    ):
        return {}
    return {
        "status": Mention.Status.ANSWERED,
        "first_response_at": nm.owner_reply_at or timezone.now(),
    }


_AWAITING_ANSWER = (*Mention.OPEN_STATUSES, Mention.Status.HISTORY)


def _mention_update(mention: Mention, nm: NormalisedMention, *, ctx: IngestContext) -> str:
    """An item seen before. An edit keeps the earlier version as a revision (a 1-star
    review changed to 4 stars stays visible as history); a replay changes nothing."""
    if nm.removed:
        if Mention.objects.filter(pk=mention.pk, removed_on_platform=False).update(
            removed_on_platform=True
        ):
            audit_record(action="mention.removed_on_platform", obj=mention)
            return "updated"
        return "duplicate"
    if nm.text == mention.text and nm.rating == mention.rating:
        if nm.owner_reply_text and not mention.owner_reply_text:
            changes = {"owner_reply_text": nm.owner_reply_text, "owner_reply_at": nm.owner_reply_at}
            changes.update(_answered_on_platform(mention, nm))
            Mention.objects.filter(pk=mention.pk).update(**changes)
            if "status" in changes:
                audit_record(action="mention.answered_on_platform", obj=mention)
            return "updated"
        return "duplicate"
    if (
        nm.updated_at is not None
        and mention.platform_updated_at is not None
        and nm.updated_at <= mention.platform_updated_at
    ):
        return "duplicate"  # an older version arriving late
    analysis = get_analyser().analyse(nm.text, rating=_stars(nm.rating))
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
            changes.update(_deadline_for_edit(locked, analysis.category, ctx))
        changes.update(_answered_on_platform(locked, nm))
        Mention.objects.filter(pk=locked.pk).update(**changes)
        audit_record(
            action="mention.edited_on_platform",
            obj=locked,
            data={
                "rating": [locked.rating, nm.rating],
                "category": [locked.category, analysis.category],
            },
        )
    if analysis.category == Mention.Category.THREAT:
        _threat_alert_ensure(Mention.objects.select_related("account__owner").get(pk=mention.pk))
    return "updated"
