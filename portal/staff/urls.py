"""Routes of the staff console, included from ``portal.urls`` under ``staff/``."""

from django.urls import path

from portal.staff import dashboard, views  # noqa: F401 - dashboard connects its panel

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("holders/<str:kind>/<str:pk>/", views.holder_detail, name="holder"),
    path("wallets/<uuid:wallet_uuid>/", views.wallet_history, name="wallet"),
    path("wallets/<uuid:wallet_uuid>/freeze/", views.freeze, name="freeze"),
    path("queue/", views.queue, name="queue"),
    path("queue/<uuid:tx_uuid>/<str:decision>/", views.queue_decide, name="decide"),
    path(
        "transfers/<uuid:transfer_uuid>/refund/",
        views.refund_transfer_view,
        name="refund_transfer",
    ),
    path("orders/<str:number>/refund/", views.refund_order_view, name="refund_order"),
]
