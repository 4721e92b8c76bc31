"""Imported history: old reviews an import backfills are on record, not open work.

They stay visible, filterable and searchable, but are never counted as open, reminded
of or alerted on, unless an edit turns one into a threat made now.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from inbox.models import Alert, Mention, RawPayload
from inbox.pipeline.store import mentions_ingest
from inbox.platforms.base import NormalisedMention
from inbox.tasks import deadline_sweep
from reputation.audit.models import AuditEvent
from tests.conftest import client_for

COLUMNS = ["platform", "external_id", "posted_at", "text", "author_name", "rating"]
COMPLAINT = "The invoice was wrong and nobody called back"
THREAT = "Watch your back, I will hurt your dentist."
TROLL = "You are all idiots and losers, stupid clinic"


def _ago(**kw: float) -> str:
    return (timezone.now() - dt.timedelta(**kw)).replace(microsecond=0).isoformat()


def _import(path, rows: list[tuple]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(("api", *row) for row in rows)
    call_command("import_mentions", "alpha", str(path), "--no-progress", stdout=io.StringIO())


@pytest.fixture
def imported(cast, tmp_path):
    """Alpha imports two years of reviews, and yesterday's and today's."""
    _import(
        tmp_path / "history.csv",
        [
            ("old-1", _ago(days=700), COMPLAINT, "Rob", 2),
            ("old-2", _ago(days=30), "Lovely staff and a painless filling", "Kari", 5),
            ("old-3", _ago(days=8), TROLL, "Troll", 1),
            ("new-1", _ago(days=1), COMPLAINT, "Ola", 1),
            ("new-2", _ago(hours=2), "Do you do Saturday appointments?", "Per", ""),
        ],
    )


def _statuses(tenant, practice) -> dict[str, tuple[str, bool]]:
    with tenant(practice):
        return {
            m.external_id: (m.status, m.due_at is not None)
            for m in Mention.objects.order_by("external_id")
        }


def test_old_imported_rows_are_history_and_recent_ones_new_work(cast, tenant, imported):
    assert _statuses(tenant, cast.alpha) == {
        "old-1": ("history", False),
        "old-2": ("history", False),
        "old-3": ("no_reply", False),  # a troll stays "no reply", however old
        "new-1": ("new", True),
        "new-2": ("new", True),
    }
    with tenant(cast.alpha):
        event = AuditEvent.objects.get(
            action="mention.received",
            object_id=str(Mention.objects.get(external_id="old-1").pk),
        )
        assert (event.data["status"], event.data["due_at"]) == ("history", None)


def test_history_is_not_counted_as_open_on_the_inbox_page(cast, tenant, imported):
    response = client_for("alpha.localhost", cast.vera).get("/inbox/")
    assert response.context["counts"] == {
        "open": 2,
        "overdue": 0,
        "threats": 0,
        "possible_threats": 0,
        "mine": 0,
    }
    assert response.context["history_count"] == 2
    body = response.content.decode()
    # Still listed, with the reason it has no clock, and one click from the filter.
    assert body.count('<tr class="mention') == 5
    assert body.count("imported history</span>") == 2
    assert '<a href="?status=history">2 imported history</a>' in body


def test_history_has_its_own_filter_and_stays_searchable(cast, imported):
    client = client_for("alpha.localhost", cast.vera)
    page = client.get("/inbox/", {"status": "history"})
    assert [m.external_id for m in page.context["page"]] == ["old-2", "old-1"]
    assert '<option value="history" selected>Imported history</option>' in page.content.decode()
    page = client.get("/inbox/", {"q": "invoice"})
    assert sorted(m.external_id for m in page.context["page"]) == ["new-1", "old-1"]


def test_the_api_tells_history_from_new_work(cast, imported):
    client = client_for("alpha.localhost", cast.vera)

    def ids(**params: str) -> list[str]:
        body = client.get("/api/v1/mentions/", params).json()
        return sorted(m["external_id"] for m in body["results"])

    assert ids(status="new") == ["new-1", "new-2"]
    assert ids(status="history") == ["old-1", "old-2"]
    assert ids(q="invoice") == ["new-1", "old-1"]
    assert len(ids()) == 5
    old = client.get("/api/v1/mentions/", {"status": "history"}).json()["results"][0]
    assert (old["status"], old["due_at"]) == ("history", None)


def test_the_openapi_schema_offers_the_history_status(cast):
    schema = client_for("alpha.localhost", cast.vera).get("/api/schema/", {"format": "json"})
    parameters = schema.json()["paths"]["/api/v1/mentions/"]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    assert "history" in status["schema"]["enum"]


def test_the_agency_overview_does_not_count_history_as_open(cast, imported):
    response = client_for("localhost", cast.agnes).get("/")
    alpha = next(r for r in response.context["overview"] if r["practice"].slug == "alpha")
    assert (alpha["open"], alpha["overdue"], alpha["threats"]) == (2, 0, 0)


def test_the_deadline_sweep_never_reminds_of_history(
    cast, tenant, imported, django_capture_on_commit_callbacks
):
    with tenant(cast.alpha):
        # Even a history mention that somehow carries a missed deadline is left alone.
        Mention.objects.filter(external_id="old-1").update(
            due_at=timezone.now() - dt.timedelta(minutes=5)
        )
        Mention.objects.filter(external_id="new-1").update(
            due_at=timezone.now() - dt.timedelta(minutes=5)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert deadline_sweep() == {"reminded": 0, "overdue": 1}
        assert list(Alert.objects.values_list("mention__external_id", "kind")) == [
            ("new-1", "overdue")
        ]


def _edit(external_id: str, text: str, rating: int | None = None) -> NormalisedMention:
    return NormalisedMention(
        platform="api",
        external_id=external_id,
        kind="review",
        text=text,
        rating=rating,
        posted_at=timezone.now() - dt.timedelta(days=700),
        updated_at=timezone.now(),
        author_name="Rob",
    )


def test_an_edit_of_history_into_a_threat_raises_the_threat_alert(
    cast, tenant, imported, django_capture_on_commit_callbacks
):
    with tenant(cast.alpha), django_capture_on_commit_callbacks(execute=True):
        before = timezone.now()
        assert mentions_ingest([_edit("old-1", THREAT, 1)], source="api:mention").updated == 1
        threat = Mention.objects.get(external_id="old-1")
        assert (threat.category, threat.status) == ("threat", "new")
        # Due from the edit, not from the import: 15 minutes for a threat.
        assert before + dt.timedelta(minutes=14) < threat.due_at
        assert threat.due_at < timezone.now() + dt.timedelta(minutes=16)
        assert threat.alerts.filter(kind=Alert.Kind.THREAT).count() == 1
    assert [m.subject.startswith("[Alpha Dental] THREAT") for m in mail.outbox] == [True]
    counts = client_for("alpha.localhost", cast.vera).get("/inbox/").context["counts"]
    assert (counts["open"], counts["threats"]) == (3, 1)


def test_an_imported_threat_edited_and_still_a_threat_alerts(
    cast, tenant, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _import(tmp_path / "threat.csv", [("old-t", _ago(days=400), THREAT, "Rob", 1)])
    with tenant(cast.alpha):
        old = Mention.objects.get(external_id="old-t")
        # Two-year-old history pages nobody on import...
        assert (old.category, old.status, old.alerts.count()) == ("threat", "history", 0)
        with django_capture_on_commit_callbacks(execute=True):
            mentions_ingest([_edit("old-t", THREAT + " Tonight.", 1)], source="api:mention")
        # ...but the author threatening again now does.
        old.refresh_from_db()
        assert old.status == "new" and old.due_at is not None
        assert old.alerts.filter(kind=Alert.Kind.THREAT).count() == 1


@pytest.mark.parametrize(
    ("text", "rating"),
    [("Actually they fixed the invoice. Great team!", 5), (TROLL, 1)],
    ids=["into-praise", "into-harassment"],
)
def test_other_edits_of_history_keep_it_off_the_clock(cast, tenant, imported, text, rating):
    with tenant(cast.alpha):
        assert mentions_ingest([_edit("old-1", text, rating)], source="api:mention").updated == 1
        edited = Mention.objects.get(external_id="old-1")
        assert edited.category != "complaint"  # the edit was analysed
        assert (edited.status, edited.due_at) == ("history", None)
        assert edited.revisions.get().text == COMPLAINT
        assert not Alert.objects.exists()


def test_the_practices_reply_to_a_history_item_answers_it(cast, tenant, imported):
    with tenant(cast.alpha):
        reply = NormalisedMention(
            platform="api",
            external_id="old-1-reply",
            kind="comment",
            text="Sorry about the invoice, Rob: we have refunded the difference.",
            posted_at=timezone.now(),
            parent_external_id="old-1",
            from_owner=True,
        )
        mentions_ingest([reply], source="api:mention")
        answered = Mention.objects.get(external_id="old-1")
        assert answered.status == "answered" and answered.first_response_at is not None


# ---------------------------------------------------------------- data migration

MIGRATION = importlib.import_module("inbox.migrations.0005_file_imported_history")


def test_the_migration_files_only_matching_old_imports_as_history(cast, tenant):
    now = timezone.now()
    with tenant(cast.alpha):
        imported = RawPayload.objects.create(source="import:csv", platform="api", body="")
        pushed = RawPayload.objects.create(source="api:mention", platform="api", body="")

        def mention(external_id: str, raw, posted_days_ago: float, **kw) -> Mention:
            return Mention.objects.create(
                platform="api",
                external_id=external_id,
                text="x",
                raw=raw,
                posted_at=now - dt.timedelta(days=posted_days_ago),
                received_at=now,
                **kw,
            )

        matching = mention("old-import", imported, 30)
        mention("recent-import", imported, 6)
        mention("old-push", pushed, 30)
        mention("old-unknown-source", None, 30)
        mention("old-import-on-the-clock", imported, 30, due_at=now)
        mention("old-import-answered", imported, 30, status="answered")
        mention("old-import-troll", imported, 30, status="no_reply")

        assert MIGRATION.imported_history_file(apps, None) == 1

        statuses = dict(Mention.objects.values_list("external_id", "status"))
        assert statuses == {
            "old-import": "history",
            "recent-import": "new",
            "old-push": "new",
            "old-unknown-source": "new",
            "old-import-on-the-clock": "new",
            "old-import-answered": "answered",
            "old-import-troll": "no_reply",
        }
        event = AuditEvent.objects.get(action="mention.status_changed")
        assert (event.object_type, event.object_id, event.actor_label) == (
            "mention",
            str(matching.pk),
            "system",
        )
        assert event.data["status"] == ["new", "history"]
        # Running it again finds nothing left to do.
        assert MIGRATION.imported_history_file(apps, None) == 0
        assert AuditEvent.objects.filter(action="mention.status_changed").count() == 1
        # And it can be undone: before it, such mentions were "new".
        MIGRATION.imported_history_unfile(apps, None)
        assert Mention.objects.get(pk=matching.pk).status == "new"
