"""Holders and a product for our engine, as a project using it would declare them."""
