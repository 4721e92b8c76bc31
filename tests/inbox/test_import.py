"""`manage.py import_mentions`: raw chunks first, exact counts, original line numbers."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inbox.models import Mention, MentionRevision, RawPayload
from inbox.sources import importing

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
CSV_FILE = FIXTURES / "mentions.csv"
HEADER = "platform,external_id,posted_at,text,author_name,author_handle,rating,url,account,kind\n"


def run(*args: str) -> tuple[str, str, int]:
    """Run the command; (stdout, stderr, exit status)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_mentions", *args, "--no-progress", stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def counts(stdout: str) -> dict[str, int]:
    result = {}
    for label in ("accepted (created)", "updated", "duplicates", "skipped", "rejected"):
        line = next(line for line in stdout.splitlines() if line.strip().startswith(label + ":"))
        result[label.split()[0]] = int(line.split(":")[1].split()[0].replace(",", ""))
    return result


def rejected_lines(stdout: str) -> list[int]:
    return [
        int(line.split()[1].rstrip(":"))
        for line in stdout.splitlines()
        if line.startswith("  line ")
    ]


@pytest.mark.parametrize(
    ("batch", "workers"),
    [("3", "0"), ("3", "2"), ("2000", "0")],
    ids=["small-chunks", "small-chunks-analysed-by-2-workers", "one-chunk"],
)
def test_a_csv_file_is_imported_with_exact_counts_and_file_line_numbers(
    cast, tenant, batch, workers
):
    stdout, stderr, status = run("alpha", str(CSV_FILE), "--batch", batch, "--workers", workers)

    assert status == 1  # some rows were rejected
    assert "3 row(s) rejected" in stderr
    assert counts(stdout) == {
        "accepted": 6,
        "updated": 0,
        "duplicates": 1,  # line 12 repeats line 2
        "skipped": 0,
        "rejected": 3,
    }
    assert rejected_lines(stdout) == [6, 9, 10]
    assert "line 6: posted_at is not an ISO-8601 timestamp: 'yesterday'" in stdout
    assert "line 9: platform must be one of google, facebook" in stdout
    assert "line 10: rating must be a whole number from 1 to 5" in stdout
    assert "Some rows were rejected" in stdout

    with tenant(cast.alpha):
        mentions = {m.external_id: m for m in Mention.objects.all()}
        assert sorted(mentions) == ["imp-1", "imp-2", "imp-3", "imp-5", "imp-8", "imp-9"]
        review = mentions["imp-2"]
        assert (review.platform, review.kind, review.rating, review.author_name) == (
            "yelp",
            "review",
            2,
            "Rob",
        )
        assert review.author_handle == "rob_s"
        assert review.text == (
            "Waited 50 minutes past my appointment.\nNobody explained why and the bill was wrong."
        )
        assert review.posted_at == dt.datetime(2025, 3, 1, 14, 0, tzinfo=dt.UTC)
        assert review.category == "complaint"
        assert review.author is not None and review.conversation is not None
        praise = mentions["imp-1"]
        assert (praise.platform, praise.rating, praise.url) == (
            "google",
            5,
            "https://example.com/r/1",
        )
        assert praise.category == "praise"
        assert mentions["imp-9"].text == 'Great hygienist, "Tone" is the best.'
        norwegian = mentions["imp-8"]
        assert (norwegian.platform, norwegian.kind, norwegian.language) == (
            "facebook",
            "comment",
            "no",
        )
        assert norwegian.category == "question"
        # Imported history (older than 7 days) gets no reply deadline.
        assert all(m.due_at is None for m in mentions.values())

        raws = list(RawPayload.objects.order_by("pk"))
        assert all(r.source == "import:csv" and r.platform == "api" for r in raws)
        assert all(m.raw_id in {r.pk for r in raws} for m in mentions.values())
        if batch == "3":
            assert [r.headers["first_line"] for r in raws] == [2, 6, 10, 13]
            assert [r.headers["rows"] for r in raws] == [3, 3, 3, 1]
            # Each chunk can be re-parsed alone: it starts with the header row.
            assert all(r.body.startswith(HEADER) for r in raws)
            assert [r.status for r in raws] == ["processed", "failed", "failed", "processed"]
            assert raws[1].error.splitlines() == [
                "line 6: posted_at is not an ISO-8601 timestamp: 'yesterday'",
                "line 9: platform must be one of google, facebook, instagram, x, yelp, "
                "tripadvisor, feed, api; got 'myspace'",
            ]
        else:
            (raw,) = raws
            assert raw.headers["file"] == "mentions.csv"
            assert (raw.headers["first_line"], raw.headers["rows"]) == (2, 10)
            assert (raw.mentions_created, raw.duplicates) == (6, 1)


