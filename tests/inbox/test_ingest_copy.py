"""The batch pipeline's COPY inserts: same rows as before, and races still resolved."""

from __future__ import annotations

import datetime as dt

from inbox.models import Author, Conversation, Mention
from inbox.pipeline import store as ingest
from inbox.platforms.base import NormalisedMention
from reputation.audit.models import AuditEvent

POSTED = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)


def item(i: int, author: str = "Kari", **extra) -> NormalisedMention:
    return NormalisedMention(
        platform="google",
        external_id=f"copy-{i}",
        kind="review",
        text=f"Friendly staff, visit number {i}",
        posted_at=POSTED + dt.timedelta(hours=i),
        author_name=author,
        rating=5,
        **extra,
    )


def test_a_batch_is_stored_with_ids_counters_and_audit_events(cast, tenant):
    with tenant(cast.alpha):
        result = ingest.mentions_ingest(
            [item(1), item(2), item(3, "Ola"), item(4, parent_external_id="copy-1")],
            source="test",
        )

        assert result.created == 4
        assert all(m.pk and not m._state.adding for m in result.mentions)
        stored = {m.external_id: m for m in Mention.objects.select_related("author")}
        assert stored["copy-1"].evidence == result.mentions[0].evidence
        assert stored["copy-1"].author.name == "Kari"
        assert Author.objects.get(name="Kari").mention_count == 3
        assert Author.objects.get(name="Ola").mention_count == 1
        # copy-4 answers copy-1: one conversation, its activity the later of the two.
        thread = Conversation.objects.get(root_external_id="copy-1")
        assert stored["copy-4"].conversation_id == thread.pk
        assert thread.last_activity_at == POSTED + dt.timedelta(hours=4)
        assert AuditEvent.objects.filter(action="mention.received").count() == 4
        event = AuditEvent.objects.get(object_id=str(stored["copy-2"].pk))
        assert event.data["external_id"] == "copy-2"


def test_authors_and_conversations_created_meanwhile_by_another_delivery(cast, tenant, monkeypatch):
    with tenant(cast.alpha):
        ingest.mentions_ingest([item(1), item(2, "Ola")], source="test")
        real = ingest._ids_by
        calls: list[object] = []

        def blind_once(model, field, wanted):
            calls.append(model)
            if calls.count(model) == 1:  # as if the rows appeared after this look-up
                return {}
            return real(model, field, wanted)

        monkeypatch.setattr(ingest, "_ids_by", blind_once)
        result = ingest.mentions_ingest(
            [item(3), item(4, "Ola", root_external_id="copy-1")], source="test"
        )

        assert result.created == 2
        assert Author.objects.count() == 2
        assert Mention.objects.get(external_id="copy-3").author.name == "Kari"
        assert Mention.objects.get(external_id="copy-4").conversation.root_external_id == "copy-1"
        assert Author.objects.get(name="Kari").mention_count == 2


def test_mentions_stored_meanwhile_by_another_delivery_count_as_duplicates(
    cast, tenant, monkeypatch
):
    with tenant(cast.alpha):
        ingest.mentions_ingest([item(1)], source="test")
        monkeypatch.setattr(ingest, "_existing", lambda batch: {})  # the race: not seen yet

        result = ingest.mentions_ingest([item(1), item(2)], source="test")

        assert (result.created, result.duplicates) == (1, 1)
        assert Mention.objects.filter(external_id__startswith="copy-").count() == 2
