"""Meta webhook POST -> mention visible in the practice's schema, assigned to the page owner.

Real processes on the dev database (DJANGO_SETTINGS_MODULE=reputation.settings): a web
server (gunicorn when installed, else `runserver`) and a `qcluster`, both started here.
Signed Meta page-feed webhooks, each carrying one new comment (unique id, ~5% of them
threats), are sent open-loop at a fixed rate (default 100/s for 30 s) over loopback, by a
minimal HTTP/1.1 client (httpx cost ~7 ms of CPU per request, taken from the processes
under test on a small machine).

What is measured, per webhook:
- latency: from the moment its POST starts to the first poll that sees its mention in the
  practice schema with an assignee. A separate thread polls by external id on its own
  connection every --poll-ms; the time recorded is the *start* of the poll whose
  snapshot contains the row, so the figure is an upper bound, at most one poll interval
  (plus one query) late, never early.
- a cross-check from the rows: the mention's `received_at` (set by the worker just before
  the insert) minus the POST start, a lower bound on the same thing.
- the stages, from the rows' own timestamps: web (POST -> WebhookDelivery row), queue +
  routing (delivery row -> its practice's RawPayload row), ingest (RawPayload -> mention
  built) and commit/poll (mention built -> seen by the poller).
- HTTP response time, lost = accepted - stored, threat alerts queued and sent (emails go
  to files), the broker's queue depth over time and the CPU seconds each component used.

Each Q_CLUSTER configuration runs against the same load. The bench's processes use their
own django-q cluster name and no scheduler, so a developer's `qcluster` on the same
database neither takes the bench's tasks nor hands it its own. `Q_CLUSTER` values are
overridden only for the bench's processes (this script is their launcher:
`bench_webhook.py manage <command>`, and `bench.bench_webhook:wsgi_application()` for
gunicorn). settings.py is not changed.

    .venv/bin/python bench/bench_webhook.py [--rate 100] [--duration 30]
        [--configs default,workers4,poll200ms,save1000,previous] [--capacity-rates 150,200]

Writes bench/results/webhook.json; exits 1 if any webhook was refused or lost. See
bench/WEBHOOK.md for the method and the findings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reputation.settings")

OVERRIDES_ENV = "BENCH_SETTINGS_JSON"
CLUSTER = "bench-webhooks"
# Every bench cluster: its own queue name, and no scheduler (schedules with no cluster set
# are run by whichever cluster gets there first: the bench's would run the dev database's
# deadline sweeps for every practice and send their alerts).
BENCH_Q_BASE = {"name": CLUSTER, "scheduler": False}
SLUG = "bench-webhooks"
PAGE_ID = "909000000000001"
POST_ID = f"{PAGE_ID}_770000000001"
OWNER_EMAIL = "owner@bench-webhooks.test"
RESPONDER_EMAIL = "responder@bench-webhooks.test"
GOAL_P99_S = 1.0
GOAL_RATE = 100.0

THREAT = "I know where you work. I will burn the clinic down"
TEXTS = [
    "Is the clinic open on Saturday? My booking link is broken.",
    "Waited two hours past my appointment and nobody told me why.",
    "Lovely team, the hygienist was so gentle. Thank you!",
    "How much is a check-up for a new patient?",
    "Parking was impossible again, please fix the signage.",
    "Best dentist in town, no pain at all!",
]

# Named Q_CLUSTER variants; "default" is settings.py unchanged (bar the cluster name).
# "previous" is what settings.py had before this bench's first findings (save_limit 1000,
# poll 0.2, queue_limit 200, django-q2's default recycle 500).
CONFIGS: dict[str, dict] = {
    "default": {},
    "workers4": {"workers": 4},
    "poll200ms": {"poll": 0.2},
    "save1000": {"save_limit": 1000},
    "previous": {"save_limit": 1000, "poll": 0.2, "queue_limit": 200, "recycle": 500},
}


# ---------------------------------------------------------------- launcher side


def _apply_overrides() -> None:
    """Bench-only settings for the bench's own processes, set before Django loads."""
    raw = os.environ.get(OVERRIDES_ENV)
    if not raw:
        return
    from django.conf import settings

    for key, value in json.loads(raw).items():
        if key == "Q_CLUSTER":
            settings.Q_CLUSTER = {**settings.Q_CLUSTER, **value}
        else:
            setattr(settings, key, value)


def wsgi_application():
    """gunicorn app factory: `bench.bench_webhook:wsgi_application()`."""
    _apply_overrides()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# ---------------------------------------------------------------- setup


def _django():
    """This process queues under the bench's cluster name too (never to a developer's
    `qcluster` on the same database), signing with the key its processes share."""
    import django
    from django.conf import settings

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "name": CLUSTER}
    django.setup()