def test_importing_the_same_file_again_creates_nothing_new(cast, tenant):
    run("alpha", str(CSV_FILE), "--batch", "4")
    with tenant(cast.alpha):
        before = Mention.objects.count()

    stdout, _, status = run("alpha", str(CSV_FILE), "--batch", "4")

    assert status == 1  # the bad rows are still bad
    assert counts(stdout) == {
        "accepted": 0,
        "updated": 0,
        "duplicates": 7,
        "skipped": 0,
        "rejected": 3,
    }
    with tenant(cast.alpha):
        assert Mention.objects.count() == before == 6


def test_a_clean_file_exits_0_and_an_edit_counts_as_updated(cast, tenant, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(HEADER + "api,e-1,2025-03-01T10:00:00Z,Nice and clean,,,4,,,\n")
    stdout, _, status = run("alpha", str(path))
    assert status == 0
    assert "All rows were stored or already known." in stdout

    path.write_text(HEADER + "api,e-1,2025-03-01T10:00:00Z,Dirty waiting room,,,2,,,\n")
    stdout, _, status = run("alpha", str(path))

    assert status == 0
    assert counts(stdout)["updated"] == 1
    with tenant(cast.alpha):
        mention = Mention.objects.get(external_id="e-1")
        assert (mention.text, mention.rating) == ("Dirty waiting room", 2)
        assert MentionRevision.objects.get(mention=mention).text == "Nice and clean"


def test_recent_mentions_get_a_deadline_and_old_ones_do_not(cast, tenant, tmp_path):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    recent = (now - dt.timedelta(days=1)).isoformat()
    old = (now - dt.timedelta(days=30)).isoformat()
    path = tmp_path / "dated.csv"
    path.write_text(
        HEADER
        + f"api,new-1,{recent},The invoice was wrong and nobody called back,,,2,,,\n"
        + f"api,old-1,{old},The invoice was wrong and nobody called back,,,2,,,\n"
    )
    run("alpha", str(path))
    with tenant(cast.alpha):
        assert Mention.objects.get(external_id="new-1").due_at is not None
        assert Mention.objects.get(external_id="old-1").due_at is None


def test_the_full_list_of_rejected_rows_goes_to_the_errors_file(cast, tmp_path):
    path = tmp_path / "many_bad.csv"
    path.write_text(HEADER + "".join(f"api,b-{i},never,text,,,,,,\n" for i in range(25)))
    errors = tmp_path / "errors.csv"

    stdout, _, status = run("alpha", str(path), "--errors-file", str(errors), "--batch", "10")

    assert status == 1
    assert len(rejected_lines(stdout)) == 20  # the first 20 on screen
    assert "All 25 rejected row(s) written to" in stdout
    lines = errors.read_text().splitlines()
    assert lines[0] == "line,reason"
    assert [int(row.split(",")[0]) for row in lines[1:]] == list(range(2, 27))


def test_jsonl_is_imported_line_by_line(cast, tenant):
    stdout, _, status = run("alpha", str(FIXTURES / "mentions.jsonl"))

    assert status == 1
    assert counts(stdout) == {
        "accepted": 3,
        "updated": 0,
        "duplicates": 0,
        "skipped": 0,
        "rejected": 3,
    }
    assert rejected_lines(stdout) == [4, 6, 7]
    assert "line 7: unknown field(s): stars" in stdout
    with tenant(cast.alpha):
        assert sorted(Mention.objects.values_list("external_id", flat=True)) == [
            "jl-1",
            "jl-2",
            "jl-4",
        ]
        post = Mention.objects.get(external_id="jl-2")
        assert (post.platform, post.kind, post.author_handle) == ("facebook", "post", "pat.r")
        assert RawPayload.objects.get().source == "import:jsonl"


def test_a_google_reviews_list_document_is_split_into_reviews(cast, tenant):
    stdout, _, status = run(
        "alpha", str(FIXTURES / "google_reviews_list.json"), "--format", "google"
    )

    assert status == 1
    assert counts(stdout)["accepted"] == 2
    # The bad review is reported at the line where it starts, with its place in the file.
    assert rejected_lines(stdout) == [12]
    assert "line 12: reviews[1].starRating must be one of" in stdout
    with tenant(cast.alpha):
        first = Mention.objects.get(external_id="g-imp-1")
        assert (first.platform, first.rating, first.author_name) == ("google", 2, "Maria Lopez")
        answered = Mention.objects.get(external_id="g-imp-3")
        assert (answered.status, answered.owner_reply_text) == ("answered", "Thank you!")
        raw = RawPayload.objects.get()
        assert (raw.source, raw.platform, raw.headers["lines"]) == (
            "import:google",
            "google",
            [3, 12, 20],
        )


def test_google_json_lines_of_reviews_and_responses(cast, tenant):
    stdout, _, _ = run("alpha", str(FIXTURES / "google_reviews.jsonl"), "--format", "google")

    assert counts(stdout)["accepted"] == 2
    assert rejected_lines(stdout) == [2]
    assert "createTime is not an ISO-8601 timestamp" in stdout
    with tenant(cast.alpha):
        assert sorted(Mention.objects.values_list("external_id", flat=True)) == [
            "g-jl-1",
            "g-jl-3",
        ]


def test_yelp_needs_the_business_id_and_uses_it(cast, tenant, tmp_path):
    path = tmp_path / "yelp.json"
    path.write_text(
        json.dumps(
            {
                "reviews": [
                    {
                        "id": "y-1",
                        "text": "Great dentist, no wait at all.",
                        "rating": 5,
                        "time_created": "2025-03-01 10:00:00",
                        "user": {"id": "u-1", "name": "Lee"},
                    },
                    {"id": "y-2", "text": "?", "rating": 7, "time_created": "2025-03-01 10:00:00"},
                ]
            },
            indent=2,
        )
    )
    _, stderr, status = run("alpha", str(path), "--format", "yelp")
    assert status == 1
    assert "--account" in stderr

    stdout, _, _ = run("alpha", str(path), "--format", "yelp", "--account", "alpha-oslo")

    assert counts(stdout)["accepted"] == 1
    assert "line 13: reviews[1].rating must be a whole number from 1 to 5" in stdout
    with tenant(cast.alpha):
        mention = Mention.objects.get(external_id="y-1")
        assert (mention.platform, mention.rating) == ("yelp", 5)
        assert RawPayload.objects.get().headers["account"] == "alpha-oslo"


def test_an_unknown_practice_says_how_to_find_or_create_one(cast):
    _, stderr, status = run("no-such-practice", str(CSV_FILE))

    assert status == 1
    assert "No practice with slug 'no-such-practice'" in stderr
    assert "alpha" in stderr  # the known ones are listed
    assert "create_practice" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "excel"], "unknown format 'excel'"),
        (["--format", "yelp"], "--account"),
        (["--format", "csv", "--account", "x"], "--account is only used with"),
        (["--batch", "0"], "batch must be between"),
    ],
)
def test_bad_options_are_refused_before_anything_is_stored(cast, tenant, args, message):
    _, stderr, status = run("alpha", str(CSV_FILE), *args)

    assert status == 1
    assert message in stderr
    with tenant(cast.alpha):
        assert not RawPayload.objects.exists()


