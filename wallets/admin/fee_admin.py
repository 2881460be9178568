"""Fee policies (configuration staff edit) and fee charges (read-only ledger rows).

Which policy applies and how the fee is rounded is explained in ``wallets.fees``;
a policy's change takes effect within ``FEE_POLICIES_CACHE_SECONDS``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin

from wallets.admin.display import ReadOnlyAdmin, admin_link, format_amount, money
from wallets.models import FeeCharge, FeePolicy


def _policy_amount(policy: FeePolicy, value: Decimal | None) -> str:
    """An amount of a policy: in its fee wallet's unit, or its own unit."""
    if value is None:
        return "—"
    if policy.fee_wallet_id is not None:
        return money(value, policy.fee_wallet)
    return format_amount(value, 0, policy.unit)


@admin.register(FeePolicy)
class FeePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "scope",
        "applies_to",
        "percentage",
        "fixed_part",
        "minimum_fee",
        "maximum_fee",
        "mode",
        "refund_treatment",
        "fee_wallet_link",
        "is_active",
    )
    list_filter = ("is_active", "mode", "refund_treatment", "unit")
    search_fields = ("name", "product_id", "holder_id")
    list_select_related = ("fee_wallet", "receiving_wallet", "product_type", "holder_type")
    raw_id_fields = ("receiving_wallet", "fee_wallet")
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (
            "What is charged",
            {
                "fields": ("percent", "fixed", "minimum", "maximum", "mode", "refund_treatment"),
                "description": (
                    "The fee is the percentage of the amount plus the fixed part, rounded "
                    "half up to the wallet's decimal places, then kept between the minimum "
                    "and the maximum."
                ),
            },
        ),
        (
            "Applies to",
            {
                "fields": (
                    "applies_to_transfers",
                    "applies_to_payments",
                    "applies_to_withdrawals",
                    "unit",
                )
            },
        ),
        (
            "Scope (the most specific policy wins: product, receiving wallet, holder, everyone)",
            {
                "fields": (
                    ("product_type", "product_id"),
                    "receiving_wallet",
                    ("holder_type", "holder_id"),
                )
            },
        ),
        ("Where fees go", {"fields": ("fee_wallet", "created_at")}),
    )

    @admin.display(description="Scope")
    def scope(self, obj: FeePolicy) -> str:
        if obj.product_type_id is not None:
            return f"Product {obj.product_type.model} {obj.product_id}"
        if obj.receiving_wallet_id is not None:
            return f"Into {obj.receiving_wallet}"
        if obj.holder_type_id is not None:
            return f"Holder {obj.holder_type.model} {obj.holder_id or '(all)'}"
        return "Everyone"

    @admin.display(description="Applies to")
    def applies_to(self, obj: FeePolicy) -> str:
        kinds = [
            label
            for label, on in (
                ("transfers", obj.applies_to_transfers),
                ("payments", obj.applies_to_payments),
                ("withdrawals", obj.applies_to_withdrawals),
            )
            if on
        ]
        return ", ".join(kinds) or "—"

    @admin.display(description="Percentage", ordering="percent")
    def percentage(self, obj: FeePolicy) -> str:
        return f"{obj.percent.normalize():f} %" if obj.percent else "—"

    @admin.display(description="Fixed part", ordering="fixed")
    def fixed_part(self, obj: FeePolicy) -> str:
        return _policy_amount(obj, obj.fixed) if obj.fixed else "—"

    @admin.display(description="Minimum", ordering="minimum")
    def minimum_fee(self, obj: FeePolicy) -> str:
        return _policy_amount(obj, obj.minimum)

    @admin.display(description="Maximum", ordering="maximum")
    def maximum_fee(self, obj: FeePolicy) -> str:
        return _policy_amount(obj, obj.maximum)

    @admin.display(description="Fee wallet")
    def fee_wallet_link(self, obj: FeePolicy) -> str:
        if obj.fee_wallet_id is None:
            return 'WALLETS["FEE_WALLET"]'
        return admin_link(obj.fee_wallet)


@admin.register(FeeCharge)
class FeeChargeAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "created_at",
        "kind",
        "what",
        "fee",
        "returned",
        "payer_wallet_link",
        "fee_wallet_link",
        "policy_name",
        "mode",
        "refund_treatment",
    )
    list_filter = ("kind", "mode", "refund_treatment")
    search_fields = ("uuid", "policy_name")
    list_select_related = ("payer_wallet", "fee_wallet")

    @admin.display(description="Charged or returned")
    def what(self, obj: FeeCharge) -> str:
        return "Returned" if obj.is_return else "Charged"

    @admin.display(description="Fee", ordering="amount")
    def fee(self, obj: FeeCharge) -> str:
        return money(obj.amount, obj.fee_wallet)

    @admin.display(description="Returned so far")
    def returned(self, obj: FeeCharge) -> str:
        return "—" if obj.is_return else money(obj.refunded, obj.fee_wallet)

    @admin.display(description="Paid by")
    def payer_wallet_link(self, obj: FeeCharge) -> str:
        return admin_link(obj.payer_wallet)

    @admin.display(description="Fee wallet")
    def fee_wallet_link(self, obj: FeeCharge) -> str:
        return admin_link(obj.fee_wallet)
