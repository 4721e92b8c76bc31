"""Mentions imported before the "history" status existed: an import of a two-year-old
review got no deadline but stayed "new", so it counted as open work. File the ones the
import rule would file today as history, with an audit row each."""

import datetime as dt

from django.db import migrations
from django.db.models import F
from django.utils import timezone

# inbox.ingest.BACKFILL_AGE when this was written; frozen, as migrations must be.
BACKFILL_AGE = dt.timedelta(days=7)
REASON = "imported history: posted more than 7 days before it was received"


def imported_history_file(apps, schema_editor) -> int:
    """Move matching mentions from new to history; returns how many moved."""
    Mention = apps.get_model("inbox", "Mention")
    try:
        AuditEvent = apps.get_model("inbox", "AuditEvent")
    except LookupError:  # called with today's registry: the model has moved to `audit`
        AuditEvent = apps.get_model("audit", "AuditEvent")
    rows = Mention.objects.filter(
        raw__source__startswith="import",
        due_at__isnull=True,
        status="new",
        posted_at__lt=F("received_at") - BACKFILL_AGE,
    )
    # Locked first, so the audit rows name exactly the mentions that were moved even
    # if the pipeline touches some of them meanwhile.
    pks = list(rows.select_for_update(of=("self",)).values_list("pk", flat=True))
    if not pks:
        return 0
    Mention.objects.filter(pk__in=pks).update(status="history")
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=now,
                actor_label="system",
                action="mention.status_changed",
                object_type="mention",
                object_id=str(pk),
                data={"status": ["new", "history"], "reason": REASON},
            )
            for pk in pks
        ],
        batch_size=1000,
    )
    return len(pks)


def imported_history_unfile(apps, schema_editor) -> None:
    # Before this migration history did not exist: such mentions were "new".
    apps.get_model("inbox", "Mention").objects.filter(status="history").update(status="new")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0004_history_status_and_poll_error_at"),
    ]

    operations = [
        migrations.RunPython(imported_history_file, imported_history_unfile),
    ]
