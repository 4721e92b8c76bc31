"""The inbox as a place to work: filters, keyset pages, bounded counts, bulk assign and
close, live new rows, next-step tasks, and people (markers, merges, complainers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from inbox import selectors, services
from inbox.models import Author, Mention, Task
from reputation.audit.models import AuditEvent
from reputation.core.errors import Refused
from tests.conftest import client_for

NOW = timezone.now()


def make(external_id: str, **kw) -> Mention:
    defaults = dict(
        platform="google",
        text=f"text of {external_id}",
        posted_at=NOW - dt.timedelta(minutes=int(external_id.split("-")[-1])),
        category="complaint",
    )
    return Mention.objects.create(external_id=external_id, **{**defaults, **kw})


@pytest.fixture
def inbox(cast, tenant):
    """Alpha with a handful of mentions of every sort, outside any request."""
    with tenant(cast.alpha):
        make("m-1", assignee=cast.bob, due_at=NOW + dt.timedelta(minutes=30))
        make("m-2", due_at=NOW - dt.timedelta(minutes=5), text="The invoice was wrong")
        make("m-3", category="praise", is_indirect=True, platform="x")
        make("m-4", assignee=cast.alice, due_at=NOW + dt.timedelta(minutes=10))
        make("m-5", status="answered", first_response_at=NOW)
    yield


def listed(response) -> list[str]:
    return [m.external_id for m in response.context["page"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["m-1", "m-2", "m-3", "m-4", "m-5"]),
        ({"assignee": "me"}, ["m-1"]),
        ({"assignee": "none"}, ["m-2", "m-3", "m-5"]),
        ({"overdue": "true"}, ["m-2"]),
        ({"direct": "indirect"}, ["m-3"]),
        ({"direct": "direct"}, ["m-1", "m-2", "m-4", "m-5"]),
        ({"platform": "x"}, ["m-3"]),
        ({"category": "praise"}, ["m-3"]),
        ({"q": "INVOICE"}, ["m-2"]),
        ({"sort": "deadline"}, ["m-2", "m-4", "m-1"]),  # open work with a clock, most urgent
        ({"sort": "deadline", "assignee": "me"}, ["m-1"]),
    ],
)
def test_each_filter_lists_exactly_its_mentions(cast, inbox, query, expected):
    response = client_for("alpha.localhost", cast.bob).get("/inbox/", query)
    assert response.status_code == 200
    assert listed(response) == expected


def test_the_assignee_filter_takes_a_person(cast, inbox):
    response = client_for("alpha.localhost", cast.bob).get("/inbox/", {"assignee": cast.alice.pk})
    assert listed(response) == ["m-4"]


@pytest.mark.parametrize(
    "query",
    [
        {"assignee": "nobody-in-particular"},
        {"posted_before": "2026-01-01T00:00:00+20:00"},  # PostgreSQL refuses such offsets
        {"posted_after": "0001-01-01T00:00:00+00:00"},
        {"cursor": "not-a-cursor"},
        {"overdue": "maybe"},
        {"sort": "sideways"},
    ],
)
def test_bad_filters_never_answer_500(cast, inbox, query):
    response = client_for("alpha.localhost", cast.bob).get("/inbox/", query, follow=True)
    assert response.status_code == 200


def test_a_far_offset_is_read_as_the_same_instant(cast, inbox):
    response = client_for("alpha.localhost", cast.bob).get(
        "/inbox/", {"posted_after": (NOW - dt.timedelta(minutes=2, seconds=30)).isoformat()}
    )
    assert listed(response) == ["m-1", "m-2"]


def test_pages_follow_each_other_without_gaps_or_repeats(cast, tenant):
    with tenant(cast.alpha):
        for i in range(1, 121):
            make(f"p-{i}", category="threat" if i % 40 == 0 else "complaint")
        expected = list(selectors.mention_list().values_list("external_id", flat=True))
    client = client_for("alpha.localhost", cast.bob)
    seen: list[str] = []
    response = client.get("/inbox/")
    while True:
        seen += listed(response)
        nxt = response.context["next_qs"]
        if not nxt:
            break
        assert "cursor=" in nxt
        response = client.get(f"/inbox/?{nxt}")
    assert seen == expected
    assert seen[:3] == ["p-40", "p-80", "p-120"]  # open threats stay on top of page one
    assert len(seen) == 120


def test_the_older_link_keeps_the_filters(cast, tenant):
    with tenant(cast.alpha):
        for i in range(1, 121):
            make(f"f-{i}", category="praise" if i % 2 else "complaint")
    response = client_for("alpha.localhost", cast.bob).get("/inbox/", {"category": "praise"})
    nxt = response.context["next_qs"]
    assert "category=praise" in nxt
    second = client_for("alpha.localhost", cast.bob).get(f"/inbox/?{nxt}")
    assert {m.category for m in second.context["page"]} == {"praise"}
    assert len(listed(response)) + len(listed(second)) == 60


def test_counts_are_bounded_and_say_so(cast, tenant):
    with tenant(cast.alpha):
        for i in range(1, 8):
            make(f"c-{i}")
        count = selectors.count_bounded(Mention.objects.all(), bound=5)
        exact = selectors.count_bounded(Mention.objects.all(), bound=50)
    assert (int(count), count.more, str(count)) == (5, True, "5+")
    assert (int(exact), exact.more, str(exact)) == (7, False, "7")


def test_the_inbox_page_runs_a_fixed_number_of_queries(cast, tenant):
    def queries() -> int:
        client = client_for("alpha.localhost", cast.bob)
        seen: list[str] = []

        def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
            seen.append(sql)
            return execute(sql, params, many, context)

        # A wrapper, not CaptureQueriesContext: a request resets Django's query log.
        with connection.execute_wrapper(count):
            assert client.get("/inbox/").status_code == 200
        return len(seen)

    with tenant(cast.alpha):
        make("q-1", assignee=cast.bob)
    few = queries()
    with tenant(cast.alpha):
        for i in range(2, 40):
            make(f"q-{i}", assignee=cast.alice, category="threat" if i % 3 else "praise")
    assert queries() == few  # no query per row (NetBox-style N+1 guard)
    assert few == 18, few  # pinned: a new query per page must be a deliberate change


def test_new_mentions_arrive_without_a_reload(cast, tenant, inbox):
    client = client_for("alpha.localhost", cast.bob)
    page = client.get("/inbox/", {"category": "complaint"})
    poll = page.context["poll_qs"]
    assert "partial=new" in poll and "category=complaint" in poll
    assert client.get(f"/inbox/?{poll}").status_code == 204  # nothing new yet
    with tenant(cast.alpha):
        make("new-0", text="Just arrived")
        make("new-1", category="praise")  # filtered out
    rows = client.get(f"/inbox/?{poll}")
    assert rows.status_code == 200
    body = rows.content.decode()
    assert "Just arrived" in body and "text of new-1" not in body
    assert 'hx-swap-oob="true"' in body  # the poller now asks from the newest row on


def test_a_responder_assigns_in_bulk_and_each_change_is_audited(cast, tenant, inbox):
    with tenant(cast.alpha):
        ids = list(
            Mention.objects.filter(external_id__in=["m-2", "m-3"]).values_list("pk", flat=True)
        )
    response = client_for("alpha.localhost", cast.bob).post(
        "/inbox/bulk/", {"ids": ids, "action": "assign", "assignee": cast.alice.pk}
    )
    assert response.status_code == 302
    with tenant(cast.alpha):
        assert set(
            Mention.objects.filter(assignee=cast.alice).values_list("external_id", flat=True)
        ) == {"m-2", "m-3", "m-4"}
        events = AuditEvent.objects.filter(action="mention.assigned")
        assert sorted(int(e.object_id) for e in events) == sorted(ids)
        assert all(e.actor_id == cast.bob.pk for e in events)


def test_a_viewer_cannot_assign_or_close(cast, tenant, inbox):
    with tenant(cast.alpha):
        ids = list(Mention.objects.values_list("pk", flat=True))
    viewer = client_for("alpha.localhost", cast.vera)
    assert (
        viewer.post(
            "/inbox/bulk/", {"ids": ids, "action": "close", "outcome": "resolved"}
        ).status_code
        == 404
    )
    with tenant(cast.alpha), pytest.raises(Refused) as refused:
        services.mentions_close(ids=ids, outcome="resolved", actor=cast.vera)
    assert refused.value.code == "forbidden"
    with tenant(cast.alpha):
        assert not Mention.objects.filter(status="resolved").exists()
        assert not AuditEvent.objects.filter(action="mention.closed").exists()


def test_assigning_to_someone_outside_the_practice_is_refused(cast, tenant, inbox):
    with tenant(cast.alpha):
        ids = list(Mention.objects.values_list("pk", flat=True))
        with pytest.raises(Refused) as refused:
            services.mentions_assign(ids=ids, assignee=cast.charlie, actor=cast.bob)
        assert refused.value.code == "not_a_member"
        assert not Mention.objects.filter(assignee=cast.charlie).exists()


def test_closing_a_resolved_complaint_asks_for_a_review_update(cast, tenant, inbox):
    with tenant(cast.alpha):
        mention = Mention.objects.get(external_id="m-1")
        closed = services.mentions_close(ids=[mention.pk], outcome="resolved", actor=cast.bob)
        assert closed == 1
        mention.refresh_from_db()
        assert (mention.status, mention.outcome) == ("resolved", "resolved")
        task = Task.objects.get(mention=mention)
        assert task.owner == cast.bob and task.title.startswith(services.REVIEW_UPDATE_TASK)
        assert task.due_at > timezone.now() + dt.timedelta(days=2)
        # Closing again changes nothing and asks nothing twice.
        assert services.mentions_close(ids=[mention.pk], outcome="resolved", actor=cast.bob) == 0
        assert Task.objects.filter(mention=mention).count() == 1
        services.mention_reopen(mention=mention, actor=cast.bob)
        mention.refresh_from_db()
        assert (mention.status, mention.outcome) == ("open", "")
    tasks = client_for("alpha.localhost", cast.bob).get("/inbox/tasks/")
    assert services.REVIEW_UPDATE_TASK in tasks.content.decode()


def test_a_task_is_added_from_the_mention_and_done_from_my_tasks(cast, tenant, inbox):
    with tenant(cast.alpha):
        mention = Mention.objects.get(external_id="m-2")
    client = client_for("alpha.localhost", cast.bob)
    client.post(
        f"/inbox/{mention.pk}/tasks/",
        {"title": "Call her about the invoice", "owner": cast.bob.pk, "due_days": "0.5"},
    )
    with tenant(cast.alpha):
        task = Task.objects.get(title="Call her about the invoice")
    assert "Call her about the invoice" in client.get("/inbox/tasks/").content.decode()
    client.post(f"/inbox/tasks/{task.pk}/done/")
    with tenant(cast.alpha):
        task.refresh_from_db()
        assert task.done_at is not None
        assert AuditEvent.objects.filter(action="task.done", object_id=str(task.pk)).count() == 1


def test_a_person_seen_on_two_platforms_is_merged_and_unmerged(cast, tenant):
    with tenant(cast.alpha):
        google = Author.objects.create(platform="google", key="g-1", name="Kari Nordmann")
        facebook = Author.objects.create(platform="facebook", key="f-1", name="Kari Nordmann")
        make("g-1", author=google, text="Rude on the phone")
        make("f-2", author=facebook, platform="facebook", text="Still no answer")
        assert selectors.author_merge_candidates(facebook) == [google]
    client = client_for("alpha.localhost", cast.bob)
    client.post(f"/inbox/authors/{facebook.pk}/action/", {"action": "merge", "into": google.pk})
    page = client.get(f"/inbox/authors/{google.pk}/").content.decode()
    assert "Rude on the phone" in page and "Still no answer" in page
    client.post(f"/inbox/authors/{facebook.pk}/action/", {"action": "unmerge"})
    page = client.get(f"/inbox/authors/{google.pk}/").content.decode()
    assert "Still no answer" not in page
    with tenant(cast.alpha):
        assert list(
            AuditEvent.objects.filter(object_type="author").values_list("action", flat=True)
        ) == ["author.unmerged", "author.merged"]


def test_only_a_manager_marks_a_troll(cast, tenant):
    with tenant(cast.alpha):
        author = Author.objects.create(platform="x", key="x-1", handle="@angry")
        with pytest.raises(Refused):
            services.author_mark(author=author, marker="troll", actor=cast.bob)
        services.author_mark(author=author, marker="troll", actor=cast.alice)
        author.refresh_from_db()
        assert (author.marker, author.marker_automatic) == ("troll", False)


def test_the_third_complaint_in_the_period_marks_a_professional_complainer(cast, tenant):
    from inbox.pipeline.store import mentions_ingest
    from tests.inbox.test_pipeline import nm

    with tenant(cast.alpha):
        for i in range(3):
            mentions_ingest([nm(f"pc-{i}", "Terrible service, rude staff, awful.", rating=1)])
        author = Author.objects.get(key="u-1")
        assert (author.marker, author.marker_automatic) == ("professional_complainer", True)
        # A marker a person chose is never overwritten by the rule.
        services.author_mark(author=author, marker="advocate", actor=cast.alice)
        mentions_ingest([nm("pc-9", "Terrible again, rude, awful.", rating=1)])
        author.refresh_from_db()
        assert author.marker == "advocate"


def test_the_raw_open_predicate_matches_the_models_open_statuses():
    assert (
        "status IN ({})".format(", ".join(f"'{s}'" for s in Mention.OPEN_STATUSES))
        == selectors._OPEN
    )


def test_the_sources_badge_counts_like_the_selectors(cast, tenant):
    with tenant(cast.alpha):
        from inbox.models import RawPayload, SocialAccount

        RawPayload.objects.create(source="api:mention", platform="api", body="{}", status="failed")
        SocialAccount.objects.create(
            platform="feed", external_id="f1", poll_enabled=True, last_poll_error="HTTP 500"
        )
        assert (
            selectors.sources_failing_count()
            == (selectors.raw_payloads_failed().count() + selectors.account_failing_list().count())
            == 2
        )


def test_the_mention_page_shows_its_own_audit_history(cast, tenant, inbox):
    with tenant(cast.alpha):
        mention = Mention.objects.get(external_id="m-2")
        other = Mention.objects.get(external_id="m-3")
        services.mentions_assign(ids=[mention.pk, other.pk], assignee=cast.alice, actor=cast.bob)
        services.mentions_close(ids=[mention.pk], outcome="no_action", actor=cast.bob)
        history = selectors.mention_audit_history(mention)
        assert [e.action for e in history] == ["mention.assigned", "mention.closed"]
    page = client_for("alpha.localhost", cast.vera).get(f"/inbox/{mention.pk}/").content.decode()
    assert 'id="history"' in page and "mention.closed" in page and "bob@alpha.test" in page
