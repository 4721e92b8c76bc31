"""Platform reports: the lifecycle, refusals, removal detected by itself, reminders."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from escalation import customers, services
from escalation.errors import Refused
from escalation.models import Notice, PlatformReport
from escalation.reasons import reasons_table
from inbox.pipeline.store import mentions_ingest
from reputation.audit.models import AuditEvent
from tests.escalation.conftest import NEGATIVE, arrive, nm


def report_for(cast, mention, **kw) -> PlatformReport:
    return services.report_create(
        mention=mention,
        reason=kw.get("reason", "conflict_of_interest"),
        grounds=kw.get("grounds", "Not a patient; posted by a competitor."),
        actor=kw.get("actor", cast.bob),
    )


def trail(report) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="platformreport", object_id=str(report.pk))
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def test_every_platform_has_its_reasons_and_a_reporting_page():
    table = reasons_table()
    assert set(table) == {"google", "facebook", "instagram", "yelp", "tripadvisor", "x"}
    assert list(table["google"].reasons) == [
        "off_topic",
        "spam",
        "conflict_of_interest",
        "profanity",
        "bullying_or_harassment",
        "discrimination_or_hate_speech",
        "personal_information",
        "not_helpful",
    ]
    assert all(t.report_url.startswith(("https://", "{mention_url}")) for t in table.values())


def test_a_report_carries_the_customer_finding_and_goes_through_one_appeal(cast, alpha):
    mention = arrive("r1", NEGATIVE, rating=1, author_name="Ola Nordmann")
    customers.customer_check_authors([mention.author_id])
    report = report_for(cast, mention)
    assert (report.status, report.platform) == ("draft", "google")
    assert report.customer_finding == "unknown: no customer list uploaded yet"
    services.report_submit(report=report, platform_reference="5-1234", actor=cast.bob)
    assert (report.status, report.platform_reference, report.submitted_by) == (
        "submitted",
        "5-1234",
        cast.bob,
    )
    services.report_mark_under_review(report=report, actor=cast.bob)
    services.report_decide(report=report, outcome="rejected", note="No violation", actor=cast.bob)
    services.report_appeal(report=report, grounds="He was never a patient.", actor=cast.bob)
    assert report.status == "appealed"
    services.report_decide(report=report, outcome="rejected", actor=cast.bob)
    with pytest.raises(Refused) as refused:
        services.report_appeal(report=report, grounds="Please look again", actor=cast.bob)
    assert refused.value.code == "appeal_used"
    report.refresh_from_db()
    assert report.status == "rejected"
    assert trail(report) == [
        "platform_report.created",
        "platform_report.submitted",
        "platform_report.under_review",
        "platform_report.rejected",
        "platform_report.appealed",
        "platform_report.rejected",
    ]


def test_an_appeal_can_end_in_removal(cast, alpha):
    report = report_for(cast, arrive("r1", NEGATIVE, rating=1))
    services.report_submit(report=report, actor=cast.bob)
    services.report_decide(report=report, outcome="rejected", actor=cast.bob)
    services.report_appeal(report=report, grounds="Never a patient.", actor=cast.bob)
    services.report_decide(report=report, outcome="removed", actor=cast.bob)
    assert report.status == "removed"


@pytest.mark.parametrize(
    ("status", "step", "kwargs"),
    [
        ("draft", services.report_mark_under_review, {}),
        ("draft", services.report_decide, {"outcome": "removed"}),
        ("draft", services.report_appeal, {"grounds": "x"}),
        ("submitted", services.report_submit, {}),
        ("submitted", services.report_appeal, {"grounds": "x"}),
        ("removed", services.report_decide, {"outcome": "rejected"}),
        ("removed", services.report_appeal, {"grounds": "x"}),
    ],
)
def test_refused_transitions_change_nothing(cast, alpha, status, step, kwargs):
    report = report_for(cast, arrive("r1", NEGATIVE, rating=1))
    if status != "draft":
        services.report_submit(report=report, actor=cast.bob)
    if status == "removed":
        services.report_decide(report=report, outcome="removed", actor=cast.bob)
    before = trail(report)
    with pytest.raises(Refused) as refused:
        step(report=report, actor=cast.bob, **kwargs)
    assert refused.value.code == "transition_refused"
    report.refresh_from_db()
    assert report.status == status and trail(report) == before


def test_bad_input_and_roles_are_refused(cast, alpha):
    mention = arrive("r1", NEGATIVE, rating=1)
    for kw, code in [
        ({"reason": "made_up"}, "unknown_reason"),
        ({"grounds": "  "}, "grounds_required"),
        ({"actor": cast.vera}, "forbidden"),
        ({"actor": cast.oscar}, "forbidden"),
    ]:
        with pytest.raises(Refused) as refused:
            report_for(cast, mention, **kw)
        assert refused.value.code == code
    assert PlatformReport.objects.count() == 0
    report_for(cast, mention)
    with pytest.raises(Refused) as refused:
        report_for(cast, mention)
    assert refused.value.code == "report_exists"


def test_a_review_removed_on_the_platform_removes_its_report_and_tells_the_filers(
    cast, alpha, django_capture_on_commit_callbacks
):
    mention = arrive("r1", NEGATIVE, rating=1)
    report = report_for(cast, mention)
    services.report_submit(report=report, actor=cast.alice)
    draft = report_for(cast, arrive("r2", NEGATIVE, rating=1))
    mail.outbox.clear()
    gone = dataclasses.replace(nm("r1", NEGATIVE, rating=1), removed=True)
    with django_capture_on_commit_callbacks(execute=True):
        mentions_ingest([gone])
        mentions_ingest([dataclasses.replace(nm("r2", NEGATIVE, rating=1), removed=True)])
        mentions_ingest([gone])  # a replay changes nothing
    report.refresh_from_db()
    assert (report.status, report.removal_detected) == ("removed", True)
    assert PlatformReport.objects.get(pk=draft.pk).status == "draft"  # never filed
    assert [sorted(m.to) for m in mail.outbox] == [["alice@alpha.test", "bob@alpha.test"]]
    assert "removed the reported review" in mail.outbox[0].subject
    assert trail(report)[-1] == "platform_report.removed"


def test_reports_without_a_decision_are_reminded_after_the_practice_s_days(cast, alpha):
    report = report_for(cast, arrive("r1", NEGATIVE, rating=1))
    services.report_submit(report=report, actor=cast.bob)
    now = timezone.now()
    assert services.reports_remind_due(now=now + dt.timedelta(days=13)) == 0
    assert services.reports_remind_due(now=now + dt.timedelta(days=15)) == 1
    assert services.reports_remind_due(now=now + dt.timedelta(days=16)) == 0
    assert services.reports_remind_due(now=now + dt.timedelta(days=30)) == 1
    notices = Notice.objects.order_by("pk")
    assert [n.subject for n in notices] == [
        f"[Alpha Dental] Report #{report.pk}: no decision after 14 days"
    ] * 2
    assert notices[0].recipients == ["alice@alpha.test", "bob@alpha.test"]
