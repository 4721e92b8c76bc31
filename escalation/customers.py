"""The customer check: import the practice's customer list as keyed hashes, and tell for
each author whether they are a customer.

Clear identifiers live only in memory while a file is read; they are never stored,
logged, put into an error, an audit event or a task argument. Rejected rows are named by
their line number and reason only (the command can write them to a local file of the
operator's, beside the file they came from).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from escalation import hashing
from escalation.errors import Refused
from escalation.models import CustomerCheck, CustomerHash, CustomerList
from escalation.permissions import require_role
from escalation.practice_settings import escalation_settings_get
from inbox.models import Author
from reputation.audit.services import audit_record
from reputation.core.pg import copy_rows
from reputation.core.tasks import enqueue

log = logging.getLogger(__name__)

# Header names we understand (case-insensitive, spaces/dashes as underscores).
COLUMNS: dict[str, frozenset[str]] = {
    "name": frozenset(
        {"name", "full_name", "fullname", "customer", "customer_name", "patient", "patient_name"}
    ),
    "given": frozenset({"first_name", "firstname", "given_name", "givenname", "forename"}),
    "family": frozenset({"last_name", "lastname", "family_name", "familyname", "surname"}),
    "email": frozenset({"email", "e_mail", "email_address", "mail"}),
    "phone": frozenset(
        {"phone", "phone_number", "telephone", "tel", "mobile", "mobile_phone", "cell"}
    ),
    "external_id": frozenset({"external_id", "id", "customer_id", "patient_id", "client_id"}),
}
MAX_REJECTIONS_KEPT = 100
ANONYMOUS_NAMES = frozenset({"a google user", "google user", "anonymous", "facebook user"})


class CustomerImportError(ValueError):
    """A file that cannot be read as a customer list (the message holds no values)."""


@dataclasses.dataclass
class _Columns:
    used: dict[str, int]
    ignored: list[str]
    header: list[str]


def _columns(header: list[str]) -> _Columns:
    used: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        key = raw.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        role = next((r for r, names in COLUMNS.items() if key in names), None)
        if role and role not in used:
            used[role] = index
        else:
            ignored.append(raw.strip()[:60])
    if not {"name", "given", "family", "email", "phone"} & used.keys():
        raise CustomerImportError(
            "No name, email or phone column in the header row. Expected columns such as "
            "name (or first_name and last_name), email, phone, and optionally external_id."
        )
    return _Columns(used, ignored, header)


def _dialect(first_line: str) -> type[csv.Dialect] | csv.Dialect:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    return type("Sniffed", (csv.excel,), {"delimiter": delimiter})


def customer_list_import(
    *,
    lines: Iterable[str],
    actor: Any,
    progress: Callable[[int], None] | None = None,
    on_rejected: Callable[[int, list[str], str], None] | None = None,
) -> CustomerList:
    """Read a CSV customer list (streamed: `lines` may be an open text file) into a new
    generation, then make it the current one in one transaction.

    The new hashes are written under their own generation id while the previous list
    stays in force; a failure leaves the previous list in force and this one marked
    failed (its hashes deleted). Managers only (and API keys: an integration's job).
    """
    require_role(actor, "manager", api_key_ok=True)
    schema = connection.schema_name
    key = hashing.practice_key(schema)
    region = escalation_settings_get().phone_region
    iterator = iter(lines)
    try:
        first = next(iterator)
    except StopIteration:
        raise CustomerImportError("The file is empty: a header row is required.") from None
    reader = csv.reader(_chain([first], iterator), dialect=_dialect(first))
    try:
        columns = _columns(next(reader))
    except StopIteration:
        raise CustomerImportError("The file is empty: a header row is required.") from None

    generation = CustomerList.objects.create(
        created_by=actor if getattr(actor, "email", None) else None,
        created_by_label=getattr(actor, "email", None) or str(actor),
        columns_used=sorted(columns.used),
        columns_ignored=columns.ignored,
    )
    counts = {"rows": 0, "customers": 0, "rejected": 0, "n": 0, "e": 0, "p": 0}
    rejections: list[list[Any]] = []
    try:
        rows = _hash_rows(reader, columns, key, region, counts, rejections, on_rejected, progress)
        # One COPY fed as the file is read: PostgreSQL stores and indexes on one core
        # while this process parses and hashes on the other.
        pk = generation.pk
        copy_rows(
            CustomerHash,
            ["generation", "kind", "digest", "customer"],
            ((pk, kind, value, customer) for kind, value, customer in rows),
        )
    except Exception as exc:
        # The message of a csv.Error can quote the line: keep only its type.
        reason = (
            str(exc)
            if isinstance(exc, CustomerImportError)
            else f"{type(exc).__name__} while reading"
        )
        CustomerHash.objects.filter(generation=generation).delete()
        CustomerList.objects.filter(pk=generation.pk).update(
            status=CustomerList.Status.FAILED, error=reason, finished_at=timezone.now()
        )
        log.warning("customer list %s failed: %s", generation.pk, reason)
        if isinstance(exc, csv.Error):
            raise CustomerImportError(f"The file is not valid CSV ({reason}).") from None
        raise
    return _switch(generation, counts, rejections, actor)


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _hash_rows(reader, columns, key, region, counts, rejections, on_rejected, progress):
    """Yield (kind, digest, customer number) for each row; count and reject as we go."""
    used = columns.used
    get = lambda row, role: row[used[role]] if role in used and used[role] < len(row) else ""  # noqa: E731
    customers_by_external: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        counts["rows"] += 1
        if progress is not None:
            progress(1)
        if not any(cell.strip() for cell in row):
            counts["rows"] -= 1  # blank lines are not rows
            continue
        name = get(row, "name") or " ".join(p for p in (get(row, "given"), get(row, "family")) if p)
        forms = [(hashing.NAME, f) for f in hashing.name_forms(name)]
        email = hashing.email_form(get(row, "email"))
        if email:
            forms.append((hashing.EMAIL, email))
        phone = hashing.phone_form(get(row, "phone"), region)
        if phone:
            forms.append((hashing.PHONE, phone))
        if not forms:
            counts["rejected"] += 1
            reason = "no name of two words, valid email or possible phone number"
            if len(rejections) < MAX_REJECTIONS_KEPT:
                rejections.append([line, reason])
            if on_rejected is not None:
                on_rejected(line, row, reason)
            continue
        external = get(row, "external_id").strip()
        if external and external in customers_by_external:
            customer = customers_by_external[external]  # another row of the same customer
        else:
            counts["customers"] += 1
            customer = counts["customers"]
            if external:
                customers_by_external[external] = customer
        kinds = set()
        for kind, value in dict.fromkeys(forms):
            kinds.add(kind)
            yield kind, hashing.digest(key, kind, value), customer
        for kind in kinds:
            counts[kind] += 1


def _switch(generation: CustomerList, counts, rejections, actor) -> CustomerList:
    with transaction.atomic():
        previous = list(
            CustomerList.objects.select_for_update()
            .filter(status=CustomerList.Status.CURRENT)
            .values_list("pk", flat=True)
        )
        CustomerList.objects.filter(pk__in=previous).update(status=CustomerList.Status.SUPERSEDED)
        CustomerList.objects.filter(pk=generation.pk).update(
            status=CustomerList.Status.CURRENT,
            finished_at=timezone.now(),
            rows_read=counts["rows"],
            customers=counts["customers"],
            rejected=counts["rejected"],
            names=counts["n"],
            emails=counts["e"],
            phones=counts["p"],
            rejections=rejections,
        )
        generation.refresh_from_db()
        audit_record(
            action="customer_list.imported",
            actor=actor,
            obj=generation,
            data={
                "rows": counts["rows"],
                "customers": counts["customers"],
                "rejected": counts["rejected"],
                "replaces": previous,
            },
        )
        # Every author's result was about the old list: check them all again. The old
        # list's hashes are deleted by the same task, after the switch has committed
        # (deleting 300,000 rows would double the import's own time).
        enqueue("escalation.tasks.customer_checks_refresh", generation.pk)
    return generation


def customer_lists_purge() -> int:
    """Delete the hashes of every list that is no longer in use (replaced or failed)."""
    old = CustomerList.objects.filter(
        status__in=[CustomerList.Status.SUPERSEDED, CustomerList.Status.FAILED]
    ).values_list("pk", flat=True)
    deleted, _ = CustomerHash.objects.filter(generation_id__in=list(old)).delete()
    return deleted


def csv_text_lines(data: bytes) -> Iterator[str]:
    """An uploaded file's lines (UTF-8 with or without BOM, else Latin-1: the two encodings
    practice-management exports come in)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return iter(io.StringIO(text, newline=""))


