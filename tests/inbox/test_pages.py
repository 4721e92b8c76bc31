"""Web pages of a practice: inbox, listening rules, deadline settings, accounts."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from inbox.models import InboxSettings, ListeningRule, Mention, SocialAccount
from reputation.audit.models import AuditEvent
from tests.conftest import client_for


def test_the_inbox_lists_newest_first_with_rating_and_owner(cast, tenant):
    with tenant(cast.alpha):
        account = SocialAccount.objects.create(
            platform="google", external_id="loc", display_name="Alpha Oslo", owner=cast.bob
        )
        for day, text in [(1, "older review"), (2, "newer review")]:
            Mention.objects.create(
                account=account,
                platform="google",
                external_id=text,
                text=text,
                rating=4,
                assignee=cast.bob,
                posted_at=dt.datetime(2026, 11, day, tzinfo=dt.UTC),
            )
    body = client_for("alpha.localhost", cast.vera).get("/inbox/").content.decode()
    assert body.index("newer review") < body.index("older review")
    assert "Alpha Oslo" in body and "Bob" in body and "★★★★☆" in body


def test_unowned_accounts_are_flagged(cast, tenant):
    with tenant(cast.alpha):
        SocialAccount.objects.create(platform="yelp", external_id="y", display_name="Alpha on Yelp")
    body = client_for("alpha.localhost", cast.alice).get("/inbox/accounts/").content.decode()
    assert "No owner" in body


def test_a_manager_adds_and_removes_a_listening_rule(cast, tenant):
    client = client_for("alpha.localhost", cast.agnes)
    response = client.post("/inbox/listening/", {"kind": "misspelling", "term": "  Alfa   Dental "})
    assert response.status_code == 302
    with tenant(cast.alpha):
        rule = ListeningRule.objects.get()
        assert (rule.kind, rule.term) == ("misspelling", "Alfa Dental")
    assert client.post(f"/inbox/listening/{rule.pk}/delete/").status_code == 302
    with tenant(cast.alpha):
        assert not ListeningRule.objects.exists()
        actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_label"))
    assert actions == [
        ("listening_rule.created", "agnes@north.test"),
        ("listening_rule.deleted", "agnes@north.test"),
    ]


def test_a_responder_can_read_but_not_change_listening_rules(cast, tenant):
    client = client_for("alpha.localhost", cast.bob)
    assert client.get("/inbox/listening/").status_code == 200
    assert client.post("/inbox/listening/", {"kind": "brand", "term": "X"}).status_code == 403
    with tenant(cast.alpha):
        assert not ListeningRule.objects.exists()


def test_the_owner_changes_deadlines_and_it_is_audited(cast, tenant):
    client = client_for("alpha.localhost", cast.alice)
    form = client.get("/inbox/settings/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(complaint_minutes=30, business_weekdays="4,0,1,2,3", business_hours_only="")
    assert client.post("/inbox/settings/", data).status_code == 302
    with tenant(cast.alpha):
        saved = InboxSettings.objects.get()
        assert (saved.complaint_minutes, saved.business_weekdays) == (30, "0,1,2,3,4")
        event = AuditEvent.objects.get(action="inbox_settings.changed")
        assert event.data["complaint_minutes"] == ["60", "30"]


def test_bad_business_days_are_refused(cast, tenant):
    client = client_for("alpha.localhost", cast.alice)
    form = client.get("/inbox/settings/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(business_weekdays="mon,tue", business_hours_only="")
    response = client.post("/inbox/settings/", data)
    assert (
        response.status_code == 200 and "day numbers 0 (Monday) to 6" in response.content.decode()
    )


def test_a_responder_cannot_open_the_deadline_settings(cast):
    assert client_for("alpha.localhost", cast.bob).get("/inbox/settings/").status_code == 404


def test_a_manager_names_an_owner_and_backup_and_it_is_audited(cast, tenant):
    with tenant(cast.alpha):
        account = SocialAccount.objects.create(
            platform="yelp", external_id="y1", display_name="Yelp"
        )
    client = client_for("alpha.localhost", cast.alice)
    page = client.get(f"/inbox/accounts/{account.pk}/owners/").content.decode()
    assert "Bob" in page and "Agnes" in page and "Charlie" not in page
    response = client.post(
        f"/inbox/accounts/{account.pk}/owners/",
        {"owner": cast.bob.pk, "backup_owner": cast.agnes.pk, "owner_away": "on"},
    )
    assert response.status_code == 302
    with tenant(cast.alpha):
        account.refresh_from_db()
        assert (account.owner, account.backup_owner, account.owner_away) == (
            cast.bob,
            cast.agnes,
            True,
        )
        event = AuditEvent.objects.get(action="account.changed")
        assert event.actor_label == "alice@alpha.test"
        assert event.data["owner"] == "bob@alpha.test"


def test_an_outsider_cannot_be_made_owner(cast, tenant):
    with tenant(cast.alpha):
        account = SocialAccount.objects.create(
            platform="yelp", external_id="y2", display_name="Yelp"
        )
    response = client_for("alpha.localhost", cast.alice).post(
        f"/inbox/accounts/{account.pk}/owners/", {"owner": cast.charlie.pk}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with tenant(cast.alpha):
        account.refresh_from_db()
        assert account.owner is None


def test_away_needs_a_backup(cast, tenant):
    with tenant(cast.alpha):
        account = SocialAccount.objects.create(
            platform="yelp", external_id="y3", display_name="Yelp"
        )
    response = client_for("alpha.localhost", cast.alice).post(
        f"/inbox/accounts/{account.pk}/owners/", {"owner": cast.bob.pk, "owner_away": "on"}
    )
    assert "Name a backup" in response.content.decode()


def test_the_detail_page_shows_why_and_the_earlier_versions(cast, tenant):
    import datetime as dt

    from django.utils import timezone

    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms.base import NormalisedMention

    t0 = timezone.now() - dt.timedelta(minutes=30)

    def review(text: str, rating: int, at: dt.datetime) -> NormalisedMention:
        return NormalisedMention(
            platform="google",
            external_id="rev-9",
            kind="review",
            text=text,
            rating=rating,
            posted_at=t0,
            updated_at=at,
            author_name="Kari",
        )

    with tenant(cast.alpha):
        mentions_ingest([review("Rude receptionist, awful wait.", 1, t0)])
        mentions_ingest(
            [review("They apologised and fixed it. Lovely now!", 4, t0 + dt.timedelta(minutes=5))]
        )
        pk = Mention.objects.get(external_id="rev-9").pk
    body = client_for("alpha.localhost", cast.vera).get(f"/inbox/{pk}/").content.decode()
    assert "They apologised and fixed it." in body
    assert "Earlier versions" in body and "Rude receptionist, awful wait." in body
    assert "Why:" in body and "sentiment" in body


def test_the_accounts_page_shows_a_failing_source_since_when_and_what_to_do(cast, tenant):
    now = timezone.now().replace(second=0, microsecond=0)
    since = now - dt.timedelta(days=2, hours=3)
    error = "feed answered HTTP 410; check the account's settings"
    with tenant(cast.alpha):
        failing = SocialAccount.objects.create(
            platform="feed",
            external_id="https://example.com/gone.xml",
            display_name="Blog alert",
            owner=cast.bob,
            poll_enabled=True,
            last_polled_at=now - dt.timedelta(minutes=10),
            last_poll_error=error,
            last_poll_error_at=since,
        )
        # Polling switched off since: its old error is no longer a failing source.
        SocialAccount.objects.create(
            platform="yelp",
            external_id="old",
            display_name="Old Yelp",
            owner=cast.bob,
            poll_enabled=False,
            last_poll_error="yelp answered HTTP 401",
            last_poll_error_at=since,
        )
        SocialAccount.objects.create(
            platform="google",
            external_id="accounts/1/locations/1",
            display_name="Alpha Oslo",
            owner=cast.bob,
            poll_enabled=True,
            last_polled_at=since,
        )
    response = client_for("alpha.localhost", cast.vera).get("/inbox/accounts/")
    assert response.context["failing_accounts"] == 1
    body = response.content.decode()
    assert '<span class="pill failing">1 source failing</span>' in body
    row = body[body.index(f'<tr data-id="{failing.pk}">') :]
    row = row[: row.index("</tr>")]
    local = since.astimezone(ZoneInfo(cast.alpha.timezone))  # shown in the practice's time
    assert "Failing for 2\xa0days" in row and f"since {local.day} {local:%b %Y %H:%M}" in row
    assert "feed answered HTTP 410; check the account&#x27;s settings" in row
    assert "yelp answered HTTP 401" not in body
    assert "OK, polled" in body

    inbox = client_for("alpha.localhost", cast.vera).get("/inbox/").content.decode()
    assert '<span class="pill failing">1 source failing</span>' in inbox
    assert 'href="/inbox/accounts/">See the error and what to do' in inbox


def test_no_failing_badge_when_every_source_works(cast, tenant):
    with tenant(cast.alpha):
        SocialAccount.objects.create(
            platform="feed", external_id="https://example.com/ok.xml", display_name="Feed",
            poll_enabled=True,
        )  # fmt: skip
    for path in ("/inbox/accounts/", "/inbox/"):
        body = client_for("alpha.localhost", cast.vera).get(path).content.decode()
        assert "failing" not in body, path


def test_a_possible_threat_is_marked_for_a_person_to_check_without_an_alert(cast, tenant):
    from inbox.models import Alert
    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms.base import NormalisedMention

    def comment(external_id: str, text: str) -> NormalisedMention:
        return NormalisedMention(
            platform="facebook",
            external_id=external_id,
            kind="comment",
            text=text,
            posted_at=timezone.now() - dt.timedelta(minutes=5),
            author_name="Anon",
        )

    with tenant(cast.alpha):
        mentions_ingest(
            [
                comment("pt-1", "Somebody should take a gun to that receptionist"),
                comment("pt-2", "The wait killed me, but the hygienist was lovely"),
            ]
        )
        maybe = Mention.objects.get(external_id="pt-1")
        calm = Mention.objects.get(external_id="pt-2")
        assert maybe.category != "threat" and maybe.possible_threat == "gun to that receptionist"
        assert calm.possible_threat == ""
        assert not Alert.objects.exists()  # the second tier never pages anyone

    client = client_for("alpha.localhost", cast.vera)
    inbox = client.get("/inbox/").content.decode()
    assert inbox.count("check: possible threat") == 1
    assert "possible threat to check" in inbox
    # The agency sees it too, next to the client's open threats.
    overview = client_for("localhost", cast.agnes).get("/").context["overview"]
    alpha = next(r for r in overview if r["practice"].slug == "alpha")
    assert (alpha["threats"], alpha["possible_threats"]) == (0, 1)
    detail = client.get(f"/inbox/{maybe.pk}/").content.decode()
    assert "Possible threat:" in detail and "gun to that receptionist" in detail


def test_open_possible_threats_sit_below_threats_and_above_newer_mentions(cast, tenant):
    from inbox.pipeline.store import mentions_ingest
    from inbox.platforms.base import NormalisedMention
    from inbox.selectors import mention_list

    def comment(external_id: str, text: str, minutes_ago: int) -> NormalisedMention:
        return NormalisedMention(
            platform="facebook",
            external_id=external_id,
            kind="comment",
            text=text,
            posted_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
            author_name="Anon",
        )

    with tenant(cast.alpha):
        mentions_ingest(
            [
                comment("o-threat", "I will burn this place down", 30),
                comment("o-maybe", "Somebody should take a gun to that receptionist", 20),
                comment("o-new", "Do you have appointments on Saturday?", 1),
            ]
        )
        order = [m.external_id for m in mention_list()]
        assert order == ["o-threat", "o-maybe", "o-new"]
        # Once someone has dealt with it, it takes its place by date again.
        Mention.objects.filter(external_id="o-maybe").update(status="resolved")
        assert [m.external_id for m in mention_list()] == ["o-threat", "o-new", "o-maybe"]
