"""Configuration rows every money operation asks for (risk rules, fee policies),
read at most every few seconds per process.

They change rarely, and a transfer must not pay a query for them. A row saved or
deleted in this process is seen at once (and the cache stays off for a while, so
a change that rolls back is not kept either); other processes see it within the
cache time. A cache time of 0 turns the cache off.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

from wallets import conf

Row = TypeVar("Row", bound=models.Model)


class ActiveRows(Generic[Row]):
    """The rows ``read()`` returns, cached for ``WALLETS[cache_setting]`` seconds."""

    def __init__(
        self, model: type[Row], cache_setting: str, read: Callable[[], models.QuerySet]
    ) -> None:
        self.cache_setting = cache_setting
        self.read = read
        self.lock = threading.Lock()
        self.read_at = -math.inf
        self.changed_at = -math.inf
        self.rows: list[Row] = []
        uid = f"wallets.active_rows.{model._meta.label_lower}"
        post_save.connect(self.changed, sender=model, dispatch_uid=uid)
        post_delete.connect(self.changed, sender=model, dispatch_uid=uid)

    def get(self) -> list[Row]:
        ttl = conf.get(self.cache_setting)
        now = time.monotonic()
        if now - self.read_at < ttl and now - self.changed_at >= ttl:
            return self.rows
        rows = list(self.read())
        if now - self.changed_at >= ttl:
            with self.lock:
                self.rows, self.read_at = rows, now
        return rows

    def changed(self, **kwargs: Any) -> None:
        with self.lock:
            self.changed_at = time.monotonic()
