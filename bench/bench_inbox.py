"""The inbox page at 1,000,000 mentions: first page with each single filter, a later
page, the deadline sort and text searches, against the former page (exact counts and an
OFFSET paginator) as the same-run baseline. Server time, in-process (Django's test
client: the whole view, template included, no network).

The practice "bench-inbox" is filled once with generated mentions (SQL generate_series,
~1-2 min) and kept for later runs; `--rebuild` fills it again. Writes
bench/results/inbox.json.

    .venv/bin/python bench/bench_inbox.py [--mentions 1000000] [--runs 25] [--rebuild]
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

# Measured as served in production: templates compiled once and cached, no query log.
# (Not DEBUG=0 in the environment: production settings refuse development secrets.)
settings.DEBUG = False
_engine = settings.TEMPLATES[0]
_engine["APP_DIRS"] = False
_engine["OPTIONS"]["loaders"] = [
    (
        "django.template.loaders.cached.Loader",
        [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    )
]

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from inbox import selectors  # noqa: E402
from inbox.models import Mention, SocialAccount  # noqa: E402
from tenants import services  # noqa: E402
from tenants.models import Practice, Role  # noqa: E402

SLUG = "bench-inbox"
UNCOMMON = "zanzibarite"  # in 40 mentions only
WORDS = [
    "reception",
    "waiting",
    "time",
    "billing",
    "invoice",
    "dentist",
    "hygienist",
    "appointment",
    "cancel",
    "rude",
    "kind",
    "friendly",
    "parking",
    "price",
    "expensive",
    "cheap",
    "clean",
    "painful",
    "painless",
    "whitening",
    "implant",
    "crown",
    "braces",
    "invisalign",
    "filling",
    "root",
    "canal",
    "emergency",
    "weekend",
    "evening",
    "phone",
    "email",
    "answer",
    "staff",
    "nurse",
    "doctor",
    "doctor's",
    "manager",
    "refund",
    "insurance",
    "coverage",
    "x-ray",
    "cleaning",
    "checkup",
    "botox",
    "filler",
    "laser",
    "facial",
    "massage",
    "sauna",
    "booking",
    "online",
    "app",
    "reminder",
    "late",
    "early",
    "queue",
]
SENTENCES = [
    "Waited forty minutes past my appointment and nobody said sorry",
    "Lovely staff, the hygienist was gentle and explained everything",
    "The invoice was twice what they quoted on the phone",
    "Could not get through on the phone for two days",
    "Best dental clinic in town, highly recommend",
    "Receptionist was rude when I asked about my booking",
    "Is there parking near the clinic on weekends",
    "Great result after the whitening, thank you",
    "They cancelled my appointment by text an hour before",
    "Clean, modern and on time. Five stars",
]


def _log(msg: str) -> None:
    print(msg, flush=True)


def _practice() -> Practice:
    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice = services.practice_create(
            slug=SLUG, name="Bench Inbox", owner_email=f"owner@{SLUG}.test"
        )
    for i, role in enumerate((Role.MANAGER, Role.RESPONDER, Role.RESPONDER)):
        user = services.user_get_or_create(
            email=f"staff{i}@{SLUG}.test", password=None, full_name=f"Staff {i}"
        )
        services.membership_set(user=user, practice=practice, role=role)
    return practice


def _fill(practice: Practice, n: int) -> None:
    """n mentions spread over two years: most answered or resolved, a few thousand open
    (some overdue), a threat or two, six platforms, five accounts, three assignees."""
    users = list(practice.memberships.values_list("user_id", flat=True).order_by("user_id"))
    with schema_context(practice.schema_name), connection.cursor() as cur:
        _log(f"filling {SLUG} with {n:,} mentions (once; --rebuild to redo)")
        cur.execute(
            "TRUNCATE inbox_mention, inbox_mentionrevision, inbox_alert, inbox_task CASCADE"
        )
        for i in range(5):
            SocialAccount.objects.get_or_create(
                platform=["google", "facebook", "instagram", "x", "yelp"][i],
                external_id=f"bench-account-{i}",
                defaults={"display_name": f"Account {i}"},
            )
        accounts = list(SocialAccount.objects.order_by("pk").values_list("pk", flat=True))
        cur.execute("DROP INDEX IF EXISTS mention_text_trgm_idx")
        started = time.monotonic()
        cur.execute(
            """
            INSERT INTO inbox_mention (
              account_id, platform, external_id, kind, parent_external_id, author_name,
              author_handle, text, rating, url, posted_at, received_at, removed_on_platform,
              from_owner, is_indirect, owner_reply_text, language, sentiment, category,
              severity, evidence, status, assignee_id, due_at, first_response_at, outcome)
            SELECT
              CASE WHEN mod(i, 5) = 0 THEN NULL ELSE (%(accounts)s::bigint[])[1 + mod(i, 5)] END,
              (ARRAY['google','facebook','instagram','x','yelp','tripadvisor'])[1 + mod(i * 7, 6)],
              'b-' || i, 'review', '', 'Author ' || (mod(i, 50000)), '',
              (%(sentences)s::text[])[1 + mod(i * 31, 10)] || ' ' ||
                (%(words)s::text[])[1 + mod(i * 13, %(nwords)s)] || ' ' ||
                (%(words)s::text[])[1 + mod(i * 17, %(nwords)s)] ||
                CASE WHEN mod(i, 25000) = 7 THEN ' %(uncommon)s' ELSE '' END,
              1 + mod(i, 5), '', now() - make_interval(mins => (i * 1.05)::int),
              now() - make_interval(mins => (i * 1.05)::int), false, false, mod(i, 5) = 0, '',
              'en', ((mod(i, 200)) - 100) / 100.0,
              (ARRAY['complaint','praise','question','other','praise','complaint','spam',
                     'praise','harassment','complaint'])[1 + mod(i * 3, 10)],
              0, '[]'::jsonb,
              CASE WHEN i < 3000 THEN 'new' WHEN i < 3400 THEN 'open' WHEN mod(i, 40) = 0
                   THEN 'history' ELSE (ARRAY['answered','resolved','no_reply'])[1 + mod(i, 3)] END,
              CASE WHEN mod(i, 4) = 0 THEN NULL ELSE (%(users)s::bigint[])[1 + mod(i, 3)] END,
              CASE WHEN i < 3400 THEN now() + make_interval(mins => 60 - (mod(i, 120))) END,
              CASE WHEN i >= 3400 THEN now() - make_interval(mins => (i * 1.05)::int - 30) END,
              ''
            FROM generate_series(1, %(n)s) AS i
            """.replace("%(uncommon)s", UNCOMMON),
            {
                "accounts": accounts,
                "sentences": SENTENCES,
                "words": WORDS,
                "nwords": len(WORDS),
                "users": users,
                "n": n,
            },
        )
        # Two threats and a possible threat to pin.
        cur.execute(
            "UPDATE inbox_mention SET category = 'threat' WHERE external_id IN ('b-11', 'b-2000')"
        )
        _log(f"  inserted in {time.monotonic() - started:.0f} s; trigram index")
        cur.execute(
            "CREATE INDEX mention_text_trgm_idx ON inbox_mention"
            ' USING gin ((UPPER("text")) public.gin_trgm_ops)'
        )
        _log(f"  indexed after {time.monotonic() - started:.0f} s; VACUUM ANALYZE (twice)")
    with schema_context(practice.schema_name), connection.cursor() as cur:
        for _ in range(2):  # the second sets the visibility map (see PITFALLS)
            cur.execute("VACUUM ANALYZE inbox_mention")


def _count(practice: Practice) -> int:
    with schema_context(practice.schema_name), connection.cursor() as cur:
        cur.execute(
            "SELECT reltuples::bigint FROM pg_class"
            " WHERE relname = 'inbox_mention' AND relnamespace = %s::regnamespace",
            [practice.schema_name],
        )
        row = cur.fetchone()
        return int(row[0]) if row else 0


def _timed(fn, runs: int) -> dict:
    for _ in range(3):
        fn()  # warm: connection, plan cache, templates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def _old_page(practice: Practice, query: dict) -> None:
    """The page before this change, minus the template: exact counts and an OFFSET
    paginator that counts every match."""
    from inbox.filters import MentionFilter

    with schema_context(practice.schema_name):
        now = timezone.now()
        open_q = Q(status__in=Mention.OPEN_STATUSES)
        Mention.objects.filter(open_q).count()
        Mention.objects.filter(open_q, due_at__lt=now, first_response_at__isnull=True).count()
        Mention.objects.filter(pin=2).count()
        Mention.objects.filter(pin=1).count()
        qs = MentionFilter(query, queryset=selectors.mention_list()).qs
        page = Paginator(qs, 50).get_page(query.get("page", 1))
        list(page)
        page.paginator.num_pages  # noqa: B018


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "inbox.json"))
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    practice = _practice()
    if args.rebuild or _count(practice) < args.mentions * 0.98:
        _fill(practice, args.mentions)
    owner = practice.memberships.get(role=Role.OWNER).user
    staff = practice.memberships.filter(role=Role.RESPONDER).order_by("user_id").first().user
    client = Client(HTTP_HOST=f"{SLUG}.{settings.BASE_DOMAIN}")
    client.force_login(staff)
    with schema_context(practice.schema_name):
        account = SocialAccount.objects.order_by("pk").first().pk
        deep = selectors.mention_page(selectors.mention_list(), size=50)
        for _ in range(49):  # the cursor of page 50
            deep = selectors.mention_page(
                selectors.mention_list(), cursor=deep.next_cursor, size=50
            )
    cases = {
        "first page, no filter": {},
        "status=new": {"status": "new"},
        "status=history": {"status": "history"},
        "category=complaint": {"category": "complaint"},
        "category=threat": {"category": "threat"},
        "platform=tripadvisor": {"platform": "tripadvisor"},
        "account": {"account": account},
        "assignee=me": {"assignee": "me"},
        "assignee=none": {"assignee": "none"},
        "overdue": {"overdue": "true"},
        "direct=indirect": {"direct": "indirect"},
        "sort=deadline": {"sort": "deadline"},
        "page 51 (cursor)": {"cursor": deep.next_cursor},
        "text search, uncommon word": {"q": UNCOMMON},
        "text search, common word": {"q": "invoice"},
    }
    results: dict[str, dict] = {}
    for name, query in cases.items():

        def ours(query=query, name=name):
            response = client.get("/inbox/", query)
            assert response.status_code == 200, (name, response.status_code)

        sql_s: list[float] = []

        def sql_timer(execute, sql, params, many, context, sql_s=sql_s):  # noqa: ANN001, ANN202
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_s.append(time.perf_counter() - started)

        with connection.execute_wrapper(sql_timer):
            ours()
            sql_s.clear()
            for _ in range(5):
                ours()
        row = {
            "ours": _timed(ours, args.runs),
            "queries": len(sql_s) // 5,
            "ours_sql_ms": round(sum(sql_s) / 5 * 1000, 1),
        }
        old_query = dict(query)
        if "cursor" in old_query:
            old_query = {"page": 51}
        if name.startswith(("sort=", "assignee", "overdue", "direct")):
            row["baseline"] = None  # the former page had no such filter
        else:
            row["baseline"] = _timed(
                lambda q=old_query: _old_page(practice, q), max(5, args.runs // 5)
            )
            row["ratio_p95"] = round(row["ours"]["p95_ms"] / row["baseline"]["p95_ms"], 3)
        results[name] = row
        base = row["baseline"]
        _log(
            f"{name:28s} ours p50 {row['ours']['p50_ms']:6.1f} ms"
            f" p95 {row['ours']['p95_ms']:6.1f} ms ({row['queries']} queries)"
            + f" sql {row['ours_sql_ms']:6.1f} ms"
            + (
                f" | former page (sql+paging, no template) p95 {base['p95_ms']:7.1f} ms"
                if base
                else ""
            )
        )
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    search = [v["ours"]["p95_ms"] for k, v in results.items() if k.startswith("text search")]
    pages = [v["ours"]["p95_ms"] for k, v in results.items() if not k.startswith("text search")]
    out = {
        "mentions": _count(practice),
        "runs": args.runs,
        "cases": results,
        "goal": {"page_p95_ms": 150, "search_p95_ms": 300},
        "worst_page_p95_ms": max(pages),
        "worst_search_p95_ms": max(search),
        "owner": owner.email,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": pg_version,
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    _log(
        f"worst page p95 {max(pages):.1f} ms (goal 150), worst search p95"
        f" {max(search):.1f} ms (goal 300) -> {args.out}"
    )


if __name__ == "__main__":
    main()
