import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_an_uploaded_product_image_is_stored_and_shown(client, make_product, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = make_product(name="Poster")
    product.image.save("poster.png", ContentFile(PNG))
    assert (tmp_path / product.image.name).read_bytes() == PNG
    assert product.image.url == f"/media/{product.image.name}"
    page = client.get(reverse("shop:product", args=[product.pk])).content.decode()
    assert f'src="{product.image.url}"' in page and 'alt="Poster"' in page


def test_the_development_server_serves_uploads(settings, tmp_path):
    from django.conf.urls.static import static

    settings.DEBUG = True
    routes = static(settings.MEDIA_URL, document_root=tmp_path)
    assert routes and routes[0].pattern.regex.match("media/products/poster.png")
