"""The portal's routes, included from ``portal.urls`` under the ``portal`` namespace."""

from django.urls import path

from portal.views import brand, dashboard, exchange, organizations, pending, transfers, wallets

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("favicon.ico", brand.favicon, name="favicon"),
    path("balances/", dashboard.balance_cards, name="balances"),
    path("balances/list/", dashboard.balance_list, name="balance_list"),
    path("wallets/open/", dashboard.open_wallet_view, name="open_wallet"),
    path("wallets/<uuid:wallet_uuid>/", wallets.WalletHistoryView.as_view(), name="wallet"),
    path("transactions/<uuid:tx_uuid>/", wallets.transaction_receipt, name="transaction"),
    path("pending/", pending.pending_list, name="pending"),
    path("pending/<uuid:tx_uuid>/cancel/", pending.cancel_pending, name="cancel_pending"),
    path("requests/", pending.money_requests, name="requests"),
    path("requests/<str:kind>/", pending.money_request_submit, name="request_submit"),
    path("organizations/", organizations.organization_list, name="organizations"),
    path(
        "organizations/<slug:slug>/",
        organizations.organization_detail,
        name="organization",
    ),
    path("exchange/", exchange.exchange, name="exchange"),
    path("exchange/confirm/", exchange.exchange_confirm, name="exchange_confirm"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("transfer/lookup/", transfers.recipient_lookup, name="recipient_lookup"),
    path("transfer/confirm/", transfers.transfer_confirm, name="transfer_confirm"),
    path("transfers/<uuid:transfer_uuid>/", transfers.transfer_receipt, name="transfer_receipt"),
]
