import django.db.models.deletion
import uuid
import wallets.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0002_staff_audit_and_risk_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(settings.WALLETS_TRANSACTION_MODEL),
        migrations.swappable_dependency(settings.WALLETS_TRANSFER_MODEL),
        migrations.swappable_dependency(settings.WALLETS_WALLET_MODEL),
    ]

    operations = [
        # The old single reason was written by staff: it becomes their private note.
        migrations.RenameField(model_name="wallet", old_name="frozen_reason", new_name="frozen_note"),
        migrations.AddField(
            model_name="wallet",
            name="frozen_message",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("freeze", "Freeze wallet"),
                    ("unfreeze", "Unfreeze wallet"),
                    ("confirm", "Confirm pending transaction"),
                    ("reject", "Reject pending transaction"),
                    ("reverse", "Reverse transaction"),
                    ("refund_transfer", "Refund transfer"),
                    ("refund_order", "Refund order"),
                    ("credit", "Manual credit"),
                    ("debit", "Manual debit"),
                    ("release_hold", "Release held transfer"),
                    ("reject_hold", "Reject held transfer"),
                    ("rename", "Rename wallet"),
                ],
                db_index=True,
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.CreateModel(
            name="TransferHold",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("amount", wallets.fields.AmountField()),
                ("rule_name", models.CharField(max_length=100)),
                ("message", models.TextField(help_text="Why the rule held the transfer.")),
                ("meta", models.JSONField(blank=True, default=dict)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("held", "Held for review"),
                            ("released", "Released"),
                            ("rejected", "Rejected"),
                            ("canceled", "Canceled"),
                            ("expired", "Expired"),
                        ],
                        default="held",
                        max_length=16,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decision_note", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("decided_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("from_wallet", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="transfer_holds_out", to=settings.WALLETS_WALLET_MODEL)),
                ("reservation", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="transfer_hold", to=settings.WALLETS_TRANSACTION_MODEL)),
                ("rule", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="holds", to="wallets.riskrule")),
                ("to_wallet", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="transfer_holds_in", to=settings.WALLETS_WALLET_MODEL)),
                ("transfer", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="released_hold", to=settings.WALLETS_TRANSFER_MODEL)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["state", "created_at"], name="wallets_hold_state")],
            },
        ),
    ]
