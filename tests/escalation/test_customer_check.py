"""The customer check: normalised keyed hashes, atomic re-import, the result on each
author, a manager's override, and no clear identifier anywhere."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from escalation import customers, hashing, services
from escalation.errors import Refused
from escalation.evidence import evidence_pack_build
from escalation.models import CustomerCheck, CustomerHash, CustomerList
from escalation.permissions import Operator
from reputation.audit.models import AuditEvent
from tests.escalation.conftest import NEGATIVE, arrive

CSV = (
    "Patient ID;Full name;E-mail;Mobile;Last visit\n"
    "p1;Kari Nordmann;kari+dental@example.no;912 34 567;2026-01-02\n"
    "p2;Åse Bjørk Lien;ase@example.no;;2026-02-03\n"
    "p3;Per Hansen;;;2026-03-04\n"
    "p4;Per Hansen;;+47 400 00 000;2026-03-05\n"
    "p5;X;not-an-email;12;2026-04-05\n"
)


def do_import(text: str, actor=None) -> CustomerList:
    return customers.customer_list_import(
        lines=io.StringIO(text, newline=""), actor=actor or Operator("test")
    )


def test_names_emails_and_phones_are_normalised():
    assert hashing.name_forms("Hansen,  KARI") == hashing.name_forms("kari hansen")
    assert hashing.name_forms("Åse Bjørk") == ["ase bjork"]
    assert hashing.name_forms("Kari Anne Hansen") == ["anne hansen kari", "hansen kari"]
    assert hashing.name_forms("Kari H.") == []  # an initial is too little to tell
    assert hashing.email_form(" Kari+Spam@Example.NO ") == "kari@example.no"
    assert hashing.email_form("nope") == ""
    assert hashing.phone_form("912 34 567", "NO") == "+4791234567"
    assert hashing.phone_form("+47 91 23 45 67", "GB") == "+4791234567"
    assert hashing.phone_form("12", "NO") == ""
    assert hashing.region_for_timezone("Europe/Oslo") == "NO"


def test_the_key_is_per_practice():
    assert hashing.practice_key("alpha") != hashing.practice_key("beta")
    assert hashing.digest(hashing.practice_key("alpha"), "n", "a b") != hashing.digest(
        hashing.practice_key("beta"), "n", "a b"
    )


def test_an_import_summarises_and_stores_only_hashes(cast, alpha):
    imported = do_import(CSV)
    assert imported.status == "current"
    assert (imported.rows_read, imported.customers, imported.rejected) == (5, 4, 1)
    assert (imported.names, imported.emails, imported.phones) == (4, 2, 2)
    assert imported.columns_used == ["email", "external_id", "name", "phone"]
    assert imported.columns_ignored == ["Last visit"]
    assert imported.rejections == [
        [6, "no name of two words, valid email or possible phone number"]
    ]
    # Kari: name, email, phone; Åse: two name forms, email; Per: name; Per: name, phone.
    assert CustomerHash.objects.filter(generation=imported).count() == 9
    assert AuditEvent.objects.get(action="customer_list.imported").data == {
        "rows": 5,
        "customers": 4,
        "rejected": 1,
        "replaces": [],
    }


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("Nordmann Kari", "customer", "name matches one customer"),
        ("ase bjork lien", "customer", "name matches one customer"),
        ("Per Hansen", "customer", "name matches 2 customers"),
        ("Ola Normann", "not_found", "no customer with this name"),
        ("Ola N.", "unknown", "too little to tell: only one name or initials"),
        ("A Google User", "unknown", "too little to tell: the reviewer is anonymous"),
    ],
)
def test_each_author_is_checked_on_arrival(cast, alpha, name, status, reason):
    do_import(CSV)
    mention = arrive("r1", NEGATIVE, rating=1, author_name=name)
    check = CustomerCheck.objects.get(author=mention.author)
    assert (check.status, check.reason) == (status, reason)


def test_without_a_list_every_author_is_unknown(cast, alpha):
    mention = arrive("r1", NEGATIVE, rating=1, author_name="Kari Nordmann")
    check = CustomerCheck.objects.get(author=mention.author)
    assert (check.status, check.reason) == ("unknown", "no customer list uploaded yet")


def test_a_reimport_replaces_the_list_only_when_complete(
    cast, alpha, django_capture_on_commit_callbacks
):
    first = do_import(CSV)
    with pytest.raises(customers.CustomerImportError):
        do_import("Notes;Remarks\nfoo;bar\n")  # no identifying column: refused at once
    broken = "name,email\nKari Nordmann,k@example.no\n" + 'Ola "Bad,x@example.no\n' * 2

    def explode(*a, **kw):
        raise RuntimeError("disk full")

    import escalation.customers as module

    real = module.copy_rows
    module.copy_rows = explode
    try:
        with pytest.raises(RuntimeError):
            do_import(broken)
    finally:
        module.copy_rows = real
    assert CustomerList.objects.get(status="current") == first
    failed = CustomerList.objects.get(status="failed")
    assert failed.error == "RuntimeError while reading"
    assert not CustomerHash.objects.filter(generation=failed).exists()
    with django_capture_on_commit_callbacks(execute=True):  # the purge task runs
        second = do_import("name\nOla Normann\n")
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "current")
    assert not CustomerHash.objects.filter(generation=first).exists()
    mention = arrive("r1", NEGATIVE, rating=1, author_name="Kari Nordmann")
    assert CustomerCheck.objects.get(author=mention.author).status == "not_found"


def test_only_managers_import(cast, alpha):
    with pytest.raises(Refused):
        do_import(CSV, actor=cast.bob)
    assert not CustomerList.objects.exists()
    assert do_import(CSV, actor=cast.alice).status == "current"


def test_a_manager_confirms_or_overrides_and_it_is_audited(cast, alpha):
    do_import(CSV)
    author = arrive("r1", NEGATIVE, rating=1, author_name="Ola Normann").author
    with pytest.raises(Refused) as refused:
        customers.customer_check_override(
            author=author, status="customer", reason="I know him", actor=cast.bob
        )
    assert refused.value.code == "forbidden"
    assert CustomerCheck.objects.get(author=author).override_status == ""
    with pytest.raises(Refused) as refused:
        customers.customer_check_override(
            author=author, status="customer", reason=" ", actor=cast.alice
        )
    assert refused.value.code == "reason_required"
    check = customers.customer_check_override(
        author=author,
        status="customer",
        reason="Treated under his wife's account",
        actor=cast.alice,
    )
    assert (check.status, check.effective_status, check.override_by) == (
        "not_found",
        "customer",
        cast.alice,
    )
    event = AuditEvent.objects.get(action="customer_check.overridden")
    assert event.data == {
        "automatic": "not_found",
        "status": "customer",
        "reason": "Treated under his wife's account",
    }
    customers.customer_check_authors([author.pk])  # a later automatic check keeps it
    assert CustomerCheck.objects.get(author=author).effective_status == "customer"


def test_the_import_command_streams_with_a_summary_and_a_file_of_rejected_rows(
    cast, alpha, tmp_path, capsys
):
    source = tmp_path / "patients.csv"
    source.write_text(CSV, encoding="utf-8")
    rejected = tmp_path / "rejected.csv"
    with pytest.raises(SystemExit) as exit_:
        call_command("import_customers", "alpha", str(source), "--rejected", str(rejected))
    assert exit_.value.code == 1
    out = capsys.readouterr()
    assert "4 customers from 5 rows" in out.out and "line 6:" in out.out
    assert rejected.read_text().splitlines()[1].startswith('6,"no name of two words')


# ---------------------------------------------------------------- no clear identifiers

PLANTED_NAME = "Zebediah Quillfeather"
PLANTED_EMAIL = "Zeb.Quill+vip@plantedmail.test"
PLANTED_PHONE = "+47 41 23 45 67"
NEEDLES = [
    b"Zebediah",
    b"zebediah",
    b"Quillfeather",
    b"quillfeather",
    b"zeb.quill",
    b"Zeb.Quill",
    b"plantedmail",
    b"4741234567",
    b"41 23 45 67",
    b"41234567",
]


def _pg_dump() -> str:
    found = shutil.which("pg_dump")
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    if not candidates:
        pytest.fail("pg_dump not found (PostgreSQL client binaries)")
    return candidates[-1]


def _dump(path: Path) -> bytes:
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [_pg_dump(), "--no-owner", "-f", str(path), "-d", settings["NAME"]]
    if settings.get("HOST"):
        command += ["-h", settings["HOST"]]
    if settings.get("PORT"):
        command += ["-p", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["-U", settings["USER"]]
    subprocess.run(command, check=True, env=env, timeout=120)
    return path.read_bytes()


def test_no_clear_identifier_in_the_database_the_logs_or_a_pack(
    django_db_setup, django_db_blocker, tmp_path, caplog
):
    """Plants a customer only the CSV knows, imports it (committed, in a practice of its
    own), and searches a pg_dump of the test database, every log record, the rejected-row
    summary and an evidence pack for it."""
    from django_tenants.utils import schema_context

    from escalation.models import PlatformReport
    from inbox.pipeline.store import mentions_ingest
    from tenants import services as tenant_services
    from tests.inbox.test_pipeline import nm

    caplog.set_level(logging.DEBUG)
    csv_text = (
        "name,email,phone,external_id\n"
        f"{PLANTED_NAME},{PLANTED_EMAIL},{PLANTED_PHONE},zq-1\n"
        "Kari Nordmann,kari@example.no,,k-1\n"
        "Quillfeather,,12,zq-2\n"  # rejected: one name, not a phone number
    )
    with django_db_blocker.unblock():
        practice = tenant_services.practice_create(
            slug="delta", name="Delta Dental", owner_email="owner@delta.test"
        )
        try:
            with schema_context(practice.schema_name):
                owner = practice.memberships.get().user
                imported = do_import(csv_text, actor=owner)
                assert (imported.customers, imported.rejected) == (2, 1)
                mentions_ingest(
                    [
                        nm(
                            "dq1",
                            NEGATIVE,
                            rating=1,
                            author_name="Kari Nordmann",
                            author_external_id="k",
                        ),
                        nm(
                            "dq2",
                            NEGATIVE,
                            rating=1,
                            author_name="Ola Normann",
                            author_external_id="o",
                        ),
                    ]
                )
                statuses = dict(CustomerCheck.objects.values_list("author__name", "status"))
                assert statuses == {"Kari Nordmann": "customer", "Ola Normann": "not_found"}
                from inbox.models import Mention

                mention = Mention.objects.get(external_id="dq2")
                report = services.report_create(
                    mention=mention, reason="spam", grounds="Not a patient", actor=owner
                )
                pack, _ = evidence_pack_build(subject=report, actor=owner)
                with zipfile.ZipFile(io.BytesIO(pack)) as zf:
                    contents = b"".join(zf.read(n) for n in zf.namelist())
                PlatformReport.objects.all().delete()
            dump = _dump(tmp_path / "dump.sql")
        finally:
            connection.set_schema_to_public()
            owner_user = practice.memberships.get().user
            with connection.cursor() as cursor:  # first: its rows reference the owner
                cursor.execute(f'DROP SCHEMA IF EXISTS "{practice.schema_name}" CASCADE')
            practice.delete()
            owner_user.delete()
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"Kari Nordmann" in dump  # the dump does hold the practice's review data
    assert b"delta" in dump
    for needle in NEEDLES:
        assert needle not in dump, needle
        assert needle not in logs, needle
        assert needle not in contents, needle
        assert needle not in str(imported.rejections).encode(), needle
