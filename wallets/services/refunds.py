"""Refunds of transfers: money back along the transfer's path, in full or in
part, never more than left the source, with its fee returned or kept."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from wallets import fees, idempotency
from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.audit import AuditDraft, at_precision
from wallets.exceptions import AlreadyRefunded, RefundExceedsTransfer, TransferNotRefundable
from wallets.fee_ledger import return_fee
from wallets.models import AuditEntry, FeeCharge
from wallets.operations import Context, Operation, run
from wallets.services.moves import move
from wallets.staff import StaffActor
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Kind = Transfer.Kind
Action = AuditEntry.Action


def refund_wallets(transfers: Iterable[Transfer]) -> list[Wallet]:
    """Every wallet a refund of ``transfers`` moves money in: both ends, and the fee
    wallet of a fee the refund may return. An operation that refunds transfers
    inside it locks these with its own, so nothing is locked out of order."""
    transfers = list(transfers)
    wallets = {w.pk: w for t in transfers for w in (t.from_wallet, t.to_wallet)}
    wallets.update({w.pk: w for w in fees.fee_wallets_of(transfers)})
    return list(wallets.values())


@exact
def refund_transfer(
    transfer: Transfer,
    amount: Amount | None = None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    force: bool = False,
    *,
    actor: StaffActor | None = None,
) -> Transfer:
    """Return money along a transfer's path, in full or in part.

    ``amount`` is in the units that left the source (default: all that is
    left). The recipient gives back the matching share of what it received;
    the last refund returns exactly the rest, so a transfer refunded in
    parts returns exactly what left the source and nothing more. Unless
    ``force``, the recipient needs the funds available.

    A fee charged on the transfer is returned or kept as its policy said
    when it was charged (``wallets.fees.returned_share``): to the payer, or
    in deductible mode to the recipient before it gives the amount back.
    """
    meta = dict(meta or {})
    source_wallet, destination_wallet = transfer.from_wallet, transfer.to_wallet
    requested = None if amount is None else parse_amount(amount, source_wallet.decimal_places)
    charged = fees.charges_of(transfer=transfer)
    fee_wallets = [charged.fee_wallet] if charged else []

    def perform(context: Context) -> Transfer:
        source, destination = context.locked[:2]
        original = Transfer.objects.get(pk=transfer.pk)
        if original.kind == Kind.REFUND:
            raise TransferNotRefundable("A refund cannot itself be refunded.")
        left = original.amount - original.refunded_amount
        if left <= 0:
            raise AlreadyRefunded("The transfer has already been refunded in full.")
        value = left if requested is None else requested
        if value > left:
            raise RefundExceedsTransfer(
                f"Only {at_precision(left, source)} {source.unit} of this transfer "
                "is left to refund."
            )
        before = refund_state(original, source)
        charge = FeeCharge.objects.get(pk=charged.pk) if charged else None
        share = fees.returned_share(charge, value, left, original.amount)
        fee_back = {
            "share": share,
            "fee_wallet": context.wallet(charged.fee_wallet) if charged else None,
            "check_funds": not force,
        }
        if share and charge.mode == fees.DEDUCTIBLE:
            # The recipient bore the fee: it gets it back, then refunds.
            return_fee(charge, bearer=destination, subject=original, **fee_back)
        refund = move(
            destination,
            source,
            received_share(original, value, left, destination),
            value,
            kind=Kind.REFUND,
            meta={
                **meta,
                **({"reason": context.reason[:200]} if context.actor else {}),
                "refund_of": str(original.uuid),
            },
            rate=original.rate,
            refund_of=original,
            check_funds=not force,
        )
        if share and charge.mode == fees.PAYER_PAYS:
            return_fee(charge, bearer=source, subject=original, transfer=refund, **fee_back)
        original.refunded_amount += value
        original.refund_state = (
            Transfer.RefundState.FULL
            if original.refunded_amount == original.amount
            else Transfer.RefundState.PARTIAL
        )
        original.save(update_fields=["refunded_amount", "refund_state"])
        context.audit = AuditDraft(
            target=original,
            amount=refund.received,
            unit=source.unit,
            before=before,
            after={**refund_state(original, source), "refund": str(refund.uuid)},
        )
        return refund

    result = run(
        Operation(
            "refund",
            wallets=[source_wallet, destination_wallet, *fee_wallets],
            idempotency_key=idempotency_key,
            scope=None if actor else idempotency.holder_scope(destination_wallet),
            fingerprint=[
                str(transfer.uuid),
                None if requested is None else str(requested),
                meta,
                force,
            ],
            actor=actor,
            action=Action.REFUND_TRANSFER,
        ),
        perform,
    )
    transfer.refresh_from_db(fields=["refunded_amount", "refund_state"])
    return result


def refund_state(transfer: Transfer, source: Wallet) -> dict[str, str]:
    return {
        "refund_state": transfer.refund_state,
        "refunded_amount": at_precision(transfer.refunded_amount, source),
    }


def received_share(
    original: Transfer, value: Decimal, left: Decimal, destination: Wallet
) -> Decimal:
    """How much the recipient gives back for ``value`` of the source's units."""
    if original.amount == original.received:
        return value
    already_back = sum((r.amount for r in original.refunds.all()), start=Decimal(0))
    received_left = original.received - already_back
    if value == left:
        return received_left
    share = (original.received * value / original.amount).quantize(
        quantum(destination.decimal_places), rounding=ROUND_HALF_EVEN
    )
    return min(share, received_left)
