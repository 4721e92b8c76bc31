# AuditEvent now belongs to the `audit` app (reputation.audit), which renamed the table.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0007_mention_inbox_pin"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        )
    ]
