"""Reading the pages the tests get back."""

from __future__ import annotations

import re


def hidden_value(page: str | bytes, name: str) -> str:
    """The value of the form field ``name`` (a hidden input) in ``page``."""
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', text)
    assert match, f"no {name} field in the page"
    return match.group(1)