def practice_ensure():
    """The bench practice, its owner, a responder owning its Facebook page."""
    from django_tenants.utils import schema_context

    from inbox.models import SocialAccount
    from inbox.services import social_account_save
    from tenants import services
    from tenants.models import Practice, Role

    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice = services.practice_create(
            slug=SLUG, name="Bench Webhooks Clinic", owner_email=OWNER_EMAIL
        )
    responder = services.user_get_or_create(email=RESPONDER_EMAIL, full_name="Bench Responder")
    services.membership_set(user=responder, practice=practice, role=Role.RESPONDER)
    with schema_context(practice.schema_name):
        account = SocialAccount.objects.filter(platform="facebook", external_id=PAGE_ID).first()
        if account is None:
            account = SocialAccount(
                platform="facebook", external_id=PAGE_ID, display_name="Bench page"
            )
        if account.owner_id != responder.pk or not account.is_active:
            account.owner = responder
            account.is_active = True
            social_account_save(account=account)
    return practice, responder


def clean(practice, delivery_ids: list[int] | None = None) -> None:
    """Empty the bench practice's inbox (not its account) and the bench's queue rows."""
    from django.db import connection
    from django_q.models import OrmQ, Task
    from django_tenants.utils import schema_context

    from inbox.sources import deliveries as routing
    from tenants.models import WebhookDelivery

    with schema_context(practice.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE audit_auditevent, inbox_alert, inbox_mentionrevision, inbox_mention,"
            " inbox_conversation, inbox_author, inbox_rawpayload CASCADE"
        )
    connection.set_schema_to_public()
    if delivery_ids:
        WebhookDelivery.objects.filter(pk__in=delivery_ids).delete()
    WebhookDelivery.objects.filter(body__contains=f'"id": "{PAGE_ID}"').delete()
    OrmQ.objects.filter(key=CLUSTER).delete()
    Task.objects.filter(cluster=CLUSTER).delete()
    # The bench's routing flag (single flight) would outlive the task just deleted.
    routing.route_flag_release()


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, name: str, args: list[str], env: dict, log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the leader only (django-q2's cluster can hang when its sentinel gets
        the signal too), then SIGKILL whatever is left of the group."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def group_cpu_seconds(leader: int) -> float:
    """CPU seconds of a process and all its descendants (living or reaped), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # Own time plus reaped children's (django-q recycles its worker processes).
        times[pid] = sum(int(x) for x in fields[11:15]) / tick
    total = 0.0
    for pid in times:
        p = pid
        while p and p != leader:
            p = parents.get(p, 0)
        if p == leader:
            total += times[pid]
    return total


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm != "postgres":
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # Own time plus reaped children's: backends that exit end up in the postmaster's.
        total += sum(int(x) for x in fields[11:15]) / tick
    return total


def wait_port(port: int, proc: Proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout:.0f} s")


def wait_log(proc: Proc, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        if needle in proc.tail(20000):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready within {timeout:.0f} s:\n{proc.tail()}")


def web_kind(requested: str) -> str:
    if requested != "auto":
        return requested
    return (
        "gunicorn"
        if shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        else "runserver"
    )


def start_processes(q_overrides: dict, args, workdir: Path):
    from django.db import connection

    mail_dir = workdir / "mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    overrides = {
        "Q_CLUSTER": {**BENCH_Q_BASE, **q_overrides},
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reputation.settings",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        # DEBUG stays on since production settings refuse a mail backend that only writes
        # files (which this bench counts emails in); it adds a bounded query log, no more.
        "DEBUG": "true",
        "SECRET_KEY": os.environ["SECRET_KEY"],  # one key for all: django-q signs tasks
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        OVERRIDES_ENV: json.dumps(overrides),
    }
    port = free_port()
    me = str(Path(__file__).resolve())
    kind = web_kind(args.web)
    if kind == "gunicorn":
        web_args = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--chdir",
            str(ROOT),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.web_threads),
            "--log-level",
            "warning",
            "bench.bench_webhook:wsgi_application()",
        ]
    else:
        web_args = [sys.executable, me, "manage", "runserver", "--noreload", f"127.0.0.1:{port}"]
    procs = []
    try:
        web = Proc("web", web_args, env, workdir / "web.log")
        procs.append(web)
        worker = Proc(
            "qcluster", [sys.executable, me, "manage", "qcluster"], env, workdir / "qcluster.log"
        )
        procs.append(worker)
        wait_port(port, web)
        wait_log(worker, "running.")
    except BaseException:
        for proc in procs:
            proc.stop()
        raise
    return web, worker, port, mail_dir, kind


# ---------------------------------------------------------------- load


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def comment_body(comment_id: str, message: str) -> bytes:
    now = int(time.time())
    value = {
        "from": {"id": f"61000{abs(hash(comment_id)) % 10_000_000:07d}", "name": "Bench Author"},
        "message": message,
        "post_id": POST_ID,
        "comment_id": comment_id,
        "created_time": now,
        "item": "comment",
        "parent_id": POST_ID,
        "verb": "add",
    }
    change = {"field": "feed", "value": value}
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "changes": [change]}]}
    ).encode()


class Poller(threading.Thread):
    """Sees mentions appear (assigned) and samples the bench's broker queue."""

    def __init__(self, dsn: dict, schema: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.schema = schema
        self.interval = interval
        self.lock = threading.Lock()
        self.outstanding: set[str] = set()
        self.seen: dict[str, float] = {}
        self.queue_samples: list[tuple[float, int, int]] = []
        self.stop_event = threading.Event()
        self.polls = 0
        self.error: BaseException | None = None

    def watch(self, external_id: str) -> None:
        with self.lock:
            self.outstanding.add(external_id)

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(**self.dsn, autocommit=True) as conn:
                conn.execute(f'SET search_path TO "{self.schema}"')
                last_sample = 0.0
                while not self.stop_event.is_set():
                    with self.lock:
                        wanted = list(self.outstanding)
                    started = time.time()
                    if wanted:
                        rows = conn.execute(
                            "SELECT external_id FROM inbox_mention WHERE platform = 'facebook'"
                            " AND external_id = ANY(%s) AND assignee_id IS NOT NULL",
                            [wanted],
                        ).fetchall()
                        self.polls += 1
                        with self.lock:
                            for (external_id,) in rows:
                                self.outstanding.discard(external_id)
                                self.seen.setdefault(external_id, started)
                    if started - last_sample >= 0.5:
                        last_sample = started
                        waiting, claimed = conn.execute(
                            "SELECT count(*) FILTER (WHERE lock <= now()),"
                            " count(*) FILTER (WHERE lock > now())"
                            " FROM public.django_q_ormq WHERE key = %s",
                            [CLUSTER],
                        ).fetchone()
                        self.queue_samples.append((started, waiting, claimed))
                    pause = self.interval - (time.time() - started)
                    if pause > 0:
                        time.sleep(pause)
        except BaseException as exc:  # reported by the main thread
            self.error = exc


async def _post(conn: list, host: str, port: int, path: str, body: bytes, headers: dict):
    """One HTTP/1.1 POST on a kept-alive connection ([reader, writer] or [None, None]),
    reconnecting when the server has closed it. Returns (status, body)."""
    for attempt in (1, 2):
        if conn[1] is None:
            conn[0], conn[1] = await asyncio.open_connection(host, port)
        reader, writer = conn
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        try:
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionResetError("closed by the server")
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            data = await reader.readexactly(length)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            conn[0] = conn[1] = None
            if attempt == 2:
                raise
            continue
        if close:
            writer.close()
            conn[0] = conn[1] = None
        return int(status_line.split()[1]), data
    raise ConnectionError("unreachable")


async def send_load(
    url: str,
    secret: str,
    rate: float,
    duration: float,
    threat_every: int,
    run_tag: str,
    poller: Poller,
    connections: int,
    warmup: bool = False,
) -> list[dict]:
    """Open loop: webhook i is due at i/rate and goes out on the first free one of
    `connections` kept-alive connections; one that waits for a free connection keeps its
    due time as its start, so the wait counts in its latency. A minimal HTTP/1.1 client
    on asyncio streams: httpx cost ~7 ms of CPU per request here, a third of a core at
    100/s taken from the processes under test."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port, path = parts.hostname, parts.port, parts.path
    total = int(rate * duration)
    records: list[dict] = []
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait([None, None])

    async def one(i: int, scheduled: float) -> None:
        threat = threat_every > 0 and i % threat_every == threat_every // 2
        comment_id = f"{run_tag}_{i}"
        text = THREAT if threat else f"{TEXTS[i % len(TEXTS)]} (#{i})"
        body = comment_body(comment_id, text)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, secret),
        }
        record = {"i": i, "id": comment_id, "threat": threat, "scheduled": scheduled}
        poller.watch(comment_id)
        record["start"] = time.time()
        conn = await pool.get()
        record["sent"] = time.time()
        try:
            status, data = await asyncio.wait_for(
                _post(conn, host, port, path, body, headers), timeout=60
            )
            record["status"] = status
            if status == 200:
                record["delivery"] = json.loads(data)["received"]
            else:
                record["error"] = data[:200].decode("utf-8", "replace")
        except Exception as exc:  # counted as an HTTP error
            record["status"] = 0
            record["error"] = f"{type(exc).__name__}: {exc}"[:200]
            if conn[1] is not None:
                conn[1].close()
            conn[0] = conn[1] = None
        record["end"] = time.time()
        pool.put_nowait(conn)
        records.append(record)

    tasks = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    wall0 = time.time()
    for i in range(total):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, wall0 + i / rate)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        conn = pool.get_nowait()
        if conn[1] is not None:
            conn[1].close()
    if not warmup:
        records.sort(key=lambda r: r["i"])
    return records


# ---------------------------------------------------------------- stats


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50": round(pct(ms, 50), 1),
        "p95": round(pct(ms, 95), 1),
        "p99": round(pct(ms, 99), 1),
        "max": round(max(ms), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def collect_rows(practice, records: list[dict]) -> dict:
    """Timestamps of every stage, from the rows themselves."""
    from django_tenants.utils import schema_context

    from inbox.models import Alert, Mention, RawPayload
    from tenants.models import WebhookDelivery

    ids = [r["id"] for r in records]
    deliveries = {
        d.pk: d
        for d in WebhookDelivery.objects.filter(
            pk__in=[r["delivery"] for r in records if "delivery" in r]
        ).only("pk", "received_at", "routed_at", "status")
    }
    with schema_context(practice.schema_name):
        mentions = {
            m["external_id"]: m
            for m in Mention.objects.filter(platform="facebook", external_id__in=ids).values(
                "pk", "external_id", "received_at", "assignee_id", "category", "raw_id"
            )
        }
        raws = {
            r["pk"]: r
            for r in RawPayload.objects.filter(
                pk__in=[m["raw_id"] for m in mentions.values() if m["raw_id"]]
            ).values("pk", "received_at", "processed_at", "headers")
        }
        alerts = {
            a["mention_id"]: a
            for a in Alert.objects.filter(
                kind=Alert.Kind.THREAT, mention_id__in=[m["pk"] for m in mentions.values()]
            ).values("mention_id", "created_at", "sent_at", "recipients")
        }
    return {"deliveries": deliveries, "mentions": mentions, "raws": raws, "alerts": alerts}


def analyse(records: list[dict], rows: dict, poller: Poller, responder_id: int) -> dict:
    ok = [r for r in records if r.get("status") == 200]
    deliveries, mentions, raws, alerts = (
        rows["deliveries"],
        rows["mentions"],
        rows["raws"],
        rows["alerts"],
    )
    latency, lower, web, hop1, hop2, seen_after, http, lag = [], [], [], [], [], [], [], []
    client_wait = []
    threat_sent, threat_alert_made = [], []
    for r in records:
        http.append(r["end"] - r["sent"])
        client_wait.append(r["sent"] - r["start"])
        lag.append(r["start"] - r["scheduled"])
    for r in ok:
        seen = poller.seen.get(r["id"])
        if seen is not None:
            latency.append(seen - r["start"])
        m = mentions.get(r["id"])
        d = deliveries.get(r.get("delivery"))
        if m is None:
            continue
        m_at = m["received_at"].timestamp()
        lower.append(m_at - r["start"])
        if seen is not None:
            seen_after.append(seen - m_at)
        raw = raws.get(m["raw_id"])
        if d is not None:
            web.append(d.received_at.timestamp() - r["start"])
            if raw is not None:
                hop1.append(raw["received_at"].timestamp() - d.received_at.timestamp())
        if raw is not None:
            hop2.append(m_at - raw["received_at"].timestamp())
        a = alerts.get(m["pk"])
        if a is not None:
            threat_alert_made.append(a["created_at"].timestamp() - r["start"])
            if a["sent_at"]:
                threat_sent.append(a["sent_at"].timestamp() - r["start"])
    threats = [r for r in ok if r["threat"]]
    threat_mentions = [mentions[r["id"]] for r in threats if r["id"] in mentions]
    return {
        "posted": len(records),
        "http_ok": len(ok),
        "http_errors": len(records) - len(ok),
        "deliveries_stored": len(deliveries),
        "lost": len(ok) - len(deliveries),
        "mentions_stored": len(mentions),
        "mentions_missing_at_end": len(ok) - len(mentions),
        "assigned_to_page_owner": sum(
            1 for m in mentions.values() if m["assignee_id"] == responder_id
        ),
        "seen_by_poller": len(latency),
        "latency_note": (
            "all seen"
            if len(latency) == len(ok)
            else f"{len(ok) - len(latency)} not seen by the end of the drain: the latency "
            "figures cover only the seen ones and understate the real percentiles"
        ),
        "latency_ms": summary_ms(latency),
        "latency_lower_bound_ms": summary_ms(lower),
        "http_ms": summary_ms(http),
        "send_lag_ms": summary_ms(lag),
        "client_wait_for_connection_ms": summary_ms(client_wait),
        "stages_ms": {
            "web_post_to_delivery_row": summary_ms(web),
            "queue_and_routing_delivery_row_to_raw_payload": summary_ms(hop1),
            "ingest_raw_payload_to_mention_built": summary_ms(hop2),
            "mention_built_to_seen_by_poller": summary_ms(seen_after),
        },
        "threat_posts": len(threats),
        "threat_mentions": sum(1 for m in threat_mentions if m["category"] == "threat"),
        "threat_alerts_queued": len(alerts),
        "threat_alerts_sent": sum(1 for a in alerts.values() if a["sent_at"]),
        "threat_alert_created_ms": summary_ms(threat_alert_made),
        "threat_email_sent_ms": summary_ms(threat_sent),
    }


def warm_worker() -> None:
    """A task: load the analyser's language model (~1 s, once per worker process)."""
    from reputation.analysis import get_analyser

    get_analyser().analyse("warm up", rating=None)
    time.sleep(0.3)  # long enough that every worker process takes one of these


def warm_workers(workers: int) -> None:
    """Warm every worker process, not just the one that routed the warm-up webhooks:
    with one routing task at a time, the warm-up's few tasks may all land on one worker,
    and another would load the language model mid-run (a ~1 s stall)."""
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    for _ in range(workers * 2):
        async_task("bench.bench_webhook.warm_worker")
    deadline = time.time() + 60
    while OrmQ.objects.filter(key=CLUSTER).exists() and time.time() < deadline:
        time.sleep(0.1)


def ormq_enqueued_total() -> int:
    """Tasks ever put into the ORM broker (its id sequence; the whole database, so a
    developer's cluster on the same database would count too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(pg_sequence_last_value("
            "pg_get_serial_sequence('django_q_ormq', 'id')), 0)"
        )
        return int(cursor.fetchone()[0])


def queue_growth(samples: list[tuple[float, int, int]], start: float, end: float) -> float:
    """Tasks per second the bench's queue (waiting + claimed) grew while sending."""
    inside = [(t, w + c) for t, w, c in samples if start <= t <= end]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return 0.0
    return round((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]), 1)


