"""The web app in a real headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser import CHROMIUM_ARGS, chromium_path, demo_remove, start_server

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
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


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
