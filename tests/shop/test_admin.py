import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "organization",
        "product",
        "order",
        "checkoutsession",
        "merchantapikey",
        "webhookendpoint",
        "webhookevent",
        "webhookdelivery",
    ],
)
def test_admin_pages_render(admin_client, path, merchant, make_product):
    make_product()
    assert admin_client.get(f"/admin/shop/{path}/").status_code == 200
