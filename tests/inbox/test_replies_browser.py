"""Answering from the mention page in a real headless Chromium (Playwright).

The web server is a separate process (test settings: the publish task runs as the
request's transaction commits) pointed at a fake platform server (a thread here) for
Google and the Graph API. Its data is committed, so it is seeded and removed with
`django_db_blocker.unblock()`.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from inbox import publishing
from inbox.models import Author, Conversation, Mention, OutboxItem, Reply, SocialAccount
from tenants.models import Practice
from tests.browser import chromium, start_server
from tests.conftest import PASSWORD
from tests.inbox.answering import FakePlatform, mention

# No django_db mark: the tests' own writes must commit (the server is another process);
# the `site` fixture asks for the test database itself.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LOCATION = "accounts/707/locations/7001"
PAGE = "707000000000001"
SAFE = "Thank you for telling us. We take every concern seriously; please call us at 22 33 44 55."


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    fake = FakePlatform()
    with django_db_blocker.unblock():
        alpha = Practice.objects.get(slug="alpha")
        with schema_context(alpha.schema_name):
            google = SocialAccount.objects.create(
                platform="google",
                external_id=LOCATION,
                display_name="Alpha GBP (browser)",
                poll_state={"token": "ya29.fake"},
            )
            facebook = SocialAccount.objects.create(
                platform="facebook",
                external_id=PAGE,
                display_name="Alpha FB (browser)",
                poll_state={"token": "page-token"},
            )
            mentions = {
                "complaint": mention("facebook", acct=facebook, text="Nobody called me back."),
                "phi": mention("google", acct=google, text="Rude staff at the front desk."),
                "threat": mention(
                    "google",
                    acct=google,
                    category="threat",
                    sentiment=-0.9,
                    text="You'll regret this, I know where the owner parks.",
                ),
                "collision": mention("google", acct=google, text="Waited an hour."),
            }
        connection.set_schema_to_public()
    server = start_server(extra_env={"GOOGLE_API_BASE": fake.base, "GRAPH_API_BASE": fake.graph})
    yield {
        "server": server,
        "fake": fake,
        "practice": alpha,
        "mentions": mentions,
        "blocker": django_db_blocker,
    }
    server.process.terminate()
    server.process.wait(timeout=10)
    fake.close()
    with django_db_blocker.unblock(), schema_context(alpha.schema_name):
        ids = [m.pk for m in mentions.values()]
        # Audit events stay: the trail is append-only (a database trigger refuses deletes).
        Mention.objects.filter(pk__in=ids).delete()
        Author.objects.filter(pk__in=[m.author_id for m in mentions.values()]).delete()
        Conversation.objects.filter(pk__in=[m.conversation_id for m in mentions.values()]).delete()
        SocialAccount.objects.filter(pk__in=[google.pk, facebook.pk]).delete()
    connection.set_schema_to_public()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def open_as(browser, site, email: str, mention_key: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    server = site["server"]
    page.goto(server.url("alpha.localhost", "/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
    page.goto(server.url("alpha.localhost", f"/inbox/{site['mentions'][mention_key].pk}/"))
    return context, page


def write_and_publish(page, text: str) -> None:
    page.locator("#reply-text").fill(text)
    page.locator("#reply-form").get_by_role("button", name="Publish").click()


def test_a_responder_replies_twice_and_is_refused_a_third_time(browser, site):
    context, page = open_as(browser, site, "bob@alpha.test", "complaint")
    write_and_publish(page, SAFE)
    expect(page.locator("#conversation .pill.reply-published")).to_have_count(1)
    write_and_publish(page, "We have asked our clinic manager, Anna, to call you today.")
    expect(page.locator("#conversation .pill.reply-published")).to_have_count(2)
    expect(page.locator("#rule-of-two")).to_contain_text("2 of 2")
    write_and_publish(page, "Just checking in again: we are still here for you.")
    expect(page.locator(".message.code-rule_of_two")).to_contain_text("third public reply")
    expect(page.locator("#conversation .pill.reply-published")).to_have_count(2)
    expect(page.locator(".reply-work.draft")).to_have_count(1)  # kept as a draft to rework
    parent = site["mentions"]["complaint"].external_id
    assert len(site["fake"].comments[parent]) == 2, "two comments on Facebook, not three"
    context.close()


def test_a_reply_with_patient_details_is_blocked_and_the_phrase_highlighted(browser, site):
    context, page = open_as(browser, site, "bob@alpha.test", "phi")
    write_and_publish(page, "We're sorry. Your root canal was done exactly as planned.")
    expect(page.locator(".message.code-phi")).to_contain_text("discloses patient details")
    expect(page.locator(".reply-work.draft mark.block.phi")).to_have_text("Your root canal")
    expect(page.locator(".problem.code-phi")).to_contain_text("Please call us at")
    assert site["fake"].count("PUT") == 0, "nothing reached Google"
    context.close()


def test_a_reply_to_a_hostile_mention_waits_out_its_cooling_off_and_can_be_cancelled(browser, site):
    context, page = open_as(browser, site, "bob@alpha.test", "threat")
    write_and_publish(page, "We have passed your message to the police.")
    first = page.locator(".reply-work.scheduled")
    expect(first).to_have_count(1)
    expect(first.locator(".countdown")).to_contain_text("sends in 9:")
    first.get_by_role("button", name="Cancel reply").click()
    expect(page.locator(".message.success")).to_contain_text("Cancelled.")
    expect(page.locator(".reply-work.scheduled")).to_have_count(0)

    write_and_publish(page, SAFE)
    expect(page.locator(".reply-work.scheduled .countdown")).to_contain_text("sends in")
    assert site["fake"].count("PUT") == 0, "nothing is sent during the cooling-off"
    # Ten minutes pass: the once-a-minute sweep sends it (run here as the schedule would).
    with site["blocker"].unblock(), schema_context(site["practice"].schema_name):
        reply = Reply.objects.get(mention=site["mentions"]["threat"], status="scheduled")
        past = timezone.now() - dt.timedelta(seconds=1)
        Reply.objects.filter(pk=reply.pk).update(scheduled_for=past)
        item = OutboxItem.objects.get(reply=reply)
        OutboxItem.objects.filter(pk=item.pk).update(due_at=past)
        with override_settings(GOOGLE_API_BASE=site["fake"].base):
            assert publishing.outbox_send(item.pk) == "published"
    connection.set_schema_to_public()
    page.reload()
    expect(page.locator("#conversation .pill.reply-published")).to_have_count(1)
    expect(page.locator("#mention-status")).to_have_text("Answered")
    context.close()


def test_two_browsers_on_one_mention_see_the_collision_warning(browser, site):
    bob_context, bob = open_as(browser, site, "bob@alpha.test", "collision")
    alice_context, alice = open_as(browser, site, "alice@alpha.test", "collision")
    bob.locator("#reply-text").click()
    bob.locator("#reply-text").fill("Sorry for the wait, we")
    expect(alice.locator("#presence")).to_have_text("Bob is replying", timeout=15_000)
    write_and_publish(alice, SAFE)
    expect(alice.locator(".message.code-collision")).to_contain_text("Bob is replying")
    draft = alice.locator(".reply-work.draft")
    draft.get_by_label("Publish although someone else is replying").check()
    draft.get_by_role("button", name="Publish").click()
    expect(alice.locator("#conversation .pill.reply-published")).to_have_count(1)
    # Alice's page said goodbye when it left (and the row would expire anyway).
    bob.reload()
    expect(bob.locator("#conversation .pill.reply-published")).to_have_count(1)
    expect(bob.locator("#presence")).to_be_hidden()
    bob_context.close()
    alice_context.close()
