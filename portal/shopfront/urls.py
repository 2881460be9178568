from django.urls import path

from portal.shopfront import developers, sales, views

app_name = "shop"

urlpatterns = [
    path("shop/", views.catalog_page, name="catalog"),
    path("shop/products/<int:pk>/", views.product_page, name="product"),
    path("shop/products/<int:pk>/add/", views.cart_add, name="cart-add"),
    path("shop/cart/", views.cart_page, name="cart"),
    path("shop/cart/update/", views.cart_update, name="cart-update"),
    path("shop/cart/checkout/", views.cart_checkout, name="cart-checkout"),
    path("shop/orders/", views.order_list, name="orders"),
    path("shop/orders/<slug:number>/", views.receipt, name="receipt"),
    path("shop/sales/", sales.sales_index, name="sales-index"),
    path("shop/sales/<slug:slug>/", sales.sales, name="sales"),
    path("shop/sales/<slug:slug>/orders/<slug:number>/refund/", sales.refund, name="refund"),
    path(
        "shop/sales/<slug:slug>/checkouts/<str:public_id>/refund/",
        sales.session_refund,
        name="session-refund",
    ),
    path("shop/merchants/<slug:slug>/developers/", developers.developers, name="developers"),
    path("shop/merchants/<slug:slug>/keys/", developers.api_key_create, name="key-create"),
    path(
        "shop/merchants/<slug:slug>/keys/<int:pk>/revoke/",
        developers.api_key_revoke,
        name="key-revoke",
    ),
    path("shop/merchants/<slug:slug>/origins/", developers.origin_add, name="origin-add"),
    path("shop/merchants/<slug:slug>/webhooks/", developers.webhook_add, name="webhook-add"),
    path(
        "shop/merchants/<slug:slug>/deliveries/<int:pk>/retry/",
        developers.webhook_retry,
        name="delivery-retry",
    ),
]
