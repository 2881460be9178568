from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth's login, so its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("portal.checkout.urls")),
    path("", include("portal.shopfront.urls")),
    path("", include("portal.ops.urls")),
    path("staff/", include("portal.staff.urls")),
    path("", include("portal.views.urls")),
]

# Uploaded product images in development (static() adds nothing when DEBUG is off).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
