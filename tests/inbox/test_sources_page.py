"""Nothing fails out of sight: failed payloads and failing accounts are listed on the
Sources page with their reason, counted in the header, and can be retried."""

from __future__ import annotations

import json

from django.utils import timezone

from inbox.models import Mention, RawPayload, SocialAccount
from reputation.audit.models import AuditEvent
from tests.conftest import client_for

REASON = "Google location accounts/1/locations/9 has no access token: connect the account"


def _failed(cast, tenant) -> RawPayload:
    body = {
        "platform": "tripadvisor",
        "external_id": "missed-1",
        "text": "Nobody called me back about my bill.",
        "posted_at": "2026-12-01T10:00:00+01:00",
    }
    with tenant(cast.alpha):
        return RawPayload.objects.create(
            source="api:mention",
            platform="api",
            body=json.dumps(body),
            status=RawPayload.Status.FAILED,
            error=REASON,
            attempts=1,
        )


def test_a_failed_payload_is_listed_counted_and_retried(cast, tenant):
    raw = _failed(cast, tenant)
    with tenant(cast.alpha):
        SocialAccount.objects.create(
            platform="feed",
            external_id="https://example.com/feed",
            display_name="Blog feed",
            poll_enabled=True,
            last_poll_error="feed answered HTTP 404; check the account's settings",
            last_poll_error_at=timezone.now(),
        )
    client = client_for("alpha.localhost", cast.bob)
    inbox = client.get("/inbox/").content.decode()
    assert 'id="nav-sources"' in inbox
    assert '<span class="pill failing"' in inbox and ">2</span>" in inbox  # 1 payload + 1 feed

    page = client.get("/inbox/sources/").content.decode()
    assert REASON in page and "Blog feed" in page and "HTTP 404" in page

    response = client.post("/inbox/sources/", {"raw": raw.pk}, follow=True)
    assert "processed: 1 new" in response.content.decode()
    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert raw.status == RawPayload.Status.PROCESSED
        assert Mention.objects.filter(external_id="missed-1").exists()
        assert AuditEvent.objects.filter(action="raw.reprocess", object_id=str(raw.pk)).exists()
    assert REASON not in client.get("/inbox/sources/").content.decode()


def test_a_viewer_sees_the_failures_but_cannot_retry(cast, tenant):
    raw = _failed(cast, tenant)
    viewer = client_for("alpha.localhost", cast.vera)
    assert REASON in viewer.get("/inbox/sources/").content.decode()
    assert viewer.post("/inbox/sources/", {"raw": raw.pk}).status_code == 404
    with tenant(cast.alpha):
        raw.refresh_from_db()
        assert raw.status == RawPayload.Status.FAILED


def test_another_practice_sees_none_of_them(cast, tenant):
    _failed(cast, tenant)
    from tenants.services import membership_set

    membership_set(user=cast.charlie, practice=cast.beta, role="owner")
    page = client_for("beta.localhost", cast.charlie).get("/inbox/sources/").content.decode()
    assert REASON not in page and "no-failed-payloads" in page
