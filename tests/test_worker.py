"""The real worker, end to end: signed Meta webhooks over HTTP to a real web server,
processed by a real `manage.py qcluster` (django-q2, ORM broker, 2 workers) on the
session's test database.

Both processes only see committed rows, so this module seeds with
`django_db_blocker.unblock()` and cleans up after itself. The tests are marked for the
database (so pytest-django creates the test database) and so run inside a transaction:
they only read there (PostgreSQL's read committed shows the other processes' commits),
and what they must commit goes through a connection of its own. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from itertools import count
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage
from django_tenants.utils import schema_context

from inbox.models import Alert, Mention, RawPayload, SocialAccount
from inbox.services import social_account_save
from inbox.tasks import raw_payloads_sweep
from reputation.core.tasks import MissingTenant, enqueue, run_in_tenant
from tenants.models import AccountRoute, Practice, TaskFlag, User, WebhookDelivery
from tests.browser import ROOT, start_server
from tests.payloads import meta_feed_comment

FIXTURES = ROOT / "tests" / "fixtures" / "platforms"
# A page of its own: the webhook tests' page (104998877665544) stays free for them.
PAGE_ID = "204998877665544"
FIXTURE_PAGE_ID = "104998877665544"
POST_ID = f"{PAGE_ID}_880011223344"
WAIT_S = 30.0
THREAT = "I know where you work. I will burn the clinic down"

pytestmark = pytest.mark.django_db

_ids = count(int(time.time()) % 1_000_000 * 1000)

# reputation.settings reads EMAIL_BACKEND from the environment but not EMAIL_FILE_PATH,
# which the file-based backend needs: set it before Django loads, then run qcluster.
WORKER_BOOT = """
import os
from django.conf import settings
if os.environ.get("EMAIL_FILE_PATH") and not getattr(settings, "EMAIL_FILE_PATH", None):
    settings.EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "worker"])