def wait_alerts_sent(practice, records: list[dict], timeout: float) -> float:
    """Wait until every threat the run posted has its alert sent (Alert.sent_at is set
    just before the email goes out), or `timeout`; returns the seconds waited."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from inbox.models import Alert

    expected = sum(1 for r in records if r["threat"] and r.get("status") == 200)
    started = time.time()
    while time.time() - started < timeout:
        with schema_context(practice.schema_name):
            alerts = Alert.objects.filter(kind=Alert.Kind.THREAT)
            sent = alerts.filter(sent_at__isnull=False).count()
            unsent = alerts.filter(sent_at__isnull=True).count()
        connection.set_schema_to_public()
        if sent >= expected and not unsent:
            break
        time.sleep(0.2)
    waited = time.time() - started
    time.sleep(0.5)  # the email file is written just after sent_at is set
    return round(waited, 1)


# ---------------------------------------------------------------- diagnostics


def broker_probe(worker: Proc, count: int) -> dict:
    """django-q2's own cost per task: `count` no-op tasks through the running cluster."""
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    cpu0 = group_cpu_seconds(worker.process.pid)
    pg0 = postgres_cpu_seconds()
    started = time.time()
    for _ in range(count):
        async_task("time.time")
    enqueued_s = time.time() - started
    deadline = time.time() + max(60, count * 0.2)
    while OrmQ.objects.filter(key=CLUSTER).exists() and time.time() < deadline:
        time.sleep(0.05)
    elapsed = time.time() - started
    left = OrmQ.objects.filter(key=CLUSTER).count()
    return {
        "tasks": count,
        "not_done": left,
        "enqueue_ms_per_task": round(enqueued_s / count * 1000, 2),
        "done_per_s": round((count - left) / elapsed, 1),
        "qcluster_cpu_ms_per_task": round(
            (group_cpu_seconds(worker.process.pid) - cpu0) / count * 1000, 2
        ),
        "postgres_cpu_ms_per_task": round((postgres_cpu_seconds() - pg0) / count * 1000, 2),
    }


