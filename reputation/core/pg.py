"""PostgreSQL helpers: text PostgreSQL can store, and COPY for bulk inserts."""

from __future__ import annotations

import datetime as dt
import json
import operator
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def pg_text(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters; a payload carrying one must still be
    kept rather than fail with a database error."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


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
