"""Benchmark of the text analyser: throughput and threat detection quality.

    .venv/bin/python bench/bench_analysis.py --out bench/results/analysis.json

Measures, in one run:
1. Throughput (texts/s, one CPU core) of the default analyser on ~200-character
   clinic reviews, against a baseline of plain VADER polarity on the same texts. The
   two are timed in alternating rounds and the best round of each is kept, so a busy
   machine slows both alike and the ratio stays meaningful.
2. Threat recall / precision / F1 on PUBLIC labelled data in bench/data (see
   bench/data/README.md for sources and licences), per source and combined, with 95%
   Wilson intervals: the sets are small, and the interval says how small.
3. The same, plus category and language accuracy, on our own hand-written domain set
   (bench/data/domain_reviews.jsonl), reported separately: it is ours, not public.
4. Threat detection on a HELD-OUT public set (bench/data/heldout_threat_sample.jsonl)
   that the rules were never tuned on, reported separately from 2. and never used to
   change the rules: real Jigsaw comments ("jigsaw") and HateCheck's synthetic
   functional tests ("hatecheck") apart, with every missed threat and false alarm.
   Since the rules were widened after reading them, these are DEV data now (the key
   keeps its historical name).
5. Threat detection on the BLIND set (bench/data/blind_threat_test.jsonl), collected
   by someone who never saw the rules, and never to be read while changing them: only
   counts and row ids are written, never the texts, so the results file cannot leak
   it into the next round of rules. Its labels are noisy (bench/data/README.md).
"""

from __future__ import annotations

import os

# One core, one thread: pin before numpy (used by the language model) is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))

PUBLIC_SETS = {
    "youtoxic": DATA / "youtoxic_threat_sample.jsonl",
    "jigsaw": DATA / "jigsaw_toxic_sample.jsonl",
}
DOMAIN_SET = DATA / "domain_reviews.jsonl"
# Held out: the rules were never tuned on these rows (see bench/data/README.md).
HELDOUT_SET = DATA / "heldout_threat_sample.jsonl"
HELDOUT_GROUPS = ("jigsaw", "hatecheck")
BLIND_SET = DATA / "blind_threat_test.jsonl"


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pin_to_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"pinned to CPU {min(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):  # not Linux
        return "not pinned"


def review_corpus(n: int, seed: int = 7) -> list[str]:
    """~200-character reviews built from the domain set's sentences, one language each
    (English and Norwegian, as the domain set has them)."""
    by_language: dict[str, list[str]] = {}
    for row in load(DOMAIN_SET):
        if row["language"] in ("en", "no"):
            by_language.setdefault(row["language"], []).append(row["text"])
    pools = [by_language[lang] for lang in sorted(by_language)]
    rng = random.Random(seed)
    corpus = []
    for i in range(n):
        pool = pools[i % len(pools)]
        text = ""
        while len(text) < 170:
            text = (text + " " + rng.choice(pool)).strip()
        corpus.append(text)
    return corpus


def best_rate(fn, texts: list[str], rounds: int) -> list[float]:
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
    return rates


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    if n == 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [round(centre - half, 3), round(centre + half, 3)]


def threat_scores(rows: list[dict], predictions: list) -> dict:
    tp = sum(
        1 for r, a in zip(rows, predictions, strict=True) if r["threat"] and a.category == "threat"
    )
    fp = sum(
        1
        for r, a in zip(rows, predictions, strict=True)
        if not r["threat"] and a.category == "threat"
    )
    fn = sum(
        1 for r, a in zip(rows, predictions, strict=True) if r["threat"] and a.category != "threat"
    )
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "n": len(rows),
        "positives": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": None if precision is None else round(precision, 3),
        "recall": None if recall is None else round(recall, 3),
        "f1": None if f1 is None else round(f1, 3),
        "precision_95ci": wilson(tp, tp + fp),
        "recall_95ci": wilson(tp, tp + fn),
        "missed": [
            r["text"][:120]
            for r, a in zip(rows, predictions, strict=True)
            if r["threat"] and a.category != "threat"
        ],
        "false_alarms": [
            {"text": r["text"][:120], "evidence": a.evidence}
            for r, a in zip(rows, predictions, strict=True)
            if not r["threat"] and a.category == "threat"
        ],
    }


def heldout_scores(rows: list[dict], predictions: list) -> dict:
    """Like threat_scores, but every miss and false alarm in full (up to 300 characters)
    with its row id, source id and what the analyser made of it."""
    scores = threat_scores(rows, predictions)
    pairs = list(zip(rows, predictions, strict=True))
    scores["missed"] = [
        {
            "id": r["id"],
            "source_id": r.get("source_id"),
            **({"functionality": r["functionality"]} if "functionality" in r else {}),
            "text": r["text"][:300],
            "got": a.category,
        }
        for r, a in pairs
        if r["threat"] and a.category != "threat"
    ]
    scores["false_alarms"] = [
        {
            "id": r["id"],
            "source_id": r.get("source_id"),
            "text": r["text"][:300],
            "evidence": a.evidence,
        }
        for r, a in pairs
        if not r["threat"] and a.category == "threat"
    ]
    return scores


