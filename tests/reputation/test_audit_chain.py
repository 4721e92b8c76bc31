"""The audit trail is append-only in the database and a hash chain per practice: raw SQL
cannot change it, and verify_audit names the first event edited, deleted or reordered
behind the app's back (by someone who could disable the trigger)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.utils import InternalError, ProgrammingError
from django_tenants.utils import schema_context

from reputation.audit import services
from reputation.audit.chain import chain_verify
from reputation.audit.models import AuditCheckpoint, AuditEvent


def _events(n: int, action: str = "test.event") -> None:
    for i in range(n):
        services.audit_record(action=action, data={"i": i, "note": "æøå"})


def _behind_the_apps_back(sql: str, params: list | None = None) -> None:
    """What a database superuser could do: switch the trigger off, change rows, switch
    it on again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        cursor.execute(sql, params or [])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'nothing happened' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 1",
    ],
)
def test_raw_sql_cannot_change_or_remove_an_event(cast, tenant, sql):
    with tenant(cast.alpha):
        _events(2)
        refused = pytest.raises((InternalError, ProgrammingError), match="append-only")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
        assert AuditEvent.objects.filter(action="test.event").count() == 2


def test_an_intact_chain_verifies(cast, tenant):
    with tenant(cast.alpha):
        _events(5)
        result = chain_verify()
        assert result.ok and result.events >= 5


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        ("UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE seq = %s", "edited"),
        ("DELETE FROM audit_auditevent WHERE seq = %s", "missing"),
        (
            "UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq = %s",
            "missing",
        ),
    ],
    ids=["edited", "deleted", "moved-away"],
)
def test_verify_names_the_first_broken_link(cast, tenant, tamper, kind):
    with tenant(cast.alpha):
        _events(6)
        target = AuditEvent.objects.order_by("seq").values_list("seq", flat=True)[2]
        _behind_the_apps_back(tamper, [target])
        result = chain_verify()
        assert not result.ok
        assert (result.first_break.seq, result.first_break.kind) == (target, kind)


def test_verify_finds_two_events_swapped(cast, tenant):
    with tenant(cast.alpha):
        _events(6)
        a, b = AuditEvent.objects.order_by("seq").values_list("seq", flat=True)[2:4]
        _behind_the_apps_back(
            "UPDATE audit_auditevent SET seq = CASE seq WHEN %s THEN %s WHEN %s THEN %s END"
            " WHERE seq IN (%s, %s)",
            [a, -a, b, a, a, b],
        )
        _behind_the_apps_back("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [b, -a])
        result = chain_verify()
        assert (result.first_break.seq, result.first_break.kind) == (a, "inserted or reordered")


def test_the_command_exits_non_zero_and_names_the_practice(cast, tenant, capsys):
    with tenant(cast.alpha):
        _events(3)
        first = AuditEvent.objects.order_by("seq").first().seq
        _behind_the_apps_back(
            "UPDATE audit_auditevent SET actor_label = 'someone else' WHERE seq = %s", [first]
        )
    with pytest.raises(CommandError, match="broken audit chain"):
        call_command("verify_audit", "alpha")
    assert f"alpha: BROKEN at event seq {first}" in capsys.readouterr().err


def test_a_batch_of_mentions_is_chained_like_single_events(cast, tenant):
    from inbox.pipeline.store import mentions_ingest
    from tests.inbox.test_pipeline import nm

    with tenant(cast.alpha):
        _events(1)
        mentions_ingest([nm(f"b-{i}", "Lovely staff, thank you!") for i in range(30)])
        _events(1)
        seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert chain_verify().ok


def test_expiring_old_events_leaves_a_verifiable_chain(cast, tenant, monkeypatch):
    with tenant(cast.alpha):
        long_ago = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
        monkeypatch.setattr(services.timezone, "now", lambda: long_ago)
        _events(4, action="test.old")
        monkeypatch.undo()
        _events(2, action="test.new")
        expired = services.audit_expire(before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        assert expired >= 4
        assert not AuditEvent.objects.filter(action="test.old").exists()
        checkpoint = AuditCheckpoint.objects.get()
        result = chain_verify()
        assert result.ok and result.start_seq == checkpoint.seq + 1
        # Outside the expiry, deleting is refused again.
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
            AuditEvent.objects.filter(action="test.new").delete()


@pytest.fixture
def fresh_practice(django_db_setup, django_db_blocker):
    """A practice of its own, committed, so writers on other connections can use it; its
    schema (a clone of the template: the trigger must come with it) is dropped after."""
    from tenants.models import Practice
    from tenants.services import practice_create

    with django_db_blocker.unblock():
        practice = practice_create(slug="chain", name="Chain", owner_email="o@chain.test")
    yield practice
    with django_db_blocker.unblock():
        schema = practice.schema_name
        Practice.objects.filter(pk=practice.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_parallel_writers_leave_one_unbroken_chain(fresh_practice, django_db_blocker):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with schema_context(fresh_practice.schema_name):
                for i in range(25):
                    services.audit_record(action="test.parallel", data={"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        with schema_context(fresh_practice.schema_name):
            seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
            assert seqs == list(range(1, 101))
            assert chain_verify().ok
            refused = pytest.raises((InternalError, ProgrammingError))
            with refused, transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("UPDATE audit_auditevent SET action = 'x'")  # the clone's trigger
        connection.set_schema_to_public()
