"""Checking a checkout id from a URL before it reaches a query."""

from __future__ import annotations

import re

# What shop.models.ids makes ("cs_" and URL-safe base64). Anything else names no
# session, and some of it (a NUL) PostgreSQL would refuse with an error, not a 404.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_public_id(value: str) -> bool:
    """Whether ``value`` could be a checkout session's id."""
    return bool(_PUBLIC_ID.fullmatch(value or ""))
