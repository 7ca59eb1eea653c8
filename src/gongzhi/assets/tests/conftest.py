"""A collective company of 平山社区 with a parcel, a building on it and units in the building."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.actors import SYSTEM
from gongzhi.core.tests.authz_world import id_number, uscc


@pytest.fixture
def estate(place_tree: SimpleNamespace, make_user: Any) -> SimpleNamespace:
    from gongzhi.accounts.enums import Role
    from gongzhi.assets import actions

    a = place_tree.community_a
    manager = make_user(Role.ASSET_MANAGER, a)
    company = actions.do_register_company(uscc("N2440305MA5F00001"), "平山股份合作公司", a, actor=SYSTEM)
    land = actions.do_register_asset(company, "land", "PS-L1", "平山工业区一号地块", "industrial", "20000",
                                     actor=SYSTEM, location="桃源街道平山一路")
    building = actions.do_register_asset(company, "building", "PS-B1", "平山工业区A栋", "industrial", "8000",
                                         actor=SYSTEM, parent=land)
    units = [actions.do_register_asset(company, "unit", f"PS-B1-{i}", f"A栋{i}层", "industrial", "1600",
                                       actor=SYSTEM, parent=building) for i in range(1, 5)]
    return SimpleNamespace(place=a, manager=manager, company=company, land=land, building=building, units=units,
                           tree=place_tree)


TENANT_USCC = uscc("91440300MA5G00002")
PERSON_NUMBER = id_number("44030519800101123")
