from django.contrib import admin, messages

from inbox.forms import SocialAccountAdminForm
from inbox.models import Mention, RawPayload, SocialAccount
from inbox.pipeline import accept
from inbox.sources.deliveries import delivery_reroute
from reputation.core.admin import PracticeDataAdmin
from tenants.models import WebhookDelivery


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
            raw = accept.raw_payload_reprocess(raw=raw, actor=request.user)
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


# Webhook deliveries are public-schema rows, but re-routing them is the inbox's work.
@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "status", "received_at", "error"]
    list_filter = ["status", "platform"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["reroute"]

    @admin.action(description="Route the selected deliveries again")
    def reroute(self, request, queryset):
        for delivery in queryset:
            delivery_reroute(delivery=delivery)
        self.message_user(request, f"Re-routed {queryset.count()} delivery(ies).")
