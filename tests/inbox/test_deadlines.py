"""First-response deadlines: per-category defaults, business hours, reminders, misses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Alert, InboxSettings, Mention
from inbox.pipeline import deadlines
from inbox.tasks import deadline_sweep
from reputation.core.tasks import fan_out

OSLO = ZoneInfo("Europe/Oslo")


def settings(**kw) -> InboxSettings:
    return InboxSettings(**kw)  # unsaved: the calculation needs no database


@pytest.mark.parametrize(
    ("category", "minutes"),
    [
        ("threat", 15),
        ("complaint", 60),
        ("question", 60),
        ("praise", 24 * 60),
        ("harassment", None),
        ("spam", None),
    ],
)
def test_default_deadlines_per_category(category, minutes):
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    due = deadlines.due_at(category=category, start=start, settings=settings(), tz_name="UTC")
    assert due == (None if minutes is None else start + dt.timedelta(minutes=minutes))


def test_business_hours_carry_an_evening_complaint_to_the_next_morning():
    friday_evening = dt.datetime(2026, 11, 27, 16, 30, tzinfo=OSLO)  # Friday
    due = deadlines.due_at(
        category="complaint",
        start=friday_evening,
        settings=settings(
            business_hours_only=True, business_day_start=dt.time(8), business_day_end=dt.time(17)
        ),
        tz_name="Europe/Oslo",
    )
    # 30 minutes on Friday, the other 30 on Monday morning.
    assert due.astimezone(OSLO) == dt.datetime(2026, 11, 30, 8, 30, tzinfo=OSLO)


def test_a_threat_ignores_business_hours():
    sunday_night = dt.datetime(2026, 11, 29, 23, 0, tzinfo=OSLO)
    due = deadlines.due_at(
        category="threat",
        start=sunday_night,
        settings=settings(business_hours_only=True),
        tz_name="Europe/Oslo",
    )
    assert due == sunday_night + dt.timedelta(minutes=15)


@pytest.fixture
def mentions(cast, tenant):
    now = timezone.now()
    with tenant(cast.alpha):

        def make(external_id: str, due_in: dt.timedelta, **kw) -> Mention:
            return Mention.objects.create(
                platform="google",
                external_id=external_id,
                text="The bill was wrong",
                category="complaint",
                posted_at=now - dt.timedelta(minutes=50),
                due_at=now + due_in,
                assignee=cast.bob,
                **kw,
            )

        yield {
            "soon": make("soon", dt.timedelta(minutes=10)),
            "later": make("later", dt.timedelta(minutes=50)),
            "missed": make("missed", -dt.timedelta(minutes=5)),
            "answered": make("answered", -dt.timedelta(minutes=5), first_response_at=now),
        }


def test_the_sweep_reminds_before_and_alerts_managers_after(
    cast, mentions, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_sweep() == {"reminded": 1, "overdue": 1}
    reminder = Alert.objects.get(kind="reminder")
    assert reminder.mention.external_id == "soon" and reminder.recipients == ["bob@alpha.test"]
    overdue = Alert.objects.get(kind="overdue")
    assert overdue.mention.external_id == "missed"
    assert overdue.recipients == ["alice@alpha.test"]  # owners and managers of alpha
    assert sorted(m.subject for m in mail.outbox) == [
        "[Alpha Dental] Reply deadline missed",
        "[Alpha Dental] Reply due soon",
    ]
    assert not Alert.objects.filter(mention__external_id__in=["later", "answered"]).exists()


def test_the_sweep_is_safe_to_run_twice(cast, mentions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deadline_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_sweep() == {"reminded": 0, "overdue": 0}
    assert Alert.objects.count() == 2 and len(mail.outbox) == 2


def test_one_schedule_fans_out_to_every_practice(cast, monkeypatch):
    queued = []
    monkeypatch.setattr("reputation.core.tasks.async_task", lambda *args, **kw: queued.append(args))
    count = fan_out("inbox.tasks.deadline_sweep")
    schemas = {args[1] for args in queued}
    assert {"p_alpha", "p_beta", "p_gamma"} <= schemas and "public" not in schemas
    assert count == len(queued)
    assert all(args[0] == "reputation.core.tasks.run_in_tenant" for args in queued)


def test_a_tenant_task_without_a_schema_refuses_to_run(db):
    from reputation.core.tasks import MissingTenant, enqueue, run_in_tenant

    with pytest.raises(MissingTenant):
        run_in_tenant("", "inbox.tasks.deadline_sweep")
    with pytest.raises(MissingTenant):
        run_in_tenant("public", "inbox.tasks.deadline_sweep")
    with pytest.raises(MissingTenant):
        enqueue("inbox.tasks.deadline_sweep")  # the connection is on the public schema
