import wallets.uuids
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledgerapp", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="batchtransfer",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="channeltransaction",
            name="uuid",
            field=models.UUIDField(
                default=wallets.uuids.time_ordered_uuid, editable=False, unique=True
            ),
        ),
    ]
