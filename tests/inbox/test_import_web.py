"""History imports from the web: the same checks as the command, run by the worker, with
progress and the summary (rejected rows by line) on a page."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from inbox.models import ImportJob, Mention
from reputation.audit.models import AuditEvent
from tests.conftest import client_for

HEADER = "platform,external_id,posted_at,text,author_name,author_handle,rating,url,account,kind\n"
ROWS = (
    "google,w-1,2024-03-01T10:00:00Z,Lovely hygienist,Kari,,5,,,review\n"
    "google,w-2,2024-03-02T10:00:00Z,Waited an hour,Ola,,1,,,review\n"
    "google,w-3,not-a-date,Broken row,Per,,2,,,review\n"
)


def upload(client, content: str, name: str = "history.csv", **fields):
    return client.post(
        "/inbox/import/",
        {"file": SimpleUploadedFile(name, content.encode(), "text/csv"), **fields},
    )


def test_a_manager_imports_a_csv_and_sees_the_summary(
    cast, tenant, django_capture_on_commit_callbacks
):
    client = client_for("alpha.localhost", cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, HEADER + ROWS)
    assert response.status_code == 302
    with tenant(cast.alpha):
        job = ImportJob.objects.get()
        assert (job.status, job.percent) == ("done", 100)
        assert (job.report["rows"], job.report["created"], job.report["rejected_count"]) == (
            3,
            2,
            1,
        )
        assert set(Mention.objects.values_list("external_id", flat=True)) == {"w-1", "w-2"}
        assert Mention.objects.get(external_id="w-1").status == "history"
        assert list(
            AuditEvent.objects.filter(object_type="importjob").values_list("action", flat=True)
        ) == ["import.done", "import.queued"]
    page = client.get(response["Location"]).content.decode()
    assert "2 new" in page and "line 4:" in page and "posted_at" in page
    partial = client.get(response["Location"] + "?partial=1").content.decode()
    assert "hx-get" not in partial  # done: the page stops asking

    # The same file again adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, HEADER + ROWS)
    with tenant(cast.alpha):
        again = ImportJob.objects.order_by("-pk").first()
        assert (again.report["created"], again.report["duplicates"]) == (0, 2)


def test_a_running_import_asks_for_its_progress(cast, tenant):
    with tenant(cast.alpha):
        job = ImportJob.objects.create(
            file_name="big.csv", stored_path="/nonexistent", format="csv",
            status="running", bytes_total=1000, bytes_done=250,
        )  # fmt: skip
    partial = client_for("alpha.localhost", cast.alice).get(f"/inbox/import/{job.pk}/?partial=1")
    body = partial.content.decode()
    assert 'value="25"' in body and "hx-get" in body


def test_options_the_file_cannot_be_read_with_are_refused_at_once(cast, tenant):
    client = client_for("alpha.localhost", cast.alice)
    response = upload(client, '{"reviews": []}', name="yelp.json", format="yelp", follow=True)
    assert "business id" in response.content.decode()
    no_format = upload(client, "x", name="mystery.bin", follow=True)
    assert "Choose the file&#x27;s format" in no_format.content.decode()
    with tenant(cast.alpha):
        assert not ImportJob.objects.exists()


def test_a_responder_cannot_import(cast, tenant):
    response = upload(client_for("alpha.localhost", cast.bob), HEADER + ROWS)
    assert response.status_code == 404
    with tenant(cast.alpha):
        assert not ImportJob.objects.exists()
