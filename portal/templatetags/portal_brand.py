"""The product's name where templates need it (pages, error pages, account emails).

Read from settings, not from the request's host or the database: the error pages render
when the database is down, and emails must never be signed "127.0.0.1:8000"."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def site_name() -> str:
    return getattr(settings, "SITE_NAME", "Tally")
