"""Demo catalog: a merchant with a few products (idempotent)."""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import BaseCommand

from shop.models import Organization, Product

PRODUCTS = [
    ("Django for Professionals", "Books", "39.00", 25, False, "A practical guide."),
    ("Python Tricks (ebook)", "Books", "19.50", None, True, "Delivered as a download."),
    ("Coffee Mug", "Kitchen", "12.00", 40, False, "Holds 350 ml of coffee."),
    ("Sticker Pack", "Goodies", "3.50", None, False, "Ten vinyl stickers."),
    ("Gem Pack", "Games", "500", None, False, "In-game gems, paid with points."),
]


class Command(BaseCommand):
    help = "Create a demo merchant and products for the shop (safe to run again)."

    def handle(self, *args, **options) -> None:
        merchant, _ = Organization.objects.get_or_create(
            slug="corner-shop",
            defaults={"name": "Corner Shop", "kind": Organization.Kind.MERCHANT},
        )
        created = 0
        for name, category, price, stock, digital, description in PRODUCTS:
            unit = "PTS" if category == "Games" else "USD"
            _, was_created = Product.objects.get_or_create(
                merchant=merchant,
                slug=name.lower().replace(" ", "-").replace("(", "").replace(")", ""),
                defaults={
                    "name": name,
                    "category": category,
                    "price": Decimal(price),
                    "unit": unit,
                    "stock": stock,
                    "is_digital": digital,
                    "description": description,
                    "member_discount_percent": 10 if category == "Books" else 0,
                },
            )
            created += was_created
        self.stdout.write(f"{merchant.name}: {created} products created.")
