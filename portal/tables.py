"""django-tables2 tables of the portal, rendered with the project's htmx-aware template."""

from __future__ import annotations

import csv
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.encoding import force_str
from django.utils.html import format_html
from django_tables2.paginators import LazyPaginator
from django_tables2.rows import BoundRow

from portal.activity import (
    counterparty_label,
    describe_purchase,
    describe_refund,
    purchase_of,
    transaction_reference,
)
from portal.selectors import count_up_to
from portal.templatetags.portal_money import money, plain_amount, signed_money
from wallets.keyset import in_chunks
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

# A cell that is just a number is data, not a formula, even when it starts with "-".
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

HISTORY_PAGE_SIZE = 25
# ?per_page= comes from the URL: a page never reads more than this.
MAX_PAGE_SIZE = 100
# Up to this many matching rows a history says how many there are and numbers its
# pages; past it, an exact count would cost as much as reading the whole history,
# so it pages "Newer / Older" without one.
COUNT_LIMIT = 1000
# Rows fetched per query while a CSV export streams.
EXPORT_CHUNK = 500


def escape_spreadsheet_cell(value: Any) -> Any:
    """Prefix text a spreadsheet would evaluate as a formula with a quote (CSV injection)."""
    is_text = isinstance(value, str)
    if is_text and value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


class CountedPaginator(Paginator):
    """A paginator given the count the view already took, so it never counts again."""

    without_count = False

    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, min(per_page, MAX_PAGE_SIZE), **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


class UncountedPaginator(LazyPaginator):
    """django-tables2's LazyPaginator (one row past the page tells whether another
    follows; no COUNT), for histories too long to count."""

    without_count = True

    def __init__(self, object_list: Any, per_page: int, **kwargs: Any) -> None:
        super().__init__(object_list, min(per_page, MAX_PAGE_SIZE), **kwargs)


def history_pagination(rows: QuerySet, per_page: int = HISTORY_PAGE_SIZE) -> dict[str, Any]:
    """``RequestConfig`` pagination for a history: one capped COUNT, then numbered pages
    for a short history or "Newer / Older" pages for a long one."""
    count = count_up_to(rows, COUNT_LIMIT)
    if count > COUNT_LIMIT:
        return {"paginator_class": UncountedPaginator, "per_page": per_page}
    return {"paginator_class": CountedPaginator, "per_page": per_page, "count": count}


