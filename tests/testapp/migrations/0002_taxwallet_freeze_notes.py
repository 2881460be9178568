from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("testapp", "0001_initial")]

    operations = [
        migrations.RenameField(
            model_name="taxwallet", old_name="frozen_reason", new_name="frozen_note"
        ),
        migrations.AddField(
            model_name="taxwallet",
            name="frozen_message",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
    ]
