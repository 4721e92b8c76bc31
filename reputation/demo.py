"""Demo data a clinic recognises: an agency, two client practices, their people,
accounts, listening rules and a week and a half of mentions.

The data itself is in `demo_data.toml` next to this module; the loader here turns it into
the specs below and refuses what it does not understand (an unknown key, a bad time, an
email that is not a demo user), naming the item, so a typo fails at import, not mid-seed.

Mentions go through the real pipeline (`inbox.pipeline.store.mentions_ingest`), so they are
analysed, threaded, assigned to the account owner, given deadlines, alerted on and
audited exactly as live ones would be. Two things are the seed's own doing:

- History older than the backfill age is ingested as an import ("import:demo"): the
  practice connected its accounts a week ago and imported what was already there, so
  those mentions are filed as imported history, with no response deadline (the
  pipeline's own backfill rule); one already answered on the platform stays answered.
- Later mentions "arrived" when they were posted. The pipeline starts every clock at
  ingestion time, so after ingesting one the seed moves its `received_at` back to a
  couple of minutes after posting and recomputes the deadline from there (with an
  audit row saying so). That is what makes the older ones overdue and keeps the
  clocks of the last hour running.

Running it again changes nothing: practices are found by slug, users by email,
accounts by (platform, external id), rules by (kind, term) and mentions by
(platform, external id); what is missing is completed, what exists is left alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, get_args, get_origin, get_type_hints

from django.db.models import Count
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from inbox.models import Alert, InboxSettings, ListeningRule, Mention, SocialAccount
from inbox.pipeline import deadlines
from inbox.pipeline.alerts import threat_alert_raise
from inbox.pipeline.route import BACKFILL_AGE
from inbox.pipeline.store import mentions_ingest
from inbox.platforms.base import Kind, NormalisedMention, Platform
from inbox.services import AccountTaken, inbox_settings_get, social_account_save
from reputation.audit.services import audit_record
from tenants import services as tenant_services
from tenants.models import AccountRoute, Agency, Membership, Practice, Role, User
from tenants.selectors import practice_url, public_url

DATA_FILE = Path(__file__).with_name("demo_data.toml")
SEED_ACTOR = "seed_demo"
# Webhook deliveries are not instant: a mention "arrives" this long after posting.
ARRIVAL_LAG = dt.timedelta(minutes=2)
LIVE_SOURCE = "demo"
IMPORT_SOURCE = "import:demo"


Say = Callable[[str], None]


class Writer(Protocol):
    def write(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


# ---------------------------------------------------------------- the data shapes


@dataclasses.dataclass(frozen=True)
class AccountSpec:
    key: str  # how the mentions below refer to it
    platform: str
    external_id: str
    display_name: str
    handle: str = ""
    url: str = ""
    owner: str | None = None  # user email; None leaves the account unowned
    backup: str | None = None


@dataclasses.dataclass(frozen=True)
class Edit:
    """A later version of a mention: same external id, newer updated_at."""

    ago: dt.timedelta
    text: str
    rating: int | None = None  # None: the item has no star rating


@dataclasses.dataclass(frozen=True)
class Seed:
    external_id: str
    platform: str
    kind: str
    ago: dt.timedelta  # posted this long before the seed runs
    text: str
    account: str | None = None  # AccountSpec.key the item was addressed to
    author: str = ""
    author_id: str = ""
    handle: str = ""
    rating: int | None = None
    url: str = ""
    parent: str = ""
    root: str = ""
    from_owner: bool = False
    edit: Edit | None = None
    # The practice's public answer already on the platform (a GBP reviewReply).
    reply: tuple[dt.timedelta, str] | None = None


@dataclasses.dataclass(frozen=True)
class PracticeSpec:
    slug: str
    name: str
    owner_email: str
    members: tuple[tuple[str, str], ...]  # (email, role), the owner included
    accounts: tuple[AccountSpec, ...]
    rules: tuple[tuple[str, str], ...]  # (ListeningRule.Kind, term)
    mentions: tuple[Seed, ...]


@dataclasses.dataclass(frozen=True)
class AgencySpec:
    slug: str
    name: str
    manager: str  # user email: the agency's manager, who sees every client


@dataclasses.dataclass(frozen=True)
class DemoData:
    """Everything `demo_data.toml` holds."""

    password: str
    admin: str  # user email of the Django superuser
    agency: AgencySpec
    users: dict[str, str]  # email -> full name, in the order they are created
    practices: tuple[PracticeSpec, ...]


@dataclasses.dataclass
class Tally:
    created: int = 0
    present: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.present} already present"


@dataclasses.dataclass
class DemoSummary:
    practices: Tally = dataclasses.field(default_factory=Tally)
    users: Tally = dataclasses.field(default_factory=Tally)
    accounts: Tally = dataclasses.field(default_factory=Tally)
    rules: Tally = dataclasses.field(default_factory=Tally)
    mentions: Tally = dataclasses.field(default_factory=Tally)
    revisions: Tally = dataclasses.field(default_factory=Tally)
    # Items the listening rules kept out (an exclusion); never stored, so every run
    # skips them again.
    mentions_skipped: int = 0
    # slug -> category -> number of mentions now in that practice
    categories: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)

    @property
    def created_anything(self) -> bool:
        return any(
            t.created
            for t in (
                self.practices,
                self.users,
                self.accounts,
                self.rules,
                self.mentions,
                self.revisions,
            )
        )


@dataclasses.dataclass(frozen=True)
class _Reply:
    """Seed.reply as the file writes it: a table, not a pair."""

    ago: dt.timedelta
    text: str


# ---------------------------------------------------------------- the loader


class DemoDataError(ValueError):
    """The data file says something the loader does not accept; the message names where."""


_T = TypeVar("_T")
_Convert = Callable[[Any, str], Any]  # (TOML value, where it is) -> field value
# Keys the file spells apart from the field, so that it reads `posted = "3h"`.
_FILE_KEYS: dict[tuple[type, str], str] = {
    (Seed, "ago"): "posted",
    (Edit, "ago"): "edited",
    (_Reply, "ago"): "replied",
}
_DURATION_PART = re.compile(r"([0-9]+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_PLATFORMS = [code for code, _ in Platform.CHOICES]
_KINDS = [code for code, _ in Kind.CHOICES]


def demo_data_parse(text: str, *, source: str = DATA_FILE.name) -> DemoData:
    """The demo data in `text` (TOML laid out as `demo_data.toml`). Strict: an unknown or
    missing key, a value of the wrong type or choice, a bad duration, an email that is not
    in [users] or an unknown account key raises DemoDataError naming the item."""
    try:
        data = _build(
            DemoData,
            tomllib.loads(text),
            "",
            agency=lambda v, where: _build(AgencySpec, v, where),
            users=_users,
            practices=lambda v, where: _each(v, where, "slug", _practice),
        )
        _references_check(data)
    except (tomllib.TOMLDecodeError, DemoDataError) as exc:
        raise DemoDataError(f"{source}: {exc}") from None
    return data


def _error(where: str, problem: str) -> DemoDataError:
    return DemoDataError(f"{where}: {problem}" if where else problem)


def _build(cls: type[_T], raw: Any, where: str, **convert: _Convert) -> _T:
    """A `cls` from a TOML table keyed by its field names (or their _FILE_KEYS spelling).
    `convert[field]` turns the TOML value into the field's; every value is then checked
    against the field's type, so the dataclass defaults stay the only defaults."""
    table = _table(raw, where)
    fields = {_FILE_KEYS.get((cls, f.name), f.name): f for f in dataclasses.fields(cls)}
    if unknown := [key for key in table if key not in fields]:
        raise _error(where, f"unknown key {', '.join(map(repr, unknown))}")
    required = (
        key
        for key, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    if missing := [key for key in required if key not in table]:
        raise _error(where, f"missing key {', '.join(map(repr, missing))}")
    hints = _hints(cls)
    values = {}
    for key, value in table.items():
        name = fields[key].name
        if name in convert:
            value = convert[name](value, _at(where, key))
        if not _fits(value, hints[name]):
            raise _error(_at(where, key), f"expected {hints[name]}, not {value!r}")
        values[name] = value
    return cls(**values)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)  # evaluates the annotation strings: once per class, not per item


