"""The portal's routes, included from ``portal.urls`` under the ``portal`` namespace."""

from django.urls import path

from portal.views import dashboard, transfers, wallets

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("balances/", dashboard.balance_cards, name="balances"),
    path("balances/list/", dashboard.balance_list, name="balance_list"),
    path("wallets/open/", dashboard.open_wallet_view, name="open_wallet"),
    path("wallets/<uuid:wallet_uuid>/", wallets.WalletHistoryView.as_view(), name="wallet"),
    path("transactions/<uuid:tx_uuid>/", wallets.transaction_receipt, name="transaction"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("transfer/lookup/", transfers.recipient_lookup, name="recipient_lookup"),
    path("transfer/confirm/", transfers.transfer_confirm, name="transfer_confirm"),
    path("transfers/<uuid:transfer_uuid>/", transfers.transfer_receipt, name="transfer_receipt"),
]
