"""Escalation and platform reports in a real Chromium against a real web server.

The server is another process, so it sees only committed rows: this module works in a
practice of its own ("echo"), seeded and polled in-process with committed writes
(`django_db_blocker.unblock()`), and drops that practice's schema afterwards. Google's
server is mocked at the HTTP boundary (respx) for the in-process polls.
"""

from __future__ import annotations

import io
import os

import httpx
import pytest
import respx
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser import chromium, start_server

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "echo-pass-2026-x"
HOST = "echo.localhost"
LOCATION = "accounts/7070/locations/7171"
REVIEWS_URL = f"https://mybusiness.googleapis.com/v4/{LOCATION}/reviews"


def review(rid: str, name: str, stars: str, text: str) -> dict:
    return {
        "name": f"{LOCATION}/reviews/{rid}",
        "reviewId": rid,
        "reviewer": {"displayName": name},
        "starRating": stars,
        "comment": text,
        "createTime": "2026-11-20T10:00:00Z",
        "updateTime": "2026-11-20T10:00:00Z",
    }


GOOD = review("good1", "Kari Nordmann", "FIVE", "Lovely, gentle dentist. Thank you!")
FAKE = review("fake1", "Ola Fakename", "ONE", "Worst clinic ever, they ruined my teeth.")


@pytest.fixture(scope="module")
def echo(django_db_setup, django_db_blocker):
    from escalation import customers
    from escalation.permissions import Operator
    from inbox.models import SocialAccount
    from inbox.services import social_account_save
    from tenants import services as tenant_services
    from tenants.models import User

    with django_db_blocker.unblock():
        practice = tenant_services.practice_create(
            slug="echo", name="Echo Dental", owner_email="owner@echo.test", owner_password=PASSWORD
        )
        manager = tenant_services.user_get_or_create(
            email="manager@echo.test", password=PASSWORD, full_name="Echo Manager"
        )
        tenant_services.membership_set(user=manager, practice=practice, role="manager")
        with schema_context(practice.schema_name):
            social_account_save(
                account=SocialAccount(
                    platform="google",
                    external_id=LOCATION,
                    display_name="Echo Oslo",
                    poll_enabled=True,
                    poll_state={"token": "ya29.test"},
                    owner=manager,
                )
            )
            customers.customer_list_import(
                lines=io.StringIO("name,email\nKari Nordmann,kari@example.no\n"),
                actor=Operator("test"),
            )
    yield practice
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        from tenants.models import AccountRoute

        # No pg_terminate_backend here: it also cut connections later tests in this
        # process still hold. The live server has stopped by now (its fixture ends first).
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{practice.schema_name}" CASCADE')
        AccountRoute.objects.filter(practice=practice).delete()
        practice.delete()
        User.objects.filter(email__endswith="@echo.test").delete()


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker, echo):
    live = start_server()
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def login(page, live, email: str) -> None:
    page.goto(live.url(HOST, "/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def poll(echo, django_db_blocker, reviews: list[dict]) -> None:
    from inbox.models import SocialAccount
    from inbox.sources.polling import poll_account

    with django_db_blocker.unblock(), schema_context(echo.schema_name):
        account = SocialAccount.objects.get(external_id=LOCATION)
        with respx.mock() as mock:
            mock.get(REVIEWS_URL).mock(return_value=httpx.Response(200, json={"reviews": reviews}))
            poll_account(account)
    connection.set_schema_to_public()


def test_a_threat_gets_a_police_draft_a_manager_records_it_and_the_pack_verifies(
    echo, live, page, django_db_blocker, tmp_path, capsys
):
    from inbox.pipeline.store import mentions_ingest
    from tests.inbox.test_pipeline import nm

    with django_db_blocker.unblock(), schema_context(echo.schema_name):
        mentions_ingest(
            [
                nm(
                    "threat-1",
                    "I know where you live. I will burn the clinic down.",
                    account_external_id=LOCATION,
                    author_external_id="angry-1",
                    author_name="Angry Person",
                )
            ]
        )
    connection.set_schema_to_public()
    login(page, live, "manager@echo.test")
    page.goto(live.url(HOST, "/escalation/"))
    row = page.locator("#escalations tr.escalation").first
    expect(row).to_contain_text("Police")
    expect(row).to_contain_text("draft opened automatically")
    row.get_by_role("link").first.click()
    expect(page.locator("#danger")).to_contain_text(
        "If anyone is in immediate danger, call the emergency number now"
    )
    page.get_by_label("Who was contacted").fill("Oslo police, duty officer Berg")
    page.get_by_label("How").fill("phone 02800")
    page.get_by_role("button", name="Record contact").click()
    expect(page.locator("#escalation-status")).to_have_text("Contacted")
    page.get_by_label("Case reference").fill("2026-118734")
    page.get_by_role("button", name="Record case reference").click()
    expect(page.locator("#case-reference")).to_have_text("2026-118734")
    with page.expect_download() as download_info:
        page.locator("#download-pack").click()
    path = tmp_path / "pack.zip"
    download_info.value.save_as(path)
    capsys.readouterr()
    call_command("verify_pack", str(path))
    assert "every file matches its manifest" in capsys.readouterr().out
    data = bytearray(path.read_bytes())
    data[100] ^= 0x20  # one byte, inside the first file's compressed data
    path.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_pack", str(path))
    assert exit_.value.code == 1
    assert "DIFFERS" in capsys.readouterr().out
    page.reload()
    expect(page.locator("#trail")).to_contain_text("evidence_pack.downloaded")


def test_a_fake_review_is_reported_and_removed_when_it_leaves_the_next_poll(
    echo, live, page, django_db_blocker
):
    from inbox.models import Mention

    poll(echo, django_db_blocker, [GOOD, FAKE])
    with django_db_blocker.unblock(), schema_context(echo.schema_name):
        fake_id = Mention.objects.get(external_id="fake1").pk
    connection.set_schema_to_public()
    login(page, live, "manager@echo.test")
    page.goto(live.url(HOST, f"/inbox/{fake_id}/"))
    panel = page.locator("#customer-check")
    expect(panel).to_contain_text("Not found")
    expect(panel).to_contain_text("no customer with this name")
    page.locator("#report-to-platform").click()
    page.get_by_label("Google's reason").select_option(label="Conflict of interest")
    page.get_by_label("Grounds, in your words").fill(
        "No patient of ours has this name; posted the day a competitor opened."
    )
    page.get_by_role("button", name="Draft report").click()
    expect(page.locator("#report-status")).to_have_text("Draft")
    expect(page.locator("#open-platform")).to_have_attribute(
        "href", "https://support.google.com/business/workflow/9945796"
    )
    page.get_by_label("Platform's reference (if it gave one)").fill("5-1234000")
    page.get_by_role("button", name="Record as submitted").click()
    expect(page.locator("#report-status")).to_have_text("Submitted")
    report_url = page.url

    poll(echo, django_db_blocker, [GOOD])  # the fake review is gone from Google's list

    page.goto(report_url)
    expect(page.locator("#report-status")).to_have_text("Removed")
    expect(page.get_by_text("the review disappeared from the platform")).to_be_visible()
    page.goto(live.url(HOST, "/escalation/reports/"))
    expect(page.locator("#rates")).to_contain_text("Conflict of interest")
    expect(page.locator("#rates")).to_contain_text("100%")
    with django_db_blocker.unblock(), schema_context(echo.schema_name):
        from escalation.models import Notice

        assert Notice.objects.filter(subject__contains="removed the reported review").exists()
        assert Mention.objects.get(external_id="good1").removed_on_platform is False
    connection.set_schema_to_public()
