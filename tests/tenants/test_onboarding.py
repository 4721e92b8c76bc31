"""A practice's first day from the web: created by a platform administrator or by an
agency for its own clients, its owner invited by email with a single-use link."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tenants import services
from tenants.models import AgencyMembership, Membership, OutboundEmail, Practice, Role, User
from tests.conftest import client_for

FORM = {
    "name": "Smile Dental",
    "slug": "smile",
    "country": "gb",
    "timezone": "Europe/London",
    "owner_email": "Owner@Smile.test",
}


@pytest.fixture
def admin(db):
    return User.objects.create_user("root@platform.test", "x-pass-12345", is_staff=True)


def _send_all() -> None:
    for email in OutboundEmail.objects.filter(sent_at__isnull=True):
        services.outbound_email_send(email.pk)


def test_a_platform_admin_creates_a_practice_and_its_owner_sets_a_password(
    admin, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = client_for("localhost", admin)
    assert "new-practice" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/practices/new/", FORM)
    assert response.status_code == 302
    practice = Practice.objects.get(slug="smile")
    assert (practice.country, practice.timezone) == ("GB", "Europe/London")
    owner = User.objects.get(email="owner@smile.test")
    assert Membership.objects.get(practice=practice, user=owner).role == Role.OWNER
    assert not owner.has_usable_password()

    _send_all()
    _send_all()  # sent once, whatever runs twice
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@smile.test"]
    link = re.search(r"http://localhost:\d+(/invite/\S+/)", mail.outbox[0].body).group(1)

    anonymous = client_for("localhost")
    assert anonymous.get(link).status_code == 200
    done = anonymous.post(
        link, {"new_password1": "a-Long-pass-2026", "new_password2": "a-Long-pass-2026"}
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-Long-pass-2026")
    assert client_for("localhost").get(link).status_code == 400  # single use


def test_an_agency_manager_creates_a_client_for_its_own_agency_only(cast, tenant):
    client = client_for("localhost", cast.agnes)  # north's manager
    assert client.post("/practices/new/", {**FORM, "agency": cast.north.pk}).status_code == 302
    assert Practice.objects.get(slug="smile").agency == cast.north
    other = client.post("/practices/new/", {**FORM, "slug": "smile-two", "agency": cast.south.pk})
    assert other.status_code == 200  # the form refuses an agency not theirs
    assert not Practice.objects.filter(slug="smile-two").exists()


@pytest.mark.parametrize("who", ["bob", "charlie", "vera"])
def test_people_without_an_agency_role_cannot_create_practices(cast, who):
    client = client_for("localhost", getattr(cast, who))
    assert client.get("/practices/new/").status_code == 404
    assert client.post("/practices/new/", FORM).status_code == 404
    assert not Practice.objects.filter(slug="smile").exists()


def test_agency_staff_below_manager_cannot_create(cast):
    AgencyMembership.objects.filter(user=cast.agnes).update(role=Role.RESPONDER)
    assert client_for("localhost", cast.agnes).get("/practices/new/").status_code == 404


def test_a_bad_or_tampered_invitation_link_is_refused(cast):
    assert client_for("localhost").get("/invite/xx/yy/").status_code == 400
    link = services.invite_link(user=cast.bob).split("localhost")[1].split("/", 1)[1]
    tampered = "/" + link[:-3] + "abc/"
    assert client_for("localhost").get(tampered).status_code == 400


def test_the_practice_page_is_only_on_the_public_host(cast):
    assert client_for("alpha.localhost", cast.alice).get("/practices/new/").status_code == 404