def profile_tasks(practice, count: int) -> dict:
    """The webhook path's own code, in this process: the view (after the signature
    check); routing + ingest for a batch of one webhook and for one batch of `count`;
    the ingest step alone, one comment per payload and all in one payload.
    It runs before any bench cluster is up; the tasks it queues are deleted.
    (Routing drains every waiting delivery of the database, as the worker does.)"""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_q.models import OrmQ
    from django_tenants.utils import schema_context

    from inbox.models import RawPayload
    from inbox.pipeline.accept import raw_payload_accept, raw_payload_process
    from inbox.sources import deliveries as routing
    from reputation.core.tasks import run_in_tenant
    from tenants.models import WebhookDelivery

    clean(practice)
    tag = uuid.uuid4().hex[:8]

    def make(prefix: str) -> list[str]:
        return [
            comment_body(f"{prefix}{tag}_{i}", f"{TEXTS[i % len(TEXTS)]} (#{i})").decode()
            for i in range(count)
        ]

    bodies, bodies2, bodies3, bodies4 = make("pa"), make("pb"), make("pc"), make("pd")

    def timed(label: str, calls, profile: bool = False) -> dict:
        profiler = cProfile.Profile() if profile else None
        connection.queries_log.clear()  # the log keeps 9,000 queries: count from empty
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            for call in calls:
                call()
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = len(calls)
        out = {
            "calls": n,
            "wall_ms_each": round(wall / n * 1000, 2),
            "python_cpu_ms_each": round(cpu / n * 1000, 2),
            "queries_each": round(len(queries.captured_queries) / n, 1),
        }
        if profiler:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
            stats.print_stats(r"/(inbox|reputation|tenants)/", 15)
            out["top_cumulative_project_code"] = [
                " ".join(line.split()).replace(str(ROOT) + "/", "")
                for line in text.getvalue().splitlines()
                if line.strip() and line.strip()[0].isdigit() and "/" in line
            ][:15]
            first = queries.captured_queries[: round(out["queries_each"])]
            one_call = [q["sql"] for q in first]
            out["queries_of_one_call"] = [" ".join(sql.split())[:90] for sql in one_call]
        return out

    # The analyser loads its language model once per process (~1 s): not per webhook.
    from reputation.analysis import get_analyser

    loaded = time.perf_counter()
    get_analyser().analyse("warm up", rating=None)
    result: dict = {"analyser_first_load_ms": round((time.perf_counter() - loaded) * 1000)}
    deliveries: list = []

    def accept(body: str) -> None:
        deliveries.append(routing.delivery_accept(platform="meta", body=body, headers={}))

    result["view_accept"] = timed("accept", [lambda b=b: accept(b) for b in bodies])
    # Routing drains every waiting delivery: route right after each accept for a batch of
    # one (a quiet system), or once after all of them for one batch (a backlog).
    routing.delivery_route()  # the accepted ones above, not measured
    result["accept_route_ingest_batch_of_one"] = timed(
        "route1",
        [lambda b=b: (accept(b), routing.delivery_route()) for b in bodies2],
    )
    for b in bodies3:
        accept(b)
    whole = timed("routeN", [routing.delivery_route])
    result["route_ingest_one_batch_after_accepts"] = {
        "webhooks": count,
        "wall_ms_per_webhook": round(whole["wall_ms_each"] / count, 2),
        "python_cpu_ms_per_webhook": round(whole["python_cpu_ms_each"] / count, 2),
        "queries_per_webhook": round(whole["queries_each"] / count, 2),
    }
    # The ingest step alone, one comment per payload, profiled.
    raw_ids = []
    with schema_context(practice.schema_name):
        for b in bodies4:
            raw = raw_payload_accept(
                source="webhook:meta", platform="facebook", body=b, process=False
            )
            raw_ids.append(raw.pk)
    connection.set_schema_to_public()
    result["task_ingest_one_comment"] = timed(
        "ingest",
        [
            lambda pk=pk: run_in_tenant(
                practice.schema_name, "inbox.pipeline.accept.raw_payload_process", pk
            )
            for pk in raw_ids
        ],
        profile=True,
    )
    # The same number of new comments in one payload: the per-batch work is shared.
    changes = []
    for i in range(count):
        value = json.loads(comment_body(f"pe{tag}_{i}", f"{TEXTS[i % len(TEXTS)]} (#{i})"))
        changes += value["entry"][0]["changes"]
    batch = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "changes": changes}]})
    with schema_context(practice.schema_name):
        raw = raw_payload_accept(
            source="webhook:meta", platform="facebook", body=batch, process=False
        )
        one = timed("batch", [lambda: raw_payload_process(raw.pk)])
        processed = RawPayload.objects.get(pk=raw.pk)
    connection.set_schema_to_public()
    result["task_ingest_batch"] = {
        "mentions": processed.mentions_created,
        "wall_ms_per_mention": round(one["wall_ms_each"] / max(1, count), 2),
        "python_cpu_ms_per_mention": round(one["python_cpu_ms_each"] / max(1, count), 2),
        "queries_per_mention": round(one["queries_each"] / max(1, count), 2),
    }
    OrmQ.objects.filter(key=CLUSTER).delete()
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).delete()
    clean(practice)
    return result


