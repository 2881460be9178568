"""The staff audit log: read-only entries, filtered, searched and exported as CSV.

Entries are written by the engine's operations only, in the same transaction
as the change they record; nobody adds, edits or deletes one here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html

from wallets.admin.display import ReadOnlyAdmin
from wallets.admin.export import audit_csv_response
from wallets.models import AuditEntry

EXPORT_PERMISSION = "wallets.export_auditentry"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor_label",
        "action",
        "target_link",
        "amount",
        "unit",
        "reason",
        "ip_address",
    )
    list_filter = ("action", ("created_at", admin.DateFieldListFilter), "target_type")
    search_fields = ("=target_uuid", "actor_label", "reason", "target_label")
    list_select_related = ("target_type",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "uuid",
        "created_at",
        "actor",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_uuid",
        "target_label",
        "reason",
        "amount",
        "unit",
        "before",
        "after",
        "ip_address",
        "idempotency_key",
    )
    change_list_template = "admin/wallets/auditentry/change_list.html"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="wallets_auditentry_export",
        )
        return [export, *super().get_urls()]

    @admin.display(description="Target")
    def target_link(self, obj: AuditEntry) -> str:
        model = obj.target_type.model_class()
        if model is None:
            return obj.target_label
        # Built from the stored id: no target row is fetched for a link.
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[obj.target_id],
            )
        except NoReverseMatch:  # a target model without an admin page shows as text
            return obj.target_label
        return format_html('<a href="{}">{}</a>', url, obj.target_label)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm(EXPORT_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The audit log as CSV, with the change list's filters and search applied."""
        if not (self.has_view_permission(request) and request.user.has_perm(EXPORT_PERMISSION)):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return audit_csv_response(changelist.get_queryset(request))
