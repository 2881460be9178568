from django.urls import path

from portal.checkout import api, demo, views

app_name = "checkout"

urlpatterns = [
    # The merchant API accepts paths with and without the trailing slash:
    # servers POST to either, and APPEND_SLASH cannot redirect a POST.
    path("api/checkout/sessions/", api.sessions, name="api-sessions"),
    path("api/checkout/sessions", api.sessions),
    path("api/checkout/sessions/<str:public_id>/", api.session_detail, name="api-session"),
    path("api/checkout/sessions/<str:public_id>", api.session_detail),
    path(
        "api/checkout/sessions/<str:public_id>/expire/",
        api.session_expire,
        name="api-session-expire",
    ),
    path("api/checkout/sessions/<str:public_id>/expire", api.session_expire),
    path("checkout/<str:public_id>/", views.hosted, name="hosted"),
    path("checkout/<str:public_id>/confirm/", views.confirm, name="confirm"),
    path("checkout/<str:public_id>/cancel/", views.cancel, name="cancel"),
    path("checkout/<str:public_id>/embed/", views.embed, name="embed"),
    path("checkout/<str:public_id>/embed/status/", views.embed_status, name="embed-status"),
    path("demo-merchant/", demo.page, name="demo"),
    path("demo-merchant/start/", demo.start, name="demo-start"),
    path("demo-merchant/success/", demo.success, name="demo-success"),
    path("demo-merchant/status/<str:public_id>/", demo.status, name="demo-status"),
]
