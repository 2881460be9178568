import wallets.uuids
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0009_purchase_product_type_index_once"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="feecharge",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="transfer",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="transferhold",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
    ]
