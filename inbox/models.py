"""Tenant-schema tables: accounts, listening rules, raw payloads, mentions, authors,
conversations, alerts and the audit trail. Every row here belongs to one practice
because it lives in that practice's schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Cast, Upper
from django.db.models.lookups import Contains
from django.utils import timezone

from inbox.platforms.base import Kind, Platform
from reputation.analysis.base import POSSIBLE_THREAT, SEVERITY_HIGH

# Foreign keys from practice tables to users (public schema) use DO_NOTHING: Django's
# delete collector would look for those rows in the public schema, where the tables do
# not exist. The database constraint still refuses to delete a user who is referenced:
# people are deactivated, never deleted, so the audit trail keeps naming them.


class SocialAccount(models.Model):
    """A page, profile, location or feed of the practice, and who answers for it."""

    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    # GBP "accounts/1/locations/2", a Page id, an IG user id, an X user id, a Yelp
    # business id, a Tripadvisor location id, or a feed URL.
    external_id = models.CharField(max_length=500)
    display_name = models.CharField(max_length=200)
    handle = models.CharField(max_length=100, blank=True, help_text="@handle, if any")
    url = models.URLField(max_length=500, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    backup_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    owner_away = models.BooleanField(default=False, help_text="Route new mentions to the backup.")
    is_active = models.BooleanField(default=True)
    poll_enabled = models.BooleanField(default=False)
    # Conditional-GET validators and cursors for polled sources (etag, last_modified, since_id).
    poll_state = models.JSONField(default=dict, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    # Since when polling has been failing: the first failure in a row, cleared on success.
    last_poll_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "display_name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="uniq_account"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_platform_display()})"

    @property
    def poll_failing(self) -> bool:
        """Polling is on and its last attempt failed (the same rule as account_failing_list)."""
        return bool(self.last_poll_error) and self.poll_enabled and self.is_active

    @property
    def connection_problem(self) -> str:
        """What is wrong with the account's connection (tokens, webhook subscription) and
        what to do; "" while it works. Select the credential with the account."""
        try:
            return self.credential.problem if self.is_active else ""
        except AccountCredential.DoesNotExist:
            return ""


class AccountCredential(models.Model):
    """An account's platform tokens, encrypted (inbox.credentials.token_encrypt: Fernet
    under TOKEN_ENCRYPTION_KEY), and the state of the connection.

    `access_token` and `refresh_token` hold ciphertext only. `problem` is what is wrong
    with the connection and what to do ("Reconnect Google: the permission was
    withdrawn"), shown on the Accounts and Sources pages; empty while it works.
    """

    account = models.OneToOneField(
        SocialAccount, on_delete=models.CASCADE, related_name="credential"
    )
    access_token = models.TextField()
    refresh_token = models.TextField(blank=True)
    # None: the token does not expire (a Page token from a long-lived user token).
    expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    connected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # A refresh in progress (a claim, like alert_send's): X rotates refresh tokens, so two
    # refreshes at once would leave one of them holding a dead token.
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)
    # Facebook Pages: when the page was subscribed to the app's webhooks (None: not yet).
    webhooks_subscribed_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)
    problem_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"credential of account {self.account_id}"


class ConnectFlow(models.Model):
    """One OAuth connect in progress: started by a manager on the Accounts page, bound
    to this practice (its schema) and to the session that started it.

    The `state` sent to the platform is stored hashed. `secret` is ciphertext (the PKCE
    verifier, then the tokens and the Page tokens); `choices` is what the manager may pick
    (ids and names, nothing secret). Transitions by compare-and-swap: started ->
    authorized (the callback, once) -> done (the pick, once); or failed.
    """

    class Status(models.TextChoices):
        STARTED = "started"
        AUTHORIZED = "authorized"
        DONE = "done"
        FAILED = "failed"

    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    state_hash = models.CharField(max_length=64, unique=True)
    session_hash = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    secret = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.platform} connect {self.pk} ({self.status})"


class ListeningRule(models.Model):
    class Kind(models.TextChoices):
        BRAND = "brand", "Brand name"
        ALIAS = "alias", "Alias"
        MISSPELLING = "misspelling", "Misspelling"
        STAFF = "staff", "Staff name"
        PRODUCT = "product", "Product or service"
        EXCLUSION = "exclusion", "Exclusion"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    term = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "term"]
        constraints = [models.UniqueConstraint(fields=["kind", "term"], name="uniq_rule")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.term}"


class InboxSettings(models.Model):
    """One row per practice schema: response deadlines and cooling-off."""

    threat_minutes = models.PositiveIntegerField(default=15)
    complaint_minutes = models.PositiveIntegerField(default=60)
    question_minutes = models.PositiveIntegerField(default=60)
    praise_minutes = models.PositiveIntegerField(default=24 * 60)
    other_minutes = models.PositiveIntegerField(default=24 * 60)
    # Harassment and spam: no reply expected (trolls are not fed).
    reminder_minutes_before = models.PositiveIntegerField(default=15)
    business_hours_only = models.BooleanField(default=False)
    business_day_start = models.TimeField(default="08:00")
    business_day_end = models.TimeField(default="17:00")
    business_weekdays = models.CharField(max_length=20, default="0,1,2,3,4", help_text="Mon=0")
    # Replies to a threat, harassment or a strongly negative mention wait this long
    # before they are sent (editable and cancellable meanwhile).
    cooling_off_minutes = models.PositiveIntegerField(default=10)
    # "Strongly negative": the mention's sentiment at or below this (-1 .. 0).
    strong_negative_threshold = models.FloatField(default=-0.6)
    # An author with this many complaints within the period is marked a professional
    # complainer by itself (a person can still change the marker).
    complainer_threshold = models.PositiveSmallIntegerField(default=3)
    complainer_period_days = models.PositiveSmallIntegerField(default=90)
    # After a resolved complaint: ask the author to update the review this many days later.
    review_update_after_days = models.PositiveSmallIntegerField(default=3)

    def __str__(self) -> str:
        return "Inbox settings"


class RawPayload(models.Model):
    """Every inbound payload, stored before any processing, so nothing accepted is lost."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=32)  # webhook:meta, api:google, import:csv, poll:feed ...
    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When the sweep takes this row next: the retry time after a temporary failure, or
    # the end of a worker's claim while processing. NULL: nothing due (processed, or
    # failed for a person to look at).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retryable = models.BooleanField(default=False, help_text="The last error was temporary.")
    # Automatic retries in this round; `reprocess` starts a new round.
    retries = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    mentions_created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Items matching no listening rule.")

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="raw_status_idx"),
            # The once-a-minute sweep reads only rows with something due: a tiny index.
            models.Index(
                fields=["next_attempt_at"],
                name="raw_next_attempt_idx",
                condition=models.Q(next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} ({self.status})"


class Author(models.Model):
    class Marker(models.TextChoices):
        NONE = "", "—"
        ADVOCATE = "advocate", "Advocate"
        PROFESSIONAL_COMPLAINER = "professional_complainer", "Professional complainer"
        TROLL = "troll", "Troll"
        BLOCKED = "blocked", "Blocked"

    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    # Platform user id when known, else the handle, else the display name.
    key = models.CharField(max_length=300)
    name = models.CharField(max_length=200, blank=True)
    handle = models.CharField(max_length=200, blank=True)
    marker = models.CharField(max_length=32, choices=Marker.choices, blank=True, default="")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    mention_count = models.PositiveIntegerField(default=0)
    # The same person on another platform or channel, merged by hand (undone by clearing
    # it): the author page of the person shows the history of every merged identity.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    # Set when the marker was set by the complaint threshold rather than by a person.
    marker_automatic = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "key"], name="uniq_author")]

    def __str__(self) -> str:
        return self.name or self.handle or self.key


