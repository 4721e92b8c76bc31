"""`seed_demo`: the demo a clinic recognises, built through the real pipeline, idempotent.

The demo practices (fjord-dental, glow-aesthetics) and agency (northlight) do not clash
with the shared cast (alpha, beta, gamma, north, south). Each test seeds inside its own
transaction, so the schemas it creates are rolled back with it.
"""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from inbox.models import Alert, Author, Mention, MentionRevision, SocialAccount
from reputation.audit.models import AuditEvent
from reputation.demo import FJORD, GLOW, PASSWORD, demo_seed
from tenants.models import AgencyMembership, Membership, Practice, Role, User

EDITED_REVIEW = next(s.external_id for s in FJORD.mentions if s.edit is not None)


@pytest.fixture
def seeded(db):
    out = io.StringIO()
    summary = demo_seed(stdout=out)
    practices = {p.slug: p for p in Practice.objects.filter(slug__in=[FJORD.slug, GLOW.slug])}
    return summary, practices, out.getvalue()


def _snapshot(practices: dict[str, Practice]) -> dict[str, object]:
    """Row counts (and mention states) that a second run must leave exactly as they are."""
    snap: dict[str, object] = {
        "practices": Practice.objects.count(),
        "users": User.objects.count(),
        "memberships": sorted(Membership.objects.values_list("user__email", "role")),
        "agency": sorted(AgencyMembership.objects.values_list("user__email", "role")),
    }
    for slug, practice in practices.items():
        with tenant_context(practice):
            snap[slug] = {
                "accounts": SocialAccount.objects.count(),
                "mentions": sorted(
                    Mention.objects.values_list(
                        "external_id", "text", "rating", "category", "assignee_id", "due_at"
                    )
                ),
                "revisions": MentionRevision.objects.count(),
                "alerts": Alert.objects.count(),
                "authors": Author.objects.count(),
                "audit": AuditEvent.objects.count(),
            }
    return snap


def test_it_creates_the_agency_its_two_clients_and_their_logins(seeded):
    summary, practices, out = seeded

    assert set(practices) == {"fjord-dental", "glow-aesthetics"}
    assert {p.agency.slug for p in practices.values()} == {"northlight"}
    assert practices["fjord-dental"].name == "Fjord Dental Clinic"
    assert practices["glow-aesthetics"].name == "Glow Aesthetics"
    assert summary.practices.created == 2

    roles = {
        (m.user.email, m.practice.slug): m.role
        for m in Membership.objects.filter(practice__in=practices.values()).select_related(
            "user", "practice"
        )
    }
    assert roles == {
        ("owner@fjord-dental.test", "fjord-dental"): Role.OWNER,
        ("manager@fjord-dental.test", "fjord-dental"): Role.MANAGER,
        ("responder@fjord-dental.test", "fjord-dental"): Role.RESPONDER,
        ("owner@glow.test", "glow-aesthetics"): Role.OWNER,
        ("responder@glow.test", "glow-aesthetics"): Role.RESPONDER,
    }
    staff = AgencyMembership.objects.get(agency__slug="northlight")
    assert (staff.user.email, staff.role) == ("agency@demo.test", Role.MANAGER)
    assert User.objects.get(email="owner@fjord-dental.test").full_name == "Ingrid Berg"
    admin = User.objects.get(email="admin@demo.test")
    assert admin.is_superuser and admin.is_staff
    for email in [*(e for e, _ in roles), "agency@demo.test", "admin@demo.test"]:
        assert User.objects.get(email=email).check_password(PASSWORD), email
    # The logins are printed for whoever runs the command.
    assert "owner@fjord-dental.test" in out and PASSWORD in out


def test_every_account_has_an_owner_but_one_in_glow(seeded):
    _, practices, _ = seeded
    with tenant_context(practices["fjord-dental"]):
        assert SocialAccount.objects.count() == 7
        assert not SocialAccount.objects.filter(owner__isnull=True).exists()
        assert not SocialAccount.objects.filter(backup_owner__isnull=True).exists()
        assert SocialAccount.objects.get(platform="x").handle == "@fjorddental"
    with tenant_context(practices["glow-aesthetics"]):
        unowned = SocialAccount.objects.filter(owner__isnull=True)
        assert [a.platform for a in unowned] == ["yelp"]


def test_mentions_went_through_the_pipeline(seeded):
    summary, practices, _ = seeded
    now = timezone.now()
    # One item (a supplier with a similar name) is kept out by the exclusion rule.
    assert summary.mentions_skipped == 1
    assert summary.mentions.created == 26 + 16

    with tenant_context(practices["fjord-dental"]):
        fjord = list(Mention.objects.select_related("account"))
        assert len(fjord) == 26
        for mention in fjord:
            if mention.account and mention.account.owner_id:
                assert mention.assignee_id == mention.account.owner_id, mention.external_id
        threat = Mention.objects.get(category=Mention.Category.THREAT)
        assert "burn it down" in threat.text
        assert threat.alerts.filter(kind=Alert.Kind.THREAT).count() == 1
        edited = Mention.objects.get(platform="google", external_id=EDITED_REVIEW)
        assert edited.rating == 4
        assert [
            (r.rating, r.text.startswith("Waited 75 minutes")) for r in edited.revisions.all()
        ] == [(1, True)]
        # Clocks: some still running (the last hour), some missed (days old).
        open_ = Mention.objects.filter(status__in=["new", "open"], first_response_at__isnull=True)
        assert open_.filter(due_at__gt=now).exists()
        assert open_.filter(due_at__lt=now).exists()
        # The Facebook thread: one conversation, the practice's reply stopped the clock.
        post = Mention.objects.get(platform="facebook", kind="post")
        assert post.status == Mention.Status.ANSWERED and post.first_response_at is not None
        assert Mention.objects.filter(conversation=post.conversation).count() == 3
        assert {m.language for m in fjord} >= {"en", "no"}
        assert Mention.objects.filter(is_indirect=True, platform="feed").exists()

    with tenant_context(practices["glow-aesthetics"]):
        glow = list(Mention.objects.select_related("account"))
        assert len(glow) == 16
        for mention in glow:
            if mention.account and mention.account.owner_id:
                assert mention.assignee_id == mention.account.owner_id, mention.external_id
            elif mention.account:  # the unowned Yelp listing
                assert mention.assignee_id is None
    assert len(fjord) + len(glow) >= 30


def test_a_second_run_creates_nothing_and_changes_nothing(seeded):
    _, practices, _ = seeded
    before = _snapshot(practices)

    again = demo_seed()

    assert not again.created_anything
    assert again.practices.present == 2
    assert again.mentions.created == 0 and again.mentions.present == 26 + 16
    assert again.revisions.created == 0 and again.revisions.present == 1
    assert _snapshot(practices) == before


def test_the_demo_shows_a_possible_threat_for_a_person_to_check(seeded):
    _, practices, _ = seeded
    with tenant_context(practices["glow-aesthetics"]):
        maybe = Mention.objects.get(pin=1)
        assert maybe.category != Mention.Category.THREAT
        assert maybe.possible_threat == "gun to that receptionist"
        assert not maybe.alerts.exists()


def test_the_demo_threat_has_its_police_escalation_draft(seeded):
    from escalation.models import Escalation

    _, practices, _ = seeded
    with tenant_context(practices[FJORD.slug]):
        threats = Mention.objects.filter(category="threat", status__in=["new", "open"])
        assert threats.exists()
        for threat in threats:
            assert Escalation.objects.filter(mention=threat, kind="police").count() == 1
