import django.db.models.deletion
from django.db import migrations, models

# The product_type column is indexed by wallets_purchase_product, which starts
# with it. Only the index goes: AlterField would also drop and re-add the
# foreign key, validating every purchase again under a lock.
FK_INDEX = "wallets_purchase_product_type_id_7c881079"


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("wallets", "0008_fee_policies"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="purchase",
                    name="product_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {FK_INDEX}",
                    reverse_sql=(
                        f"CREATE INDEX IF NOT EXISTS {FK_INDEX} "
                        "ON wallets_purchase (product_type_id)"
                    ),
                ),
            ],
        ),
    ]