# ---------------------------------------------------------------- the check


def _author_forms(author: Author) -> tuple[list[tuple[str, str]], str]:
    """What an author can be matched on, or why there is too little to tell."""
    forms: list[tuple[str, str]] = []
    name = author.name or ""
    folded = " ".join(hashing.name_tokens(name))
    if folded and folded not in ANONYMOUS_NAMES:
        forms += [(hashing.NAME, f) for f in hashing.name_forms(name)]
    for candidate in (author.handle, author.key):
        email = hashing.email_form(candidate or "") if "@" in (candidate or "")[1:] else ""
        if email:
            forms.append((hashing.EMAIL, email))
            break
    if forms:
        return forms, ""
    if not name.strip() or folded in ANONYMOUS_NAMES:
        return [], "too little to tell: the reviewer is anonymous"
    return [], "too little to tell: only one name or initials"


def customer_check_authors(author_ids: Iterable[int]) -> dict[int, CustomerCheck]:
    """Check authors against the current list (one query for the batch) and store the
    results. A manager's override is kept: only the automatic result changes."""
    authors = list(Author.objects.filter(pk__in=set(author_ids)))
    if not authors:
        return {}
    key = hashing.practice_key(connection.schema_name)
    wanted: dict[int, list[tuple[str, int]]] = {}
    why: dict[int, str] = {}
    for author in authors:
        forms, reason = _author_forms(author)
        wanted[author.pk] = [(kind, hashing.digest(key, kind, value)) for kind, value in forms]
        why[author.pk] = reason
    found: dict[int, set[int]] = {}
    digests = [d for pairs in wanted.values() for _, d in pairs]
    current = None
    # One query: the current list, and which of these digests it holds.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.id, h.digest, h.customer FROM escalation_customerlist g"
            " LEFT JOIN escalation_customerhash h"
            " ON h.generation_id = g.id AND h.digest = ANY(%s)"
            " WHERE g.status = 'current'",
            [digests],
        )
        for generation_id, value, customer in cursor.fetchall():
            current = generation_id
            if value is not None:
                found.setdefault(value, set()).add(customer)
    now = timezone.now()
    checks = []
    for author in authors:
        status, reason = _decide(current, wanted[author.pk], why[author.pk], found)
        checks.append(
            CustomerCheck(
                author=author, status=status, reason=reason, generation_id=current, checked_at=now
            )
        )
    CustomerCheck.objects.bulk_create(
        checks,
        update_conflicts=True,
        unique_fields=["author"],
        update_fields=["status", "reason", "generation", "checked_at"],
    )
    return {c.author_id: c for c in checks}


