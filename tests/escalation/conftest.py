"""Shared for the escalation tests: alpha with a Google location (tests.inbox's fixture),
mentions arriving through the real ingest path, and the cast's roles."""

from __future__ import annotations

from inbox.models import Mention
from inbox.pipeline.store import mentions_ingest
from tests.inbox.test_pipeline import alpha, nm  # noqa: F401 - the fixture is used by name

THREAT = "I know where you live. I will burn the clinic down."
NEGATIVE = "Terrible dentist, rude and slow. Avoid this place."


def arrive(external_id: str, text: str, **kw) -> Mention:
    mentions_ingest([nm(external_id, text, **kw)])
    return Mention.objects.select_related("author").get(external_id=external_id)
