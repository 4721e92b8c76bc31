from django.contrib import admin, messages

from inbox import services
from inbox.models import AuditEvent, Mention, RawPayload, SocialAccount


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "source",
        "platform",
        "status",
        "received_at",
        "mentions_created",
        "error",
    ]
    list_filter = ["status", "source", "platform"]
    readonly_fields = [f.name for f in RawPayload._meta.fields]
    actions = ["reprocess"]

    @admin.action(description="Re-process the selected payloads")
    def reprocess(self, request, queryset):
        done = 0
        for raw in queryset:
            services.raw_payload_reprocess(raw=raw, actor=request.user)
            done += 1
        self.message_user(request, f"Re-processed {done} payload(s).", messages.SUCCESS)


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "author_name", "category", "status", "posted_at"]
    list_filter = ["platform", "category", "status"]
    search_fields = ["text", "author_name", "external_id"]
    raw_id_fields = ["author", "conversation", "raw", "account"]


admin.site.register(SocialAccount)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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
