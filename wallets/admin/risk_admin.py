"""Risk rules: the limits staff set on outgoing transfers (see ``wallets.risk``).

Rules are configuration, not money: staff edit them like any admin row. What a
rule holds is decided under Transfer holds.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from wallets.models import RiskRule, TransferHold


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "holder_type",
        "holder_id",
        "unit",
        "max_single",
        "max_daily_total",
        "max_per_hour",
        "on_breach",
        "is_active",
    )
    list_filter = ("is_active", "on_breach", "unit")
    search_fields = ("name", "holder_id")
    list_select_related = ("holder_type",)
    readonly_fields = ("open_holds", "created_at")

    @admin.display(description="Open held transfers")
    def open_holds(self, obj: RiskRule) -> str:
        if obj.pk is None:
            return "—"
        count = obj.holds.filter(state=TransferHold.State.HELD).count()
        url = reverse("admin:wallets_transferhold_changelist")
        return format_html(
            '<a href="{}?rule__id__exact={}&amp;state__exact=held">{}</a>', url, obj.pk, count
        )
