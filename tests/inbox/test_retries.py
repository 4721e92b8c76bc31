"""Nothing accepted is lost: raw payloads that failed for a temporary reason are retried
automatically with back-off (permanent failures wait for a person), and threat emails
that fail all of django-q2's retries are queued again by the sweep, capped, and shown in
the app when they still cannot be sent."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import smtplib
import threading
import time

import httpx
import pytest
import respx
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import schema_context

from inbox.models import Alert, Mention, RawPayload, SocialAccount
from inbox.pipeline import accept, alerts
from inbox.pipeline.accept import MAX_RETRIES, PROCESSING_LEASE, raw_payloads_due_process
from inbox.pipeline.alerts import (
    ALERT_MAX_RESENDS,
    ALERT_RESEND_AFTER,
    alert_emails_resend_due,
    alert_send,
)
from inbox.services import social_account_save
from inbox.tasks import deadline_and_alert_sweep
from reputation.audit.models import AuditEvent
from tests.conftest import client_for

THREAT = "I know where you work. I will burn the clinic down"
NOTHING_DUE = {"pending": 0, "retried": 0, "reclaimed": 0, "gave_up": 0}


def later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


# ---------------------------------------------------------------- Google Pub/Sub


@pytest.fixture
def push(django_capture_on_commit_callbacks):
    """POST a Pub/Sub notification and run its routing and processing, as the worker would."""

    def push(note: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for("localhost").post(
                f"/webhooks/google/?token={settings.GOOGLE_PUBSUB_TOKEN}",
                data=json.dumps(note),
                content_type="application/json",
            )
        assert response.status_code == 200

    return push


def test_a_temporary_fetch_failure_is_retried_after_its_back_off_and_stored_once(
    cast, tenant, google, push
):
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(google["url"]).mock(
            side_effect=[httpx.Response(503)] + [httpx.Response(200, json=google["review"])] * 2
        )
        push(google["note"])
        with tenant(cast.alpha):
            raw = RawPayload.objects.get()
            assert (raw.status, raw.retryable, raw.attempts) == ("failed", True, 1)
            assert (
                raw.error
                == "google answered HTTP 503 (temporary: it is fetched again automatically)"
            )
            # First retry after about a minute (spread by up to 20%).
            assert later(0.9) < raw.next_attempt_at < later(1.3)
            assert Mention.objects.count() == 0

            assert raw_payloads_due_process() == NOTHING_DUE, "not before its time"
            assert route.call_count == 1

            assert raw_payloads_due_process(now=later(2))["retried"] == 1
            raw.refresh_from_db()
            assert (raw.status, raw.error, raw.next_attempt_at) == ("processed", "", None)
            assert (raw.attempts, raw.retries, raw.retryable) == (2, 1, False)
            assert Mention.objects.get().assignee == cast.alice

            assert raw_payloads_due_process(now=later(600)) == NOTHING_DUE
        push(google["note"])  # Pub/Sub delivers at least once: still one mention

    assert route.call_count == 3
    with tenant(cast.alpha):
        assert Mention.objects.count() == 1


def test_a_platform_retry_after_longer_than_the_back_off_is_honoured(cast, tenant, google, push):
    with respx.mock() as mock:
        mock.get(google["url"]).respond(429, headers={"Retry-After": "600"})
        push(google["note"])
    with tenant(cast.alpha):
        raw = RawPayload.objects.get()
        assert raw.retryable and later(9.9) < raw.next_attempt_at < later(12.1)


def test_a_permanent_failure_is_not_retried_and_keeps_its_error(cast, tenant, google, push):
    with respx.mock() as mock:
        route = mock.get(google["url"]).respond(
            401, json={"error": {"code": 401, "message": "Request had invalid credentials."}}
        )
        push(google["note"])
        with tenant(cast.alpha):
            raw = RawPayload.objects.get()
            assert (raw.status, raw.retryable, raw.next_attempt_at) == ("failed", False, None)
            assert "invalid credentials" in raw.error and "not temporary" in raw.error
            assert raw_payloads_due_process(now=later(60 * 24 * 30)) == NOTHING_DUE
    assert route.call_count == 1


def test_after_the_last_retry_it_stays_failed_with_what_to_do(cast, tenant, google, push, caplog):
    with respx.mock() as mock:
        route = mock.get(google["url"]).respond(503)
        push(google["note"])
        with tenant(cast.alpha):
            raw = RawPayload.objects.get()
            waits = []
            for _ in range(MAX_RETRIES):
                waits.append(raw.next_attempt_at - timezone.now())
                step = raw_payloads_due_process(now=raw.next_attempt_at + dt.timedelta(seconds=1))
                assert step["retried"] == 1
                raw.refresh_from_db()
            assert route.call_count == 1 + MAX_RETRIES
            # Exponential back-off, capped (the last wait is the cap).
            assert [round(w.total_seconds() / 60) for w in waits] == pytest.approx(
                [1, 5, 15, 60, 180, 360], rel=0.21
            )
            assert (raw.status, raw.retryable, raw.next_attempt_at) == ("failed", True, None)
            assert raw.attempts == MAX_RETRIES + 1
            assert raw.error.startswith("google answered HTTP 503 (temporary")
            assert f"Gave up after {MAX_RETRIES + 1} attempts" in raw.error
            assert f"`manage.py reprocess alpha --id {raw.pk}`" in raw.error
            assert "still failing after 7 attempts" in caplog.text
            assert raw_payloads_due_process(now=later(60 * 24 * 30)) == NOTHING_DUE

    # A person re-processes it once Google is back: a fresh round, processed.
    with respx.mock() as mock:
        mock.get(google["url"]).respond(json=google["review"])
        call_command("reprocess", "alpha", "--id", str(raw.pk))
    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert (raw.status, raw.error, raw.retries) == ("processed", "", 0)
        assert Mention.objects.count() == 1


# ---------------------------------------------------------------- Instagram mentions


def test_an_instagram_outage_is_retried_and_the_threat_then_alerts(cast, tenant):
    from tests.inbox.test_instagram_mentions import (
        COMMENT_MENTION,
        GRAPH,
        IG_USER,
        TOKEN,
        comment_answer,
        webhook,
    )

    with tenant(cast.alpha):
        social_account_save(
            account=SocialAccount(
                platform="instagram",
                external_id=IG_USER,
                display_name="Alpha on Instagram",
                owner=cast.bob,
                poll_state={"token": TOKEN},
            )
        )
        raw = accept.raw_payload_accept(
            source="webhook:meta",
            platform="instagram",
            body=json.dumps(webhook(COMMENT_MENTION)),
            process=False,
        )
        with respx.mock() as mock:
            mock.get(GRAPH).mock(
                side_effect=[
                    httpx.Response(500),
                    httpx.Response(200, json=comment_answer("@brightsmiledental " + THREAT)),
                ]
            )
            accept.raw_payload_process(raw.pk)
            raw.refresh_from_db()
            assert (raw.status, raw.retryable) == ("failed", True)
            assert raw_payloads_due_process(now=later(2))["retried"] == 1
        raw.refresh_from_db()
        assert raw.status == "processed"
        mention = Mention.objects.get()
        assert mention.category == "threat"
        assert Alert.objects.filter(mention=mention, kind="threat").exists()


# ---------------------------------------------------------------- what the sweep takes


def api_payload(external_id: str, **fields) -> RawPayload:
    body = json.dumps(
        {
            "external_id": external_id,
            "text": "Is there parking?",
            "posted_at": "2026-01-05T10:00:00Z",
        }
    )
    return RawPayload.objects.create(source="api:mention", platform="api", body=body, **fields)


def test_the_sweep_takes_only_what_is_due(cast, tenant):
    now = timezone.now()
    with tenant(cast.alpha):
        not_yet = api_payload("a", status="failed", retryable=True, next_attempt_at=later(5))
        for_a_person = api_payload("b", status="failed", error="text: required")
        just_stored = api_payload("c")  # its own task is about to run it
        being_processed = api_payload(
            "d", status="processing", next_attempt_at=now + PROCESSING_LEASE
        )
        assert raw_payloads_due_process() == NOTHING_DUE
        # The queued task or a reprocess does not take a payload a worker holds either.
        assert accept.raw_payload_process(being_processed.pk).status == "processing"
        assert accept.raw_payload_reprocess(raw=being_processed).status == "processing"

        lost = api_payload("e", received_at=now - dt.timedelta(minutes=2))
        died = api_payload("f", status="processing", next_attempt_at=now - dt.timedelta(seconds=1))
        due = api_payload("g", status="failed", retryable=True, next_attempt_at=now)
        counts = raw_payloads_due_process()
        assert counts == {"pending": 1, "retried": 1, "reclaimed": 1, "gave_up": 0}
        for raw in (lost, died, due):
            raw.refresh_from_db()
            assert raw.status == "processed" and raw.next_attempt_at is None
        for raw, status in [
            (not_yet, "failed"),
            (for_a_person, "failed"),
            (just_stored, "pending"),
        ]:
            raw.refresh_from_db()
            assert raw.status == status and raw.attempts == 0
        assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["e", "f", "g"]


def test_a_payload_whose_processing_keeps_dying_is_given_up(cast, tenant):
    with tenant(cast.alpha):
        raw = api_payload(
            "h",
            status="processing",
            attempts=MAX_RETRIES + 1,
            retries=MAX_RETRIES,
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
        )
        assert raw_payloads_due_process()["gave_up"] == 1
        raw.refresh_from_db()
        assert (raw.status, raw.next_attempt_at) == ("failed", None)
        assert raw.error.startswith("Processing never finished: 7 attempts were cut off")
        assert f"manage.py reprocess alpha --id {raw.pk}" in raw.error


def test_the_sweep_uses_its_indexes(cast, tenant):
    """Cheap once a minute per practice: the due rows come from the two indexes, not a
    scan of every payload ever received."""
    with tenant(cast.alpha), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny
        plan = (
            accept.raw_payloads_due(timezone.now())
            .select_for_update(skip_locked=True)
            .only("pk")[:1]
            .explain()
        )
    # Which index the planner picks depends on the statistics of the moment (other
    # tests' rows); what matters is that it never has to read the whole table.
    assert "Seq Scan" not in plan and "raw_next_attempt_idx" in plan, plan


# ---------------------------------------------------------------- concurrency


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Committed rows in alpha that other connections see; cleaned up after."""
    from tenants.models import Practice

    with django_db_blocker.unblock():
        alpha = Practice.objects.get(slug="alpha")
        yield alpha
        with schema_context(alpha.schema_name), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE audit_auditevent, inbox_alert, inbox_mentionrevision, inbox_mention,"
                " inbox_conversation, inbox_author, inbox_rawpayload CASCADE"
            )
        connection.set_schema_to_public()