"""


# ---------------------------------------------------------------- processes


class Worker:
    """A real `qcluster` in its own process group, so a crash can be simulated with
    SIGKILL on the whole group (cluster, sentinel, pusher, workers, monitor)."""

    def __init__(self, *, db_name: str, mail_dir: Path, log_path: Path) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "reputation.settings",
            "DATABASE_NAME": db_name,
            "DEBUG": "true",
            "Q_WORKERS": "2",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "LOG_LEVEL": "INFO",
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.process is None, "worker already running"
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER_BOOT],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"qcluster exited at start:\n{self.log_tail()}")
            if b"running." in self.log_path.read_bytes()[offset:]:
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"qcluster did not start within {WAIT_S:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """A crash: SIGKILL to every process of the cluster at once."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Graceful stop. SIGTERM goes to the cluster process only: sent to the whole
        group, django-q2's sentinel runs the inherited handler too and the cluster
        process can hang in join() for good (seen here)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        # Whatever is left of the group (or all of it, if it hung) goes now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def terminate_all(self) -> float:
        """What systemd's default stop does: SIGTERM to every process of the cluster at
        once. Returns the seconds until the last one exited."""
        assert self.process is not None
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        while time.monotonic() - started < 60:
            try:
                os.killpg(self.process.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None
        return time.monotonic() - started

    def log_tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        return self.log_path.read_text(errors="replace")[-chars:]


class Live:
    def __init__(self, *, practice, owner, account_owner, server, worker, mail_dir) -> None:
        self.practice = practice
        self.owner = owner
        self.account_owner = account_owner
        self.server = server
        self.worker = worker
        self.mail_dir = mail_dir
        self.client = httpx.Client(timeout=15)

    @property
    def webhook_url(self) -> str:
        return self.server.url("localhost", "/webhooks/meta/")

    def post(self, body: bytes) -> int:
        """POST a signed body; returns the stored WebhookDelivery id."""
        response = self.client.post(
            self.webhook_url,
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
        )
        assert response.status_code == 200, response.text
        return response.json()["received"]

    def wait_for(self, what: str, check, timeout: float = WAIT_S):
        """Poll `check()` until it returns something truthy; fail with the worker log."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out after {timeout:.0f} s waiting for {what}\n"
                    f"--- worker log ---\n{self.worker.log_tail()}"
                )
            time.sleep(0.1)


# ---------------------------------------------------------------- bodies


def sign(body: bytes) -> str:
    digest = hmac.new(settings.META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def new_comment_id() -> str:
    return f"880011223344_{next(_ids)}"


def comment_body(comment_id: str, message: str) -> bytes:
    """One new comment on the page's post, as Meta's page `feed` webhook sends it."""
    body = meta_feed_comment(
        page_id=PAGE_ID,
        post_id=POST_ID,
        comment_id=comment_id,
        message=message,
        now=int(time.time()),
    )
    return json.dumps(body).encode()


# ---------------------------------------------------------------- fixtures


def _cleanup(practice) -> None:
    with schema_context(practice.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE audit_auditevent, inbox_alert, inbox_mentionrevision, inbox_mention,"
            " inbox_conversation, inbox_author, inbox_rawpayload, inbox_socialaccount,"
            " inbox_inboxsettings CASCADE"
        )
    connection.set_schema_to_public()
    AccountRoute.objects.filter(external_id=PAGE_ID).delete()
    WebhookDelivery.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE django_q_ormq, django_q_task")
    TaskFlag.objects.all().delete()  # a routing flag would outlive its task


@pytest.fixture(scope="module")
def live(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """Committed page in alpha (owner: bob), a real web server and a real qcluster."""
    with django_db_blocker.unblock():
        alpha = Practice.objects.get(slug="alpha")
        alice = User.objects.get(email="alice@alpha.test")
        bob = User.objects.get(email="bob@alpha.test")
        request.addfinalizer(lambda: _unblocked(django_db_blocker, _cleanup, alpha))
        with schema_context(alpha.schema_name):
            social_account_save(
                account=SocialAccount(
                    platform="facebook",
                    external_id=PAGE_ID,
                    display_name="Alpha Dental on Facebook",
                    owner=bob,
                )
            )
        connection.set_schema_to_public()
        db_name = connection.settings_dict["NAME"]

    # reputation.settings, not the test settings: tasks go to the real broker.
    server = start_server(extra_env={"DJANGO_SETTINGS_MODULE": "reputation.settings"})
    request.addfinalizer(lambda: _terminate(server.process))
    mail_dir = tmp_path_factory.mktemp("mail")
    worker = Worker(
        db_name=db_name,
        mail_dir=mail_dir,
        log_path=tmp_path_factory.mktemp("worker") / "qcluster.log",
    )
    request.addfinalizer(worker.stop)
    worker.start()
    state = Live(
        practice=alpha,
        owner=alice,
        account_owner=bob,
        server=server,
        worker=worker,
        mail_dir=mail_dir,
    )
    request.addfinalizer(state.client.close)
    return state


def _unblocked(blocker, func, *args) -> None:
    with blocker.unblock():
        func(*args)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def running(live):
    """Each test starts with the worker up (a previous test may have killed it)."""
    if live.worker.process is None:
        live.worker.start()
    return live


def execute_committed(sql: str) -> int:
    """Run one statement on a connection of its own, in autocommit (the test's own
    connection is inside the test transaction, which the workers cannot see)."""
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with own.cursor() as cursor:
            cursor.execute(sql)
            return cursor.rowcount
    finally:
        own.close()


# ---------------------------------------------------------------- helpers


def mentions_in(live: Live, external_ids: list[str]) -> dict[str, Mention]:
    with schema_context(live.practice.schema_name):
        found = Mention.objects.filter(platform="facebook", external_id__in=external_ids)
        return {m.external_id: m for m in found}


def all_assigned(live: Live, external_ids: list[str]) -> dict[str, Mention] | None:
    found = mentions_in(live, external_ids)
    if len(found) == len(external_ids) and all(m.assignee_id for m in found.values()):
        return found
    return None


def queued_tasks() -> list[tuple[str, tuple]]:
    """(func, args) of every task still in the broker, queued or claimed by a worker."""
    tasks = (SignedPackage.loads(row.payload) for row in OrmQ.objects.all())
    return [(task["func"], tuple(task["args"])) for task in tasks]


def routing_tasks_queued() -> int:
    """Routing tasks in the broker. One at a time (single flight), and any one of them
    routes every delivery that is waiting."""
    return sum(1 for func, _ in queued_tasks() if func == "inbox.sources.deliveries.delivery_route")


def ingest_queue_empty() -> bool:
    for func, args in queued_tasks():
        if func == "inbox.sources.deliveries.delivery_route":
            return False
        if func == "reputation.core.tasks.run_in_tenant" and "raw_payload_process" in args[1]:
            return False
    return True


def mail_messages(mail_dir: Path) -> list[email.message.Message]:
    separator = "\n" + "-" * 79 + "\n"
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_text(errors="replace").split(separator):
            if chunk.strip():
                messages.append(email.message_from_string(chunk))
    return messages


# ---------------------------------------------------------------- tests


def test_a_signed_batch_is_routed_ingested_and_assigned_by_the_real_worker(running):
    live = running
    body = (FIXTURES / "meta" / "page_feed_batch.json").read_text()
    delivery_id = live.post(body.replace(FIXTURE_PAGE_ID, PAGE_ID).encode())

    question_id = "880011223344_1122334455667788"
    reply_id = "880011223344_1122334455669999"
    found = live.wait_for(
        "the batch's comments in alpha, assigned",
        lambda: all_assigned(live, [question_id, reply_id]),
    )
    question, reply = found[question_id], found[reply_id]
    assert question.assignee_id == live.account_owner.pk
    assert question.category == "question"
    # The page's own reply (same batch) stopped the question's clock.
    live.wait_for(
        "the owner's reply to answer the question",
        lambda: mentions_in(live, [question_id])[question_id].status == Mention.Status.ANSWERED,
    )
    assert reply.from_owner and reply.conversation_id == question.conversation_id

    live.wait_for(
        "the delivery to be marked routed",
        lambda: WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.ROUTED
        ).exists(),
    )
    # The worker did it, through the broker (the web server runs with sync off, and
    # successful results are not kept: save_limit -1): the queue has drained.
    live.wait_for("the broker queue to drain", lambda: not OrmQ.objects.exists())
    with schema_context(live.practice.schema_name):
        assert not Mention.objects.filter(external_id__in=[question_id, reply_id]).exclude(
            account__external_id=PAGE_ID
        )


def test_a_threat_emails_the_account_owner_and_the_practice_owner(running):
    live = running
    comment_id = new_comment_id()
    live.post(comment_body(comment_id, THREAT))

    mention = live.wait_for(
        "the threat to be stored and assigned",
        lambda: all_assigned(live, [comment_id]),
    )[comment_id]
    assert mention.category == Mention.Category.THREAT
    assert mention.assignee_id == live.account_owner.pk

    def sent_alert():
        with schema_context(live.practice.schema_name):
            return Alert.objects.filter(
                mention_id=mention.pk, kind=Alert.Kind.THREAT, sent_at__isnull=False
            ).first()

    alert = live.wait_for("the threat alert to be sent", sent_alert)
    assert sorted(alert.recipients) == ["alice@alpha.test", "bob@alpha.test"]

    def the_mail():
        link = f"/inbox/{mention.pk}/"
        return [m for m in mail_messages(live.mail_dir) if link in m.get_payload()]

    mails = live.wait_for("the alert's email file", the_mail)
    assert len(mails) == 1, "one alert, one email, however often the task runs"
    message = mails[0]
    assert "THREAT" in message["Subject"]
    to = {addr.strip() for addr in message["To"].split(",")}
    assert to == {live.owner.email, live.account_owner.email}
    assert "burn the clinic down" in message.get_payload()


def test_enqueue_without_a_practice_schema_fails_loudly(live):
    connection.set_schema_to_public()
    queued = OrmQ.objects.count()
    with pytest.raises(MissingTenant, match="inside a practice's schema"):
        enqueue("inbox.tasks.deadline_sweep")
    with pytest.raises(MissingTenant, match="without a practice schema"):
        run_in_tenant("", "inbox.tasks.deadline_sweep")
    assert OrmQ.objects.count() == queued, "nothing was queued"


def test_a_task_that_skipped_the_wrapper_fails_loudly_in_the_real_worker(running):
    live = running
    # Queued by another process, straight into the real broker, past the wrapper.
    queue_it = (
        "from django_q.tasks import async_task;"
        "print(async_task('reputation.core.tasks.run_in_tenant', 'public',"
        " 'inbox.tasks.deadline_sweep'))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", queue_it],
        cwd=ROOT,
        env=live.worker.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    task_id = done.stdout.strip().splitlines()[-1]
    task = live.wait_for(
        "the worker to record the failure",
        lambda: Task.objects.filter(id=task_id).first(),
    )
    assert task.success is False
    assert "MissingTenant" in str(task.result)


def test_webhooks_posted_while_the_worker_is_down_are_kept_and_processed_later(running):
    live = running
    live.worker.kill()
    comment_ids = [new_comment_id() for _ in range(5)]
    delivery_ids = [
        live.post(comment_body(cid, f"Is there parking? ({cid})")) for cid in comment_ids
    ]

    stored = WebhookDelivery.objects.filter(pk__in=delivery_ids)
    assert stored.count() == len(delivery_ids)
    assert set(stored.values_list("status", flat=True)) == {WebhookDelivery.Status.PENDING}
    # Five POSTs from the web server's processes, one routing task: the flag is shared
    # through the database, not process memory.
    assert routing_tasks_queued() == 1, queued_tasks()
    time.sleep(1)
    assert mentions_in(live, comment_ids) == {}, "nobody processes them while it is down"

    live.worker.start()
    found = live.wait_for(
        "every mention once the worker is back", lambda: all_assigned(live, comment_ids)
    )
    assert {m.assignee_id for m in found.values()} == {live.account_owner.pk}
    live.wait_for(
        "every delivery routed",
        lambda: stored.filter(status=WebhookDelivery.Status.ROUTED).count() == len(delivery_ids),
    )


def test_a_worker_killed_mid_burst_loses_nothing(running):
    live = running
    # A backlog first (worker down), so the crash surely lands mid-way through it.
    live.worker.kill()
    comment_ids = [new_comment_id() for _ in range(60)]
    delivery_ids = [
        live.post(comment_body(cid, f"Do you take new patients? ({cid})")) for cid in comment_ids
    ]
    live.worker.start()

    # Crash the whole cluster while it works through the backlog. Routing drains the
    # backlog in batches, so where exactly the crash lands varies; what must hold does not.
    live.wait_for(
        "the worker to claim the first task",
        lambda: OrmQ.objects.filter(lock__isnull=False).exists() or mentions_in(live, comment_ids),
    )
    live.worker.kill()

    # Nothing accepted is lost: each delivery is routed, or a routing task (which drains
    # every waiting delivery) is still in the broker.
    routed = set(
        WebhookDelivery.objects.filter(
            pk__in=delivery_ids, status=WebhookDelivery.Status.ROUTED
        ).values_list("pk", flat=True)
    )
    missing = set(delivery_ids) - routed
    assert not missing or routing_tasks_queued() >= 1, (
        f"deliveries neither routed nor queued after the crash: {missing}"
    )
    assert routing_tasks_queued() <= 2, "single flight: not a task per webhook"

    # Tasks the dead worker had claimed are redelivered after Q_CLUSTER["retry"] (180 s);
    # move the broker's clock on instead of waiting.
    execute_committed("UPDATE django_q_ormq SET lock = now() - interval '1 second'")
    live.worker.start()
    live.wait_for("every mention after the restart", lambda: all_assigned(live, comment_ids))
    live.wait_for(
        "every delivery routed",
        lambda: (
            WebhookDelivery.objects.filter(
                pk__in=delivery_ids, status=WebhookDelivery.Status.ROUTED
            ).count()
            == len(delivery_ids)
        ),
    )
    live.wait_for("the ingest tasks to drain from the broker", ingest_queue_empty)
    with schema_context(live.practice.schema_name):
        stored = list(
            Mention.objects.filter(external_id__in=comment_ids).values_list(
                "external_id", flat=True
            )
        )
        assert sorted(stored) == sorted(comment_ids), "each mention stored exactly once"
        assert not RawPayload.objects.filter(status=RawPayload.Status.FAILED).exists()
        # A crash between storing a payload and processing it leaves it pending, and one
        # mid-way leaves it claimed (processing); the once-a-minute sweep picks both up
        # once the claim's lease has run out. Run it as the schedule would.
        RawPayload.objects.filter(status=RawPayload.Status.PENDING).update(
            received_at=timezone.now() - timezone.timedelta(minutes=2)
        )
        RawPayload.objects.filter(status=RawPayload.Status.PROCESSING).update(
            next_attempt_at=timezone.now() - timezone.timedelta(seconds=1)
        )
        raw_payloads_sweep()
        assert not RawPayload.objects.exclude(status=RawPayload.Status.PROCESSED).exists()
        assert Mention.objects.filter(external_id__in=comment_ids).count() == len(comment_ids)


def test_sigterm_to_every_process_of_the_worker_stops_it_within_10_s(tmp_path):
    """systemd's default stop: every process of the service gets SIGTERM at once. The
    plain django-q2 cluster hung for over 60 s like that; `manage.py worker` stops."""
    worker = Worker(
        db_name=connection.settings_dict["NAME"],
        mail_dir=tmp_path / "mail",
        log_path=tmp_path / "worker.log",
    )
    worker.start()
    took = worker.terminate_all()
    assert took < 10, f"took {took:.1f} s:\n{worker.log_tail()}"
    assert "has stopped" in worker.log_tail()
