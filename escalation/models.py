"""Escalations, platform reports, the customer check and their outbox: tables in each
practice's schema. Rows that point at the inbox (Mention, Author) use foreign keys: they
live in the same schema.

The customer list itself is never stored: only keyed hashes (`CustomerHash`) of
normalised identifiers, under a per-practice key derived outside the practice's rows
(`escalation.customers.practice_key`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.models import Author, Mention

# Foreign keys to users (public schema) use DO_NOTHING, as in inbox.models: Django's
# delete collector would look for these tables in the public schema.


def _user_fk(**kw):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        **kw,
    )


class EscalationSettings(models.Model):
    """One row per practice: the people to call, and the clocks of follow-ups."""

    emergency_number = models.CharField(
        max_length=32, default="112", help_text="Where anyone in immediate danger calls."
    )
    police_non_emergency = models.CharField(max_length=64, blank=True)
    police_contact = models.TextField(blank=True, help_text="Local station, officer, address.")
    counsel_contact = models.TextField(blank=True, help_text="Legal counsel: name, phone, email.")
    insurer_contact = models.TextField(blank=True, help_text="Insurer: name, policy, phone.")
    # ISO 3166 alpha-2: phone numbers in the customer list without a +country code.
    phone_region = models.CharField(max_length=2, blank=True)
    report_reminder_days = models.PositiveSmallIntegerField(
        default=14, help_text="Remind when a platform report has no decision after this long."
    )
    escalation_due_days = models.PositiveSmallIntegerField(
        default=7, help_text="Default due date of a new escalation (police: 1 day)."
    )

    def __str__(self) -> str:
        return "Escalation settings"


# ---------------------------------------------------------------- customer check


class CustomerList(models.Model):
    """One upload of the customer list (a generation). Lookups read only the current
    one, so a re-import replaces the list atomically: the previous stays in force until
    the new one is complete and switched to in one transaction."""

    class Status(models.TextChoices):
        IMPORTING = "importing", "Importing"
        CURRENT = "current", "In use"
        SUPERSEDED = "superseded", "Replaced"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IMPORTING)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = _user_fk()
    created_by_label = models.CharField(max_length=200, blank=True)
    # The summary: counts and column names only, never a value.
    rows_read = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    names = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    phones = models.PositiveIntegerField(default=0)
    columns_used = models.JSONField(default=list, blank=True)
    columns_ignored = models.JSONField(default=list, blank=True)
    # Line numbers and reasons of rejected rows (first 100), never their values.
    rejections = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="current"),
                name="one_current_customer_list",
            )
        ]

    def __str__(self) -> str:
        return f"Customer list #{self.pk} ({self.status})"


class CustomerHash(models.Model):
    """The keyed hash (escalation.hashing.digest) of one normalised identifier of one
    customer of one generation."""

    class Kind(models.TextChoices):
        NAME = "n", "Name"
        EMAIL = "e", "Email"
        PHONE = "p", "Phone"

    # No database constraint: a foreign-key check per row would cost the bulk COPY of a
    # list about a fifth of its time; rows of old generations are deleted by the import.
    generation = models.ForeignKey(
        CustomerList, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    kind = models.CharField(max_length=1, choices=Kind.choices)
    digest = models.BigIntegerField(help_text="First 64 bits of the HMAC-SHA-256.")
    # Row number of the customer in its generation: "matches one customer" vs several.
    customer = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["digest"], name="customer_hash_digest_idx")]


class CustomerCheck(models.Model):
    """Is this author a customer? One row per inbox Author, refreshed on arrival and on
    demand; a manager's confirmation or override is kept beside the automatic result."""

    class Status(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        NOT_FOUND = "not_found", "Not found"
        UNKNOWN = "unknown", "Unknown"

    author = models.OneToOneField(
        Author, primary_key=True, on_delete=models.CASCADE, related_name="customer_check"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=200)
    generation = models.ForeignKey(
        CustomerList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(default=timezone.now)
    override_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    override_reason = models.TextField(blank=True)
    override_by = _user_fk()
    override_at = models.DateTimeField(null=True, blank=True)

    @property
    def effective_status(self) -> str:
        return self.override_status or self.status

    def get_effective_status_display(self) -> str:
        return self.Status(self.effective_status).label


class DefamationMark(models.Model):
    """A manager's judgement that a mention is defamatory: legal escalation on it then
    needs no Streisand-guard approval."""

    mention = models.OneToOneField(
        Mention, primary_key=True, on_delete=models.CASCADE, related_name="defamation_mark"
    )
    marked_by = _user_fk()
    marked_at = models.DateTimeField(default=timezone.now)
    note = models.TextField()


# ---------------------------------------------------------------- platform reports


class PlatformReport(models.Model):
    """A review reported to the platform, followed until the platform decides."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under review"
        REMOVED = "removed", "Removed"
        REJECTED = "rejected", "Rejected"
        APPEALED = "appealed", "Appealed"

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPEALED)
    WAITING_STATUSES = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPEALED)
    FINAL_STATUSES = (Status.REMOVED, Status.REJECTED)

    mention = models.ForeignKey(Mention, on_delete=models.PROTECT, related_name="+")
    platform = models.CharField(max_length=16)
    reason = models.CharField(max_length=64, help_text="The platform's own reason code.")
    grounds = models.TextField(help_text="Why, in the practice's words.")
    # The customer check at filing time ("not_found: no customer with this name").
    customer_finding = models.CharField(max_length=250, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = _user_fk()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = _user_fk()
    submitted_how = models.CharField(max_length=200, blank=True)
    platform_reference = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    removal_detected = models.BooleanField(
        default=False, help_text="Removed because the review vanished from the platform."
    )
    appealed_at = models.DateTimeField(null=True, blank=True)
    appealed_by = _user_fk()
    appeal_grounds = models.TextField(blank=True)
    # The last "no decision yet" reminder (the sweep sends one per reminder period).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One report in progress per mention: a second one would split the trail.
            models.UniqueConstraint(
                fields=["mention"],
                condition=models.Q(status__in=["draft", "submitted", "under_review", "appealed"]),
                name="one_open_report_per_mention",
            )
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk} ({self.status})"

    @property
    def waiting_since(self):
        return self.appealed_at or self.submitted_at


# ---------------------------------------------------------------- escalations


class Escalation(models.Model):
    class Kind(models.TextChoices):
        POLICE = "police", "Police"
        LEGAL = "legal", "Legal counsel"
        INSURER = "insurer", "Insurer"
        PLATFORM_SAFETY = "platform_safety", "Platform safety team"

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting a manager's approval"
        OPEN = "open", "Open"
        CONTACTED = "contacted", "Contacted"
        CASE_RECORDED = "case_recorded", "Case reference recorded"
        CLOSED = "closed", "Closed"

    ACTIVE_STATUSES = (Status.OPEN, Status.CONTACTED, Status.CASE_RECORDED)

    mention = models.ForeignKey(Mention, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # Opened by the system when a threat arrived (a draft for a person to act on).
    auto_opened = models.BooleanField(default=False)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = _user_fk()
    # Streisand guard: a legal escalation over a merely negative mention.
    justification = models.TextField(blank=True)
    approved_by = _user_fk()
    approved_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    contacted_by = _user_fk()
    contact_who = models.CharField(max_length=200, blank=True, help_text="Who was contacted.")
    contact_how = models.CharField(max_length=100, blank=True, help_text="Phone, email, visit…")
    case_reference = models.CharField(max_length=200, blank=True)
    case_recorded_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = _user_fk()
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The threat handler opens a police draft once per mention, however often
            # the "mention.threat" event is emitted (replays, edits).
            models.UniqueConstraint(
                fields=["mention"],
                condition=models.Q(auto_opened=True),
                name="one_auto_escalation_per_mention",
            ),
            models.UniqueConstraint(
                fields=["mention", "kind"],
                condition=~models.Q(status="closed"),
                name="one_active_escalation_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="escalation_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} escalation #{self.pk}"


class EscalationUpdate(models.Model):
    """A note on an escalation, with its attachments."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="updates")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = _user_fk()
    note = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]


class EscalationAttachment(models.Model):
    """A file kept in the database (bytea), in the practice's schema: it is isolated,
    backed up and dumped with the rest of the file, and goes into the evidence pack."""

    MAX_BYTES = 10 * 1024 * 1024

    update = models.ForeignKey(
        EscalationUpdate, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()


# ---------------------------------------------------------------- outbox


class Notice(models.Model):
    """An email to send (escalation opened, report decided, reminders): written in the
    transaction of the change that causes it, claimed and sent once by a worker."""

    key = models.CharField(max_length=200, unique=True, help_text="One notice per event.")
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    send_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
