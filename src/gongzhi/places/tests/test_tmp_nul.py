import pytest
from django.test import Client

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/places/a%00b", "/api/v1/places?q=%00", "/api/v1/places?parent=%00", "/places/a%00b/", "/api/v1/places/a%00b/lineage"])
def test_nul(url):
    r = Client().get(url)
    print(url, r.status_code)
    assert r.status_code < 500
