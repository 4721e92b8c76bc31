"""Run every bench/bench_*.py in turn, each with its default arguments (`make bench`).

Each script runs in its own process with this interpreter; its output is streamed as it
comes. A failing script does not stop the others; at the end the failures are named and
the exit status is 1. `--fail-fast` stops at the first failure instead.

    .venv/bin/python bench/run_all.py [--fail-fast] [NAME ...]   # NAME: webhook, import, ...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def discover() -> list[Path]:
    return sorted(BENCH.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these (bench_NAME.py or NAME)")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    args = parser.parse_args()

    scripts = discover()
    if args.names:
        wanted = {n.removeprefix("bench_").removesuffix(".py") for n in args.names}
        unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            known = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
            print(f"error: no bench named {', '.join(sorted(unknown))} (known: {known})")
            return 2
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    if not scripts:
        print(f"error: no bench_*.py scripts in {BENCH}")
        return 2

    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "reputation.settings")
    failures: list[tuple[str, str]] = []
    timings: list[tuple[str, float, str]] = []
    started_all = time.monotonic()
    for n, script in enumerate(scripts, 1):
        name = script.relative_to(ROOT).as_posix()
        print(f"\n==> [{n}/{len(scripts)}] {name}", flush=True)
        started = time.monotonic()
        try:
            code = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env).returncode
        except KeyboardInterrupt:
            print(f"\ninterrupted during {name}")
            return 130
        elapsed = time.monotonic() - started
        if code == 0:
            print(f"==> {name} done in {elapsed:.0f} s", flush=True)
            timings.append((name, elapsed, "ok"))
            continue
        reason = f"exit status {code}" if code > 0 else f"killed by signal {-code}"
        print(f"==> FAILED: {name} ({reason}) after {elapsed:.0f} s", flush=True)
        failures.append((name, reason))
        timings.append((name, elapsed, "FAILED"))
        if args.fail_fast:
            break

    print(f"\n==> Summary ({time.monotonic() - started_all:.0f} s)")
    for name, elapsed, status in timings:
        print(f"    {status:6}  {elapsed:6.0f} s  {name}")
    skipped = len(scripts) - len(timings)
    if skipped:
        print(f"    {skipped} not run (--fail-fast)")
    if failures:
        listed = "; ".join(f"{name} ({reason})" for name, reason in failures)
        print(f"error: {len(failures)} of {len(scripts)} benchmarks failed: {listed}")
        return 1
    print(f"==> all {len(scripts)} benchmarks passed; results in bench/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
