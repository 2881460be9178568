"""Letting one response be framed by one origin (the embedded checkout).

Everything else is served with ``X-Frame-Options: DENY`` and CSP
``frame-ancestors 'none'``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpResponseBase


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` or ValueError: a path, a wildcard or a bare host is refused."""
    parts = urlsplit(origin.strip())
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or "*" in parts.netloc
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"not a framing origin: {origin!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def allow_framing(response: HttpResponseBase, origin: str) -> HttpResponseBase:
    """Let ``origin`` (and only it) embed this response in a frame.

    Replaces CSP ``frame-ancestors`` for this response (django-csp reads
    ``response._csp_replace``) and drops ``X-Frame-Options``, which cannot name an
    origin; browsers that know CSP ignore it when frame-ancestors is present anyway.
    """
    response._csp_replace = {  # type: ignore[attr-defined]
        **(getattr(response, "_csp_replace", None) or {}),
        "frame-ancestors": [normalize_origin(origin)],
    }
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response
