from decimal import Decimal

import pytest

from portal.models import User
from shop.checkout.services import add_allowed_origin
from shop.models import CheckoutSession, Membership, Organization, Product


@pytest.fixture
def merchant(db):
    return Organization.objects.create(
        name="Acme Books", slug="acme", kind=Organization.Kind.MERCHANT
    )


@pytest.fixture
def merchant_manager(merchant):
    user = User.objects.create_user("manager", email="manager@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def buyer(db):
    user = User.objects.create_user("buyer", email="buyer@example.com", password="pw")
    user.deposit("100.00")
    return user


@pytest.fixture
def make_product(merchant):
    def make(name="Book", price="10.00", stock=None, **fields):
        slug = fields.pop("slug", name.lower().replace(" ", "-"))
        return Product.objects.create(
            merchant=merchant, name=name, slug=slug, price=Decimal(price), stock=stock, **fields
        )

    return make


@pytest.fixture
def api_key(merchant, merchant_manager):
    from shop.checkout.services import create_api_key

    _key, raw = create_api_key(merchant, by=merchant_manager, name="server")
    return raw


@pytest.fixture
def api(client, api_key):
    """POST/GET the merchant API as the merchant's server."""
    import json

    class Api:
        def post(self, path, body=None, key=api_key, idem=None, raw=None):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
            if idem:
                headers["HTTP_IDEMPOTENCY_KEY"] = idem
            data = raw if raw is not None else json.dumps(body if body is not None else {})
            return client.post(path, data=data, content_type="application/json", **headers)

        def get(self, path, key=api_key):
            return client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")

    return Api()


@pytest.fixture
def session_body():
    return {
        "amount": "25.00",
        "unit": "USD",
        "description": "Order 42",
        "client_reference_id": "order-42",
        "success_url": "https://merchant.example/ok",
        "cancel_url": "https://merchant.example/cancel",
    }


# A session created through the merchant API, hosted or embedded.
@pytest.fixture
def session(api, session_body):
    data = api.post("/api/checkout/sessions/", session_body).json()
    return CheckoutSession.objects.get(public_id=data["id"])


@pytest.fixture
def embedded(api, session_body, merchant, merchant_manager):
    add_allowed_origin(merchant, "http://localhost:8123", by=merchant_manager)
    body = {**session_body, "mode": "embedded", "embed_origin": "http://localhost:8123"}
    data = api.post("/api/checkout/sessions/", body).json()
    return CheckoutSession.objects.get(public_id=data["id"])
