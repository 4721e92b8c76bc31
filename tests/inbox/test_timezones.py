"""Every time a person reads is in the practice's time zone, named, and the alert email
shows the same instant as the page."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from inbox.models import Alert, Mention
from inbox.pipeline import alerts
from tests.conftest import client_for


def test_the_page_and_the_alert_email_show_the_same_local_instant(cast, tenant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast.alpha.timezone = "Europe/Oslo"
    cast.alpha.save(update_fields=["timezone"])
    due = dt.datetime(2026, 12, 5, 13, 45, tzinfo=dt.UTC)  # 14:45 in Oslo (CET)
    with tenant(cast.alpha):
        mention = Mention.objects.create(
            platform="google",
            external_id="tz-1",
            text="Still waiting for my refund",
            category="complaint",
            posted_at=due - dt.timedelta(hours=2),
            due_at=due,
        )
        alert = alerts.alert_raise(mention, kind=Alert.Kind.REMINDER, recipients=["bob@alpha.test"])
        assert alerts.alert_send(alert.pk)
    body = mail.outbox[-1].body
    assert "Reply due: 2026-12-05 14:45 CET (13:45 UTC)" in body
    page = client_for("alpha.localhost", cast.bob).get(f"/inbox/{mention.pk}/").content.decode()
    assert "14:45 CET" in page
    assert "12:45 CET" in page  # posted, two hours earlier


def test_no_template_prints_a_time_without_its_zone():
    """A time on a page always says which zone it is in (the practice's)."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "reputation" / "templates"
    bare = []
    for path in templates.rglob("*.html"):
        for fmt in re.findall(r'\|date:"([^"]*)"', path.read_text()):
            if ("H" in fmt or "G" in fmt) and "T" not in fmt:
                bare.append(f"{path.name}: {fmt}")
    assert bare == []
