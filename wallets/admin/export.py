"""The audit log as CSV: streamed, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from wallets.keyset import in_chunks
from wallets.models import AuditEntry

# Rows read a query while the log streams; in the log's own order (newest
# first, or oldest first) each query starts where the last ended.
EXPORT_CHUNK = 500
LOG_ORDER = ("created_at", "id")

AUDIT_CSV_COLUMNS = (
    "created_at",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_uuid",
    "target_label",
    "reason",
    "amount",
    "unit",
    "before",
    "after",
    "ip_address",
    "uuid",
)


def spreadsheet_safe(value: Any) -> str:
    """Quote text a spreadsheet would run as a formula (CSV injection); numbers stay."""
    text = "" if value is None else str(value)
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        try:
            Decimal(text)
        except (ArithmeticError, InvalidOperation):
            return "'" + text
    return text


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _values(entry: AuditEntry) -> list[Any]:
    return [
        entry.created_at.isoformat(),
        entry.actor_label,
        entry.action,
        entry.target_type.model,
        entry.target_id,
        entry.target_uuid,
        entry.target_label,
        entry.reason,
        entry.amount,
        entry.unit,
        entry.before,
        entry.after,
        entry.ip_address,
        entry.uuid,
    ]


def audit_csv_lines(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_CSV_COLUMNS)
    rows = entries.select_related("target_type")
    for entry in in_chunks(rows, EXPORT_CHUNK, indexed=LOG_ORDER):
        yield writer.writerow([spreadsheet_safe(v) for v in _values(entry)])


def audit_csv_response(entries: QuerySet[AuditEntry]) -> StreamingHttpResponse:
    # Streamed: the log grows without bound, and the whole file never sits in memory.
    response = StreamingHttpResponse(
        audit_csv_lines(entries), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
