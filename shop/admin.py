"""Admin for the shop. Money never moves from here except through shop services."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.http import HttpRequest

from shop.checkout.selectors import units
from shop.models import (
    CheckoutSession,
    Membership,
    MerchantAPIKey,
    MerchantOrigin,
    Order,
    OrderLine,
    Organization,
    Product,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from shop.webhooks import retry_now
from wallets.admin.display import format_amount


def amount_in(value: Decimal | None, unit: str) -> str:
    """An amount by the one rule for amounts (``1,500 PTS``), at its unit's decimal places."""
    if value is None:
        return "—"
    return format_amount(value, units().get(unit, 0), unit)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class OriginInline(admin.TabularInline):
    model = MerchantOrigin
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, OriginInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "price_display", "stock", "is_active", "is_digital"]
    list_filter = ["is_active", "is_digital", "unit", "category"]
    search_fields = ["name", "description", "merchant__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["merchant"]

    @admin.display(description="Price", ordering="price")
    def price_display(self, obj: Product) -> str:
        return amount_in(obj.price, obj.unit)


class ReadOnly(admin.ModelAdmin):
    """Orders, sessions and events are records: refunds go through the shop's pages."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "product_name",
        "merchant",
        "quantity",
        "unit_price_display",
        "amount_display",
        "refunded_quantity",
    ]
    readonly_fields = fields

    @admin.display(description="Unit price")
    def unit_price_display(self, obj: OrderLine) -> str:
        return amount_in(obj.unit_price, obj.order.unit)

    @admin.display(description="Amount")
    def amount_display(self, obj: OrderLine) -> str:
        return amount_in(obj.amount, obj.order.unit)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnly):
    list_display = ["number", "buyer", "total_display", "status", "created_at"]
    list_filter = ["status", "unit"]
    search_fields = ["number", "buyer__email", "buyer__username"]
    inlines = [OrderLineInline]

    @admin.display(description="Total", ordering="total")
    def total_display(self, obj: Order) -> str:
        return amount_in(obj.total, obj.unit)


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnly):
    list_display = ["public_id", "merchant", "amount_display", "mode", "status", "expires_at"]
    list_filter = ["status", "mode", "unit"]
    search_fields = ["public_id", "client_reference_id", "merchant__name"]
    exclude = ["client_secret"]

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: CheckoutSession) -> str:
        return amount_in(obj.amount, obj.unit)


@admin.register(MerchantAPIKey)
class MerchantAPIKeyAdmin(ReadOnly):
    list_display = ["__str__", "merchant", "name", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "merchant", "is_active", "created_at"]
    exclude = ["secret"]
    autocomplete_fields = ["merchant"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly):
    list_display = ["public_id", "type", "merchant", "created_at"]
    list_filter = ["type"]
    search_fields = ["public_id"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    actions = ["retry"]

    @admin.action(description="Retry now")
    def retry(self, request: HttpRequest, queryset) -> None:
        for delivery in queryset:
            retry_now(delivery, by=request.user)
        messages.success(request, f"{queryset.count()} deliveries will be retried.")
