"""The shop's models, one module per part of the shop."""

from shop.models.catalog import Membership, Organization, Product, merchant_wallet
from shop.models.checkout import CheckoutSession
from shop.models.ids import client_secret, event_id, order_number, session_id, webhook_secret
from shop.models.merchants import MerchantAPIKey, MerchantOrigin, WebhookEndpoint
from shop.models.orders import Order, OrderLine
from shop.models.webhooks import WebhookDelivery, WebhookEvent

__all__ = [
    "CheckoutSession",
    "Membership",
    "MerchantAPIKey",
    "MerchantOrigin",
    "Order",
    "OrderLine",
    "Organization",
    "Product",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "client_secret",
    "event_id",
    "merchant_wallet",
    "order_number",
    "session_id",
    "webhook_secret",
]
