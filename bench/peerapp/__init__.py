"""Holders and products for dj-wallet 0.1.0, as its README declares them."""
