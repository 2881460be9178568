"""Routes of the staff console, included from ``portal.urls`` under ``staff/``."""

from django.urls import path

from portal.staff import actions, dashboard, views  # noqa: F401 - dashboard connects its panel

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("holders/<str:kind>/<str:pk>/", views.holder_detail, name="holder"),
    path("wallets/<uuid:wallet_uuid>/", views.wallet_history, name="wallet"),
    path("wallets/<uuid:wallet_uuid>/freeze/", actions.freeze, name="freeze"),
    path("wallets/<uuid:wallet_uuid>/unfreeze/", actions.unfreeze, name="unfreeze"),
    path("queue/", views.queue, name="queue"),
    path("queue/<uuid:tx_uuid>/<str:decision>/", actions.decide_transaction, name="decide"),
    path("queue/holds/<uuid:hold_uuid>/<str:decision>/", actions.decide_hold, name="decide_hold"),
    path("transfers/<uuid:transfer_uuid>/refund/", actions.refund_transfer, name="refund_transfer"),
    path("orders/<slug:number>/refund/", actions.refund_order_view, name="refund_order"),
]
