"""The web app in a real headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import chromium, demo_remove, start_server

DEMO_PASSWORD = "demo-pass-2026"
ARTIFACTS = Path(__file__).resolve().parent / ".artifacts"
# The pages are served by another process; the mark makes pytest-django create the test
# database (and keeps these tests from ever touching the developer's).
pytestmark = pytest.mark.django_db
# Playwright's sync API keeps an event loop on this thread, which makes Django refuse the
# test transaction's own queries; these tests run no ORM code next to the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    from reputation.demo import demo_seed

    with django_db_blocker.unblock():
        demo_seed()
    live = start_server()
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)
    with django_db_blocker.unblock():
        demo_remove()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def login(page, server, host: str, email: str) -> None:
    page.goto(server.url(host, "/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_demo_owner_signs_in_and_sees_the_inbox(server, page):
    login(page, server, "fjord-dental.localhost", "owner@fjord-dental.test")
    expect(page.get_by_role("heading", name="Inbox — Fjord Dental Clinic")).to_be_visible()
    rows = page.locator("#mentions tr.mention")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 18
    # The open threat is pinned to the top, marked as such.
    expect(rows.first.locator(".pill.threat")).to_be_visible()
    # Kept for a person to look at after a run (git-ignored).
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=False)


def test_a_wrong_password_keeps_the_owner_out(server, page):
    page.goto(server.url("fjord-dental.localhost", "/login/"))
    page.get_by_label("Email").fill("owner@fjord-dental.test")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct email and password")).to_be_visible()


def test_the_agency_user_switches_between_clients(server, page):
    login(page, server, "localhost", "agency@demo.test")
    expect(page.get_by_role("heading", name="Your practices")).to_be_visible()
    expect(page.get_by_role("cell", name="Glow Aesthetics")).to_be_visible()
    page.get_by_role("row", name="Fjord Dental Clinic").get_by_role("button").click()
    expect(page.get_by_role("heading", name="Inbox — Fjord Dental Clinic")).to_be_visible()
    assert page.url.startswith(server.url("fjord-dental.localhost", "/inbox/"))
    page.get_by_label("Practice").select_option(label="Glow Aesthetics")
    expect(page.get_by_role("heading", name="Inbox — Glow Aesthetics")).to_be_visible()
    assert page.url.startswith(server.url("glow-aesthetics.localhost", "/inbox/"))


def test_a_practice_owner_cannot_open_another_practice(server, page):
    login(page, server, "glow-aesthetics.localhost", "owner@fjord-dental.test")
    expect(page.get_by_text("no access to this practice")).to_be_visible()


@pytest.fixture(scope="module")
def failing_yelp(server, django_db_blocker) -> int:
    """Fjord's Yelp listing, failing to poll for two days (committed: the server sees it)."""
    import datetime as dt

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from inbox.models import SocialAccount
    from tenants.models import Practice

    now = timezone.now()
    with django_db_blocker.unblock(), tenant_context(Practice.objects.get(slug="fjord-dental")):
        account = SocialAccount.objects.get(platform="yelp")
        SocialAccount.objects.filter(pk=account.pk).update(
            poll_enabled=True,
            last_polled_at=now - dt.timedelta(minutes=5),
            last_poll_error="yelp answered HTTP 401: Invalid access token; the access token "
            "or API key was refused or has expired: renew it",
            last_poll_error_at=now - dt.timedelta(days=2),
        )
    return account.pk


def test_the_owner_sees_imported_history_and_a_failing_source(server, failing_yelp, page):
    login(page, server, "fjord-dental.localhost", "owner@fjord-dental.test")
    expect(page.get_by_role("heading", name="Inbox — Fjord Dental Clinic")).to_be_visible()
    # Imported history: listed under its own filter, not counted as open work.
    expect(page.locator("#history-note")).to_contain_text("imported history")
    page.get_by_label("Status").select_option(label="Imported history")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**status=history**")
    rows = page.locator("#mentions tr.mention")
    expect(rows.first).to_be_visible()
    assert rows.count() == page.locator("#mentions tr.mention .pill.history").count() >= 1
    # The failing source is flagged in the inbox and explained on the accounts page.
    expect(page.locator("#failing-sources")).to_contain_text("1 source failing")
    page.get_by_role("link", name="See the error and what to do").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    row = page.locator(f'#accounts tr[data-id="{failing_yelp}"]')
    expect(row).to_contain_text("Failing for 2")
    expect(row).to_contain_text("Invalid access token")
    expect(row).to_contain_text("renew it")
    expect(page.locator("#failing-sources")).to_contain_text("1 source failing")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "accounts.png"), full_page=False)
