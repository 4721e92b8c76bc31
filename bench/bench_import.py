"""Bulk import throughput (with analysis) vs a raw PostgreSQL COPY of the same rows.

Generates N realistic mentions (praise / complaints / questions, 80-400 characters,
English and some Norwegian, distinct external ids, ~2,000 authors) as a CSV file, then
imports it into the practice `bench-import` (created if absent) through the same code
path as `manage.py import_mentions` (inbox.importing.import_file: raw chunks first, then
raw_payload_process -> mentions_ingest), once per worker setting, each time on fresh
tables (TRUNCATE ... CASCADE in that schema). The baseline, in the same run: psycopg 3
`cursor.copy` of the same rows (the columns a mention row needs, analysis fields left
empty) into a scratch table in the same schema. Writes bench/results/import.json.

    .venv/bin/python bench/bench_import.py [--rows 20000] [--batch 2000] [--workers 0,1,2]
                                           [--repeat 1] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reputation.settings")

import django  # noqa: E402
import psycopg  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from inbox.management.commands.import_mentions import DEFAULT_WORKERS  # noqa: E402
from inbox.models import Mention  # noqa: E402
from inbox.platforms.csvfmt import COLUMNS  # noqa: E402
from inbox.sources import importing  # noqa: E402
from reputation.analysis import get_analyser  # noqa: E402
from tenants import services  # noqa: E402
from tenants.models import Practice  # noqa: E402

SLUG = "bench-import"
GOAL_ROWS_PER_S = 5000
GOAL_RATIO = 0.25
# The documented import columns, from the CSV reader itself.
HEADER = list(COLUMNS)
# Tables of the practice schema that one import writes to (and the bench empties).
TABLES = [
    "inbox_mention",
    "inbox_mentionrevision",
    "inbox_alert",
    "inbox_author",
    "inbox_conversation",
    "inbox_rawpayload",
    "audit_auditevent",
]

# ---------------------------------------------------------------- realistic rows

# Sentences with slots ({staff}, {minutes}, {amount}, {day}, {treatment}, {weeks}) so
# that almost every generated text is distinct, as in a real export.
EN = {
    "praise": [
        "The whole team was friendly and made me feel at ease from the moment I walked in.",
        "{staff} explained every step of the {treatment} and it was completely painless.",
        "Best dental clinic I have been to, quick appointment on {day} and spotless rooms.",
        "The hygienist {staff} was gentle and thorough, my teeth have never felt this clean.",
        "Booking online was easy and they took me in {minutes} minutes early.",
        "Great value for money: the {treatment} cost {amount} kroner, exactly as quoted.",
        "My kids were nervous but {staff} was patient and kind with them.",
        "Highly recommend, the reception staff remembered my name after {weeks} weeks.",
        "Lovely atmosphere, calm music and no waiting at all on {day}.",
        "They fixed my broken tooth the same {day}, thank you so much {staff}!",
    ],
    "complaint": [
        "I waited {minutes} minutes past my appointment on {day} and nobody explained why.",
        "The bill was {amount} kroner higher than the estimate I was given on the phone.",
        "The receptionist was rude and hung up on me twice on {day}.",
        "My filling fell out after {weeks} weeks and they want me to pay {amount} again.",
        "Nobody called me back about my complaint about the {treatment}, very disappointing.",
        "The treatment room was dirty and {staff} seemed rushed and careless.",
        "They cancelled my {treatment} at the last minute for the third time.",
        "I was charged twice for the same {treatment} and still have no refund.",
        "Terrible experience, {staff} did not listen to a word I said.",
        "Parking was impossible on {day} and the clinic did not warn anyone about it.",
    ],
    "question": [
        "Do you take new patients on {day}s?",
        "How much does a {treatment} cost without insurance?",
        "Is there parking near the clinic or should I take the bus on {day}?",
        "Can I book a {treatment} online, or do I have to call?",
        "Do you offer payment plans for a {treatment} over {weeks} weeks?",
        "What are your opening hours on {day} during the holidays?",
        "Does {staff} still work at the clinic?",
        "Can my daughter come with me to the {treatment} appointment?",
    ],
    "filler": [
        "I have been a patient here for {weeks} years.",
        "We moved to the area last spring.",
        "My appointment was on a {day} morning.",
        "I came in for a {treatment}.",
        "My husband recommended this place.",
        "It was my first visit.",
    ],
}
NO = {
    "praise": [
        "Veldig hyggelig personale og god behandling, anbefales på det sterkeste.",
        "{staff} forklarte alt grundig og det gjorde ikke vondt i det hele tatt.",
        "Kom inn samme dag med vondt i en tann, tusen takk for hjelpen {staff}!",
        "Rent og ryddig, og jeg slapp å vente på {day}.",
        "Fornøyd med resultatet og prisen var {amount} kroner som avtalt.",
    ],
    "complaint": [
        "Ventet {minutes} minutter på venterommet uten at noen sa fra.",
        "Regningen var {amount} kroner høyere enn det jeg fikk oppgitt på telefonen.",
        "Fyllingen løsnet etter {weeks} uker og de vil at jeg skal betale på nytt.",
        "Svært dårlig service, ingen ringte meg tilbake etter {day}.",
        "Timen ble avlyst i siste liten for tredje gang.",
    ],
    "question": [
        "Har dere ledige timer neste {day}?",
        "Hvor mye koster en kontroll hos {staff}?",
        "Kan jeg bestille time på nett?",
        "Tar dere imot nye pasienter før {day}?",
    ],
    "filler": [
        "Jeg har vært pasient her i {weeks} år.",
        "Timen min var en {day} morgen.",
        "Det var mitt første besøk.",
    ],
}
STAFF = ["Dr. Hansen", "Dr. Berg", "Tone", "Dr. Nguyen", "Marit", "Dr. Khan", "Sara", "Ole"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
DAYS_NO = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"]
TREATMENTS = [
    "cleaning", "check-up", "filling", "root canal", "crown", "whitening", "implant",
    "extraction", "x-ray", "braces consultation",
]  # fmt: skip
FIRST = [
    "Anna", "Bjørn", "Chris", "Dana", "Erik", "Fatima", "Guro", "Hassan", "Ingrid", "Jon",
    "Kari", "Lars", "Maria", "Nils", "Olivia", "Per", "Rania", "Sofie", "Tom", "Ulla",
    "Viktor", "Wenche", "Yusuf", "Zara", "Ahmed", "Berit", "Carlos", "Dina", "Emma", "Finn",
    "Grace", "Henrik", "Ida", "Jakob", "Kim", "Linn", "Magnus", "Nora", "Omar", "Pia",
]  # fmt: skip
LAST = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Berg", "Haugen", "Lopez", "Smith", "Khan", "Nguyen", "Brown",
    "Dahl", "Lie", "Moen", "Eriksen", "Bakke", "Solberg", "Strand", "Lund", "Ali", "Garcia",
    "Wilson", "Holm", "Vik", "Ahmed", "Kowalski", "Rossi", "Svendsen", "Aas", "Hagen",
    "Berge", "Lien", "Sæther", "Ruud", "Knutsen", "Myhre", "Nielsen", "Iversen", "Eide",
    "Tangen", "Bø", "Fjeld", "Ødegård", "Nordby",
]  # fmt: skip
PLATFORMS = [("google", 40), ("facebook", 20), ("yelp", 15), ("tripadvisor", 10), ("api", 15)]


def generate_rows(n: int, seed: int = 20251122) -> list[list[str]]:
    rng = random.Random(seed)
    authors = [f"{a} {b}" for a in FIRST for b in LAST][:2000]
    rng.shuffle(authors)
    platforms = [p for p, _ in PLATFORMS]
    weights = [w for _, w in PLATFORMS]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = []
    for i in range(n):
        lexicon = NO if rng.random() < 0.15 else EN
        category = rng.choices(["praise", "complaint", "question"], [45, 35, 20])[0]
        target = rng.randint(80, 400)
        days = DAYS_NO if lexicon is NO else DAYS_EN

        def fill(template: str, days: list[str] = days) -> str:
            return template.format(
                staff=rng.choice(STAFF),
                minutes=rng.randint(10, 95),
                amount=rng.randrange(200, 9000, 50),
                day=rng.choice(days),
                treatment=rng.choice(TREATMENTS),
                weeks=rng.randint(2, 12),
            )

        sentences = [fill(rng.choice(lexicon[category]))]
        while len(" ".join(sentences)) < target:
            pool = lexicon["filler"] if rng.random() < 0.25 else lexicon[category]
            sentences.append(fill(rng.choice(pool)))
        text = " ".join(sentences)
        if len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0] + "."
        platform_code = rng.choices(platforms, weights)[0]
        rated = platform_code in ("google", "yelp", "tripadvisor") or rng.random() < 0.3
        rating = ""
        if rated:
            rating = str(
                {"praise": rng.choice([4, 5]), "complaint": rng.choice([1, 2])}.get(
                    category, rng.choice([3, 4])
                )
            )
        author = rng.choice(authors)
        posted = now - dt.timedelta(seconds=rng.randint(8 * 86400, 730 * 86400))
        rows.append(
            [
                platform_code,
                f"bench-{i:07d}",
                posted.isoformat().replace("+00:00", "Z"),
                text,
                author,
                author.lower().replace(" ", ".") if platform_code == "facebook" else "",
                rating,
                f"https://example.com/reviews/{i}" if rng.random() < 0.5 else "",
                "",
                "review" if rating else rng.choice(["post", "comment"]),
            ]
        )
    return rows


def write_csv(rows: list[list[str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)


# ---------------------------------------------------------------- database helpers


def practice_ensure() -> Practice:
    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice = services.practice_create(
            slug=SLUG, name="Bench Import", owner_email=f"{SLUG}@bench.test"
        )
    return practice


def tables_reset(practice: Practice) -> None:
    with tenant_context(practice), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute("DROP TABLE IF EXISTS bench_copy_mention")
    connection.close()  # start each run on a fresh connection, like a new command


COPY_COLUMNS = [
    "platform", "external_id", "kind", "parent_external_id", "author_name", "author_handle",
    "text", "rating", "url", "posted_at", "received_at", "removed_on_platform", "from_owner",
    "is_indirect", "owner_reply_text", "language", "category", "severity", "evidence",
    "status", "outcome",
]  # fmt: skip


def copy_baseline(
    practice: Practice, rows: list[list[str]], *, indexed: bool
) -> tuple[float, float]:
    """COPY the same rows into a scratch table shaped like inbox_mention: (seconds, CPU
    seconds of this process and its PostgreSQL backend).

    `indexed`: the scratch table also gets inbox_mention's indexes and unique constraint.
    Rows are converted to column values before the clock starts: this is the database's
    own cost of storing them, the ceiling for any import path.
    """
    now = dt.datetime.now(dt.UTC)
    values = [
        (
            r[0], r[1], r[9], "", r[4], r[5], r[3], int(r[6]) if r[6] else None, r[7],
            dt.datetime.fromisoformat(r[2]), now, False, False, True, "", "", "", 0, "[]",
            "new", "",
        )
        for r in rows
    ]  # fmt: skip
    like = "INCLUDING ALL" if indexed else "INCLUDING DEFAULTS INCLUDING IDENTITY"
    with tenant_context(practice):
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_mention")
            cursor.execute(f"CREATE TABLE bench_copy_mention (LIKE inbox_mention {like})")
        raw = connection.connection  # psycopg 3 connection under Django
        backend = _backend_pid()
        pg_before, cpu_before = _pid_cpu_seconds(backend), _cpu_seconds()
        started = time.perf_counter()
        with raw.cursor() as cursor:
            sql = f"COPY bench_copy_mention ({', '.join(COPY_COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for row in values:
                    copy.write_row(row)
        if not raw.autocommit:
            raw.commit()
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before + _pid_cpu_seconds(backend) - pg_before
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_copy_mention")
            assert cursor.fetchone()[0] == len(rows)
            cursor.execute("DROP TABLE bench_copy_mention")
    return elapsed, cpu


# ---------------------------------------------------------------- the import runs

# COPY bypasses Django's execute wrappers, so the import's own "sql" timer does not see
# it (the ingest speed-up patch inserts with COPY): time psycopg's Cursor.copy here.
_copy_seconds = [0.0]
_psycopg_copy = psycopg.Cursor.copy


@contextlib.contextmanager
def _timed_copy(self, statement, params=None, **kwargs):
    started = time.perf_counter()
    try:
        with _psycopg_copy(self, statement, params, **kwargs) as copy:
            yield copy
    finally:
        _copy_seconds[0] += time.perf_counter() - started


psycopg.Cursor.copy = _timed_copy


def import_run(practice: Practice, path: Path, *, batch: int, workers: int, profile: bool):
    tables_reset(practice)
    get_analyser()  # loaded once per process (as in a long-running command), not timed
    profiler = cProfile.Profile() if profile else None
    load_before = os.getloadavg()[0]
    with tenant_context(practice):
        backend = _backend_pid()
        pg_before = _pid_cpu_seconds(backend)
        cpu_before = _cpu_seconds()
        _copy_seconds[0] = 0.0
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = importing.import_file(path, fmt="csv", batch=batch, workers=workers)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        pg_cpu = _pid_cpu_seconds(backend) - pg_before
        report.timings["copy"] = _copy_seconds[0]
        created = Mention.objects.count()
        categories = dict(Mention.objects.values_list("category").annotate(n=Count("id")))
        languages = dict(Mention.objects.values_list("language").annotate(n=Count("id")))
    assert report.ok, (report.rejected[:5], [c.failed for c in report.failed_chunks])
    assert report.created == created == report.rows, (report.created, created, report.rows)
    extra = {
        "cpu_s_python": round(cpu, 2),
        "cpu_s_postgres_backend": round(pg_cpu, 2),
        "load_average_before": round(load_before, 2),
        "analysis_mix": {"categories": categories, "languages": languages},
    }
    return report, elapsed, profiler, extra


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _pid_cpu_seconds(pid: int) -> float:
    """CPU time of a local process (the PostgreSQL backend serving our connection)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the analysis workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def breakdown(report: importing.ImportReport, elapsed: float, workers: int) -> dict:
    t = report.timings
    copy = t.get("copy", 0.0)  # inside the chunks' "python" time (COPY skips the sql timer)
    parts = {
        "read_file_s": t.get("read", 0.0),
        "store_raw_s": t.get("store_raw", 0.0),
        "parse_s": t.get("parse", 0.0),
        "analysis_s": t.get("analysis", 0.0),
        "db_s": t.get("sql", 0.0) + copy,
        "ingest_python_s": max(0.0, t.get("python", 0.0) - copy),
    }
    parts = {k: round(v, 3) for k, v in parts.items()}
    busy = sum(parts.values())
    share = {k.removesuffix("_s"): round(v / busy, 3) for k, v in parts.items()}
    parts["db_detail"] = {"sql_s": round(t.get("sql", 0.0), 3), "copy_s": round(copy, 3)}
    if workers:
        parts["analysis_wait_s"] = round(t.get("analysis_wait", 0.0), 3)
        parts["note"] = (
            "seconds summed over chunks; analysis ran in the worker processes (CPU seconds "
            "summed over them), everything else in the main process; analysis_wait is how "
            "long the main process waited for the workers"
        )
    else:
        parts["note"] = "seconds in the one process; db is time spent inside database calls"
    parts["share"] = share
    return parts


def machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": pg,
        "platform": platform.platform(),
        "django": django.get_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=importing.DEFAULT_BATCH)
    parser.add_argument(
        "--workers", default="0,1,2", help="analysis worker processes, comma-separated runs"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per worker setting; the fastest is kept"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the 0-worker run")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "import.json"))
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    practice = practice_ensure()
    rows = generate_rows(args.rows)
    authors = len({r[4] for r in rows})
    distinct_texts = len({r[3] for r in rows})
    norwegian = sum(1 for r in rows if any(ch in r[3] for ch in "æøå"))
    lengths = sorted(len(r[3]) for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench_import_{args.rows}.csv"
        write_csv(rows, path)
        file_bytes = path.stat().st_size

        copy_s, copy_cpu = min(
            copy_baseline(practice, rows, indexed=False) for _ in range(args.repeat)
        )
        copy_indexed_s, _ = min(
            copy_baseline(practice, rows, indexed=True) for _ in range(args.repeat)
        )

        runs = []
        for workers, attempt in [(w, a) for a in range(args.repeat) for w in worker_counts]:
            profile = args.profile and workers == 0 and attempt == 0
            report, elapsed, profiler, extra = import_run(
                practice, path, batch=args.batch, workers=workers, profile=profile
            )
            run = {
                "workers": workers,
                "batch": args.batch,
                "seconds": round(elapsed, 3),
                "rows_per_s": round(args.rows / elapsed, 1),
                "chunks": report.chunks,
                "breakdown": breakdown(report, elapsed, workers),
                **extra,
            }
            earlier = next((r for r in runs if r["workers"] == workers), None)
            run["cpu_s_total"] = round(run["cpu_s_python"] + run["cpu_s_postgres_backend"], 2)
            run["rows_per_cpu_s"] = round(args.rows / run["cpu_s_total"], 1)
            if earlier is None:
                runs.append(run)
            elif run["seconds"] < earlier["seconds"]:
                runs[runs.index(earlier)] = run
            print(
                f"import  workers={workers} batch={args.batch} #{attempt + 1}: {elapsed:6.2f} s "
                f"{args.rows / elapsed:8,.0f} rows/s  (cpu: python {extra['cpu_s_python']:.1f} s"
                f" + postgres {extra['cpu_s_postgres_backend']:.1f} s;"
                f" load before {extra['load_average_before']:.2f})",
                flush=True,
            )
            if profiler is not None:
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
                stats.print_stats(45)
                profile_path = Path(args.out).with_suffix(".profile.txt")
                profile_path.write_text(out.getvalue())
                print(f"profile of the in-process run: {profile_path}")
        tables_reset(practice)

    # The headline is what `manage.py import_mentions` does by default (else the fastest).
    headline = next(
        (r for r in runs if r["workers"] == DEFAULT_WORKERS),
        max(runs, key=lambda r: r["rows_per_s"]),
    )
    copy_rate = args.rows / copy_s
    result = {
        "rows": args.rows,
        "file_bytes": file_bytes,
        "data": {
            "authors": authors,
            "distinct_texts": distinct_texts,
            "norwegian_rows": norwegian,
            "text_chars": {
                "min": lengths[0],
                "median": lengths[len(lengths) // 2],
                "max": lengths[-1],
            },
        },  # fmt: skip
        "seconds": headline["seconds"],
        "rows_per_s": headline["rows_per_s"],
        "workers": headline["workers"],
        "copy_seconds": round(copy_s, 3),
        "copy_rows_per_s": round(copy_rate, 1),
        "copy_indexed_rows_per_s": round(args.rows / copy_indexed_s, 1),
        "copy_cpu_s": round(copy_cpu, 3),
        "ratio": round(headline["rows_per_s"] / copy_rate, 4),
        "breakdown": headline["breakdown"],
        "goal": {
            "rows_per_s": GOAL_ROWS_PER_S,
            "ratio": GOAL_RATIO,
            "met_rows_per_s": headline["rows_per_s"] >= GOAL_ROWS_PER_S,
            "met_ratio": headline["rows_per_s"] / copy_rate >= GOAL_RATIO,
        },
        "runs": runs,
        "repeat": args.repeat,
        # The workers only move the analysis: every setting must store the same results.
        "same_analysis_in_every_run": all(
            r["analysis_mix"] == runs[0]["analysis_mix"] for r in runs
        ),
        "machine": machine(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    print(f"COPY (bare table)    : {copy_s:6.2f} s {copy_rate:8,.0f} rows/s")
    print(
        f"COPY (with indexes)  : {copy_indexed_s:6.2f} s {args.rows / copy_indexed_s:8,.0f} rows/s"
    )
    print(
        f"import (default)     : {headline['seconds']:6.2f} s "
        f"{headline['rows_per_s']:8,.0f} rows/s "
        f"(workers={headline['workers']}), {result['ratio']:.1%} of COPY"
    )
    share = headline["breakdown"]["share"]
    print("where the time goes  : " + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))
    verdict = {True: "met", False: "MISSED"}
    print(
        f"goal >= {GOAL_ROWS_PER_S:,} rows/s: {verdict[result['goal']['met_rows_per_s']]}; "
        f"goal >= {GOAL_RATIO:.0%} of COPY: {verdict[result['goal']['met_ratio']]}"
    )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
