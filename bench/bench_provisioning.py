"""New-practice provisioning: cloning the kept-migrated template vs replaying migrations.

Both paths run in the same process, against the dev database, N times each, on fresh
slugs; the practices are dropped afterwards. Writes bench/results/provisioning.json.

    .venv/bin/python bench/bench_provisioning.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reputation.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

from tenants import provisioning, services  # noqa: E402
from tenants.models import Practice  # noqa: E402


def _drop(slug: str) -> None:
    practice = Practice.objects.filter(slug=slug).first()
    if practice:
        schema = practice.schema_name
        practice.delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _timed_create(slug: str) -> float:
    _drop(slug)
    started = time.perf_counter()
    services.practice_create(slug=slug, name=slug, owner_email=f"{slug}@bench.test")
    elapsed = time.perf_counter() - started
    _drop(slug)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "provisioning.json"))
    args = parser.parse_args()

    provisioning.template_ensure()
    migrations = len(MigrationLoader(connection).disk_migrations)
    clone, replay = [], []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}: clone", end="", flush=True)
        settings.TENANT_CREATION_FAKES_MIGRATIONS = True
        clone.append(_timed_create(f"bench-clone-{i}"))
        print(f" {clone[-1]:.2f} s, replay", end="", flush=True)
        settings.TENANT_CREATION_FAKES_MIGRATIONS = False
        replay.append(_timed_create(f"bench-replay-{i}"))
        print(f" {replay[-1]:.2f} s")
    settings.TENANT_CREATION_FAKES_MIGRATIONS = True
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    result = {
        "runs": args.runs,
        "migrations_on_disk": migrations,
        "clone_s": {"median": statistics.median(clone), "min": min(clone), "all": clone},
        "replay_s": {"median": statistics.median(replay), "min": min(replay), "all": replay},
        "clone_vs_replay_ratio": statistics.median(clone) / statistics.median(replay),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": pg_version,
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(
        f"clone median {result['clone_s']['median']:.3f} s, replay median "
        f"{result['replay_s']['median']:.3f} s, ratio {result['clone_vs_replay_ratio']:.2f} "
        f"({migrations} migrations on disk) -> {args.out}"
    )


if __name__ == "__main__":
    main()
