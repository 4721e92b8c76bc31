from django.contrib import admin, messages
from django.db import connection

from inbox import services
from inbox.forms import SocialAccountAdminForm
from inbox.models import AuditEvent, Mention, RawPayload, SocialAccount


class PracticeDataAdmin(admin.ModelAdmin):
    """Practice tables exist only in practice schemas: hide them on the public host
    (there is no such table there), show them on each practice's own /admin/."""

    def has_module_permission(self, request) -> bool:
        return connection.schema_name != "public" and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return connection.schema_name != "public" and super().has_view_permission(request, obj)


@admin.register(RawPayload)
class RawPayloadAdmin(PracticeDataAdmin):
    list_display = [
        "id",
        "source",
        "platform",
        "status",
        "received_at",
        "attempts",
        "next_attempt_at",
        "mentions_created",
        "error",
    ]
    list_filter = ["status", "retryable", "source", "platform"]
    readonly_fields = [f.name for f in RawPayload._meta.fields]
    actions = ["reprocess"]

    @admin.action(description="Re-process the selected payloads")
    def reprocess(self, request, queryset):
        done = busy = 0
        for raw in queryset:
            raw = services.raw_payload_reprocess(raw=raw, actor=request.user)
            if raw.status == RawPayload.Status.PROCESSING:
                busy += 1  # a worker has it right now: left to that worker
            else:
                done += 1
        self.message_user(request, f"Re-processed {done} payload(s).", messages.SUCCESS)
        if busy:
            self.message_user(
                request,
                f"{busy} payload(s) are being processed by a worker right now; left to it.",
                messages.WARNING,
            )


@admin.register(Mention)
class MentionAdmin(PracticeDataAdmin):
    list_display = ["id", "platform", "author_name", "category", "status", "posted_at"]
    list_filter = ["platform", "category", "status"]
    search_fields = ["text", "author_name", "external_id"]
    raw_id_fields = ["author", "conversation", "raw", "account"]


@admin.register(SocialAccount)
class SocialAccountAdmin(PracticeDataAdmin):
    form = SocialAccountAdminForm  # refuses feed URLs on internal addresses
    list_display = [
        "display_name",
        "platform",
        "external_id",
        "poll_enabled",
        "last_poll_error",
        "last_poll_error_at",
    ]


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
