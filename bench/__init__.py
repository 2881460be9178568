"""The speed benchmark of the wallet engine: ``python -m bench --help``.

It runs our engine, dj-wallet 0.1.0 (the peer) and a plain-SQL floor side by
side, interleaved round by round, checks the ledger's invariants after every
scenario, and prints (or writes as JSON) the medians and ratios.
"""
