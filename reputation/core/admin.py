from django.contrib import admin
from django.db import connection


class PracticeDataAdmin(admin.ModelAdmin):
    """Practice tables exist only in practice schemas: hide them on the public host
    (there is no such table there), show them on each practice's own /admin/."""

    def has_module_permission(self, request) -> bool:
        return connection.schema_name != "public" and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return connection.schema_name != "public" and super().has_view_permission(request, obj)
