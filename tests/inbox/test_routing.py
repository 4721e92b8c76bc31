"""Single-flight webhook routing (inbox.routing) and the threat emails behind it.

These tests queue into the real ORM broker (django-q2's `sync` is switched off), so the
queue can be counted, and play the worker by running the queued tasks by hand, in the
interleavings that matter. One connection, so all of it runs in the test transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pydoc
import smtplib

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from inbox.models import Alert, Mention, SocialAccount
from inbox.pipeline.alerts import alert_send
from inbox.services import social_account_save
from inbox.sources import deliveries as routing
from tenants.models import TaskFlag, WebhookDelivery
from tests.payloads import meta_feed_comment

PAGE_ID = "304998877665544"
POST_ID = f"{PAGE_ID}_880011223344"
THREAT = "I know where you work. I will burn the clinic down"


@pytest.fixture
def queued(monkeypatch):
    """async_task goes to the ORM broker instead of running in-process."""
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def page(cast, tenant, queued):
    with tenant(cast.alpha):
        social_account_save(
            account=SocialAccount(
                platform="facebook", external_id=PAGE_ID, display_name="P", owner=cast.bob
            )
        )


def body(comment_id: str, message: str = "Is there parking?") -> str:
    now = int(timezone.now().timestamp())
    return json.dumps(
        meta_feed_comment(
            page_id=PAGE_ID, post_id=POST_ID, comment_id=comment_id, message=message, now=now
        )
    )


def committed(func, *args, **kwargs):
    """Run func, then its on-commit callbacks once each, as a commit would (the test
    transaction never commits; nested captureOnCommitCallbacks would run them twice)."""
    callbacks = connection.run_on_commit
    start = len(callbacks)
    result = func(*args, **kwargs)
    while len(callbacks) > start:
        _, callback, _ = callbacks.pop(start)
        callback()
    return result


@pytest.fixture
def accept():
    """What the webhook view does: store the delivery, then (on commit) kick routing."""

    def post(comment_id: str, message: str = "Is there parking?") -> WebhookDelivery:
        return committed(
            routing.delivery_accept, platform="meta", body=body(comment_id, message), headers={}
        )

    return post


def tasks() -> list[tuple[int, dict]]:
    return [(row.pk, SignedPackage.loads(row.payload)) for row in OrmQ.objects.order_by("pk")]


def routing_tasks() -> int:
    return sum(1 for _, task in tasks() if task["func"] == routing.ROUTE_TASK)


def run_queued(only: str | None = None) -> int:
    """Play the worker: take each queued task off the broker and run it."""
    ran = 0
    for pk, task in tasks():
        if only and task["func"] != only:
            continue
        OrmQ.objects.filter(pk=pk).delete()
        committed(pydoc.locate(task["func"]), *task["args"], **task["kwargs"])
        ran += 1
    return ran


def flag() -> TaskFlag | None:
    return TaskFlag.objects.filter(name=routing._flag_name()).first()


def pending() -> int:
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()


def stored(cast, tenant, comment_ids: list[str]) -> int:
    with tenant(cast.alpha):
        return Mention.objects.filter(external_id__in=comment_ids, assignee=cast.bob).count()


# ---------------------------------------------------------------- single flight


def test_a_burst_of_webhooks_queues_one_routing_task_that_routes_them_all(
    cast, tenant, page, accept
):
    ids = [f"880011223344_{i}" for i in range(40)]
    for comment_id in ids:
        accept(comment_id)
    assert pending() == 40
    assert routing_tasks() == 1, "one task for the burst, not one per webhook"
    assert flag().queued_at is not None

    assert run_queued() == 1
    assert pending() == 0
    assert stored(cast, tenant, ids) == 40
    assert routing_tasks() == 0 and flag().queued_at is None, "drained: the flag is clear"

    # The next webhook queues a task again.
    accept("880011223344_next")
    assert routing_tasks() == 1


def test_a_stale_flag_left_by_a_dead_task_does_not_block_routing(cast, tenant, page, accept):
    # A worker was killed holding the flag; its task is gone from the broker.
    TaskFlag.objects.update_or_create(
        name=routing._flag_name(),
        defaults={"queued_at": timezone.now() - dt.timedelta(seconds=routing.FLAG_STALE_S + 5)},
    )
    accept("880011223344_stale")
    assert routing_tasks() == 1, "the stale flag was taken over"
    run_queued()
    assert stored(cast, tenant, ["880011223344_stale"]) == 1
    assert flag().queued_at is None


def test_the_sweep_routes_what_a_fresh_but_orphaned_flag_holds_back(cast, tenant, page, accept):
    # The flag was taken a moment ago, but its task never reached the broker (say the
    # web process died between the two): webhooks meanwhile queue nothing...
    TaskFlag.objects.update_or_create(
        name=routing._flag_name(), defaults={"queued_at": timezone.now()}
    )
    accept("880011223344_orphan")
    assert routing_tasks() == 0 and pending() == 1
    # ...and the once-a-minute sweep routes them anyway.
    WebhookDelivery.objects.update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert committed(routing.deliveries_sweep) == 1
    assert stored(cast, tenant, ["880011223344_orphan"]) == 1


def test_the_sweep_takes_a_stale_flag_and_routes_like_the_task(cast, tenant, page, accept):
    TaskFlag.objects.update_or_create(
        name=routing._flag_name(), defaults={"queued_at": timezone.now() - dt.timedelta(hours=1)}
    )
    WebhookDelivery.objects.create(platform="meta", body=body("880011223344_sw"), headers={})
    WebhookDelivery.objects.update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert committed(routing.deliveries_sweep) == 1
    assert flag().queued_at is None and routing_tasks() == 0


# ---------------------------------------------------------------- the race


def test_a_delivery_committed_while_the_task_finishes_is_still_routed(
    cast, tenant, page, accept, monkeypatch
):
    """The web commits D and sees the flag still set (queues nothing) while the task
    finishes its last batch; the task must still route D."""
    accept("880011223344_first")
    assert routing_tasks() == 1
    drain = routing.deliveries_drain
    calls = []

    def drain_then_webhook_arrives():
        result = drain()
        if not calls:  # the last batch is done, the flag not yet released
            accept("880011223344_late")
            assert routing_tasks() == 0, "the flag was still set: nothing queued"
        calls.append(result)
        return result

    monkeypatch.setattr(routing, "deliveries_drain", drain_then_webhook_arrives)
    run_queued()
    assert len(calls) == 2, "released, looked again, found D, drained it"
    assert stored(cast, tenant, ["880011223344_first", "880011223344_late"]) == 2
    assert pending() == 0 and routing_tasks() == 0 and flag().queued_at is None


def test_a_delivery_committed_just_after_the_release_queues_its_own_task(
    cast, tenant, page, accept, monkeypatch
):
    """The other order: D's webhook reads the flag after the task released it, so it
    takes the flag and queues a task; the finishing task sees the flag taken and stops."""
    accept("880011223344_a")
    flag_set = routing._flag_set
    arrived = []

    def release_then_webhook_arrives(*, held: bool) -> None:
        flag_set(held=held)
        if not held and not arrived:
            arrived.append(accept("880011223344_b"))

    monkeypatch.setattr(routing, "_flag_set", release_then_webhook_arrives)
    run_queued()
    assert arrived and routing_tasks() == 1, "D's webhook queued the next task"
    assert flag().queued_at is not None
    run_queued()
    assert stored(cast, tenant, ["880011223344_a", "880011223344_b"]) == 2
    assert pending() == 0 and routing_tasks() == 0 and flag().queued_at is None


def test_a_delivery_committed_after_the_tasks_last_look_queues_its_own_task(
    cast, tenant, page, accept, monkeypatch
):
    """Last: D arrives after the task looked and found nothing. The flag is already
    clear by then (release comes before the look), so D's webhook queues a task."""
    accept("880011223344_x")
    look = routing._pending_unclaimed
    arrived = []

    def look_then_webhook_arrives() -> bool:
        found = look()
        if not arrived:
            arrived.append(accept("880011223344_y"))
        return found

    monkeypatch.setattr(routing, "_pending_unclaimed", look_then_webhook_arrives)
    run_queued()
    assert arrived and pending() == 1 and routing_tasks() == 1
    run_queued()
    assert stored(cast, tenant, ["880011223344_x", "880011223344_y"]) == 2
    assert pending() == 0 and routing_tasks() == 0 and flag().queued_at is None


