from __future__ import annotations

import pytest

from gongzhi.services.catalog import catalog_snapshot, export_catalog_xlsx, do_import_catalog
from gongzhi.services.demo import load_demo_catalog
from gongzhi.services.models import Bundle, ServiceItem

pytestmark = pytest.mark.django_db


def test_smoke(place_tree):
    load_demo_catalog(actor="demo", progress=print)
    print(ServiceItem.objects.count(), Bundle.objects.count())
    snap = catalog_snapshot()
    data = export_catalog_xlsx()
    open("/tmp/scratch/cat.xlsx", "wb").write(data)
    r = do_import_catalog(data, actor="demo")
    print(r.summary(), r.errors[:5])
    assert catalog_snapshot() == snap
