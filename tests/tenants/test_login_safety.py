"""Sign-in: failed attempts are limited per account and per address; a forgotten
password is reset by a single-use link sent through the outbox."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tenants import services
from tenants.models import OutboundEmail
from tests.conftest import PASSWORD, client_for


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email: str, password: str):
    return client.post("/login/", {"username": email, "password": password})


def test_five_failures_lock_the_account_even_for_the_right_password(cast, settings):
    client = client_for("localhost")
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert sign_in(client, cast.bob.email, "wrong").status_code == 200
    locked = sign_in(client, cast.bob.email, PASSWORD)
    assert locked.status_code == 200 and "Too many failed sign-ins" in locked.content.decode()
    assert sign_in(client_for("localhost"), cast.alice.email, PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_stopped(cast, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    client = client_for("localhost")
    for n in range(3):
        sign_in(client, f"nobody{n}@example.test", "guess")
    assert (
        "Too many failed sign-ins" in sign_in(client, cast.alice.email, PASSWORD).content.decode()
    )


def test_a_forgotten_password_is_reset_by_a_single_use_link(cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    login_page = client_for("alpha.localhost").get("/login/").content.decode()
    assert re.search(r'href="http://localhost(:\d+)?/password/reset/" id="forgot"', login_page)
    anonymous = client_for("localhost")
    sent = anonymous.post("/password/reset/", {"email": cast.bob.email}, follow=True)
    assert "Check your email" in sent.content.decode()
    assert anonymous.post("/password/reset/", {"email": "nobody@nowhere.test"}).status_code == 302
    emails = list(OutboundEmail.objects.filter(to=cast.bob.email))
    assert len(emails) == 1 and not OutboundEmail.objects.filter(to="nobody@nowhere.test")
    services.outbound_email_send(emails[0].pk)
    link = re.search(r"http://localhost(?::\d+)?(/password/reset/\S+/)", mail.outbox[-1].body)
    form_page = anonymous.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and "Set a new password" in form_page.content.decode()
    done = anonymous.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-New-pass-2026", "new_password2": "a-New-pass-2026"},
        follow=True,
    )
    assert "Your password is set" in done.content.decode()
    cast.bob.refresh_from_db()
    assert cast.bob.check_password("a-New-pass-2026")
    again = client_for("localhost").get(link.group(1), follow=True).content.decode()
    assert "This link no longer works" in again
