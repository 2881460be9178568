# Indexes that keep history readers independent of history size:
# the balance chart's probes of rows confirmed after they were written, and the
# staff dashboard's "transfers in the last day".

from django.db import migrations, models

from wallets.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("wallets", "0003_transfer_holds_and_freeze_notes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", False), ("state", "confirmed")),
                fields=["wallet", "-resolved_at", "-id"],
                name="wallets_tx_resolved",
            ),
        ),
        AddIndexOnline(
            model_name="transfer",
            index=models.Index(fields=["created_at"], name="wallets_tr_created"),
        ),
    ]