def _fits(value: Any, hint: Any) -> bool:
    options = get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    # isinstance(True, int) holds, but `rating = true` is a mistake.
    return any(
        isinstance(value, get_origin(o) or o) and (o is bool or not isinstance(value, bool))
        for o in options
    )


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _error(where, f"expected a table, not {raw!r}")
    return raw


def _each(raw: Any, where: str, name_key: str, build: _Convert) -> tuple[Any, ...]:
    """An array of tables ([[...]]), each named in errors by its `name_key`."""
    if not isinstance(raw, list):
        raise _error(where, f"expected an array of tables, not {raw!r}")
    return tuple(
        build(item, f"{where}[{item.get(name_key, i) if isinstance(item, dict) else i}]")
        for i, item in enumerate(raw)
    )


def _one_of(value: Any, choices: list[str], where: str) -> Any:
    if value not in choices:
        raise _error(where, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _duration(value: Any, where: str) -> dt.timedelta:
    """How long before the seed runs: "45m", "3h", "2d 4h", "4d 5h 20m" (each unit at most
    once, days before hours before minutes)."""
    parts = [_DURATION_PART.fullmatch(p) for p in value.split()] if isinstance(value, str) else []
    units = [m[2] for m in parts if m]
    if not parts or len(units) < len(parts) or units != sorted(set(units), key="dhm".index):
        raise _error(where, f'bad duration {value!r}; write e.g. "45m", "3h", "2d 4h"')
    return sum((dt.timedelta(**{_UNITS[m[2]]: int(m[1])}) for m in parts if m), dt.timedelta())


def _users(raw: Any, where: str) -> dict[str, str]:
    users = _table(raw, where)
    for email, name in users.items():
        if not isinstance(name, str):
            raise _error(_at(where, email), f"expected a full name, not {name!r}")
    return dict(users)


def _practice(raw: Any, where: str) -> PracticeSpec:
    def members(v: Any, where: str) -> tuple[tuple[str, str], ...]:
        return tuple(
            (email, Role(_one_of(role, Role.values, _at(where, email))))
            for email, role in _table(v, where).items()
        )

    def rules(v: Any, where: str) -> tuple[tuple[str, str], ...]:
        # Grouped by kind in the file (kind = [terms]); the order is kept.
        out: list[tuple[str, str]] = []
        for kind, terms in _table(v, where).items():
            _one_of(kind, ListeningRule.Kind.values, _at(where, kind))
            if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
                raise _error(_at(where, kind), f"expected a list of terms, not {terms!r}")
            out += [(ListeningRule.Kind(kind), term) for term in terms]
        return tuple(out)

    def account(v: Any, where: str) -> AccountSpec:
        return _build(AccountSpec, v, where, platform=lambda p, w: _one_of(p, _PLATFORMS, w))

    return _build(
        PracticeSpec,
        raw,
        where,
        members=members,
        rules=rules,
        accounts=lambda v, where: _each(v, where, "key", account),
        mentions=lambda v, where: _each(v, where, "external_id", _seed),
    )


def _seed(raw: Any, where: str) -> Seed:
    def reply(v: Any, where: str) -> tuple[dt.timedelta, str]:
        r = _build(_Reply, v, where, ago=_duration)
        return (r.ago, r.text)

    return _build(
        Seed,
        raw,
        where,
        platform=lambda v, w: _one_of(v, _PLATFORMS, w),
        kind=lambda v, w: _one_of(v, _KINDS, w),
        ago=_duration,
        edit=lambda v, w: _build(Edit, v, w, ago=_duration),
        reply=reply,
    )


def _references_check(data: DemoData) -> None:
    """Every email is a demo user and every mention's account is one of its practice's:
    the seed would otherwise fail halfway with a KeyError."""
    emails = {data.admin, data.agency.manager}
    for p in data.practices:
        emails |= {p.owner_email, *(email for email, _ in p.members)}
        emails |= {e for a in p.accounts for e in (a.owner, a.backup) if e}
        keys = {a.key for a in p.accounts}
        for s in p.mentions:
            if s.account is not None and s.account not in keys:
                raise _error(
                    f"practices[{p.slug}].mentions[{s.external_id}].account",
                    f"no account with key {s.account!r}",
                )
    if unknown := sorted(emails - data.users.keys()):
        raise _error("users", f"missing {', '.join(unknown)}, named elsewhere in the file")


# ---------------------------------------------------------------- the data

_data = demo_data_parse(DATA_FILE.read_text(encoding="utf-8"))
PASSWORD = _data.password
AGENCY_SLUG = _data.agency.slug
AGENCY_NAME = _data.agency.name
AGENCY_EMAIL = _data.agency.manager
ADMIN_EMAIL = _data.admin
USERS: dict[str, str] = _data.users
PRACTICES: tuple[PracticeSpec, ...] = _data.practices
_by_slug = {p.slug: p for p in PRACTICES}
FJORD = _by_slug["fjord-dental"]  # the names tests and the browser harness import
GLOW = _by_slug["glow-aesthetics"]


# ---------------------------------------------------------------- the service


def demo_seed(*, stdout: Writer | None = None) -> DemoSummary:
    """Create (or complete) the demo agency, practices, people, accounts, rules and
    mentions. Idempotent: a second run creates nothing."""

    def say(line: str) -> None:
        if stdout is not None:
            stdout.write(line + "\n")  # a command's OutputWrapper adds no second newline

    summary = DemoSummary()
    now = timezone.now()
    with schema_context("public"):
        tenant_services.public_tenant_ensure()
        users = _users_ensure(summary, say)
        agency = _agency_ensure(users, say)
        practices = [_practice_ensure(spec, agency, users, summary, say) for spec in PRACTICES]
    for spec, practice in zip(PRACTICES, practices, strict=True):
        # tenant_context, not schema_context: the pipeline reads the practice itself
        # (name, timezone, memberships) from connection.tenant.
        with tenant_context(practice):
            _accounts_ensure(spec, users, summary, say)
            _rules_ensure(spec, summary, say)
            _mentions_ensure(spec, practice, now, summary, say)
            summary.categories[spec.slug] = dict(
                Mention.objects.values_list("category")
                .annotate(n=Count("id"))
                .order_by("category")
                .values_list("category", "n")
            )
    _summary_print(summary, practices, say)
    return summary


def _users_ensure(summary: DemoSummary, say: Say) -> dict[str, User]:
    users: dict[str, User] = {}
    for email, full_name in USERS.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            if email == ADMIN_EMAIL:
                user = User.objects.create_superuser(email, PASSWORD, full_name=full_name)
            else:
                user = tenant_services.user_get_or_create(
                    email=email, password=PASSWORD, full_name=full_name
                )
            summary.users.created += 1
            say(f"  user {email} created")
        else:
            summary.users.present += 1
            if not user.full_name:  # e.g. created earlier as a practice owner without a name
                User.objects.filter(pk=user.pk).update(full_name=full_name)
                user.full_name = full_name
        users[email] = user
    return users


def _agency_ensure(users: dict[str, User], say: Say) -> Agency:
    agency, created = Agency.objects.get_or_create(slug=AGENCY_SLUG, defaults={"name": AGENCY_NAME})
    say(f"Agency {agency.name}: {'created' if created else 'already present'}")
    if not agency.memberships.filter(user=users[AGENCY_EMAIL]).exists():
        tenant_services.agency_membership_set(
            user=users[AGENCY_EMAIL], agency=agency, role=Role.MANAGER
        )
    return agency


def _practice_ensure(
    spec: PracticeSpec, agency: Agency, users: dict[str, User], summary: DemoSummary, say: Say
) -> Practice:
    practice = Practice.objects.filter(slug=spec.slug).first()
    if practice is None:
        say(f"Practice {spec.name}: creating schema …")
        practice = tenant_services.practice_create(
            slug=spec.slug, name=spec.name, owner_email=spec.owner_email, agency=agency
        )
        summary.practices.created += 1
        say(f"Practice {spec.name}: created ({practice.schema_name})")
    else:
        summary.practices.present += 1
        say(f"Practice {spec.name}: already present, completing it")
        if practice.agency_id is None:
            Practice.objects.filter(pk=practice.pk).update(agency=agency)
            practice.agency = agency
        elif practice.agency_id != agency.pk:
            say(f"  note: {spec.slug} is a client of another agency; left as it is")
    for email, role in spec.members:
        # Existing memberships are left alone: someone may have changed the role since.
        if not Membership.objects.filter(user=users[email], practice=practice).exists():
            tenant_services.membership_set(user=users[email], practice=practice, role=role)
    return practice


def _accounts_ensure(
    spec: PracticeSpec, users: dict[str, User], summary: DemoSummary, say: Say
) -> None:
    created = 0
    for a in spec.accounts:
        account = SocialAccount.objects.filter(
            platform=a.platform, external_id=a.external_id
        ).first()
        if account is None:
            account = SocialAccount(
                platform=a.platform,
                external_id=a.external_id,
                display_name=a.display_name,
                handle=a.handle,
                url=a.url,
                owner=users[a.owner] if a.owner else None,
                backup_owner=users[a.backup] if a.backup else None,
            )
        elif AccountRoute.objects.filter(platform=a.platform, external_id=a.external_id).exists():
            continue  # present and routed: left as it is (owners may have changed)
        # New, or present without its webhook route (made before routes existed).
        is_new = account.pk is None
        try:
            social_account_save(account=account)
        except AccountTaken:
            say(f"  note: {a.platform} {a.external_id} belongs to another practice; skipped")
            continue
        created += is_new
    summary.accounts.created += created
    summary.accounts.present += len(spec.accounts) - created
    say(f"  {spec.slug}: {created} of {len(spec.accounts)} social accounts created")


def _rules_ensure(spec: PracticeSpec, summary: DemoSummary, say: Say) -> None:
    created = 0
    for kind, term in spec.rules:
        _, was_created = ListeningRule.objects.get_or_create(kind=kind, term=term)
        created += was_created
    summary.rules.created += created
    summary.rules.present += len(spec.rules) - created
    say(f"  {spec.slug}: {created} of {len(spec.rules)} listening rules created")


def _normalised(
    seed: Seed, spec: PracticeSpec, now: dt.datetime, *, edit: Edit | None = None
) -> NormalisedMention:
    accounts = {a.key: a for a in spec.accounts}
    posted_at = now - seed.ago
    return NormalisedMention(
        platform=seed.platform,
        external_id=seed.external_id,
        kind=seed.kind,
        text=edit.text if edit else seed.text,
        rating=edit.rating if edit else seed.rating,
        posted_at=posted_at,
        # Always give a version time, or re-sending the first version of an edited
        # review would count as a newer edit.
        updated_at=(now - edit.ago) if edit else posted_at,
        author_external_id=seed.author_id,
        author_name=seed.author,
        author_handle=seed.handle,
        url=seed.url,
        account_external_id=accounts[seed.account].external_id if seed.account else "",
        parent_external_id=seed.parent,
        root_external_id=seed.root,
        from_owner=seed.from_owner,
        owner_reply_text=seed.reply[1] if seed.reply else "",
        owner_reply_at=(now - seed.reply[0]) if seed.reply else None,
    )


def _mentions_ensure(
    spec: PracticeSpec, practice: Practice, now: dt.datetime, summary: DemoSummary, say: Say
) -> None:
    created = present = skipped = 0
    settings = inbox_settings_get()
    for seed in spec.mentions:
        mention = Mention.objects.filter(
            platform=seed.platform, external_id=seed.external_id
        ).first()
        if mention is not None:
            present += 1
            _threat_alert_complete(mention)
        else:
            is_history = seed.ago > BACKFILL_AGE
            source = IMPORT_SOURCE if is_history else LIVE_SOURCE
            result = mentions_ingest([_normalised(seed, spec, now)], source=source)
            if result.skipped:
                skipped += 1
                continue
            mention = result.mentions[0] if result.mentions else None
            if mention is None:  # stored concurrently by someone else
                present += 1
                continue
            created += 1
            if not is_history:
                _arrival_backdate(mention, practice, settings)
        if seed.edit is not None:
            if mention.revisions.exists():
                summary.revisions.present += 1
            else:
                edited = _normalised(seed, spec, now, edit=seed.edit)
                mentions_ingest([edited], source=LIVE_SOURCE)
                summary.revisions.created += mention.revisions.count()
    summary.mentions.created += created
    summary.mentions.present += present
    summary.mentions_skipped += skipped
    say(
        f"  {spec.slug}: {created} mentions ingested, {present} already present"
        + (f", {skipped} kept out by listening rules" if skipped else "")
    )


def _threat_alert_complete(mention: Mention) -> None:
    """A threat stored by an earlier, interrupted run still gets its alert."""
    if (
        mention.category == Mention.Category.THREAT
        and not mention.from_owner
        and mention.due_at is not None  # imported history pages nobody
        and not mention.alerts.filter(kind=Alert.Kind.THREAT).exists()
    ):
        threat_alert_raise(mention)


def _arrival_backdate(mention: Mention, practice: Practice, settings: InboxSettings) -> None:
    """The mention arrived shortly after it was posted, not when the seed ran."""
    received_at = min(mention.posted_at + ARRIVAL_LAG, mention.received_at)
    fields: dict[str, Any] = {"received_at": received_at}
    if mention.due_at is not None:
        fields["due_at"] = deadlines.due_at(
            category=mention.category,
            start=received_at,
            settings=settings,
            tz_name=practice.timezone,
        )
    Mention.objects.filter(pk=mention.pk).update(**fields)
    audit_record(
        action="demo.arrival_backdated",
        actor_label=SEED_ACTOR,
        obj=mention,
        data={k: v.isoformat() if v else None for k, v in fields.items()},
    )


def _summary_print(summary: DemoSummary, practices: list[Practice], say: Say) -> None:
    say("")
    say("Summary")
    say(f"  practices: {summary.practices}")
    say(f"  users:     {summary.users}")
    say(f"  accounts:  {summary.accounts}")
    say(f"  rules:     {summary.rules}")
    say(
        f"  mentions:  {summary.mentions}"
        + (
            f", {summary.mentions_skipped} kept out by listening rules"
            if summary.mentions_skipped
            else ""
        )
    )
    say(f"  edited-review revisions: {summary.revisions}")
    for slug, counts in summary.categories.items():
        detail = ", ".join(f"{cat or 'none'} {n}" for cat, n in counts.items())
        say(f"  {slug}: {sum(counts.values())} mentions ({detail})")
    say("")
    say(f"Demo logins (password {PASSWORD}):")
    for spec, practice in zip(PRACTICES, practices, strict=True):
        say(f"  {practice.name}: {practice_url(practice)}")
        for email, role in spec.members:
            say(f"    {email:<30} {role:<10} {USERS[email]}")
    say(f"  Agency {AGENCY_NAME}: {public_url()}")
    say(f"    {AGENCY_EMAIL:<30} {'manager':<10} {USERS[AGENCY_EMAIL]} (both clinics)")
    say(f"  Django admin: {public_url('/admin/')}")
    say(f"    {ADMIN_EMAIL:<30} superuser")
