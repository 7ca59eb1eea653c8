"""Property management: repair requests with a working-day limit, fees (both databases)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gongzhi.core import clock
from gongzhi.core.actions import run_timer
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.core.models import Timer
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.villages import actions as va
from gongzhi.villages.enums import RepairStatus
from gongzhi.villages.tests.helpers import BUILDER

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_repair_due_in_working_days_and_marked_overdue_by_the_timer(place_tree: Any, users: dict[str, Any]) -> None:
    village = va.do_create_village(place_tree.pingshan, "V-P", "平山村", 2026, actor=SYSTEM)
    company = va.do_register_property_company(village, BUILDER, "平山物业服务有限公司", actor=SYSTEM)
    building = va.do_add_building(village, "平山村12栋", 40, company, actor=SYSTEM)
    with clock.frozen_at(datetime(2026, 3, 6, 10, tzinfo=SH)):  # a Friday
        req = va.do_file_repair(building, "301", "楼道灯不亮", limit_days=2, actor=users["community_worker"])
    assert req.due_on == date(2026, 3, 10)  # Monday, Tuesday
    timer = Timer.objects.get(kind=va.REPAIR_TIMER)
    assert run_timer(timer) is not None
    req.refresh_from_db()
    assert req.status == RepairStatus.OVERDUE
    req = va.do_close_repair(req, actor=users["community_worker"])
    assert req.status == RepairStatus.DONE
    with pytest.raises(NotAllowedError):
        va.do_file_repair(building, "302", "漏水", actor=users["council_member"])
    with pytest.raises(ActionError):
        va.do_file_repair(building, "302", " ", actor=SYSTEM)


def test_fees_billed_once_and_paid_once(place_tree: Any) -> None:
    village = va.do_create_village(place_tree.pingshan, "V-F", "平山村", 2026, actor=SYSTEM)
    building = va.do_add_building(village, "1栋", 10, actor=SYSTEM)
    fee = va.do_bill_fee(building, "101", "2026-11", "268.50", actor=SYSTEM)
    with pytest.raises(ConflictError):
        va.do_bill_fee(building, "101", "2026-11", "268.50", actor=SYSTEM)
    with pytest.raises(ActionError) as e:
        va.do_bill_fee(building, "101", "2026-13", "1", actor=SYSTEM)
    assert e.value.field == "period"
    va.do_record_payment(fee, actor=SYSTEM)
    with pytest.raises(ConflictError):
        va.do_record_payment(fee, actor=SYSTEM)
