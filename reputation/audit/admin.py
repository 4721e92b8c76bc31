from django.contrib import admin

from reputation.audit.models import AuditEvent
from reputation.core.admin import PracticeDataAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(PracticeDataAdmin):
    """The audit trail is append-only: read here, never edit."""

    list_display = ["created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
