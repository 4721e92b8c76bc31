import datetime as dt
import io
from pathlib import Path

from inbox.platforms import csvfmt
from inbox.platforms.base import NormalisedMention, PayloadError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms" / "generic"
HEADER = "platform,external_id,posted_at,text,author_name,author_handle,rating,url,account,kind\n"


def rows(text: str):
    return list(csvfmt.parse_rows(io.BytesIO(text.encode("utf-8"))))


def summary(results):
    return [
        (line, r.external_id if isinstance(r, NormalisedMention) else f"error:{r.field}")
        for line, r in results
    ]


def test_it_reads_the_documented_columns_with_file_line_numbers():
    with (FIXTURES / "mentions.csv").open("rb") as fileobj:
        results = list(csvfmt.parse_rows(fileobj))

    assert summary(results) == [
        (2, "row-1"),
        (3, "row-2"),  # its quoted text spans lines 3-4
        (5, "error:posted_at"),
        (7, "error:rating"),  # line 6 is blank
        (8, "error:None"),
    ]
    first, second = results[0][1], results[1][1]
    assert first.text == 'Great, quick, "painless"'
    assert (first.platform, first.rating, first.kind, first.author_name) == (
        "api",
        5,
        "review",
        "Dana K.",
    )
    assert first.url == "https://example.com/r/1"
    assert second.text == "Line one\r\nline two of the same review"
    assert (second.platform, second.author_handle, second.account_external_id) == (
        "yelp",
        "rob_s",
        "biz-123",
    )
    assert second.posted_at == dt.datetime(2025, 3, 1, 14, 0, tzinfo=dt.UTC)
    assert results[4][1].message == "row has 4 values but the header has 10 columns"


def test_columns_may_come_in_any_order_and_case_and_optional_ones_may_be_left_out():
    results = rows("Text,External_ID,posted_at\nhello,e-1,2025-03-01T10:00:00Z\n")

    ((line, mention),) = results
    assert (line, mention.external_id, mention.text, mention.platform) == (2, "e-1", "hello", "api")


def test_a_utf8_bom_is_ignored():
    ((line, mention),) = list(
        csvfmt.parse_rows(
            io.BytesIO("\ufeffexternal_id,posted_at,text\ne,2025-03-01T10:00:00Z,hé\n".encode())
        )
    )
    assert (line, mention.external_id, mention.text) == (2, "e", "hé")


def test_extra_columns_are_reported_once_and_ignored():
    results = rows(
        "external_id,posted_at,text,stars,notes\n"
        "a,2025-03-01T10:00:00Z,one,5,x\n"
        "b,2025-03-01T11:00:00Z,two,4,y\n"
    )

    assert summary(results) == [(1, "error:stars"), (2, "a"), (3, "b")]
    assert results[0][1].message.startswith("unknown column(s) ignored: stars, notes")


def test_a_missing_required_column_stops_the_import():
    results = rows("external_id,text\na,hello\n")

    assert summary(results) == [(1, "error:posted_at")]


def test_a_duplicated_column_stops_the_import():
    assert summary(rows("external_id,posted_at,text,text\n")) == [(1, "error:text")]


def test_an_empty_file_is_an_error():
    assert summary(rows("")) == [(1, "error:None")]


def test_an_empty_posted_at_cell_is_reported_as_required():
    ((line, error),) = rows("external_id,posted_at,text\na,,hello\n")

    assert (line, error.field, error.message) == (2, "posted_at", "posted_at is required")


def test_a_rating_only_row_may_have_empty_text():
    ((line, mention),) = rows("external_id,posted_at,text,rating\na,2025-03-01T10:00:00Z,,4\n")

    assert (mention.rating, mention.text, mention.kind) == (4, "", "review")


def test_text_file_objects_work_too():
    stream = io.StringIO(HEADER + "myspace,t-1,2025-03-01T10:00:00Z,hi,,,,,,\n", newline="")

    ((line, error),) = csvfmt.parse_rows(stream)
    assert (line, error.field) == (2, "platform")


def test_invalid_utf8_stops_with_an_error():
    results = list(csvfmt.parse_rows(io.BytesIO(b"external_id,posted_at,text\na,b,\xff\xfe\n")))

    assert len(results) == 1
    assert isinstance(results[0][1], PayloadError)
    assert results[0][1].message == "the file is not valid UTF-8"


def test_an_oversized_field_is_reported_and_the_next_rows_still_read():
    huge = "x" * 200_000
    results = rows(
        f"external_id,posted_at,text\na,2025-03-01T10:00:00Z,{huge}\nb,2025-03-01T10:00:00Z,ok\n"
    )

    assert summary(results) == [(2, "error:None"), (3, "b")]
