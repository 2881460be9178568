"""Fee tests: fees go to the platform's wallet in the payment's unit."""

import pytest

from tests.testapp.models import Org


@pytest.fixture
def platform(db):
    return Org.objects.create(name="Platform")


@pytest.fixture(autouse=True)
def fee_wallet_setting(settings, platform):
    """Fees go to the platform's wallet in the payment's unit."""
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: platform}
    return platform
