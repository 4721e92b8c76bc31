"""Escalations: every transition through its service, refused ones change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from escalation import services
from escalation.errors import Refused
from escalation.models import Escalation, EscalationAttachment
from reputation.audit.models import AuditEvent
from tests.escalation.conftest import NEGATIVE, THREAT, arrive


def actions(escalation) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="escalation", object_id=str(escalation.pk))
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def test_a_threat_opens_one_police_draft_however_often_it_is_replayed(cast, alpha):
    threat = arrive("t1", THREAT)
    arrive("t1", THREAT)  # a replay emits "mention.threat" again for a threat without alert
    services.escalation_open_for_threat(id=threat.pk)  # and a direct second call
    escalation = Escalation.objects.get()
    assert (escalation.mention_id, escalation.kind, escalation.status) == (
        threat.pk,
        "police",
        "open",
    )
    assert escalation.auto_opened is True
    assert escalation.due_at <= timezone.now() + dt.timedelta(days=1)
    assert actions(escalation) == ["escalation.opened"]


def test_a_negative_review_does_not_open_anything(cast, alpha):
    arrive("n1", NEGATIVE, rating=1)
    assert Escalation.objects.count() == 0


def test_the_whole_police_lifecycle(cast, alpha):
    escalation = Escalation.objects.get(mention=arrive("t1", THREAT))
    services.escalation_record_contact(
        escalation=escalation, who="Oslo police, duty desk", how="phone", actor=cast.bob
    )
    assert escalation.status == "contacted" and escalation.contacted_by == cast.bob
    services.escalation_record_case_reference(
        escalation=escalation, reference="2026-118734", actor=cast.bob
    )
    assert (escalation.status, escalation.case_reference) == ("case_recorded", "2026-118734")
    update = services.escalation_add_update(
        escalation=escalation,
        note="Officer called back",
        files=[("../../etc/screenshot.png", "image/png", b"\x89PNG fake")],
        actor=cast.bob,
    )
    attachment = EscalationAttachment.objects.get(update=update)
    assert attachment.filename == "screenshot.png" and bytes(attachment.data) == b"\x89PNG fake"
    services.escalation_close(escalation=escalation, outcome="Suspect warned", actor=cast.alice)
    assert escalation.status == "closed" and escalation.outcome == "Suspect warned"
    assert actions(escalation) == [
        "escalation.opened",
        "escalation.contacted",
        "escalation.case_reference",
        "escalation.update",
        "escalation.closed",
    ]


@pytest.mark.parametrize(
    ("step", "kwargs"),
    [
        (services.escalation_record_case_reference, {"reference": "X-1"}),
        (services.escalation_approve, {}),
    ],
)
def test_steps_out_of_order_are_refused_and_change_nothing(cast, alpha, step, kwargs):
    escalation = Escalation.objects.get(mention=arrive("t1", THREAT))
    with pytest.raises(Refused) as refused:
        step(escalation=escalation, actor=cast.alice, **kwargs)
    assert refused.value.code == "transition_refused"
    escalation.refresh_from_db()
    assert (escalation.status, escalation.case_reference) == ("open", "")
    assert actions(escalation) == ["escalation.opened"]


def test_a_closed_escalation_takes_no_more_steps(cast, alpha):
    escalation = Escalation.objects.get(mention=arrive("t1", THREAT))
    services.escalation_close(escalation=escalation, outcome="False alarm", actor=cast.alice)
    for step, kwargs in [
        (services.escalation_record_contact, {"who": "x", "how": "y"}),
        (services.escalation_add_update, {"note": "late note"}),
        (services.escalation_close, {"outcome": "again"}),
    ]:
        with pytest.raises(Refused) as refused:
            step(escalation=escalation, actor=cast.alice, **kwargs)
        assert refused.value.code == "transition_refused"
    escalation.refresh_from_db()
    assert escalation.outcome == "False alarm" and escalation.updates.count() == 0


def test_roles_viewers_read_responders_draft_managers_close(cast, alpha):
    mention = arrive("n1", NEGATIVE, rating=1)
    with pytest.raises(Refused) as refused:
        services.escalation_open(mention=mention, kind="insurer", actor=cast.vera)
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert Escalation.objects.count() == 0
    escalation = services.escalation_open(mention=mention, kind="insurer", actor=cast.bob)
    assert escalation.status == "open"
    with pytest.raises(Refused):
        services.escalation_close(escalation=escalation, outcome="done", actor=cast.bob)
    services.escalation_close(escalation=escalation, outcome="done", actor=cast.agnes)
    assert escalation.closed_by == cast.agnes


def test_outsiders_cannot_act_at_all(cast, alpha):
    mention = arrive("n1", NEGATIVE, rating=1)
    with pytest.raises(Refused) as refused:
        services.escalation_open(mention=mention, kind="police", actor=cast.charlie)
    assert refused.value.code == "forbidden"


def test_one_active_escalation_per_kind_per_mention(cast, alpha):
    mention = arrive("n1", NEGATIVE, rating=1)
    services.escalation_open(mention=mention, kind="insurer", actor=cast.bob)
    with pytest.raises(Refused) as refused:
        services.escalation_open(mention=mention, kind="insurer", actor=cast.bob)
    assert refused.value.code == "escalation_exists"
    assert Escalation.objects.count() == 1


# ---------------------------------------------------------------- Streisand guard


def test_legal_on_a_merely_negative_review_needs_a_justification(cast, alpha):
    mention = arrive("n1", NEGATIVE, rating=1)
    with pytest.raises(Refused) as refused:
        services.escalation_open(mention=mention, kind="legal", actor=cast.alice)
    assert (refused.value.code, refused.value.field) == ("justification_required", "justification")
    assert Escalation.objects.count() == 0


def test_legal_with_a_justification_waits_for_a_manager_who_is_a_person(cast, alpha):
    mention = arrive("n1", NEGATIVE, rating=1)
    escalation = services.escalation_open(
        mention=mention,
        kind="legal",
        justification="Claims our dentist was convicted of fraud, which never happened.",
        actor=cast.bob,
    )
    assert escalation.status == "awaiting_approval"
    with pytest.raises(Refused) as refused:
        services.escalation_record_contact(escalation=escalation, who="a", how="b", actor=cast.bob)
    assert refused.value.code == "transition_refused"
    with pytest.raises(Refused) as refused:
        services.escalation_approve(escalation=escalation, actor=cast.bob)  # a responder
    assert refused.value.code == "forbidden"
    escalation.refresh_from_db()
    assert escalation.status == "awaiting_approval" and escalation.approved_by is None
    services.escalation_approve(escalation=escalation, actor=cast.alice)
    assert escalation.status == "open" and escalation.approved_by == cast.alice
    assert actions(escalation) == ["escalation.opened", "escalation.approved"]


def test_legal_on_a_threat_or_a_defamatory_mention_needs_no_approval(cast, alpha):
    threat = arrive("t1", THREAT)
    assert services.escalation_open(mention=threat, kind="legal", actor=cast.bob).status == "open"
    negative = arrive("n1", NEGATIVE, rating=1)
    with pytest.raises(Refused):
        services.mention_mark_defamatory(mention=negative, note="False claims", actor=cast.bob)
    services.mention_mark_defamatory(mention=negative, note="False claims", actor=cast.alice)
    assert services.escalation_open(mention=negative, kind="legal", actor=cast.bob).status == "open"


def test_a_manager_can_decline_a_legal_escalation(cast, alpha):
    escalation = services.escalation_open(
        mention=arrive("n1", NEGATIVE, rating=1),
        kind="legal",
        justification="Claims our dentist was convicted of fraud, which never happened.",
        actor=cast.bob,
    )
    services.escalation_close(
        escalation=escalation, outcome="Declined: just a bad review", actor=cast.alice
    )
    assert escalation.status == "closed"


def test_the_due_date_sweep_reminds_once(cast, alpha):
    escalation = Escalation.objects.get(mention=arrive("t1", THREAT))
    later = timezone.now() + dt.timedelta(days=2)
    assert services.escalations_remind_due(now=later) == 1
    assert services.escalations_remind_due(now=later) == 0
    services.escalation_set_due(
        escalation=escalation, due_at=later + dt.timedelta(days=1), actor=cast.bob
    )
    assert services.escalations_remind_due(now=later + dt.timedelta(days=2)) == 1
