"""Paying for products: one product or a whole cart in one atomic operation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wallets import conf, fees
from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.exceptions import AmountInvalid, ProductNotAvailable, SameWallet, UnitMismatch
from wallets.fee_ledger import charge_fee
from wallets.fees import FeePlan
from wallets.holders import holder_label, resolve_wallet
from wallets.ledger import ensure_active, ensure_available
from wallets.locking import product_key
from wallets.mixins import product_decides_nothing
from wallets.models import Purchase
from wallets.operations import Context, Operation, run
from wallets.services.moves import move, move_in_one_statement, receivers_judge_moves
from wallets.services.purchases import charge, charge_in_one_statement, refund_purchase
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

Paid = Transfer | Purchase
# Called inside the payment's operation, under its locks, with what each line
# became (in cart order); raising undoes the whole payment.
PaidHook = Callable[[list[Paid]], None]


@dataclass
class Line:
    product: Any
    quantity: int
    recipient: Wallet | None  # None: no wallet receives the price (a Purchase)
    fee_plan: FeePlan | None = None


def purchase_refusal(product: Any, customer: Any, quantity: int) -> str | None:
    """Why ``customer`` cannot buy the product now (``None``: they can).

    ``ProductMixin.purchase_refusal``; products without the mixin answer ``can_buy``."""
    if hasattr(product, "purchase_refusal"):
        return product.purchase_refusal(customer, quantity)
    return None if product.can_buy(customer, quantity) else f"'{product}' is not available."


class PurchaseService:
    """Swap it with ``WALLETS["PURCHASE_SERVICE_CLASS"]``.

    Products implement :class:`wallets.mixins.ProductMixin`. Each line becomes
    a transfer of kind ``paid`` (``gift`` for gifts) from the payer to the
    product's recipient wallet; a product that names none (and holds no
    wallet) is paid to ``WALLETS["REVENUE_WALLET"]`` when set, else the buyer
    is charged and the line becomes a :class:`Purchase` naming the product.
    Products that are model instances are locked before the wallets, and
    ``purchase_refusal`` (by default ``can_buy``) is asked under that lock, so
    parallel buyers can never buy more than it allows.
    """

    @classmethod
    @exact
    def pay(
        cls,
        payer: Wallet | Any,
        product: Any,
        quantity: int = 1,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        customer: Any = None,
        kind: str = Transfer.Kind.PAID,
        *,
        on_paid: PaidHook | None = None,
    ) -> Paid | list[Paid]:
        """Pay for ``product`` (``quantity`` of it), or for a cart given as a list
        of ``(product, quantity)`` pairs. Returns the transfer (or purchase), or
        the list of them for a cart, in cart order.

        ``on_paid`` lets the caller record its side of the sale (orders, stock)
        in the same operation; it is not called again for a retried key."""
        is_cart = isinstance(product, list | tuple)
        items = list(product) if is_cart else [(product, quantity)]
        source = resolve_wallet(payer)
        customer = customer if customer is not None else _holder_of(payer, source)
        lines = [cls._line(source, p, q) for p, q in cls._validated(items)]
        meta = dict(meta or {})

        def perform(context: Context) -> list[Paid]:
            if not context.locked:
                # One statement locks, checks and pays (PostgreSQL; see _in_one_statement).
                (line,) = lines
                return [cls._pay_in_one_statement(context, source, line, customer, kind, meta)]
            locked_source = context.locked[0]
            priced = []
            for line in lines:
                fresh = context.product(line.product)
                refusal = purchase_refusal(fresh, customer, line.quantity)
                if refusal is not None:
                    raise ProductNotAvailable(refusal, product=fresh)
                price = parse_amount(
                    fresh.get_amount_product(customer), locked_source.decimal_places
                )
                priced.append((line, fresh, price))
            fees_due = [cls._fee(context, line, price * line.quantity) for line, _, price in priced]
            total = sum((price * line.quantity for line, _, price in priced), Decimal(0))
            total += sum((fee for plan, fee in fees_due if fee and not plan.deductible), Decimal(0))
            ensure_active(*context.locked)
            ensure_available(locked_source, total)
            paid: list[Paid] = []
            for (line, fresh, price), (plan, fee) in zip(priced, fees_due, strict=True):
                line_meta = _line_meta(meta, fresh, line.quantity, price, locked_source)
                deducted = fee if fee and plan.deductible else Decimal(0)
                if line.recipient is None:
                    result: Paid = charge(
                        locked_source,
                        fresh,
                        line.quantity,
                        price,
                        kind=kind,
                        meta=line_meta,
                        fee_deducted=deducted,
                    )
                else:
                    result = move(
                        locked_source,
                        context.wallet(line.recipient),
                        price * line.quantity,
                        price * line.quantity,
                        kind=kind,
                        meta=line_meta,
                    )
                if fee:
                    cls._charge_fee(plan, fee, result, locked_source, context, line)
                fresh.after_purchase(customer, line.quantity, result)
                paid.append(result)
            if on_paid is not None:
                on_paid(paid)
            return paid

        transfers = run(
            Operation(
                "pay",
                wallets=[
                    source,
                    *(line.recipient for line in lines if line.recipient),
                    *(line.fee_plan.fee_wallet for line in lines if line.fee_plan),
                ],
                products=[line.product for line in lines],
                idempotency_key=idempotency_key,
                fingerprint=[
                    str(source.uuid),
                    [[str(product_key(line.product)), line.quantity] for line in lines],
                    meta,
                    kind,
                    holder_label(customer),
                ],
                one_statement=on_paid is None and cls._in_one_statement(lines),
            ),
            perform,
        )
        return transfers if is_cart else transfers[0]

    @staticmethod
    def _in_one_statement(lines: list[Line]) -> bool:
        """Whether a payment can be one statement on PostgreSQL: one line, no
        fee, no ``pre_withdraw``/``pre_deposit`` receivers, and a product that
        decides nothing under a lock (its price is read before the statement,
        as it would be under a lock that covers only the wallets)."""
        if len(lines) != 1 or lines[0].fee_plan is not None:
            return False
        return not receivers_judge_moves() and product_decides_nothing(lines[0].product)

    @staticmethod
    def _pay_in_one_statement(
        context: Context, source: Wallet, line: Line, customer: Any, kind: str, meta: dict
    ) -> Paid:
        product, quantity = line.product, line.quantity
        price = parse_amount(product.get_amount_product(customer), source.decimal_places)
        line_meta = _line_meta(meta, product, quantity, price, source)
        if line.recipient is None:
            paid, locked = charge_in_one_statement(
                source, product, quantity, price, kind=kind, meta=line_meta
            )
            context.adopt(locked)
            return paid
        return move_in_one_statement(
            context, source, line.recipient, price * quantity, kind=kind, meta=line_meta
        )

    @classmethod
    def refund(
        cls,
        purchase: Purchase,
        amount: Amount | None = None,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        *,
        actor: StaffActor | None = None,
    ) -> Transaction:
        """Refund a purchase no wallet received, in full or in part (a deposit back).

        Payments to a wallet are :class:`Transfer` rows: refund those with
        ``TransferService.refund``."""
        return refund_purchase(purchase, amount, meta, idempotency_key, actor=actor)

    @staticmethod
    def _fee(context: Context, line: Line, amount: Decimal) -> tuple[FeePlan | None, Decimal]:
        """The line's fee plan under the locks, and its fee on ``amount``."""
        if line.fee_plan is None:
            return None, Decimal(0)
        plan = line.fee_plan.under_lock(context)
        payer = context.locked[0]
        wallets = [payer] if line.recipient is None else [payer, context.wallet(line.recipient)]
        fee = plan.fee_on(amount, *wallets)
        if fee and plan.deductible and line.recipient is None and fee >= amount:
            raise AmountInvalid(f"The fee would take the whole price of '{line.product}'.")
        return plan, fee

    @staticmethod
    def _charge_fee(
        plan: FeePlan, fee: Decimal, paid: Paid, payer: Wallet, context: Context, line: Line
    ) -> None:
        """The line's fee: the payer pays it (for a purchase no wallet received,
        deductible or not), or the receiving wallet gives it out of the price."""
        if isinstance(paid, Purchase):
            paid.fee_charge = charge_fee(
                plan, fee, bearer=payer, base=paid.amount, subject=paid, purchase=paid
            )
            return
        bearer = context.wallet(line.recipient) if plan.deductible else payer
        paid.fee_charge = charge_fee(
            plan, fee, bearer=bearer, base=paid.amount, subject=paid, transfer=paid
        )

    @staticmethod
    def _validated(items: Sequence[Any]) -> list[tuple[Any, int]]:
        if not items:
            raise AmountInvalid("The cart is empty.")
        cleaned = []
        for item in items:
            try:
                product, quantity = item
            except (TypeError, ValueError):
                raise AmountInvalid("A cart is a list of (product, quantity) pairs.") from None
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise AmountInvalid("The quantity must be a whole number of at least 1.")
            cleaned.append((product, quantity))
        return cleaned

    @staticmethod
    def _line(source: Wallet, product: Any, quantity: int) -> Line:
        if not hasattr(product, "get_amount_product"):
            raise ProductNotAvailable(f"{product!r} is not a product.")
        target = product.get_product_recipient()
        if target is None:
            revenue = conf.get_class("REVENUE_WALLET")
            target = revenue(product) if revenue is not None else None
        if target is None:
            return Line(product, quantity, None, fees.plan_for(fees.PAYMENT, source, None, product))
        recipient = resolve_wallet(target)
        if recipient.pk == source.pk:
            raise SameWallet("A wallet cannot pay itself.")
        if recipient.unit != source.unit:
            raise UnitMismatch(
                f"'{product}' is sold for {recipient.unit}; this wallet holds {source.unit}."
            )
        plan = fees.plan_for(fees.PAYMENT, source, recipient, product)
        return Line(product, quantity, recipient, plan)


def _line_meta(meta: dict, product: Any, quantity: int, price: Decimal, payer: Wallet) -> dict:
    return {
        **meta,
        "product": product.get_meta_product(),
        "quantity": quantity,
        "unit_price": str(price.quantize(quantum(payer.decimal_places))),
    }


def _holder_of(payer: Any, wallet: Wallet) -> Any:
    return wallet.holder if isinstance(payer, Wallet) else payer
