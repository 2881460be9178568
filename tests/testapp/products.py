"""Products that are not rows: plain objects a payment can name."""

from wallets.mixins import ProductMixin


class Ebook(ProductMixin):
    """Holds no wallet, names no recipient, decides nothing: the buyer is
    charged, and on PostgreSQL the payment is one statement."""

    def __init__(self, price):
        self.price = price

    def __str__(self):
        return "An e-book"

    def get_amount_product(self, customer):
        return self.price

    def get_meta_product(self):
        return {"isbn": "978-0"}