def test_unreadable_files_are_refused_clearly(cast, tenant, tmp_path):
    _, stderr, _ = run("alpha", str(tmp_path / "missing.csv"))
    assert "Cannot read" in stderr and "No such file" in stderr

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        HEADER.encode()
        + "api,l-1,2025-03-01T10:00:00Z,Bra tannlege på Bjølsen,,,,,,\n".encode("latin-1")
    )
    _, stderr, _ = run("alpha", str(latin1))
    assert "is not UTF-8 (line 2" in stderr

    no_columns = tmp_path / "columns.csv"
    no_columns.write_text("id,comment\n1,hello\n")
    _, stderr, _ = run("alpha", str(no_columns))
    assert "missing required column(s): external_id, posted_at, text" in stderr

    unknown = tmp_path / "data.txt"
    unknown.write_text("{}")
    _, stderr, _ = run("alpha", str(unknown))
    assert "Give --format" in stderr

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "reviews": [\n    {"name": 1},\n    oops\n  ]\n}\n')
    _, stderr, _ = run("alpha", str(broken), "--format", "google")
    assert "Nothing imported: line 4 column 5: invalid JSON" in stderr
    with tenant(cast.alpha):
        assert not RawPayload.objects.exists()


def test_each_chunk_is_stored_before_it_is_processed_and_a_failed_one_can_be_reprocessed(
    cast, tenant, tmp_path, monkeypatch
):
    path = tmp_path / "six.csv"
    path.write_text(
        HEADER
        + "".join(
            f"api,c-{i},2025-03-0{i}T10:00:00Z,Thanks for the quick appointment {i},,,5,,,\n"
            for i in range(1, 7)
        )
    )
    import inbox.pipeline.accept

    real_ingest = inbox.pipeline.accept.mentions_ingest
    seen: list[tuple[int, str]] = []

    def flaky_ingest(items, *, raw=None, **kwargs):
        stored = RawPayload.objects.get(pk=raw.pk)
        seen.append((stored.headers["first_line"], stored.status))
        if stored.headers["first_line"] == 4:
            raise RuntimeError("database went away")
        return real_ingest(items, raw=raw, **kwargs)

    monkeypatch.setattr(inbox.pipeline.accept, "mentions_ingest", flaky_ingest)
    stdout, stderr, status = run("alpha", str(path), "--batch", "2")

    # Every chunk was already stored when its processing started (and claimed by it).
    assert seen == [(2, "processing"), (4, "processing"), (6, "processing")]
    assert status == 1
    assert "1 chunk(s) failed" in stderr
    assert "Chunk of lines 4-5" in stdout and "RuntimeError: database went away" in stdout
    assert "tries it again by itself" not in stdout  # not known to be temporary
    assert counts(stdout)["accepted"] == 4
    with tenant(cast.alpha):
        failed = RawPayload.objects.get(status="failed")
        assert failed.headers["first_line"] == 4
        assert failed.error == "RuntimeError: database went away"
        assert "c-3" in failed.body and "c-4" in failed.body
        assert not Mention.objects.filter(external_id__in=["c-3", "c-4"]).exists()

    monkeypatch.undo()
    call_command("reprocess", "alpha", stdout=io.StringIO(), stderr=io.StringIO())

    with tenant(cast.alpha):
        failed.refresh_from_db()
        assert failed.status == "processed"
        assert failed.mentions_created == 2
        assert Mention.objects.filter(external_id__startswith="c-").count() == 6


