"""Publishing exactly once, with a real worker killed mid-publish.

A real `manage.py qcluster` (django-q2, ORM broker) publishes a reply to a fake Google
Business Profile server over HTTP (a thread in this process that records every request
and can be made to stall). The worker is killed with SIGKILL while Google is answering,
then restarted: Google must hold exactly one reply, and the Reply must end published.

The reply is drafted and published through the API of a real web server (its tasks go
to the real broker). Both processes only see committed rows: everything here is
written with `django_db_blocker.unblock()` (autocommit) and removed afterwards.
"""

from __future__ import annotations

import time

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from inbox.models import Author, Conversation, Mention, OutboxItem, Reply, SocialAccount
from reputation.audit.models import AuditEvent
from tenants.models import ApiKey, Practice
from tenants.services import api_key_create
from tests.browser import start_server
from tests.inbox.answering import FakePlatform, mention
from tests.test_worker import WAIT_S, Worker, _terminate, execute_committed

LOCATION = "accounts/909/locations/9001"
TEXT = "Thank you for telling us. We take every concern seriously; please call us at 22 33 44 55."


@pytest.fixture(scope="module")
def live(request, django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        alpha = Practice.objects.get(slug="alpha")
        key, raw_key = api_key_create(practice=alpha, name="kill-9 test")
        with schema_context(alpha.schema_name):
            SocialAccount.objects.create(
                platform="google",
                external_id=LOCATION,
                display_name="Alpha, kill -9",
                poll_state={"token": "ya29.fake"},
            )
        connection.set_schema_to_public()
        db_name = connection.settings_dict["NAME"]
    request.addfinalizer(lambda: _cleanup(django_db_blocker, alpha, key))
    fake = FakePlatform()
    request.addfinalizer(fake.close)
    server = start_server(extra_env={"DJANGO_SETTINGS_MODULE": "reputation.settings"})
    request.addfinalizer(lambda: _terminate(server.process))
    worker = Worker(
        db_name=db_name,
        mail_dir=tmp_path_factory.mktemp("mail"),
        log_path=tmp_path_factory.mktemp("worker") / "qcluster.log",
    )
    worker.env["GOOGLE_API_BASE"] = fake.base
    request.addfinalizer(worker.stop)
    api = httpx.Client(
        # *.localhost is the browser's convenience; the resolver here may not know it.
        base_url=server.url("127.0.0.1"),
        headers={"Authorization": f"Api-Key {raw_key}", "Host": "alpha.localhost"},
        timeout=15,
    )
    request.addfinalizer(api.close)
    return {
        "practice": alpha,
        "fake": fake,
        "worker": worker,
        "api": api,
        "blocker": django_db_blocker,
    }


def _cleanup(blocker, practice, key) -> None:
    with blocker.unblock():
        with schema_context(practice.schema_name):
            mentions = Mention.objects.filter(account__external_id=LOCATION)
            # Audit events stay: the trail is append-only (a database trigger refuses deletes).
            authors = list(mentions.values_list("author_id", flat=True))
            conversations = list(mentions.values_list("conversation_id", flat=True))
            mentions.delete()
            Author.objects.filter(pk__in=authors).delete()
            Conversation.objects.filter(pk__in=conversations).delete()
            SocialAccount.objects.filter(external_id=LOCATION).delete()
        connection.set_schema_to_public()
        ApiKey.objects.filter(pk=key.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE django_q_ormq, django_q_task")


def wait_for(live, what: str, check, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        with live["blocker"].unblock():
            result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out waiting for {what}\n--- worker log ---\n{live['worker'].log_tail()}"
            )
        time.sleep(0.1)


def in_alpha(live, func):
    with live["blocker"].unblock(), schema_context(live["practice"].schema_name):
        try:
            return func()
        finally:
            connection.set_schema_to_public()


@pytest.mark.parametrize(
    "stall",
    [
        "after",  # Google stored the reply, the answer never reached the worker
        "before",  # the worker died before Google stored anything
    ],
)
def test_a_worker_killed_mid_publish_publishes_exactly_once(live, stall):
    fake, worker, api = live["fake"], live["worker"], live["api"]
    fake.requests.clear()
    fake.replies.clear()
    fake.release.clear()
    fake.stall = stall
    if worker.process is None:
        worker.start()
    m = in_alpha(live, _mention)
    name = f"{LOCATION}/reviews/{m.external_id}"

    draft = api.post(f"/api/v1/mentions/{m.pk}/replies/", json={"text": TEXT})
    assert draft.status_code == 201, draft.text
    reply_id = draft.json()["id"]
    published = api.post(f"/api/v1/replies/{reply_id}/publish/", json={})
    assert (published.status_code, published.json()["status"]) == (200, "publishing")

    # The worker is inside Google's PUT: kill the whole cluster there.
    wait_for(live, "the worker's PUT to reach Google", lambda: fake.count("PUT") == 1)
    worker.kill()
    reply = in_alpha(live, lambda: Reply.objects.get(pk=reply_id))
    assert reply.status == Reply.Status.PUBLISHING
    item = in_alpha(live, lambda: OutboxItem.objects.get(reply_id=reply_id))
    assert (item.attempts, item.done_at, item.claimed_at is not None) == (1, None, True)
    fake.stall = ""
    fake.release.set()
    if stall == "before":
        wait_for(live, "the held request to finish", lambda: name in fake.replies)
        fake.replies.pop(name)  # Google never stored it: the worker died first

    # The dead worker's claims go stale (after the task timeout, and django-q2's retry):
    # move both clocks on instead of waiting minutes, then restart the worker.
    schema = live["practice"].schema_name
    with live["blocker"].unblock():
        execute_committed(
            f"UPDATE \"{schema}\".inbox_outboxitem SET claimed_at = now() - interval '1 hour'"
            f" WHERE reply_id = {int(reply_id)}"
        )
        execute_committed("UPDATE django_q_ormq SET lock = now() - interval '1 hour'")
    worker.start()

    wait_for(
        live,
        "the reply to be published after the restart",
        lambda: in_alpha(live, lambda: Reply.objects.get(pk=reply_id).status == "published"),
    )
    assert fake.replies == {name: TEXT}, "exactly one reply on Google"
    assert fake.count("GET") >= 1, "the platform was read back before any re-send"
    assert fake.count("PUT") == (1 if stall == "after" else 2)
    reply = in_alpha(live, lambda: Reply.objects.get(pk=reply_id))
    assert reply.external_id == f"{name}/reply"
    m = in_alpha(live, lambda: Mention.objects.get(pk=m.pk))
    assert (m.status, m.first_response_at) == ("answered", reply.published_at)
    item = in_alpha(live, lambda: OutboxItem.objects.get(reply_id=reply_id))
    assert (item.attempts, item.outcome) == (2, "published")
    via = in_alpha(
        live,
        lambda: AuditEvent.objects.get(action="reply.published", object_id=str(reply_id)).data[
            "via"
        ],
    )
    assert via == ("read-back" if stall == "after" else "api")


def _mention() -> Mention:
    return mention("google", acct=SocialAccount.objects.get(external_id=LOCATION))
