"""Shared (public schema) tables: practices, their domains, agencies, users, memberships.

A practice is a tenant: its mentions live in its own PostgreSQL schema. Nothing here
holds a foreign key into a tenant schema (django-tenants #499).
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    RESPONDER = "responder", "Responder"
    VIEWER = "viewer", "Viewer"


# Higher rank can do everything a lower one can.
ROLE_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.MANAGER: 2, Role.OWNER: 3}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


class Agency(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Practice(TenantMixin):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="clients"
    )
    timezone = models.CharField(max_length=64, default="Europe/Oslo")
    # ISO 3166 code: the default country of phone numbers in the practice's customer list.
    country = models.CharField(max_length=2, default="NO")
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False  # dropping a practice's data is a deliberate, separate act

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template, which is migrated first if it is behind.

        django-tenants would then run a faked migrate that marks every migration as
        applied; the clone already carries the template's own migration records, which
        are true of the tables it copied, so that step is skipped (~0.2 s of ~0.5 s).
        """
        from django.conf import settings
        from django.db import connection
        from django_tenants.clone import CloneSchema
        from django_tenants.utils import schema_exists

        from tenants import provisioning

        if not (sync_schema and settings.TENANT_CREATION_FAKES_MIGRATIONS):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        provisioning.template_ensure(verbosity=max(verbosity - 1, 0))
        CloneSchema().clone_schema(provisioning.template_schema(), self.schema_name, "DATA")
        connection.set_schema_to_public()
        return True


class Domain(DomainMixin):
    pass


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="uniq_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.practice}"


class AgencyMembership(models.Model):
    """Agency staff act in every client practice of their agency with this role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agency_memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MANAGER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="uniq_agency_membership"),
        ]


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A practice-scoped API key. Only a SHA-256 of the secret is stored.

    The key is high-entropy random, so a fast unsalted hash is enough (as with GitHub
    tokens); a slow KDF would cost every API request.
    """

    PREFIX = "rd_"

    class Scope(models.TextChoices):
        READ = "read", "Read (the inbox, escalations, reports)"
        WRITE = "write", "Write (push mentions, reply, assign, file)"
        ADMIN = "admin", "Admin (and settings)"

    # What a key may do, as the role a person would need (an integration never overrides
    # a guard: that needs a person).
    SCOPE_ROLE = {Scope.READ: "viewer", Scope.WRITE: "responder", Scope.ADMIN: "manager"}

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: does not expire.")
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.practice.slug})"

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """Return (raw key, display prefix, hash)."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        return raw, raw[:10], _hash_key(raw)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_key(raw)


class LoginHandoff(models.Model):
    """Single-use ticket that logs an agency user into a client's subdomain."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class AccountRoute(models.Model):
    """Which practice owns a platform account, for webhooks that arrive on one URL for
    the whole service (Meta, Google Pub/Sub) and name only the page or location.

    Kept in step with inbox.SocialAccount by inbox.services.social_account_save.
    """

    platform = models.CharField(max_length=16)
    external_id = models.CharField(max_length=500)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="routes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="uniq_route"),
        ]


class WebhookDelivery(models.Model):
    """A service-wide webhook body, stored before anything else is done with it.

    The request is answered once this row is committed; a worker task splits the body
    by practice into each practice's RawPayload. Rows that cannot be routed (a page no
    practice has connected yet) stay here with the reason and can be re-routed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ROUTED = "routed", "Routed"
        FAILED = "failed", "Failed"

    platform = models.CharField(max_length=16)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # Routing looks for pending rows many times a second under load; routed rows
            # pile up, so only the pending ones are indexed.
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_pending",
            ),
        ]


class TaskFlag(models.Model):
    """A single-flight flag shared by the web and worker processes: set while a task of
    one kind is queued or running on one django-q queue (see inbox.sources.deliveries).

    A row, not a cache key: the web server and the workers share no memory, and the
    flag must be set in the same transaction that queues the task (ORM broker).
    """

    name = models.CharField(max_length=200, primary_key=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {'queued since ' + str(self.queued_at) if self.queued_at else 'idle'}"


class OutboundEmail(models.Model):
    """An email of the service itself (an invitation), written in the transaction that
    causes it and sent once by a worker that claims the row (public schema: it belongs
    to no practice until the person has joined)."""

    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="email_unsent_idx", condition=models.Q(sent_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to}"