class Conversation(models.Model):
    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    root_external_id = models.CharField(max_length=300)
    account = models.ForeignKey(SocialAccount, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "root_external_id"], name="uniq_conversation"
            )
        ]


class Mention(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        RESOLVED = "resolved", "Resolved"
        NO_REPLY = "no_reply", "No reply needed"
        # Backfilled by an import, posted long before it reached us: on record, not work.
        HISTORY = "history", "Imported history"

    class Outcome(models.TextChoices):
        """How a mention ended, chosen when it is closed."""

        RESOLVED = "resolved", "Resolved"
        NOT_CUSTOMER = "not_customer", "Not a customer"
        TROLL = "troll", "Troll — not engaged"
        ESCALATED = "escalated", "Escalated"
        DUPLICATE = "duplicate", "Duplicate"
        NO_ACTION = "no_action", "No action needed"

    class Category(models.TextChoices):
        THREAT = "threat", "Threat"
        HARASSMENT = "harassment", "Harassment / troll"
        COMPLAINT = "complaint", "Complaint"
        QUESTION = "question", "Question"
        PRAISE = "praise", "Praise"
        SPAM = "spam", "Spam"
        OTHER = "other", "Other"

    # Work someone still has to do. Imported history is on record, not work: it is never
    # counted as open, pinned, reminded of or alerted on.
    OPEN_STATUSES = (Status.NEW, Status.OPEN)

    account = models.ForeignKey(
        SocialAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    platform = models.CharField(max_length=16, choices=Platform.CHOICES)
    external_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=Kind.CHOICES, default=Kind.REVIEW)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    parent_external_id = models.CharField(max_length=300, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_handle = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    platform_updated_at = models.DateTimeField(null=True, blank=True)
    removed_on_platform = models.BooleanField(default=False)
    from_owner = models.BooleanField(default=False, help_text="Written by the practice itself.")
    is_indirect = models.BooleanField(
        default=False, help_text="Does not address the practice's own account."
    )
    owner_reply_text = models.TextField(blank=True)
    owner_reply_at = models.DateTimeField(null=True, blank=True)
    raw = models.ForeignKey(RawPayload, null=True, blank=True, on_delete=models.SET_NULL)

    # Analysis
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    severity = models.PositiveSmallIntegerField(default=0)
    evidence = models.JSONField(default=list, blank=True)

    # Workflow
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # (Plain values in the expression below: the migration records them as literals.)
    # The inbox order's first key, computed by PostgreSQL on every write, so no code path
    # can forget it and the first page is an index scan at any size: 2 an open threat,
    # 1 an open possible threat (the analyser's second tier), 0 the rest. Keep it the
    # last field: ingest builds mentions positionally over the fields before it.
    pin = models.GeneratedField(
        expression=models.Case(
            models.When(
                models.Q(
                    category=Category.THREAT.value, status__in=[s.value for s in OPEN_STATUSES]
                ),
                then=models.Value(2),
            ),
            models.When(
                models.Q(status__in=[s.value for s in OPEN_STATUSES], severity__gte=SEVERITY_HIGH)
                & Contains(Cast("evidence", models.TextField()), f'"{POSSIBLE_THREAT}'),
                then=models.Value(1),
            ),
            default=models.Value(0),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="uniq_mention"),
        ]
        indexes = [
            models.Index(fields=["-posted_at", "-id"], name="mention_newest_idx"),
            models.Index(fields=["-pin", "-posted_at", "-id"], name="mention_inbox_idx"),
            models.Index(fields=["status", "due_at"], name="mention_due_idx"),
            models.Index(fields=["category", "-posted_at"], name="mention_category_idx"),
            models.Index(fields=["assignee", "-posted_at"], name="mention_assignee_idx"),
            models.Index(
                fields=["due_at", "id"],
                name="mention_open_due_idx",
                condition=models.Q(status__in=["new", "open"], first_response_at__isnull=True),
            ),
            # Text search (icontains) through trigrams: pg_trgm, created in migration 0009.
            GinIndex(OpClass(Upper("text"), name="gin_trgm_ops"), name="mention_text_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.external_id}"

    @property
    def is_threat(self) -> bool:
        return self.category == self.Category.THREAT

    @property
    def possible_threat(self) -> str:
        """The analyser's second tier: violent words aimed at someone, not enough for a
        threat alert but worth a person's look (the matched words, or "")."""
        if self.is_threat:
            return ""
        for item in self.evidence or ():
            if isinstance(item, str) and item.startswith(POSSIBLE_THREAT):
                return item.removeprefix(POSSIBLE_THREAT).strip('"')
        return ""


class MentionRevision(models.Model):
    """An earlier version of an edited mention (a 1-star review later changed to 4)."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField(blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    platform_updated_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at", "-id"]


class Alert(models.Model):
    class Kind(models.TextChoices):
        THREAT = "threat", "Threat"
        REMINDER = "reminder", "Deadline reminder"
        OVERDUE = "overdue", "Deadline missed"

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim while it sends (set back to NULL on failure; stale after the task
    # timeout, so a worker killed mid-send does not leave the alert looking sent).
    sending_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    send_error = models.TextField(blank=True)
    # When the sweep re-queues the email if it is still unsent. NULL while unsent: given
    # up, the email was not delivered (shown in the app so staff act themselves).
    retry_at = models.DateTimeField(null=True, blank=True)
    resends = models.PositiveSmallIntegerField(default=0)

    class Meta:
        # One alert of each kind per mention, however often the sweep or task runs.
        constraints = [models.UniqueConstraint(fields=["mention", "kind"], name="uniq_alert")]
        indexes = [
            # Unsent alerts only: the resend sweep and the "not delivered" banner.
            models.Index(
                fields=["retry_at"],
                name="alert_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    @property
    def delivery(self) -> str:
        """sent / sending (no failure yet) / retrying (failed, tried again) / undelivered."""
        if self.sent_at:
            return "sent"
        if self.retry_at is None:
            return "undelivered"
        return "retrying" if self.send_error else "sending"


class Task(models.Model):
    """A next step with an owner and a due date ("call her back", "ask him to update the
    review"), shown in "My tasks"."""

    mention = models.ForeignKey(
        Mention, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done_at", "due_at", "id"]
        indexes = [
            models.Index(
                fields=["owner", "due_at"], name="task_open_idx", condition=models.Q(done_at=None)
            )
        ]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------------- answering


class Reply(models.Model):
    """What the practice says back: drafted at the desk and published on the platform
    where the person spoke (or recorded, when staff answered on the platform itself).

    draft -> scheduled (cooling-off) -> publishing -> published | failed | cancelled.
    Every change goes through inbox.replies (people) or inbox.publishing (the worker),
    by compare-and-swap on `status`.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled (cooling-off)"
        PUBLISHING = "publishing", "Publishing"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        DELETED = "deleted", "Deleted from the platform"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private"

    class Channel(models.TextChoices):
        PLATFORM = "platform", "On the platform (API)"
        MANUAL = "manual", "On the platform (copied by hand)"
        PRIVATE_MESSAGE = "private_message", "Platform private message"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    class Origin(models.TextChoices):
        DESK = "desk", "Written at the desk"
        PLATFORM = "platform", "Written on the platform"

    # Replies that count as said (or about to be said) in public: the Rule of Two.
    COUNTED_STATUSES = (Status.SCHEDULED, Status.PUBLISHING, Status.PUBLISHED)
    # States in which the text may still change.
    EDITABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED, Status.FAILED)

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="replies")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # The person answered (the Rule of Two counts per author and conversation).
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    text = models.TextField()
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PLATFORM)
    contact = models.CharField(max_length=200, blank=True, help_text="Named contact (private).")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.DESK)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # End of the cooling-off: not sent before this.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The platform's id of our reply (GBP review name + "/reply", comment id, tweet id).
    external_id = models.CharField(max_length=300, blank=True)
    external_url = models.URLField(max_length=1000, blank=True)
    # When a later poll or webhook showed this reply on the platform.
    seen_on_platform_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="The platform's reason, when it failed.")
    retryable = models.BooleanField(default=False)
    # Guard results of the current text (codes, phrases, offsets), shown on the page.
    problems = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    contains_personal_data = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "author", "status"], name="reply_rule_of_two_idx")
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} to mention {self.mention_id} ({self.status})"

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class OutboxItem(models.Model):
    """Something to do on a platform (publish a reply, delete our reply, hide a comment),
    written in the same transaction as the change that causes it and claimed by one
    worker at a time (inbox.publishing)."""

    class Action(models.TextChoices):
        PUBLISH = "publish", "Publish reply"
        DELETE = "delete", "Delete our reply"
        HIDE = "hide", "Hide comment"

    action = models.CharField(max_length=16, choices=Action.choices)
    reply = models.ForeignKey(
        Reply, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="outbox")
    created_at = models.DateTimeField(default=timezone.now)
    # Not before (end of a cooling-off, or a retry's back-off). NULL once done.
    due_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim; stale after the task timeout (a worker killed mid-call).
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            # One pending item per (reply, action): a double click queues one publish.
            models.UniqueConstraint(
                fields=["reply", "action"],
                condition=models.Q(done_at__isnull=True),
                name="uniq_outbox_pending",
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="outbox_due_idx",
                condition=models.Q(done_at__isnull=True),
            )
        ]


class ReplyPresence(models.Model):
    """Who has the reply box open on a mention; expires by itself when the heartbeat stops."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    label = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mention", "user"], name="uniq_reply_presence")
        ]


class ChannelSwitch(models.Model):
    """The conversation moved private (after the public answer): where, and with whom."""

    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="switches"
    )
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="switches")
    channel = models.CharField(max_length=16, choices=Reply.Channel.choices)
    contact = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class ImportJob(models.Model):
    """A history file uploaded from the web: imported by a worker, its progress shown."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=1000)
    format = models.CharField(max_length=16)
    account = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The command's summary: rows, created, duplicates, rejected rows (the first 200).
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.bytes_done / self.bytes_total) if self.bytes_total else 0
