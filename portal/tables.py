"""django-tables2 tables of the portal, rendered with the project's htmx-aware template."""

from __future__ import annotations

import re
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django_tables2.export import TableExport

from portal.selectors import counterparty_label
from portal.templatetags.portal_money import plain_amount, signed_money
from wallets.models import Transaction

# A cell that is just a number is data, not a formula, even when it starts with "-".
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_spreadsheet_cell(value: Any) -> Any:
    """Prefix text a spreadsheet would evaluate as a formula with a quote (CSV injection)."""
    is_text = isinstance(value, str)
    if is_text and value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


class SafeTableExport(TableExport):
    """TableExport whose cells cannot smuggle spreadsheet formulas."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):  # type: ignore[override]
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        headers = dataset.headers
        rows = [tuple(escape_spreadsheet_cell(cell) for cell in row) for row in dataset]
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        return dataset


class BaseHtmxTable(tables.Table):
    """Sort and page links swap the table in place with htmx and push the URL."""

    class Meta:
        template_name = "portal/tables/bootstrap5_htmx.html"
        attrs = {"class": "table table-sm align-middle"}


class TransactionTable(BaseHtmxTable):
    created_at = tables.DateTimeColumn(verbose_name="Time", format="Y-m-d H:i")
    type = tables.Column(verbose_name="Type")
    state = tables.Column(verbose_name="State")
    amount = tables.Column(verbose_name="Amount", attrs={"td": {"class": "text-end amount"}})
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
        )
        order_by = ("-created_at",)
        empty_text = "No transactions match."

    def render_type(self, record: Transaction) -> str:
        return record.get_type_display()

    def render_state(self, record: Transaction) -> str:
        return record.get_state_display()

    def render_amount(self, record: Transaction) -> str:
        return signed_money(record.amount, record.wallet)

    def value_amount(self, record: Transaction) -> str:
        return plain_amount(record.amount, record.wallet)

    def render_balance_after(self, record: Transaction) -> str:
        return signed_money(record.balance_after, record.wallet).lstrip("+")

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

        return format_html(
            '<a href="{}">View<span class="visually-hidden"> receipt for {} of {}</span></a>',
            reverse("portal:transaction", args=[record.uuid]),
            record.get_type_display().lower(),
            self.render_amount(record),
        )

    def value_created_at(self, record: Transaction) -> str:
        return record.created_at.isoformat()

    def value_type(self, record: Transaction) -> str:
        return record.type

    def value_state(self, record: Transaction) -> str:
        return record.state


def transaction_reference(tx: Transaction) -> str:
    meta = tx.meta or {}
    return str(meta.get("reference") or meta.get("note") or "")