def test_a_chunk_that_fails_for_a_temporary_reason_says_it_will_be_retried(
    cast, tenant, tmp_path, monkeypatch
):
    from django.db import OperationalError

    import inbox.pipeline.accept

    path = tmp_path / "two.csv"
    path.write_text(
        HEADER + "api,t-1,2025-03-01T10:00:00Z,Thanks for the quick appointment,,,5,,,\n"
    )

    def lost_connection(items, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(inbox.pipeline.accept, "mentions_ingest", lost_connection)
    stdout, _, status = run("alpha", str(path))

    assert status == 1
    assert "A temporary failure: the worker tries it again by itself at" in stdout
    with tenant(cast.alpha):
        raw = RawPayload.objects.get()
        assert raw.status == "failed" and raw.next_attempt_at is not None


# ---------------------------------------------------------------- reading files (no database)


def test_csv_chunks_repeat_the_header_and_keep_quoted_line_breaks_whole(tmp_path):
    path = tmp_path / "multi.csv"
    rows = [
        f'api,m-{i},2025-03-01T10:00:00Z,"first line\nsecond line {i}",,,,,,\n' for i in range(5)
    ]
    path.write_text(HEADER + "".join(rows))

    chunks = list(importing.read_chunks(path, fmt="csv", batch=2))

    assert [(c.first_line, c.last_line, c.rows) for c in chunks] == [
        (2, 5, 2),
        (6, 9, 2),
        (10, 11, 1),
    ]
    assert all(c.body.startswith(HEADER) for c in chunks)
    assert sum(c.nbytes for c in chunks) == path.stat().st_size


def test_a_json_document_maps_each_row_to_its_starting_line(tmp_path):
    path = tmp_path / "doc.json"
    document = {"reviews": [{"id": f"r-{i}", "text": "x" * i} for i in range(3)], "total": 3}
    path.write_text(json.dumps(document, indent=2))

    (chunk,) = importing.read_chunks(path, fmt="yelp", batch=10)

    assert chunk.lines == [3, 7, 11]
    assert [json.loads(line)["id"] for line in chunk.body.splitlines()] == ["r-0", "r-1", "r-2"]
