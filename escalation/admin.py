from django.contrib import admin

from escalation.models import CustomerList, Escalation, Notice, PlatformReport
from reputation.core.admin import PracticeDataAdmin


class _ReadOnly(PracticeDataAdmin):
    """Changes go through the services (audited); the admin only shows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(_ReadOnly):
    list_display = ["id", "kind", "status", "mention", "auto_opened", "created_at", "due_at"]
    list_filter = ["kind", "status", "auto_opened"]


@admin.register(PlatformReport)
class PlatformReportAdmin(_ReadOnly):
    list_display = ["id", "platform", "reason", "status", "submitted_at", "decided_at"]
    list_filter = ["platform", "status"]


@admin.register(CustomerList)
class CustomerListAdmin(_ReadOnly):
    list_display = ["id", "status", "created_at", "created_by_label", "customers", "rejected"]


@admin.register(Notice)
class NoticeAdmin(_ReadOnly):
    list_display = ["id", "subject", "created_at", "sent_at", "send_attempts", "send_error"]
