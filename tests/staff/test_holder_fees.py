"""The staff holder page lists the fee charged on each recent transfer, in one query."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.models import Organization
from wallets.models import FeeCharge, FeePolicy
from wallets.services import transfer_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer_fee(settings):
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    return FeePolicy.objects.create(name="Transfer fee", fixed=Decimal("0.30"))


def transfers_section(client, holder) -> str:
    page = client.get(reverse("staff:holder", args=["user", holder.pk])).content.decode()
    return page[page.index('id="transfers-heading"') : page.index('id="audit-heading"')]


def fee_cells(section: str) -> list[str]:
    marker = 'data-testid="staff-transfer-fee">'
    return [part.split("</td>")[0] for part in section.split(marker)[1:]]


def test_each_transfer_shows_its_fee(moderator_client, holder, other, transfer_fee):
    first = holder.transfer(other, "10.00")
    transfer_fee.mode = FeePolicy.Mode.DEDUCTIBLE
    transfer_fee.save()
    holder.transfer(other, "5.00")
    transfer_fee.is_active = False
    transfer_fee.save()
    holder.transfer(other, "1.00")
    transfer_service().refund(first)
    section = transfers_section(moderator_client, holder)
    assert '<th scope="col" class="text-end">Fee</th>' in section
    cells = fee_cells(section)
    # Newest first: the refund, the transfer without a fee, the deducted one, the first.
    assert len(cells) == 4
    assert cells[0] == cells[1] == '<span class="text-body-secondary">—</span>'
    assert cells[2] == (
        '<span class="amount">0.30 USD</span><br>'
        '<span class="small text-body-secondary">Transfer fee · deducted</span>'
    )
    assert cells[3] == (
        '<span class="amount">0.30 USD</span><br>'
        '<span class="small text-body-secondary">Transfer fee · 0.30 USD returned</span>'
    )


def test_a_holder_without_fees_has_no_fee_column(moderator_client, holder, other):
    holder.transfer(other, "3.00")
    section = transfers_section(moderator_client, holder)
    assert "Fee" not in section and "fee" not in section
    assert "3.00 USD" in section


def test_the_fees_cost_one_query_for_all_rows(moderator_client, holder, other, transfer_fee):
    def page_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            moderator_client.get(reverse("staff:holder", args=["user", holder.pk]))
        table = FeeCharge._meta.db_table
        fee_queries = [q for q in queries.captured_queries if table in q["sql"]]
        return len(queries.captured_queries), len(fee_queries)

    holder.transfer(other, "1.00")
    one_row = page_queries()
    for amount in ("2.00", "3.00", "4.00"):
        holder.transfer(other, amount)
    assert FeeCharge.objects.count() == 4
    four_rows = page_queries()
    assert one_row == four_rows
    assert four_rows[1] == 1