def _decide(current, pairs, why, found) -> tuple[str, str]:
    S = CustomerCheck.Status
    if current is None:
        return S.UNKNOWN, "no customer list uploaded yet"
    if not pairs:
        return S.UNKNOWN, why
    email_hits = {c for kind, d in pairs if kind == hashing.EMAIL for c in found.get(d, ())}
    if email_hits:
        return S.CUSTOMER, "email matches a customer"
    name_hits = {c for kind, d in pairs if kind == hashing.NAME for c in found.get(d, ())}
    if len(name_hits) == 1:
        return S.CUSTOMER, "name matches one customer"
    if name_hits:
        return S.CUSTOMER, f"name matches {len(name_hits)} customers"
    if any(kind == hashing.NAME for kind, _ in pairs):
        return S.NOT_FOUND, "no customer with this name"
    return S.NOT_FOUND, "no customer with this email"


def customer_check_author(*, author: Author, actor: Any = None) -> CustomerCheck:
    """On demand (the "check again" button, the API): check one author now."""
    if actor is not None:
        require_role(actor, "viewer", api_key_ok=True)
    check = customer_check_authors([author.pk])[author.pk]
    if actor is not None:
        audit_record(
            action="customer_check.run",
            actor=actor,
            obj=author,
            data={"status": check.status, "reason": check.reason},
        )
    return check


def customer_check_override(
    *, author: Author, status: str, reason: str, actor: Any
) -> CustomerCheck:
    """A manager confirms (same status) or overrides the automatic result, with why."""
    require_role(actor, "manager")
    if status not in CustomerCheck.Status.values:
        raise Refused("bad_status", f"Unknown status {status!r}.", field="status")
    reason = reason.strip()
    if not reason:
        raise Refused("reason_required", "Say why (for the audit trail).", field="reason")
    check = CustomerCheck.objects.filter(author=author).first() or customer_check_author(
        author=author
    )
    confirmed = status == check.status
    with transaction.atomic():
        CustomerCheck.objects.filter(pk=check.pk).update(
            override_status=status,
            override_reason=reason[:2000],
            override_by=actor,
            override_at=timezone.now(),
        )
        audit_record(
            action="customer_check.confirmed" if confirmed else "customer_check.overridden",
            actor=actor,
            obj=author,
            data={"automatic": check.status, "status": status, "reason": reason[:2000]},
        )
    check.refresh_from_db()
    return check


def customer_checks_refresh(generation_id: int) -> int:
    """After a new list: delete the old list's hashes, check every author again."""
    customer_lists_purge()
    if not CustomerList.objects.filter(pk=generation_id, status="current").exists():
        return 0  # replaced again meanwhile: that import's own task does it
    done = 0
    ids = list(Author.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        done += len(customer_check_authors(ids[start : start + 1000]))
    return done
