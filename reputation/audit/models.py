from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """Who did what, when, to which object.

    Append-only: a database trigger refuses UPDATE and DELETE (migration 0002), and the
    events of a practice form a SHA-256 hash chain (`seq`, `prev_hash`, `hash`), so an
    edited, deleted, inserted or reordered event is found by `manage.py verify_audit`.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, help_text="user email, 'system' or 'api-key …'")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Where a person acted from (empty for the system and the worker).
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # The chain: position, the previous event's hash, this event's hash.
    seq = models.BigIntegerField(null=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class AuditCheckpoint(models.Model):
    """Where the chain starts after old events expired: the last expired event's seq and
    hash, so what remains still verifies (an anchored start, not a gap)."""

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expired = models.BigIntegerField(help_text="Events expired up to and including seq.")

    class Meta:
        ordering = ["-seq"]
