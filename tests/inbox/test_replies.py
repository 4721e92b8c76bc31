"""Replies through the services (inbox.replies) and the worker (inbox.publishing):
every guard, every refused transition, publishing once through each platform's API.
Only the platforms' servers are mocked (respx), with their documented payloads."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
import respx
from django.utils import timezone

from inbox import publishing, replies
from inbox.models import ChannelSwitch, Mention, OutboxItem, Reply, ReplyPresence
from inbox.replies import ReplyRefused
from reputation.audit.models import AuditEvent
from tests.inbox.answering import GOOGLE_API, GRAPH_API, PAGE_ID, X_API, mention, review_name

SAFE = "Thank you for telling us. We take every concern seriously; please call us at 22 33 44 55."
PHI = "We are sorry, but your root canal was done exactly as planned."


@pytest.fixture
def alpha(cast, tenant, django_capture_on_commit_callbacks, monkeypatch):
    """Inside alpha's schema. The test runs in one transaction that never commits, so
    each service call's tasks (the worker's part) run as that call returns, as they
    would after its commit."""
    for module in (replies, publishing):
        for name in dir(module):
            func = getattr(module, name)
            if callable(func) and name.endswith(_ENQUEUEING):
                monkeypatch.setattr(
                    module, name, _committing(func, django_capture_on_commit_callbacks)
                )
    with tenant(cast.alpha):
        yield cast


_ENQUEUEING = (
    "reply_publish",
    "reply_override",
    "reply_send_now",
    "reply_delete",
    "mention_hide",
    "conversation_switch_channel",
    "outbox_due_send",
)


def _committing(func, capture):
    def call(*args, **kwargs):
        with capture(execute=True):
            return func(*args, **kwargs)

    return call


@pytest.fixture
def gbp():
    """A Business Profile server: PUT .../reply stores the reply, GET shows it."""
    with respx.mock(assert_all_called=False) as mock:
        state: dict[str, dict] = {}

        def put(request, name):
            body = json.loads(request.content)
            state[name] = {"comment": body["comment"], "updateTime": "2026-11-30T10:00:00Z"}
            return httpx.Response(200, json=state[name])

        def get(request, name):
            review = {"name": name, "reviewId": name.rsplit("/", 1)[1], "starRating": "TWO"}
            if name in state:
                review["reviewReply"] = state[name]
            return httpx.Response(200, json=review)

        mock.put(url__regex=rf"{GOOGLE_API}(?P<name>.+)/reply", name="put").mock(side_effect=put)
        mock.get(url__regex=rf"{GOOGLE_API}(?P<name>accounts/.+/reviews/[^/]+)$").mock(
            side_effect=get
        )
        mock.delete(url__regex=rf"{GOOGLE_API}.+/reply").mock(return_value=httpx.Response(200))
        mock.state = state
        yield mock


def puts(mock) -> int:
    return sum(1 for call in mock.calls if call.request.method == "PUT")


def publish(m: Mention, user, text: str = SAFE, **kw) -> Reply:
    reply = replies.reply_draft(mention=m, actor=user, text=text)
    return replies.reply_publish(reply=reply, actor=user, **kw)


def refused(code: str, call) -> ReplyRefused:
    with pytest.raises(ReplyRefused) as info:
        call()
    assert info.value.code == code, info.value.message
    return info.value


# ---------------------------------------------------------------- publishing once


def test_a_reply_is_published_on_google_once_and_answers_the_mention(alpha, gbp):
    m = mention()
    reply = publish(m, alpha.bob)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED
    assert reply.external_id == f"{review_name(m)}/reply"
    assert puts(gbp) == 1
    assert gbp.state[review_name(m)]["comment"] == SAFE
    m.refresh_from_db()
    assert m.status == Mention.Status.ANSWERED
    assert m.first_response_at == reply.published_at
    actions = list(
        AuditEvent.objects.filter(object_type="reply", object_id=str(reply.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["reply.drafted", "reply.publish_requested", "reply.published"]
    assert not OutboxItem.objects.filter(reply=reply, done_at__isnull=True).exists()


def test_running_the_outbox_task_twice_sends_once(alpha, gbp):
    m = mention()
    reply = publish(m, alpha.bob)
    item = OutboxItem.objects.get(reply=reply)
    assert publishing.outbox_send(item.pk) == "not claimed"
    assert puts(gbp) == 1


def test_a_later_attempt_reads_back_and_does_not_send_again(alpha, gbp):
    """A worker died after Google took the PUT: its claim goes stale; the next attempt
    finds our text on the review and marks it published without a second PUT."""
    m = mention()
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=SAFE)
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.PUBLISHING)
    stale = timezone.now() - dt.timedelta(minutes=10)
    item = OutboxItem.objects.create(
        action="publish", mention=m, reply=reply, due_at=stale, claimed_at=stale, attempts=1
    )
    gbp.state[review_name(m)] = {"comment": SAFE + "\n", "updateTime": "2026-11-30T10:00:00Z"}
    assert publishing.outbox_send(item.pk) == "published (read back)"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED
    assert puts(gbp) == 0
    assert publishing.outbox_due_send() == 0


def test_a_fresh_claim_is_not_taken_over(alpha, gbp):
    m = mention()
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=SAFE)
    now = timezone.now()
    item = OutboxItem.objects.create(
        action="publish", mention=m, reply=reply, due_at=now, claimed_at=now, attempts=1
    )
    assert publishing.outbox_send(item.pk) == "not claimed"
    assert puts(gbp) == 0


def test_a_temporary_failure_is_retried_with_a_read_back_first(alpha, gbp):
    m = mention()
    route = gbp.routes["put"].mock(
        side_effect=[httpx.Response(503, json={"error": {"message": "backend error"}})]
    )
    reply = publish(m, alpha.bob)
    reply.refresh_from_db()
    assert (reply.status, reply.retryable) == (Reply.Status.FAILED, True)
    assert "HTTP 503" in reply.error
    item = OutboxItem.objects.get(reply=reply)
    assert item.done_at is None and item.due_at > timezone.now()
    # Google had in fact stored it before failing: the retry reads it back.
    gbp.state[review_name(m)] = {"comment": SAFE}
    OutboxItem.objects.filter(pk=item.pk).update(due_at=timezone.now())
    assert publishing.outbox_due_send() == 1
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED
    assert route.call_count == 1


def test_a_permanent_failure_keeps_the_platforms_reason(alpha, gbp):
    m = mention()
    gbp.routes["put"].mock(
        return_value=httpx.Response(
            403, json={"error": {"message": "The caller does not have permission"}}
        )
    )
    reply = publish(m, alpha.bob)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and not reply.retryable
    assert "does not have permission" in reply.error
    assert OutboxItem.objects.get(reply=reply).outcome == "failed"
    m.refresh_from_db()
    assert m.first_response_at is None


def test_a_facebook_comment_is_answered_in_its_thread_and_hidden_by_a_manager(alpha):
    m = mention("facebook", text="Where is my refund??")
    with respx.mock() as mock:
        route = mock.post(f"{GRAPH_API}{m.external_id}/comments").mock(
            return_value=httpx.Response(200, json={"id": f"{m.external_id}_9001"})
        )
        hide = mock.post(f"{GRAPH_API}{m.external_id}").mock(
            return_value=httpx.Response(200, json={"success": True})
        )
        reply = publish(m, alpha.bob)
        refused("permission", lambda: replies.mention_hide(mention=m, actor=alpha.bob, reason="x"))
        refused(
            "reason_required", lambda: replies.mention_hide(mention=m, actor=alpha.alice, reason="")
        )
        replies.mention_hide(mention=m, actor=alpha.alice, reason="Posts a patient's phone number")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED and reply.external_id == f"{m.external_id}_9001"
    assert json.loads(route.calls[0].request.content) == {"message": SAFE}
    assert route.calls[0].request.headers["authorization"] == "Bearer facebook-token"
    assert json.loads(hide.calls[0].request.content) == {"is_hidden": True}
    assert AuditEvent.objects.filter(action="mention.hidden", object_id=str(m.pk)).count() == 1


def test_an_x_reply_names_the_tweet_it_answers(alpha):
    m = mention("x", text="@alphadental still waiting for a call back")
    with respx.mock() as mock:
        route = mock.post(f"{X_API}tweets").mock(
            return_value=httpx.Response(201, json={"data": {"id": "1888", "text": SAFE}})
        )
        reply = publish(m, alpha.bob, text="Sorry about that. Please DM us your number.")
    body = json.loads(route.calls[0].request.content)
    assert body["reply"] == {"in_reply_to_tweet_id": m.external_id}
    reply.refresh_from_db()
    assert reply.external_url == "https://x.com/alphadental/status/1888"


def test_a_reply_too_long_for_x_is_blocked(alpha):
    m = mention("x")
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text="Thank you. " * 30)
    refused("too_long", lambda: replies.reply_publish(reply=reply, actor=alpha.bob))


# ---------------------------------------------------------------- the guards


def test_a_viewer_may_not_reply(alpha):
    m = mention()
    refused("permission", lambda: replies.reply_draft(mention=m, actor=alpha.vera, text=SAFE))
    assert not Reply.objects.filter(mention=m).exists()


def test_patient_details_are_blocked_with_the_phrase_and_nothing_is_sent(alpha, gbp):
    m = mention()
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=PHI)
    assert [p["code"] for p in reply.problems] == ["phi"]
    phi = reply.problems[0]
    assert PHI[phi["start"] : phi["end"]] == phi["phrase"] == "your root canal"
    error = refused("phi", lambda: replies.reply_publish(reply=reply, actor=alpha.alice))
    assert error.status == 422 and "your root canal" in error.message
    reply.refresh_from_db()
    assert reply.status == Reply.Status.DRAFT
    assert not OutboxItem.objects.exists() and puts(gbp) == 0
    # Not even a manager's override lets patient details out.
    refused("phi", lambda: replies.reply_override(reply=reply, actor=alpha.alice, reason="urgent"))


def test_a_private_reply_with_health_details_is_marked_not_blocked(alpha):
    m = mention()
    switch = replies.conversation_switch_channel(
        mention=m, actor=alpha.bob, channel="email", contact="Kari, kari@example.com", text=PHI
    )
    reply = switch.reply
    assert (reply.visibility, reply.status, reply.contains_personal_data) == (
        "private",
        Reply.Status.PUBLISHED,
        True,
    )
    assert ChannelSwitch.objects.get(mention=m).contact == "Kari, kari@example.com"
    assert AuditEvent.objects.filter(action="conversation.switched", object_id=str(m.pk)).exists()
    m.refresh_from_db()
    assert m.first_response_at is None  # a private follow-up is not the public first response
    refused(
        "invalid",
        lambda: replies.conversation_switch_channel(mention=m, actor=alpha.bob, channel="phone"),
    )


def test_the_third_public_reply_is_refused_and_a_manager_may_override(alpha, gbp):
    first = mention()
    # A follow-up by the same person in the same conversation.
    second = mention(author_key=first.author.key, conversation=first.conversation)
    publish(first, alpha.bob)
    publish(second, alpha.bob, text="We have passed this to our clinic manager, who will call you.")
    third = replies.reply_draft(mention=second, actor=alpha.bob, text="We hear you, and we care.")
    refused("rule_of_two", lambda: replies.reply_publish(reply=third, actor=alpha.bob))
    refused("permission", lambda: replies.reply_override(reply=third, actor=alpha.bob, reason="x"))
    refused(
        "reason_required",
        lambda: replies.reply_override(reply=third, actor=alpha.alice, reason=" "),
    )
    third.refresh_from_db()
    assert third.status == Reply.Status.DRAFT and puts(gbp) == 2
    replies.reply_override(reply=third, actor=alpha.alice, reason="The owner asked us to apologise")
    third.refresh_from_db()
    assert third.status == Reply.Status.PUBLISHED
    event = AuditEvent.objects.get(action="reply.overridden", object_id=str(third.pk))
    assert event.data == {"codes": ["rule_of_two"], "reason": "The owner asked us to apologise"}
    assert event.actor_id == alpha.alice.pk


def test_replies_written_on_the_platform_count_for_the_rule_of_two(alpha, gbp):
    m = mention()
    staff = replies.reply_seen_on_platform(mention=m, text="Call us, please.", at=timezone.now())
    assert (staff.origin, staff.status) == (Reply.Origin.PLATFORM, Reply.Status.PUBLISHED)
    assert replies.reply_seen_on_platform(mention=m, text="Call us, please.", at=None) is None
    publish(m, alpha.bob)
    again = replies.reply_draft(mention=m, actor=alpha.bob, text="We are still here for you.")
    refused("rule_of_two", lambda: replies.reply_publish(reply=again, actor=alpha.bob))


def test_our_reply_shown_by_the_platform_is_matched_not_counted_twice(alpha, gbp):
    m = mention()
    reply = publish(m, alpha.bob)
    matched = replies.reply_seen_on_platform(mention=m, text=f"  {SAFE} ", at=timezone.now())
    assert matched.pk == reply.pk
    assert Reply.objects.filter(mention=m).count() == 1
    assert Reply.objects.get(pk=reply.pk).seen_on_platform_at is not None
    assert replies.public_replies_count(mention=m) == 1


def test_a_troll_gets_do_not_engage_unless_a_manager_overrides(alpha, gbp):
    m = mention(marker="troll", category="harassment", text="lol you clowns")
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text="We're sorry you feel that way.")
    refused("do_not_engage", lambda: replies.reply_publish(reply=reply, actor=alpha.bob))
    replies.reply_override(reply=reply, actor=alpha.alice, reason="Journalist asked, on record")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SCHEDULED  # harassment: still the cooling-off


def test_warnings_do_not_block(alpha, gbp):
    m = mention()
    publish(
        mention(), alpha.bob, text="Thank you for your kind words, we hope to see you again soon!"
    )
    text = "However, we were very busy that day. Obviously you did not read our sign!!"
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=text)
    assert {p["code"] for p in reply.problems} == {"excuse_first", "hostile"}
    script = replies.reply_draft(
        mention=m,
        actor=alpha.bob,
        text="Thank you for your kind words, we hope to see you again soon.",
    )
    assert [p["code"] for p in script.problems] == ["script"]
    replies.reply_publish(reply=script, actor=alpha.bob)
    assert Reply.objects.get(pk=script.pk).status == Reply.Status.PUBLISHED


# ---------------------------------------------------------------- cooling-off


def test_a_reply_to_a_threat_waits_out_the_cooling_off_and_can_be_cancelled(alpha, gbp):
    m = mention(category="threat", text="I know where you live, watch out", sentiment=-0.8)
    reply = publish(m, alpha.bob, text="We have passed this to the police.")
    assert reply.status == Reply.Status.SCHEDULED
    assert (
        dt.timedelta(minutes=9) < reply.scheduled_for - timezone.now() <= dt.timedelta(minutes=10)
    )
    assert puts(gbp) == 0 and publishing.outbox_due_send() == 0
    replies.reply_cancel(reply=reply, actor=alpha.bob)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.CANCELLED
    assert OutboxItem.objects.get(reply=reply).outcome == "cancelled"
    refused("invalid_transition", lambda: replies.reply_cancel(reply=reply, actor=alpha.bob))
    assert publishing.outbox_due_send(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert puts(gbp) == 0


def test_a_strongly_negative_mention_is_sent_when_the_cooling_off_ends(alpha, gbp):
    from inbox.services import inbox_settings_get

    inbox_settings_get().__class__.objects.update(cooling_off_minutes=3)
    m = mention(category="complaint", sentiment=-0.9, text="Worst clinic ever. Disgusting.")
    reply = publish(m, alpha.bob)
    assert reply.status == Reply.Status.SCHEDULED
    assert reply.scheduled_for - timezone.now() <= dt.timedelta(minutes=3)
    # Edited during the cooling-off: the guards apply to the new text too.
    refused("phi", lambda: replies.reply_update(reply=reply, actor=alpha.bob, text=PHI))
    assert Reply.objects.get(pk=reply.pk).text == SAFE
    replies.reply_update(reply=reply, actor=alpha.bob, text=SAFE + " Anna, manager.")
    OutboxItem.objects.filter(reply=reply).update(due_at=timezone.now())
    assert publishing.outbox_due_send() == 1
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED
    assert gbp.state[review_name(m)]["comment"] == SAFE + " Anna, manager."
    refused("too_late", lambda: replies.reply_cancel(reply=reply, actor=alpha.bob))
    refused("too_late", lambda: replies.reply_update(reply=reply, actor=alpha.bob, text="x"))


def test_only_a_manager_sends_before_the_cooling_off_ends(alpha, gbp):
    m = mention(category="harassment", sentiment=-0.7)
    reply = publish(m, alpha.bob)
    refused("permission", lambda: replies.reply_send_now(reply=reply, actor=alpha.bob))
    replies.reply_send_now(reply=reply, actor=alpha.alice, reason="Calm, factual; owner approved")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED and puts(gbp) == 1
    event = AuditEvent.objects.get(action="reply.sent_now", object_id=str(reply.pk))
    assert event.data["reason"] == "Calm, factual; owner approved"


def test_refused_transitions(alpha, gbp):
    m = mention()
    reply = publish(m, alpha.bob)
    reply.refresh_from_db()
    refused("too_late", lambda: replies.reply_publish(reply=reply, actor=alpha.bob))
    refused("too_late", lambda: replies.reply_send_now(reply=reply, actor=alpha.alice))
    refused(
        "invalid", lambda: replies.reply_mark_posted(reply=reply, actor=alpha.bob, url="https://x")
    )
    refused(
        "reason_required", lambda: replies.reply_delete(reply=reply, actor=alpha.alice, reason="")
    )
    refused("permission", lambda: replies.reply_delete(reply=reply, actor=alpha.bob, reason="typo"))
    replies.reply_delete(reply=reply, actor=alpha.alice, reason="Posted on the wrong review")
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.DELETED
    assert any(c.request.method == "DELETE" for c in gbp.calls)


# ---------------------------------------------------------------- posting by hand


def test_yelp_replies_are_posted_by_hand_and_marked_posted(alpha):
    m = mention("yelp")
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=SAFE)
    assert reply.channel == Reply.Channel.MANUAL
    refused("manual_channel", lambda: replies.reply_publish(reply=reply, actor=alpha.bob))
    refused("invalid", lambda: replies.reply_mark_posted(reply=reply, actor=alpha.bob, url="yelp"))
    replies.reply_mark_posted(
        reply=reply, actor=alpha.bob, url="https://www.yelp.com/biz/alpha?hrid=1#reply"
    )
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PUBLISHED
    assert Mention.objects.get(pk=m.pk).status == Mention.Status.ANSWERED


def test_a_hand_posted_reply_to_a_hostile_review_waits_too(alpha):
    m = mention("yelp", category="threat", sentiment=-0.9)
    reply = replies.reply_draft(mention=m, actor=alpha.bob, text=SAFE)
    url = "https://www.yelp.com/biz/alpha?hrid=1#reply"
    refused("cooling_off", lambda: replies.reply_mark_posted(reply=reply, actor=alpha.bob, url=url))
    reply = replies.reply_publish(reply=reply, actor=alpha.bob)
    assert reply.status == Reply.Status.SCHEDULED
    refused("cooling_off", lambda: replies.reply_mark_posted(reply=reply, actor=alpha.bob, url=url))
    Reply.objects.filter(pk=reply.pk).update(scheduled_for=timezone.now())
    replies.reply_mark_posted(reply=Reply.objects.get(pk=reply.pk), actor=alpha.bob, url=url)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PUBLISHED


# ---------------------------------------------------------------- collisions


def test_publishing_over_someone_who_is_replying_needs_confirming(alpha, gbp):
    m = mention()
    replies.presence_touch(mention=m, user=alpha.bob)
    reply = replies.reply_draft(mention=m, actor=alpha.alice, text=SAFE)
    error = refused("collision", lambda: replies.reply_publish(reply=reply, actor=alpha.alice))
    assert "Bob is replying" in error.message
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.DRAFT
    replies.reply_publish(reply=reply, actor=alpha.alice, confirm_collision=True)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PUBLISHED
    # Presence expires by itself.
    ReplyPresence.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert replies.presence_others(m, alpha.alice) == []


# ---------------------------------------------------------------- the pipeline


def test_a_google_poll_showing_our_reply_does_not_add_a_second_one(alpha, gbp):
    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms import google

    m = mention()
    reply = publish(m, alpha.bob)
    review = {
        "name": review_name(m),
        "reviewId": m.external_id,
        "starRating": "TWO",
        "comment": m.text,
        "createTime": "2026-11-20T09:15:32Z",
        "reviewReply": {"comment": SAFE, "updateTime": "2026-11-30T10:00:00Z"},
    }
    Mention.objects.filter(pk=m.pk).update(text=m.text, rating=2)
    mentions_ingest([google.parse_review(review)], source="poll:google")
    assert list(Reply.objects.filter(mention=m).values_list("pk", flat=True)) == [reply.pk]
    assert Reply.objects.get(pk=reply.pk).seen_on_platform_at is not None


def test_a_page_reply_written_on_facebook_is_recorded_as_the_platforms(alpha):
    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms.base import NormalisedMention

    m = mention("facebook")
    staff = NormalisedMention(
        platform="facebook",
        external_id=f"{m.external_id}_77",
        kind="comment",
        text="Hi! Please send us a message.",
        posted_at=timezone.now(),
        author_external_id=PAGE_ID,
        author_name="Alpha Dental",
        account_external_id=PAGE_ID,
        parent_external_id=m.external_id,
        root_external_id=m.conversation.root_external_id,
        from_owner=True,
    )
    mentions_ingest([staff], source="webhook:meta")
    recorded = Reply.objects.get(mention=m)
    assert (recorded.origin, recorded.external_id) == ("platform", f"{m.external_id}_77")
    assert replies.public_replies_count(mention=m) == 1
