from wallets.management.commands import wallets_reconcile


class Command(wallets_reconcile.Command):
    # The command's earlier name, kept for the scripts and runbooks that call it.
    help = "Another name of wallets_reconcile: " + wallets_reconcile.Command.help