# ---------------------------------------------------------------- long drains, errors


def test_a_long_backlog_is_handed_to_a_successor_task(cast, tenant, page, accept, monkeypatch):
    monkeypatch.setattr(routing, "DRAIN_LIMIT", 3)
    monkeypatch.setattr(routing, "TASK_BUDGET_S", 0)  # every batch runs out of time
    ids = [f"880011223344_l{i}" for i in range(7)]
    for comment_id in ids:
        accept(comment_id)
    rounds = 0
    while routing_tasks():
        assert routing_tasks() == 1, "one successor at a time"
        run_queued()
        rounds += 1
        assert flag().queued_at is not None or not routing_tasks()
    assert rounds == 3  # 3 + 3 + 1
    assert stored(cast, tenant, ids) == 7
    assert flag().queued_at is None


def test_a_failing_task_clears_the_flag_so_the_next_webhook_queues_again(page, accept, monkeypatch):
    accept("880011223344_e1")

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(routing, "deliveries_drain", broken)
    with pytest.raises(RuntimeError):
        routing.delivery_route()
    assert flag().queued_at is None
    OrmQ.objects.all().delete()  # the failed task waits for its retry; another webhook:
    accept("880011223344_e2")
    assert routing_tasks() == 1


# ---------------------------------------------------------------- threat emails