def heldout_report(analyser) -> dict:
    rows = load(HELDOUT_SET)
    preds = [analyser.analyse(r["text"]) for r in rows]
    report: dict[str, dict] = {}
    for group in HELDOUT_GROUPS:
        picked = [(r, a) for r, a in zip(rows, preds, strict=True) if r["group"] == group]
        report[group] = heldout_scores([r for r, _ in picked], [a for _, a in picked])
        # recall per HateCheck functionality / Jigsaw source file (threat rows only)
        parts: dict[str, list[int]] = {}
        for r, a in picked:
            if r["threat"]:
                key = r.get("functionality") or r["source"].rsplit("/", 1)[-1]
                hit = parts.setdefault(key, [0, 0])
                hit[0] += a.category == "threat"
                hit[1] += 1
        report[group]["recall_by_part"] = {
            k: {"tp": tp, "positives": n, "recall": round(tp / n, 3), "recall_95ci": wilson(tp, n)}
            for k, (tp, n) in sorted(parts.items())
        }
    return report


def blind_report(analyser) -> dict:
    """Counts and ids only: the texts of a blind set must not reach anyone tuning rules."""
    rows = load(BLIND_SET)
    preds = [analyser.analyse(r["text"]) for r in rows]
    scores = threat_scores(rows, preds)
    pairs = list(zip(rows, preds, strict=True))
    scores["missed"] = [r["id"] for r, a in pairs if r["threat"] and a.category != "threat"]
    scores["false_alarms"] = [
        r["id"] for r, a in pairs if not r["threat"] and a.category == "threat"
    ]
    # The second tier (evidence "possible threat: ..."): shown to staff, never alerted.
    flagged = [
        r
        for r, a in pairs
        if a.category != "threat" and any(e.startswith("possible threat: ") for e in a.evidence)
    ]
    extra_tp = sum(1 for r in flagged if r["threat"])
    extra_fp = len(flagged) - extra_tp
    negatives = scores["n"] - scores["positives"]
    scores["second_tier"] = {
        "threats_flagged": extra_tp,
        "negatives_flagged": extra_fp,
        "recall_threat_or_possible": round((scores["tp"] + extra_tp) / scores["positives"], 3),
        "recall_threat_or_possible_95ci": wilson(scores["tp"] + extra_tp, scores["positives"]),
        "negatives_flagged_share": round((scores["fp"] + extra_fp) / negatives, 3),
    }
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analysis.json")
    parser.add_argument("--texts", type=int, default=3000, help="texts per throughput round")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds (best kept)")
    args = parser.parse_args()

    pinning = pin_to_one_core()
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reputation.analysis import get_analyser
    from reputation.analysis.cli import run

    start = time.perf_counter()
    analyser = get_analyser()
    load_seconds = time.perf_counter() - start
    vader = SentimentIntensityAnalyzer()

    corpus = review_corpus(args.texts)
    avg_len = sum(map(len, corpus)) / len(corpus)

    def ours(texts: list[str]) -> None:
        analyser.analyse_many(texts)

    def baseline(texts: list[str]) -> None:
        polarity = vader.polarity_scores
        for text in texts:
            polarity(text)

    ours(corpus[:200])  # warm caches
    baseline(corpus[:200])
    ours_rates, vader_rates = [], []
    for _ in range(args.rounds):  # alternate so background load hits both alike
        ours_rates += best_rate(ours, corpus, 1)
        vader_rates += best_rate(baseline, corpus, 1)
    ours_best, vader_best = max(ours_rates), max(vader_rates)

    # Secondary: the public English comments (varied length), and the worst case where
    # the language cannot be told from function words and the n-gram model always runs.
    public_texts = [r["text"] for path in PUBLIC_SETS.values() for r in load(path)]
    public_rates = best_rate(ours, public_texts, args.rounds)
    detector = analyser._languages  # the default analyser's detector (benchmark only)
    quick = detector._by_function_words
    detector._by_function_words = lambda text: None  # type: ignore[method-assign]
    try:
        model_only_rates = best_rate(ours, corpus, max(2, args.rounds // 2))
    finally:
        detector._by_function_words = quick  # type: ignore[method-assign]

    # The CLI path (JSON parsing and writing included), for the import use case.
    lines = [json.dumps({"text": t, "rating": (i % 5) + 1}) + "\n" for i, t in enumerate(corpus)]
    cli_rates = best_rate(
        lambda ls: run(ls, io.StringIO(), io.StringIO(), analyser=analyser), lines, 3
    )
    cli_rate = max(cli_rates)

    # Threats on public data
    public: dict[str, dict] = {}
    all_rows, all_preds = [], []
    for name, path in PUBLIC_SETS.items():
        rows = load(path)
        preds = [analyser.analyse(r["text"]) for r in rows]
        public[name] = threat_scores(rows, preds)
        all_rows += rows
        all_preds += preds
    public["combined"] = threat_scores(all_rows, all_preds)
    public["combined"].pop("missed")
    public["combined"].pop("false_alarms")

    # Our domain set
    domain_rows = load(DOMAIN_SET)
    domain_preds = [analyser.analyse(r["text"], rating=r["rating"]) for r in domain_rows]
    domain = threat_scores(domain_rows, domain_preds)
    domain["category_accuracy"] = round(
        sum(r["category"] == a.category for r, a in zip(domain_rows, domain_preds, strict=True))
        / len(domain_rows),
        3,
    )
    domain["language_accuracy"] = round(
        sum(r["language"] == a.language for r, a in zip(domain_rows, domain_preds, strict=True))
        / len(domain_rows),
        3,
    )
    domain["category_errors"] = [
        {"text": r["text"], "expected": r["category"], "got": a.category}
        for r, a in zip(domain_rows, domain_preds, strict=True)
        if r["category"] != a.category
    ]

    # Held-out public set, reported apart (the rules were not tuned on it)
    heldout = heldout_report(analyser)
    blind = blind_report(analyser)

    result = {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "affinity": pinning,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "throughput": {
            "texts": len(corpus),
            "avg_chars": round(avg_len, 1),
            "rounds": args.rounds,
            "analyser_load_seconds": round(load_seconds, 2),
            "ours_texts_per_s": round(ours_best),
            "vader_only_texts_per_s": round(vader_best),
            "ours_vs_vader_ratio": round(ours_best / vader_best, 3),
            "ours_median_texts_per_s": round(statistics.median(ours_rates)),
            "vader_only_median_texts_per_s": round(statistics.median(vader_rates)),
            "median_ratio": round(
                statistics.median(ours_rates) / statistics.median(vader_rates), 3
            ),
            "ours_all_rounds": [round(r) for r in ours_rates],
            "vader_all_rounds": [round(r) for r in vader_rates],
            "cli_json_lines_per_s": round(cli_rate),
            "public_comments_texts_per_s": round(max(public_rates)),
            "public_comments_avg_chars": round(sum(map(len, public_texts)) / len(public_texts), 1),
            "ours_language_model_always_texts_per_s": round(max(model_only_rates)),
        },
        "threat_public": public,
        "domain_ours": domain,
        "threat_heldout": heldout,
        "threat_blind": blind,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    t = result["throughput"]
    print(
        f"throughput: {t['ours_texts_per_s']} texts/s best round, "
        f"{t['ours_median_texts_per_s']} median (avg {t['avg_chars']} chars, one core)"
    )
    print(
        f"  plain VADER: {t['vader_only_texts_per_s']} texts/s best, "
        f"{t['vader_only_median_texts_per_s']} median; ratio {t['ours_vs_vader_ratio']} (best), "
        f"{t['median_ratio']} (median)"
    )
    print(f"  CLI (JSON lines in/out): {t['cli_json_lines_per_s']} lines/s")
    print(
        f"  public comments: {t['public_comments_texts_per_s']} texts/s; with the n-gram "
        f"language model on every text: {t['ours_language_model_always_texts_per_s']} texts/s"
    )
    for name in (*PUBLIC_SETS, "combined"):
        s = public[name]
        print(
            f"threat [{name}] n={s['n']} positives={s['positives']}: precision {s['precision']} "
            f"recall {s['recall']} (95% CI {s['recall_95ci']}) F1 {s['f1']}"
        )
    for name in HELDOUT_GROUPS:
        s = heldout[name]
        print(
            f"threat HELD-OUT [{name}] n={s['n']} positives={s['positives']}: precision "
            f"{s['precision']} (95% CI {s['precision_95ci']}) recall {s['recall']} "
            f"(95% CI {s['recall_95ci']}) F1 {s['f1']}; {s['fn']} missed, {s['fp']} false alarms"
        )
    print(
        f"threat BLIND n={blind['n']} positives={blind['positives']}: precision "
        f"{blind['precision']} (95% CI {blind['precision_95ci']}) recall {blind['recall']} "
        f"(95% CI {blind['recall_95ci']}); noisy labels, see bench/data/README.md"
    )
    tier = blind["second_tier"]
    print(
        f"  with the second tier (possible threats, shown not alerted): recall "
        f"{tier['recall_threat_or_possible']} (95% CI {tier['recall_threat_or_possible_95ci']}),"
        f" negatives flagged {tier['negatives_flagged_share']}"
    )
    print(
        f"domain (ours) n={domain['n']}: threat P {domain['precision']} R {domain['recall']}; "
        f"category acc {domain['category_accuracy']}, language acc {domain['language_accuracy']}"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
