"""The portal's routes, included from ``portal.urls`` under the ``portal`` namespace."""

from django.urls import path

from portal.views import dashboard, wallets

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("balances/", dashboard.balance_cards, name="balances"),
    path("wallets/open/", dashboard.open_wallet_view, name="open_wallet"),
    path("wallets/<uuid:wallet_uuid>/", wallets.WalletHistoryView.as_view(), name="wallet"),
    path("transactions/<uuid:tx_uuid>/", wallets.transaction_receipt, name="transaction"),
]
