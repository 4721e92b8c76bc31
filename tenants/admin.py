from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html

from tenants.models import (
    AccountRoute,
    Agency,
    AgencyMembership,
    ApiKey,
    Domain,
    Membership,
    Practice,
    User,
)
from tenants.selectors import practice_url


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deactivate instead: practices' audit trails and accounts keep naming the user.
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "agency", "created_at", "practice_admin"]
    search_fields = ["name", "slug"]
    readonly_fields = ["schema_name"]
    inlines = [MembershipInline]

    @admin.display(description="Audit trail and data")
    def practice_admin(self, obj: Practice) -> str:
        if obj.schema_name == "public":
            return "—"
        return format_html('<a href="{}">{} admin</a>', practice_url(obj, "/admin/"), obj.name)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]


admin.site.register(Domain)
admin.site.register(AgencyMembership)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "practice", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]


@admin.register(AccountRoute)
class AccountRouteAdmin(admin.ModelAdmin):
    list_display = ["platform", "external_id", "practice"]
    list_filter = ["platform"]
    search_fields = ["external_id"]