class _Echo:
    """A file-like object whose write() returns the line, for a streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: BaseHtmxTable) -> Iterator[str]:
    """The table's exported columns as CSV: the header line, then the rows'
    lines :data:`EXPORT_CHUNK` at a time. The rows come from the database in
    chunks (``wallets.keyset.in_chunks``), so a long history never sits in
    memory, and in the table's ``indexed_order`` its first rows come as soon
    at any length. ``table`` is configured (sorted) and not paginated.

    A response writes each piece it is given to the socket on its own (a
    chunk of HTTP's chunked encoding): lines joined a chunk at a time make a
    million-row export a few thousand writes, not a million."""
    writer = csv.writer(_Echo())
    columns = [
        column for column in table.columns.iterall() if not column.column.exclude_from_export
    ]
    yield writer.writerow([force_str(column.header) for column in columns])
    readers = [
        _direct_reader(table, column) or _bound_row_reader(table, column) for column in columns
    ]
    records: QuerySet = table.data.data  # the filtered rows, in the table's order
    lines: list[str] = []
    for record in in_chunks(records, EXPORT_CHUNK, indexed=table.indexed_order):
        lines.append(
            writer.writerow(
                [
                    escape_spreadsheet_cell(force_str(read(record), strings_only=True))
                    for read in readers
                ]
            )
        )
        if len(lines) == EXPORT_CHUNK:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


CellReader = Callable[[Any], Any]


def _direct_reader(table: tables.Table, bound_column: Any) -> CellReader | None:
    """A cell's export value straight from the table's ``value_<name>(record)``,
    read as django-tables2's ``BoundRow.get_cell_value`` reads it (a column whose
    field is empty has no value), without its dispatch: it inspects the method's
    signature again for every cell, most of an export's time. ``None`` for a
    column read any other way."""
    method = getattr(table, f"value_{bound_column.name}", None)
    if method is None or list(inspect.signature(method).parameters) != ["record"]:
        return None
    empty = tuple(bound_column.column.empty_values)
    if not empty:
        return method
    model = table._meta.model
    if model is None:
        return None
    try:
        attname = model._meta.get_field(str(bound_column.accessor)).attname
    except FieldDoesNotExist:
        return None

    def read(record: Any) -> Any:
        return None if getattr(record, attname) in empty else method(record)

    return read


def _bound_row_reader(table: tables.Table, bound_column: Any) -> CellReader:
    name = bound_column.name
    return lambda record: BoundRow(record, table=table).get_cell_value(name)


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class BaseHtmxTable(tables.Table):
    """Sort and page links swap the table in place with htmx and push the URL."""

    # The order (field names, the primary key last) an index serves either way:
    # a CSV export in it is read a chunk at a time from where the last chunk
    # ended (wallets.keyset); in any other, by one query. None by default.
    indexed_order: tuple[str, ...] = ()

    class Meta:
        template_name = "portal/tables/bootstrap5_htmx.html"
        attrs = {"class": "table table-sm align-middle"}

    @property
    def pager_labels(self) -> tuple[str, str]:
        """The names of the links to the previous and the next page."""
        return ("Previous", "Next")


class TransactionTable(BaseHtmxTable):
    # Every order ends with the id, so rows that tie never move between pages; newest
    # first is exactly the history index's order.
    indexed_order = ("created_at", "id")  # the history index's
    created_at = tables.DateTimeColumn(
        verbose_name="Time", format="Y-m-d H:i", order_by=("created_at", "id")
    )
    type = tables.Column(verbose_name="Type", order_by=("type", "id"))
    state = tables.Column(verbose_name="State", order_by=("state", "id"))
    amount = tables.Column(
        verbose_name="Amount",
        order_by=("amount", "id"),
        attrs={"td": {"class": "text-end amount"}},
    )
    balance_after = tables.Column(
        verbose_name="Balance after",
        orderable=False,
        attrs={"td": {"class": "text-end amount"}},
        default="—",
    )
    counterparty = tables.Column(verbose_name="Counterparty", empty_values=(), orderable=False)
    reference = tables.Column(verbose_name="Reference", empty_values=(), orderable=False)
    receipt = tables.Column(
        verbose_name="Receipt", empty_values=(), orderable=False, exclude_from_export=True
    )
    # In the CSV only: what the Type column says on the page ("Purchase · Python course
    # x2"), next to the machine-readable type.
    description = tables.Column(
        verbose_name="Description", empty_values=(), orderable=False, visible=False
    )
    # In the CSV only: its amounts are plain numbers (same places and sign as on the page,
    # no grouping), so the unit gets a column of its own.
    unit = tables.Column(verbose_name="Unit", empty_values=(), orderable=False, visible=False)

    class Meta(BaseHtmxTable.Meta):
        model = Transaction
        fields = ()
        sequence = (
            "created_at",
            "type",
            "state",
            "amount",
            "balance_after",
            "counterparty",
            "reference",
            "receipt",
            "description",
            "unit",
        )
        order_by = ("-created_at",)
        empty_text = "No transactions match."

    @property
    def pager_labels(self) -> tuple[str, str]:
        """In time order, the neighbouring pages are newer or older ones."""
        first = str(self.order_by[0]) if self.order_by else "-created_at"
        if first == "-created_at":
            return ("Newer", "Older")
        if first == "created_at":
            return ("Older", "Newer")
        return super().pager_labels

    def render_type(self, record: Transaction) -> str:
        """The type, or what was bought: "Purchase · Python course x2", "Refund · …"."""
        purchase = purchase_of(record)
        if purchase is not None:
            return describe_purchase(purchase)
        if (record.meta or {}).get("fee"):  # a fee leg (wallets.fees): "Fee", "Fee returned"
            return str(record.meta.get("description") or "Fee")
        return describe_refund(record) or record.get_type_display()

    def value_description(self, record: Transaction) -> str:
        return self.render_type(record)

    def render_state(self, record: Transaction) -> str:
        return record.get_state_display()

    def render_amount(self, record: Transaction) -> str:
        return signed_money(record.amount, record.wallet)

    def value_amount(self, record: Transaction) -> str:
        return plain_amount(record.amount, record.wallet)

    def render_balance_after(self, record: Transaction) -> str:
        return money(record.balance_after, record.wallet)

    def value_balance_after(self, record: Transaction) -> str:
        if record.balance_after is None:
            return ""
        return plain_amount(record.balance_after, record.wallet)

    def render_counterparty(self, record: Transaction) -> str:
        return counterparty_label(record) or "—"

    def value_counterparty(self, record: Transaction) -> str:
        return counterparty_label(record)

    def render_reference(self, record: Transaction) -> str:
        return transaction_reference(record) or "—"

    def value_reference(self, record: Transaction) -> str:
        return transaction_reference(record)

    def render_receipt(self, record: Transaction) -> str:
        from django.urls import reverse

        # A purchase or its refund by what was bought; other rows by their type.
        words = self.render_type(record)
        if words == record.get_type_display():
            words = words.lower()
        return format_html(
            '<a href="{}">View<span class="visually-hidden"> receipt for {} of {}</span></a>',
            reverse("portal:transaction", args=[record.uuid]),
            words,
            self.render_amount(record),
        )

    def value_unit(self, record: Transaction) -> str:
        return record.wallet.unit

    def value_created_at(self, record: Transaction) -> str:
        return record.created_at.isoformat()

    def value_type(self, record: Transaction) -> str:
        return record.type

    def value_state(self, record: Transaction) -> str:
        return record.state