# ---------------------------------------------------------------- one run


def run_config(name: str, q_overrides: dict, args, practice, responder, rate: float) -> dict:
    from django.conf import settings
    from django.db import connection

    shown = q_overrides or "(none: settings.py)"
    print(f"==> [{name} @ {rate:g}/s] Q_CLUSTER overrides {shown}", flush=True)
    clean(practice)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-webhook-{name}-"))
    web, worker, port, mail_dir, kind = start_processes(q_overrides, args, workdir)
    db = settings.DATABASES["default"]
    dsn = {
        "dbname": connection.settings_dict["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "host": db["HOST"],
        "port": db["PORT"],
    }
    poller = Poller(dsn, practice.schema_name, args.poll_ms / 1000)
    poller.start()
    url = f"http://localhost:{port}/webhooks/meta/"
    secret = settings.META_APP_SECRET
    tag = uuid.uuid4().hex[:8]
    all_deliveries: list[int] = []
    try:
        # Warm-up (not measured): every process imports, connects and serves once.
        warm = asyncio.run(
            send_load(url, secret, 20, 1, 0, f"warm{tag}", poller, args.connections, warmup=True)
        )
        all_deliveries += [r["delivery"] for r in warm if "delivery" in r]
        deadline = time.time() + 30
        while poller.outstanding and time.time() < deadline:
            time.sleep(0.1)
        warm_workers({**settings.Q_CLUSTER, **q_overrides}.get("workers", 2))
        probe = broker_probe(worker, args.broker_probe) if args.broker_probe else None
        cpu0 = {
            "machine_busy": machine_busy_seconds(),
            "bench_process": time.process_time(),
            "web": group_cpu_seconds(web.process.pid),
            "qcluster": group_cpu_seconds(worker.process.pid),
            "postgres_all": postgres_cpu_seconds(),
        }
        load0 = os.getloadavg()
        enqueued0 = ormq_enqueued_total()
        wall0 = time.time()
        print(f"    sending {rate:g}/s for {args.duration:g} s ({kind})", flush=True)
        records = asyncio.run(
            send_load(
                url,
                secret,
                rate,
                args.duration,
                args.threat_every,
                f"b{tag}",
                poller,
                args.connections,
            )
        )
        send_s = time.time() - wall0
        all_deliveries += [r["delivery"] for r in records if "delivery" in r]
        deadline = time.time() + args.drain_timeout
        while time.time() < deadline:
            with poller.lock:
                left = len([r for r in records if r["id"] in poller.outstanding])
            if not left:
                break
            time.sleep(0.2)
        drained_s = time.time() - wall0
        # Let the worker send the last alert emails before counting them.
        time.sleep(2)
        cpu1 = {
            "machine_busy": machine_busy_seconds(),
            "bench_process": time.process_time(),
            "web": group_cpu_seconds(web.process.pid),
            "qcluster": group_cpu_seconds(worker.process.pid),
            "postgres_all": postgres_cpu_seconds(),
        }
        load1 = os.getloadavg()
        enqueued = ormq_enqueued_total() - enqueued0
        # Threat emails can lag behind the mentions (they are tasks of their own): wait
        # for every alert to be sent, outside the CPU window above, so none is missed.
        alerts_wait_s = wait_alerts_sent(practice, records, args.alert_timeout)
    finally:
        poller.stop_event.set()
        poller.join(10)
        worker.stop()
        web.stop()
    if poller.error:
        raise RuntimeError(f"poller failed: {poller.error!r}")
    cpu_used = {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0}
    # Busy CPU of the machine not used by the bench's processes nor PostgreSQL: others' work.
    cpu_used["other"] = round(
        cpu_used["machine_busy"]
        - sum(cpu_used[k] for k in ("bench_process", "web", "qcluster", "postgres_all")),
        1,
    )
    rows = collect_rows(practice, records)
    result = analyse(records, rows, poller, responder.pk)
    mails = list(mail_dir.glob("*.log"))
    result.update(
        {
            "config": name,
            "q_cluster": {**settings.Q_CLUSTER, **BENCH_Q_BASE, **q_overrides},
            "web_server": kind
            + (
                f" x{args.web_workers} (gthread, {args.web_threads} threads)"
                if kind == "gunicorn"
                else ""
            ),
            "rate_per_s": rate,
            "duration_s": args.duration,
            "send_s": round(send_s, 2),
            "achieved_rate_per_s": round(
                (len(records) - 1) / max(1e-9, records[-1]["start"] - records[0]["start"]), 1
            ),
            "drained_after_s": round(drained_s, 2),
            "poll_interval_ms": args.poll_ms,
            "polls": poller.polls,
            "queue_depth_max": {
                "waiting": max((w for _, w, _ in poller.queue_samples), default=0),
                "claimed": max((c for _, _, c in poller.queue_samples), default=0),
            },
            "queue_depth_samples": [
                [round(t - wall0, 1), w, c] for t, w, c in poller.queue_samples if t >= wall0
            ],
            "cpu_s": cpu_used,
            "wall_s_measured": round(drained_s + 2, 1),
            "loadavg_before_after": [round(load0[0], 2), round(load1[0], 2)],
            "alert_email_files": len(mails),
            "alerts_wait_after_drain_s": alerts_wait_s,
            "tasks_enqueued": enqueued,
            "tasks_enqueued_per_webhook": round(enqueued / max(1, len(records)), 3),
            "queue_growth_per_s_while_sending": queue_growth(
                poller.queue_samples, wall0, wall0 + send_s
            ),
            "broker_probe": probe,
        }
    )
    p99 = result["latency_ms"].get("p99")
    result["p99_within_1s_nothing_lost"] = bool(
        p99 is not None
        and p99 <= GOAL_P99_S * 1000
        and result["lost"] == 0
        and result["http_errors"] == 0
        and result["seen_by_poller"] == result["http_ok"]
    )
    result["goal_met"] = result["p99_within_1s_nothing_lost"] and rate >= GOAL_RATE
    lat = result["latency_ms"]
    sent = result["threat_email_sent_ms"]
    print(
        f"    posted {result['posted']}  lost {result['lost']}  http errors "
        f"{result['http_errors']}  seen {result['seen_by_poller']}  latency p50 "
        f"{lat.get('p50')} p95 {lat.get('p95')} p99 {lat.get('p99')} max {lat.get('max')} ms"
        f"  http p50 {result['http_ms'].get('p50')} p99 {result['http_ms'].get('p99')} ms"
        f"  threat alerts {result['threat_alerts_queued']}/{result['threat_posts']}"
        f" sent {result['threat_alerts_sent']} (p50 {sent.get('p50')} p99 {sent.get('p99')} ms)"
        f"  tasks enqueued {result['tasks_enqueued']}"
        f" (queue +{result['queue_growth_per_s_while_sending']}/s)"
        f"  p99<=1s {'yes' if result['p99_within_1s_nothing_lost'] else 'NO'}",
        flush=True,
    )
    clean(practice, all_deliveries)
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        result["logs"] = str(workdir)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--threat-every", type=int, default=20, help="1 in N is a threat")
    parser.add_argument(
        "--configs",
        default="default,workers4,poll200ms,save1000,previous",
        help=f"comma-separated, from: {', '.join(CONFIGS)}",
    )
    parser.add_argument("--connections", type=int, default=64, help="max POSTs in flight")
    parser.add_argument("--web", choices=["auto", "gunicorn", "runserver"], default="auto")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--poll-ms", type=float, default=20.0, help="visibility poll interval")
    parser.add_argument(
        "--capacity-rates",
        default="150,200",
        help="also run --capacity-config at these rates (comma-separated; empty: skip)",
    )
    parser.add_argument("--capacity-config", default="default")
    parser.add_argument(
        "--drain-timeout", type=float, default=180.0, help="max wait for the backlog (s)"
    )
    parser.add_argument(
        "--alert-timeout",
        type=float,
        default=120.0,
        help="max wait after the drain for every threat email to be sent (s)",
    )
    parser.add_argument(
        "--broker-probe", type=int, default=300, help="no-op tasks per config (0: skip)"
    )
    parser.add_argument(
        "--profile", type=int, default=200, help="webhooks profiled in-process (0: skip)"
    )
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "webhook.json")
    args = parser.parse_args()
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in [*names, args.capacity_config] if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; known: {list(CONFIGS)}")
    if args.rate * args.duration > 100_000:
        parser.error("more than 100,000 webhooks in one run: lower --rate or --duration")

    _django()
    import logging

    from django.conf import settings

    logging.getLogger("django-q").setLevel(logging.WARNING)  # one line per enqueue

    practice, responder = practice_ensure()
    profile = None
    if args.profile:
        print(f"==> profiling the task code in-process ({args.profile} webhooks)", flush=True)
        profile = profile_tasks(practice, args.profile)
        for stage, numbers in profile.items():
            if isinstance(numbers, dict):
                numbers = {k: v for k, v in numbers.items() if not isinstance(v, list)}
            print(f"    {stage}: {numbers}", flush=True)
    runs = []
    plan = [(name, CONFIGS[name], args.rate) for name in names]
    for rate in [float(r) for r in args.capacity_rates.split(",") if r.strip()]:
        if rate != args.rate or args.capacity_config not in names:
            plan.append((args.capacity_config, CONFIGS[args.capacity_config], rate))
    for name, overrides, rate in plan:
        runs.append(run_config(name, overrides, args, practice, responder, rate))
    out = {
        "bench": "webhook POST -> mention visible and assigned",
        "goal": f"p99 <= {GOAL_P99_S:g} s at {GOAL_RATE:g} req/s, nothing lost",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "database": settings.DATABASES["default"]["NAME"],
        "practice": SLUG,
        "threat_share": round(1 / args.threat_every, 3) if args.threat_every else 0,
        "method": (
            f"open-loop sender (asyncio, HTTP/1.1 keep-alive, {args.connections} connections; "
            "a POST waiting for a connection keeps its due time as its start); latency = "
            f"start of the first poll (every {args.poll_ms:g} ms, own connection) that sees "
            "the mention assigned, minus POST start: an upper bound. "
            "latency_lower_bound = mention.received_at (set before the insert) minus POST "
            "start. http_ms = response time once sent."
        ),
        "profile_in_process": profile,
        "runs": runs,
    }
    print("==> summary (latency = POST start -> mention visible and assigned)")
    for r in runs:
        lat = r["latency_ms"]
        unseen = r["http_ok"] - r["seen_by_poller"]
        at_least = ">=" if unseen else ""  # the slowest were still queued at the end
        print(
            f"    {r['config']:9} {r['rate_per_s']:5g}/s  p50 {at_least}{lat.get('p50')}  p95 "
            f"{at_least}{lat.get('p95')}  p99 {at_least}{lat.get('p99')}  max "
            f"{at_least}{lat.get('max')} ms  lost {r['lost']}  unseen at end {unseen}  goal "
            f"{'met' if r['goal_met'] else 'missed'}  threat emails sent "
            f"{r['threat_alerts_sent']}/{r['threat_alerts_queued']} p50 "
            f"{r['threat_email_sent_ms'].get('p50')} p99 {r['threat_email_sent_ms'].get('p99')} ms"
            f"  tasks enqueued {r['tasks_enqueued']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"==> wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    failed = [r["config"] for r in runs if r["lost"] or r["http_errors"]]
    if failed:
        print(f"error: webhooks lost or refused in {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        _apply_overrides()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *sys.argv[2:]])
    else:
        sys.exit(main())
