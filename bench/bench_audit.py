"""The audit trail's hash chain: how fast `verify_audit` walks it, and what chaining
costs an ingest batch (the same batches with the audit rows written vs not written,
interleaved in one run). Writes bench/results/audit.json.

    .venv/bin/python bench/bench_audit.py [--events 200000] [--batches 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reputation.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from inbox.pipeline import store  # noqa: E402
from inbox.platforms.base import NormalisedMention  # noqa: E402
from reputation.audit import services as audit  # noqa: E402
from reputation.audit.chain import chain_verify  # noqa: E402
from tenants import services  # noqa: E402
from tenants.models import Practice  # noqa: E402

SLUG = "bench-audit"


def _practice() -> Practice:
    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is not None:
        schema = practice.schema_name
        practice.delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return services.practice_create(slug=SLUG, name="Bench Audit", owner_email="o@audit.test")


def _batch(tag: str, n: int) -> list[NormalisedMention]:
    now = timezone.now()
    return [
        NormalisedMention(
            platform="google",
            external_id=f"{tag}-{i}",
            kind="review",
            text=f"Waited {i % 60} minutes at reception, the staff were kind though.",
            rating=1 + i % 5,
            posted_at=now - dt.timedelta(minutes=i),
            author_external_id=f"a-{tag}-{i % 200}",
            author_name=f"Author {i % 200}",
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "audit.json"))
    args = parser.parse_args()
    practice = _practice()
    with schema_context(practice.schema_name):
        print(f"writing {args.events:,} chained events", flush=True)
        started = time.perf_counter()
        for start in range(0, args.events, 10_000):
            with transaction.atomic():
                audit.audit_records_bulk(
                    {"action": "bench.event", "object_type": "mention", "object_id": str(i),
                     "data": {"i": i, "status": "new"}}
                    for i in range(start, min(args.events, start + 10_000))
                )  # fmt: skip
        write_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")
        verify = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = chain_verify()
            verify.append(time.perf_counter() - t0)
            assert result.ok, result.first_break
        rate = result.events / min(verify)
        print(f"verify: {result.events:,} events, best {min(verify):.2f} s = {rate:,.0f}/s")

        real_bulk = audit.audit_records_bulk
        with_audit, without = [], []
        for b in range(args.batches):
            for label, times in (("with", with_audit), ("without", without)):
                store.audit_records_bulk = real_bulk if label == "with" else (lambda e: 0)
                items = _batch(f"{label}{b}", args.batch_size)
                t0 = time.perf_counter()
                with transaction.atomic():
                    store.mentions_ingest(items, source="bench")
                times.append(time.perf_counter() - t0)
        store.audit_records_bulk = real_bulk
    overhead = statistics.median(with_audit) / statistics.median(without) - 1
    print(
        f"ingest of {args.batch_size:,} mentions: median {statistics.median(with_audit):.3f} s"
        f" with the chained audit rows, {statistics.median(without):.3f} s without:"
        f" {overhead:+.1%}"
    )
    out = {
        "events": result.events,
        "write_s": round(write_s, 2),
        "verify_best_s": round(min(verify), 3),
        "verify_events_per_s": round(rate),
        "ingest_batch": args.batch_size,
        "ingest_with_audit_s": [round(t, 3) for t in with_audit],
        "ingest_without_audit_s": [round(t, 3) for t in without],
        "audit_overhead": round(overhead, 4),
        "goal": {"verify_events_per_s": 50_000, "overhead_max": 0.10},
    }
    Path(args.out).write_text(json.dumps(out, indent=2))
    connection.set_schema_to_public()
    schema = practice.schema_name
    practice.delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
