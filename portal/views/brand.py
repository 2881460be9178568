"""The site's icon at the address browsers ask for first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``: the icon in the static files (hashed name in production)."""
    response = HttpResponseRedirect(static("portal/favicon.ico"))
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response
