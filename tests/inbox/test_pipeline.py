"""The mention pipeline: listening, analysis, authors, threads, routing, alerts, edits."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Alert, Author, ListeningRule, Mention, SocialAccount
from inbox.pipeline.store import mentions_ingest
from inbox.platforms.base import NormalisedMention
from inbox.services import social_account_save
from reputation.audit.models import AuditEvent


def nm(external_id: str, text: str, **kw) -> NormalisedMention:
    defaults = dict(
        platform="google",
        kind="review",
        posted_at=timezone.now() - dt.timedelta(minutes=3),
        account_external_id="accounts/1/locations/1",
        author_external_id="u-1",
        author_name="Kari",
    )
    return NormalisedMention(external_id=external_id, text=text, **{**defaults, **kw})


@pytest.fixture
def alpha(cast, tenant, django_capture_on_commit_callbacks):
    """Run inside alpha with a Google location owned by bob (backup: alice)."""
    with tenant(cast.alpha), django_capture_on_commit_callbacks(execute=True):
        social_account_save(
            account=SocialAccount(
                platform="google",
                external_id="accounts/1/locations/1",
                display_name="Alpha Oslo",
                owner=cast.bob,
                backup_owner=cast.alice,
            )
        )
        social_account_save(
            account=SocialAccount(
                platform="feed",
                external_id="https://www.google.com/alerts/feeds/1/2",
                display_name="Google Alert",
                owner=cast.alice,
            )
        )
        ListeningRule.objects.create(kind="brand", term="Alpha Dental")
        ListeningRule.objects.create(kind="misspelling", term="Alfa Dental")
        ListeningRule.objects.create(kind="exclusion", term="Alpha Dental Supplies")
        yield


def test_a_complaint_is_analysed_assigned_and_on_the_clock(cast, alpha):
    before = timezone.now()
    mentions_ingest([nm("r1", "Waited an hour and the receptionist was rude. Awful.", rating=1)])
    m = Mention.objects.get(external_id="r1")
    assert (m.category, m.assignee, m.status) == ("complaint", cast.bob, "new")
    assert m.sentiment < 0 and m.language == "en" and m.evidence
    assert before + dt.timedelta(minutes=59) < m.due_at < timezone.now() + dt.timedelta(minutes=61)
    assert AuditEvent.objects.filter(action="mention.received", object_id=str(m.pk)).exists()


def test_an_away_owner_hands_new_mentions_to_the_backup(cast, alpha):
    SocialAccount.objects.filter(platform="google").update(owner_away=True)
    mentions_ingest([nm("r2", "Do you take new patients?")])
    assert Mention.objects.get(external_id="r2").assignee == cast.alice


def test_a_threat_alerts_the_owners_at_once_and_tops_the_inbox(
    cast, alpha, django_capture_on_commit_callbacks
):
    from inbox.selectors import mention_list

    mentions_ingest([nm("old", "Lovely staff", posted_at=timezone.now() - dt.timedelta(hours=1))])
    with django_capture_on_commit_callbacks(execute=True):
        mentions_ingest(
            [
                nm(
                    "t1",
                    "I know where you live. I will burn the clinic down.",
                    posted_at=timezone.now() - dt.timedelta(days=1),
                )
            ]
        )
    threat = Mention.objects.get(external_id="t1")
    assert threat.category == "threat" and threat.severity == 3
    assert threat.due_at < timezone.now() + dt.timedelta(minutes=16)
    alert = Alert.objects.get(mention=threat)
    assert alert.kind == "threat" and alert.sent_at is not None
    assert sorted(alert.recipients) == ["alice@alpha.test", "bob@alpha.test"]
    assert len(mail.outbox) == 1 and "THREAT" in mail.outbox[0].subject
    assert "burn the clinic down" in mail.outbox[0].body
    assert mention_list().first() == threat  # pinned above newer mentions


def test_a_replayed_threat_without_its_alert_gets_it(
    cast, alpha, django_capture_on_commit_callbacks
):
    mentions_ingest([nm("t2", "Watch your back, I will hurt your dentist.")])
    Alert.objects.all().delete()  # as if raising it had failed after the insert
    with django_capture_on_commit_callbacks(execute=True):
        result = mentions_ingest([nm("t2", "Watch your back, I will hurt your dentist.")])
    assert result.duplicates == 1
    assert Alert.objects.filter(mention__external_id="t2", kind="threat").count() == 1


def test_trolls_get_no_deadline(cast, alpha):
    mentions_ingest([nm("h1", "You are all idiots and losers, stupid clinic")])
    m = Mention.objects.get(external_id="h1")
    assert m.category == "harassment" and m.due_at is None and m.status == "no_reply"


def test_an_edited_review_keeps_its_earlier_version_and_gets_a_new_clock(cast, alpha):
    t0 = timezone.now() - dt.timedelta(minutes=5)
    mentions_ingest([nm("e1", "Terrible, rude staff, never again.", rating=1, updated_at=t0)])
    result = mentions_ingest(
        [
            nm(
                "e1",
                "They called me and fixed it. Great team after all!",
                rating=4,
                updated_at=t0 + dt.timedelta(minutes=2),
            )
        ]
    )
    assert result.updated == 1
    m = Mention.objects.get(external_id="e1")
    assert (m.rating, m.category) == (4, "praise")
    assert m.due_at > timezone.now() + dt.timedelta(hours=23)  # praise: 24 h, not 60 min
    revision = m.revisions.get()
    assert (revision.rating, revision.text) == (1, "Terrible, rude staff, never again.")
    # A late copy of the older version does not undo the edit.
    mentions_ingest([nm("e1", "Terrible, rude staff, never again.", rating=1, updated_at=t0)])
    assert Mention.objects.get(external_id="e1").rating == 4


def test_feed_items_need_a_listening_match_and_exclusions_win(cast, alpha):
    feed = dict(
        platform="feed",
        kind="article",
        account_external_id="https://www.google.com/alerts/feeds/1/2",
    )
    result = mentions_ingest(
        [
            nm("f1", "Forum: anyone tried alfa dental in Oslo? Mixed reviews.", **feed),
            nm("f2", "Alpha Dental Supplies launches a new drill", **feed),
            nm(
                "f3",
                "Weather in Oslo is grey today",
                platform="feed",
                kind="article",
                account_external_id="x",
            ),
        ]
    )
    assert (result.created, result.skipped) == (1, 2)
    m = Mention.objects.get(external_id="f1")
    assert m.is_indirect and "listening: alfa dental" in m.evidence


def test_replies_join_their_conversation_and_authors_keep_history(cast, alpha):
    fb = dict(
        platform="facebook", kind="comment", account_external_id="page-9", author_external_id="fb-7"
    )
    mentions_ingest(
        [nm("c1", "Is parking free?", **fb, root_external_id="post-1", parent_external_id="post-1")]
    )
    mentions_ingest(
        [nm("c2", "Found it, thanks!", **fb, root_external_id="post-1", parent_external_id="c1")]
    )
    c1, c2 = Mention.objects.get(external_id="c1"), Mention.objects.get(external_id="c2")
    assert c1.conversation_id == c2.conversation_id
    assert Author.objects.get(platform="facebook", key="fb-7").mention_count == 2


def test_the_practices_own_reply_stops_the_clock(cast, alpha):
    mentions_ingest([nm("q1", "Do you do Saturday appointments?")])
    mentions_ingest(
        [
            nm(
                "q1-r",
                "Yes, 9-13!",
                from_owner=True,
                parent_external_id="q1",
                author_external_id="page",
            )
        ]
    )
    q = Mention.objects.get(external_id="q1")
    assert q.status == "answered" and q.first_response_at is not None


def test_a_reply_written_on_the_platform_stops_the_clock(cast, alpha):
    # The manager answered on Google itself; the next poll brings the review back with
    # its reviewReply and an unchanged text.
    review = nm("r-gbp", "Waited an hour past my appointment. Not good enough.", rating=2)
    mentions_ingest([review])
    assert Mention.objects.get(external_id="r-gbp").status == "new"
    replied_at = timezone.now() - dt.timedelta(minutes=1)
    mentions_ingest(
        [
            dataclasses.replace(
                review, owner_reply_text="Sorry, Kari. Please call us.", owner_reply_at=replied_at
            )
        ]
    )
    m = Mention.objects.get(external_id="r-gbp")
    assert (m.status, m.first_response_at) == ("answered", replied_at)
    assert m.owner_reply_text == "Sorry, Kari. Please call us."
    assert AuditEvent.objects.filter(
        action="mention.answered_on_platform", object_id=str(m.pk)
    ).exists()


def test_a_platform_reply_does_not_reopen_a_resolved_mention(cast, alpha):
    review = nm("r-done", "Waited an hour past my appointment. Not good enough.", rating=2)
    mentions_ingest([review])
    Mention.objects.filter(external_id="r-done").update(status="resolved")
    mentions_ingest([dataclasses.replace(review, owner_reply_text="Sorry!")])
    m = Mention.objects.get(external_id="r-done")
    assert (m.status, m.first_response_at, m.owner_reply_text) == ("resolved", None, "Sorry!")


def test_imported_history_gets_no_deadline(cast, alpha):
    old = timezone.now() - dt.timedelta(days=400)
    mentions_ingest([nm("i1", "Rude and slow.", rating=1, posted_at=old)], source="import:csv")
    assert Mention.objects.get(external_id="i1").due_at is None
