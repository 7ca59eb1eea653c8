from __future__ import annotations

from django.test import Client

from gongzhi.places.models import Place

from .conftest import Tree


def test_tree_page_shows_places_valid_on_the_date(
    client: Client, split_tree: tuple[Tree, list[Place]]
) -> None:
    old = client.get("/places/?as_of=2016-06-01").content.decode()
    assert "将石社区" in old and "将围社区" not in old and "近期区划变更" not in old  # the split came later
    now, lineage = client.get("/places/").content.decode().split("近期区划变更")
    assert "将围社区" in now and "将石社区" not in now
    # Below the tree, the lineage: 将石 → its four successors.
    assert "拆分" in lineage and "将石社区" in lineage and "石围社区" in lineage
    bad = client.get("/places/?as_of=2016-99-01")
    assert bad.status_code == 400 and "日期格式应为 YYYY-MM-DD" in bad.content.decode()


def test_detail_page_shows_lineage(client: Client, split_tree: tuple[Tree, list[Place]]) -> None:
    response = client.get("/places/440311006-C01/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>将石社区</h1>" in html
    assert "现由以下单位承继" in html and "石围社区" in html
    assert "撤销前的下级单位" in html and "第8居民小组" in html  # the groups it had in 2017
    assert "2005-01-01 – 2017-09-01" in html
    assert '<th scope="col">' in html
    assert client.get("/places/NOPE/").status_code == 404
