"""Working the inbox in a real Chromium: filter, keyboard, close with an outcome, and a
new mention appearing without a reload."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import chromium, demo_remove, start_server

DEMO_PASSWORD = "demo-pass-2026"
HOST = "fjord-dental.localhost"
pytestmark = pytest.mark.django_db
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    from reputation.demo import demo_seed

    with django_db_blocker.unblock():
        demo_seed()
    live = start_server({"INBOX_POLL_SECONDS": "1"})
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)
    with django_db_blocker.unblock():
        demo_remove()


@pytest.fixture
def page(server):
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(server.url(HOST, "/login/"))
        page.get_by_label("Email").fill("responder@fjord-dental.test")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#mentions")).to_be_visible()
        yield page


def test_a_responder_filters_selects_with_the_keyboard_and_closes(page, server):
    page.get_by_label("Category").select_option(label="Complaint")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"category=complaint"))
    rows = page.locator("#mention-rows tr.mention")
    expect(rows.first).to_be_visible()
    assert set(page.locator("#mention-rows .pill.complaint").all_inner_texts()) == {"Complaint"}
    first_id = rows.first.get_attribute("data-id")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(rows.first).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("x")
    expect(rows.first.locator("input[name=ids]")).to_be_checked()
    page.locator("#bulk select[name=outcome]").select_option(label="Resolved")
    page.keyboard.press("e")
    expect(page.get_by_role("status")).to_contain_text("Closed 1 mention")
    closed = page.locator(f'#mention-rows tr[data-id="{first_id}"]')
    expect(closed).to_contain_text("Resolved")


def test_a_new_mention_appears_without_a_reload(page, server, django_db_blocker):
    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms.base import NormalisedMention
    from tenants.models import Practice

    page.evaluate("window.__marker = 'same page'")
    with django_db_blocker.unblock():
        practice = Practice.objects.get(slug="fjord-dental")
        with tenant_context(practice):
            mentions_ingest(
                [
                    NormalisedMention(
                        platform="google",
                        external_id="live-row-1",
                        kind="review",
                        text="Live arrival: the waiting room was freezing",
                        rating=2,
                        posted_at=timezone.now() - dt.timedelta(minutes=1),
                    )
                ],
                source="test",
            )
    row = page.locator("#mention-rows tr.mention.new", has_text="Live arrival")
    expect(row).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
