"""django-filter FilterSets for the portal's history pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from wallets.form_fields import AmountFormField
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()


class AmountFilter(django_filters.Filter):
    """An amount bound typed like every other amount ("12.50"), with the same plain errors."""

    field_class = AmountFormField


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone (as ``__date`` reads it)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class TransactionFilter(django_filters.FilterSet):
    # Bounds on created_at itself (not on its date): the history index serves them.
    date_from = django_filters.DateFilter(
        label="From", method="filter_date_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label="To", method="filter_date_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    type = django_filters.ChoiceFilter(choices=Transaction.Type.choices, empty_label="Any type")
    state = django_filters.ChoiceFilter(choices=Transaction.State.choices, empty_label="Any state")
    amount_min = AmountFilter(
        label="Amount at least", method="filter_amount_min", allow_zero=True, decimal_places=8
    )
    amount_max = AmountFilter(
        label="Amount at most", method="filter_amount_max", allow_zero=True, decimal_places=8
    )
    q = django_filters.CharFilter(label="Search", method="filter_text")

    class Meta:
        model = Transaction
        fields = ("date_from", "date_to", "type", "state", "amount_min", "amount_max", "q")

    def filter_date_from(
        self, queryset: QuerySet[Transaction], name: str, value: date
    ) -> QuerySet[Transaction]:
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_date_to(
        self, queryset: QuerySet[Transaction], name: str, value: date
    ) -> QuerySet[Transaction]:
        return queryset.filter(created_at__lt=start_of_day(value + timedelta(days=1)))

    # Amount bounds apply to the size of the movement, whichever its direction.
    def filter_amount_min(
        self, queryset: QuerySet[Transaction], name: str, value: Decimal
    ) -> QuerySet[Transaction]:
        return queryset.filter(Q(amount__gte=value) | Q(amount__lte=-value))

    def filter_amount_max(
        self, queryset: QuerySet[Transaction], name: str, value: Decimal
    ) -> QuerySet[Transaction]:
        return queryset.filter(amount__lte=value, amount__gte=-value)

    def filter_text(
        self, queryset: QuerySet[Transaction], name: str, value: str
    ) -> QuerySet[Transaction]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(meta__reference__icontains=value)
            | Q(meta__note__icontains=value)
            | Q(transfer_as_withdraw__to_wallet__name__icontains=value)
            | Q(transfer_as_deposit__from_wallet__name__icontains=value)
        )