def test_a_threats_email_is_queued_after_routing_and_nothing_queues_ahead_of_it(
    cast, tenant, page, accept
):
    ids = [f"880011223344_t{i}" for i in range(30)]
    for i, comment_id in enumerate(ids):
        accept(comment_id, THREAT if i == 15 else "Do you take new patients?")
    run_queued(only=routing.ROUTE_TASK)
    queue = [task["func"] for _, task in tasks()]
    assert queue == ["reputation.core.tasks.run_in_tenant"], "only the alert is left to run"
    assert tasks()[0][1]["args"][1] == "inbox.pipeline.alerts.alert_send"
    run_queued()
    assert len(mail.outbox) == 1 and "THREAT" in mail.outbox[0].subject


def test_an_alert_email_that_fails_is_logged_and_sent_by_the_retry(
    cast, tenant, page, accept, monkeypatch, caplog
):
    accept("880011223344_threat", THREAT)
    run_queued(only=routing.ROUTE_TASK)
    with tenant(cast.alpha):
        alert = Alert.objects.get(kind=Alert.Kind.THREAT)

        def smtp_down(*args, **kwargs):
            raise smtplib.SMTPServerDisconnected("connection refused")

        monkeypatch.setattr("django.core.mail.send_mail", smtp_down)
        with caplog.at_level(logging.ERROR), pytest.raises(smtplib.SMTPServerDisconnected):
            alert_send(alert.pk)
        assert "could not be sent" in caplog.text
        alert.refresh_from_db()
        assert alert.sent_at is None, "the claim is handed back for the retry"
        monkeypatch.undo()
        assert alert_send(alert.pk) is True  # django-q2 runs the failed task again
        assert alert_send(alert.pk) is False  # and never twice
        alert.refresh_from_db()
        assert alert.sent_at is not None
    assert len(mail.outbox) == 1
