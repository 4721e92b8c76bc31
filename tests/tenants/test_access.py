"""Who may open which practice: members, their agency's staff, and nobody else."""

from urllib.parse import urlparse

import pytest

from tenants.models import LoginHandoff
from tenants.selectors import practice_list_for_user, practice_role_for
from tests.conftest import PASSWORD, client_for


def test_roles_come_from_membership_or_the_agency(cast):
    role = practice_role_for
    assert role(user=cast.alice, practice=cast.alpha) == "owner"
    assert role(user=cast.bob, practice=cast.alpha) == "responder"
    assert role(user=cast.charlie, practice=cast.alpha) is None
    assert role(user=cast.agnes, practice=cast.alpha) == "manager"
    assert role(user=cast.agnes, practice=cast.beta) == "manager"
    assert role(user=cast.agnes, practice=cast.gamma) is None
    assert role(user=cast.oscar, practice=cast.gamma) == "manager"
    assert role(user=cast.oscar, practice=cast.alpha) is None


def test_agency_staff_see_exactly_their_clients(cast):
    assert [p.slug for p in practice_list_for_user(user=cast.agnes)] == ["alpha", "beta"]
    assert [p.slug for p in practice_list_for_user(user=cast.oscar)] == ["gamma"]
    assert [p.slug for p in practice_list_for_user(user=cast.alice)] == ["alpha"]


def test_a_member_signs_in_on_the_practice_host(cast):
    client = client_for("alpha.localhost")
    response = client.post("/login/", {"username": "alice@alpha.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/inbox/").status_code == 200


def test_an_outsider_cannot_sign_in_on_a_practice_host(cast):
    client = client_for("alpha.localhost")
    response = client.post("/login/", {"username": "charlie@gamma.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "no access to this practice" in response.content.decode()
    assert client.get("/inbox/").status_code == 302  # still anonymous: sent to login


def test_sessions_are_per_practice_host(cast):
    client = client_for("alpha.localhost")
    client.post("/login/", {"username": "agnes@north.test", "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["domain"] == ""  # host-only: the browser never sends it to beta


def test_the_public_page_lists_the_agency_clients(cast):
    response = client_for("localhost", cast.agnes).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Dental" in body and "Beta Aesthetics" in body
    assert "Gamma Spa" not in body


def test_the_switcher_hands_agency_staff_over_to_a_client(cast):
    public = client_for("localhost", cast.agnes)
    response = public.post("/switch/beta/")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.hostname == "beta.localhost"
    beta = client_for("beta.localhost")
    landed = beta.get(f"{target.path}?{target.query}")
    assert landed.status_code == 302 and landed["Location"] == "/inbox/"
    assert beta.get("/inbox/").status_code == 200
    # The ticket is single-use.
    again = client_for("beta.localhost").get(f"{target.path}?{target.query}")
    assert again["Location"] == "/login/"


def test_a_handoff_ticket_only_works_on_its_own_practice(cast):
    response = client_for("localhost", cast.agnes).post("/switch/beta/")
    query = urlparse(response["Location"]).query
    stolen = client_for("alpha.localhost").get(f"/handoff/?{query}")
    assert stolen["Location"] == "/login/"
    assert LoginHandoff.objects.filter(used_at__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["agnes", "charlie"])
def test_nobody_switches_into_a_practice_they_cannot_open(cast, who):
    client = client_for("localhost", getattr(cast, who))
    assert client.post("/switch/gamma/" if who == "agnes" else "/switch/alpha/").status_code == 404
    assert LoginHandoff.objects.count() == 0


def test_practice_pages_are_not_served_on_the_public_host(cast):
    client = client_for("localhost", cast.alice)
    assert client.get("/inbox/").status_code == 404
    assert client.get("/api/v1/mentions/").status_code == 404


def test_the_admin_shows_practice_data_only_on_the_practice_host(cast):
    from tenants.models import User

    admin = User.objects.create_superuser("root@service.test", "pw-root-123")
    public = client_for("localhost", admin)
    index = public.get("/admin/").content.decode()
    assert "Practices" in index and "Audit events" not in index
    assert public.get("/admin/audit/auditevent/").status_code in (403, 404)
    practice = client_for("alpha.localhost", admin)
    assert practice.get("/admin/audit/auditevent/").status_code == 200


def test_only_staff_reach_the_admin(cast):
    response = client_for("alpha.localhost", cast.alice).get("/admin/audit/auditevent/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