def test_concurrent_sweeps_and_tasks_process_each_payload_once(committed, monkeypatch):
    import inbox.pipeline.accept

    real_parse = inbox.pipeline.accept.parse_raw
    runs: list[int] = []
    lock = threading.Lock()

    def slow_parse(raw):
        with lock:
            runs.append(raw.pk)
        time.sleep(0.02)  # long enough for the others to try the same rows
        return real_parse(raw)

    monkeypatch.setattr(inbox.pipeline.accept, "parse_raw", slow_parse)
    old = timezone.now() - dt.timedelta(minutes=5)
    with schema_context(committed.schema_name):
        ids = [api_payload(f"c-{i}", received_at=old).pk for i in range(8)]
        ids += [
            api_payload(f"r-{i}", status="failed", retryable=True, next_attempt_at=old).pk
            for i in range(8)
        ]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with schema_context(committed.schema_name):
                barrier.wait()
                raw_payloads_due_process()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def tasks() -> None:  # the payloads' own queued tasks, running at the same time
        try:
            with schema_context(committed.schema_name):
                barrier.wait()
                for raw_id in ids:
                    accept.raw_payload_process(raw_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    threads += [threading.Thread(target=tasks) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(runs) == sorted(ids), "each payload processed exactly once"
    with schema_context(committed.schema_name):
        rows = RawPayload.objects.filter(pk__in=ids)
        assert set(rows.values_list("status", "attempts")) == {("processed", 1)}
        assert Mention.objects.count() == len(ids)


# ---------------------------------------------------------------- alert emails


class SmtpDown:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def smtp_down(monkeypatch) -> SmtpDown:
    down = SmtpDown()
    monkeypatch.setattr("django.core.mail.send_mail", down)
    return down


@pytest.fixture
def threat(cast, tenant, django_capture_on_commit_callbacks):
    """A threat whose alert was raised and its email task run (as the worker would)."""

    def make(external_id: str = "threat-1") -> Alert:
        with tenant(cast.alpha):
            mention = Mention.objects.create(
                platform="facebook",
                external_id=external_id,
                author_name="Jane Doe",
                text=THREAT,
                category="threat",
                posted_at=timezone.now(),
            )
            run_committed(django_capture_on_commit_callbacks, alerts.threat_alert_raise, mention)
            return Alert.objects.get(mention=mention)

    return make


def run_committed(capture, func, *args, **kwargs):
    """Run func, then its on-commit callbacks (the queued tasks: django-q2 runs them
    in-process here and re-raises their errors, which the real worker keeps instead)."""
    with capture() as callbacks:
        result = func(*args, **kwargs)
    for callback in callbacks:
        with contextlib.suppress(smtplib.SMTPException):
            callback()
    return result


def resend_sweep(cast, tenant, django_capture_on_commit_callbacks, now: dt.datetime):
    with tenant(cast.alpha):
        return run_committed(django_capture_on_commit_callbacks, alert_emails_resend_due, now=now)


def test_an_email_that_failed_every_retry_is_queued_again_and_sent(
    cast, tenant, threat, smtp_down, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    alert = threat()
    assert smtp_down.calls == 1 and mail.outbox == []
    with tenant(cast.alpha):
        alert.refresh_from_db()
        assert alert.sent_at is None and alert.sending_at is None
        assert alert.send_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        assert alert.delivery == "retrying"
        assert later(9.9) < alert.retry_at < later(10.1)

    sweep = lambda now: resend_sweep(cast, tenant, django_capture_on_commit_callbacks, now)  # noqa: E731
    # django-q2 is still retrying the task meanwhile: the sweep leaves it alone.
    assert sweep(timezone.now()) == {"resent": 0, "undelivered": 0}
    monkeypatch.undo()  # the mail server is back
    with caplog.at_level(logging.ERROR):
        assert sweep(later(11)) == {"resent": 1, "undelivered": 0}
    assert (
        "email still unsent after 1 attempts" in caplog.text
        and "queued again (1 of 3)" in caplog.text
    )
    assert len(mail.outbox) == 1 and "THREAT" in mail.outbox[0].subject
    assert sorted(mail.outbox[0].to) == ["alice@alpha.test"]
    with tenant(cast.alpha):
        alert.refresh_from_db()
        assert alert.sent_at is not None and alert.retry_at is None
        assert (alert.send_attempts, alert.resends, alert.send_error) == (2, 1, "")
        assert AuditEvent.objects.filter(action="alert.resend").count() == 1
    assert sweep(later(600)) == {"resent": 0, "undelivered": 0}
    assert len(mail.outbox) == 1


def test_resends_are_capped_then_the_alert_shows_as_not_delivered(
    cast, tenant, threat, smtp_down, django_capture_on_commit_callbacks, caplog
):
    alert = threat()
    sweep = lambda now: resend_sweep(cast, tenant, django_capture_on_commit_callbacks, now)  # noqa: E731
    for n in range(1, ALERT_MAX_RESENDS + 1):
        with tenant(cast.alpha):
            alert.refresh_from_db()
        assert sweep(alert.retry_at) == {"resent": 1, "undelivered": 0}
        assert smtp_down.calls == 1 + n
    with tenant(cast.alpha):
        alert.refresh_from_db()
    with caplog.at_level(logging.CRITICAL):
        assert sweep(alert.retry_at + ALERT_RESEND_AFTER) == {"resent": 0, "undelivered": 1}
    assert "NOT DELIVERED to alice@alpha.test" in caplog.text
    for minutes in (60, 600, 6000):
        assert sweep(later(minutes)) == {"resent": 0, "undelivered": 0}
    assert smtp_down.calls == 1 + ALERT_MAX_RESENDS, "no more tries once given up"
    with tenant(cast.alpha):
        alert.refresh_from_db()
        assert (alert.sent_at, alert.retry_at, alert.delivery) == (None, None, "undelivered")
        assert alert.send_attempts == 1 + ALERT_MAX_RESENDS
        event = AuditEvent.objects.get(action="alert.undelivered")
        assert event.data["recipients"] == ["alice@alpha.test"]

    # Staff see it: on the inbox, with a link, and on the mention with what to do.
    client = client_for("alpha.localhost", cast.bob)
    inbox = client.get("/inbox/").content.decode()
    assert "Threat alert email not delivered." in inbox
    assert f'href="/inbox/{alert.mention_id}/"' in inbox and "we have stopped trying" in inbox
    detail = client.get(f"/inbox/{alert.mention_id}/").content.decode()
    assert "email not delivered" in detail and "Phone them yourself" in detail
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in detail


def test_the_pages_say_still_trying_and_then_emailed(cast, tenant, threat, smtp_down, monkeypatch):
    alert = threat()
    client = client_for("alpha.localhost", cast.bob)
    assert "still trying" in client.get("/inbox/").content.decode()
    assert "email not delivered yet" in client.get(f"/inbox/{alert.mention_id}/").content.decode()
    monkeypatch.undo()
    with tenant(cast.alpha):
        assert alert_send(alert.pk) is True  # django-q2's retry
    assert "Threat alert email not delivered" not in client.get("/inbox/").content.decode()
    assert "emailed " in client.get(f"/inbox/{alert.mention_id}/").content.decode()


def test_a_worker_killed_mid_send_does_not_leave_the_alert_looking_sent(
    cast, tenant, threat, smtp_down, monkeypatch
):
    alert = threat()
    monkeypatch.undo()
    with tenant(cast.alpha):
        Alert.objects.filter(pk=alert.pk).update(sending_at=timezone.now())  # claimed, then killed
        assert alert_send(alert.pk) is False, "a live claim is respected"
        Alert.objects.filter(pk=alert.pk).update(sending_at=later(-5))  # past the task timeout
        assert alert_send(alert.pk) is True
    assert len(mail.outbox) == 1


def test_a_reminder_that_no_longer_applies_is_not_sent_late(
    cast, tenant, smtp_down, django_capture_on_commit_callbacks
):
    with tenant(cast.alpha):
        mention = Mention.objects.create(
            platform="google",
            external_id="late-reminder",
            text="The bill was wrong",
            category="complaint",
            posted_at=timezone.now(),
            due_at=later(10),
            assignee=cast.bob,
        )
        run_committed(
            django_capture_on_commit_callbacks,
            alerts.alert_raise,
            mention,
            kind=Alert.Kind.REMINDER,
            recipients=["bob@alpha.test"],
        )
    result = resend_sweep(cast, tenant, django_capture_on_commit_callbacks, later(11))
    assert result == {"resent": 0, "undelivered": 1}
    assert smtp_down.calls == 1


def test_the_deadline_schedule_also_sweeps_alert_emails(cast, tenant, threat, smtp_down):
    from django_q.models import Schedule

    alert = threat()
    with tenant(cast.alpha):
        Alert.objects.filter(pk=alert.pk).update(retry_at=later(-1))
        result = deadline_and_alert_sweep()
    assert result == {"reminded": 0, "overdue": 0, "resent": 1, "undelivered": 0, "outbox": 0}

    call_command("setup_schedules", verbosity=0)
    deadline = Schedule.objects.get(name="deadline sweep")
    assert (deadline.func, deadline.args) == (
        "reputation.core.tasks.fan_out",
        "'inbox.tasks.deadline_and_alert_sweep',",
    )
    from reputation.management.commands.setup_schedules import SCHEDULES

    assert Schedule.objects.filter(func="reputation.core.tasks.fan_out").count() == len(
        SCHEDULES
    ), "one fan-out schedule per job, not one per practice"
