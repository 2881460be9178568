"""The staff console: holder search, wallets and history, the moderation queue and refunds."""
