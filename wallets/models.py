from wallets.abstract_models import (
    AbstractIdempotencyRecord,
    AbstractTransaction,
    AbstractTransfer,
    AbstractWallet,
)


class Wallet(AbstractWallet):
    class Meta(AbstractWallet.Meta):
        pass


class Transaction(AbstractTransaction):
    class Meta(AbstractTransaction.Meta):
        pass


class Transfer(AbstractTransfer):
    class Meta(AbstractTransfer.Meta):
        pass


class IdempotencyRecord(AbstractIdempotencyRecord):
    class Meta(AbstractIdempotencyRecord.Meta):
        pass
