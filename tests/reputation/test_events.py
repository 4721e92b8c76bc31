"""Domain events: the inbox says what happened; handlers listed in settings react in the
same transaction, so a handler's writes roll back with the change that caused them."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction

from inbox.models import Mention
from inbox.pipeline.store import mentions_ingest
from tests.inbox.test_pipeline import alpha, nm  # noqa: F401 - the fixture is used by name

CALLS: list[tuple[str, dict]] = []


def record_threat(**payload) -> None:
    CALLS.append(("mention.threat", payload))


def record_created(**payload) -> None:
    CALLS.append(("mentions.created", payload))


def record_removed(**payload) -> None:
    CALLS.append(("mention.removed_on_platform", payload))


@pytest.fixture
def handlers(settings):
    CALLS.clear()
    settings.DOMAIN_EVENT_HANDLERS = {
        "mention.threat": [f"{__name__}.record_threat"],
        "mentions.created": [f"{__name__}.record_created"],
        "mention.removed_on_platform": [f"{__name__}.record_removed"],
    }
    yield CALLS
    CALLS.clear()


def test_a_new_threat_and_a_new_batch_reach_their_handlers(alpha, handlers):  # noqa: F811
    mentions_ingest(
        [
            nm("r1", "I will burn the clinic down tonight"),
            nm("r2", "Lovely staff, thank you!", rating=5),
        ]
    )
    threat = Mention.objects.get(external_id="r1")
    created = [p for name, p in handlers if name == "mentions.created"]
    assert sorted(created[0]["ids"]) == sorted(Mention.objects.values_list("pk", flat=True))
    assert ("mention.threat", {"id": threat.pk}) in handlers
    assert len([h for h in handlers if h[0] == "mention.threat"]) == 1


def test_a_removal_on_the_platform_reaches_its_handler_once(alpha, handlers):  # noqa: F811
    mentions_ingest([nm("r1", "Rude receptionist.", rating=1)])
    gone = dataclasses.replace(nm("r1", "Rude receptionist.", rating=1), removed=True)
    mentions_ingest([gone])
    mentions_ingest([gone])  # a replay of the removal changes nothing
    mention = Mention.objects.get(external_id="r1")
    assert [h for h in handlers if h[0] == "mention.removed_on_platform"] == [
        ("mention.removed_on_platform", {"id": mention.pk})
    ]


def test_a_failing_handler_rolls_the_change_back(alpha, settings):  # noqa: F811
    settings.DOMAIN_EVENT_HANDLERS = {"mention.removed_on_platform": [f"{__name__}.boom"]}
    mentions_ingest([nm("r1", "Rude receptionist.", rating=1)])
    gone = dataclasses.replace(nm("r1", "Rude receptionist.", rating=1), removed=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        mentions_ingest([gone])
    assert Mention.objects.get(external_id="r1").removed_on_platform is False


def boom(**payload) -> None:
    raise RuntimeError("handler failed")
