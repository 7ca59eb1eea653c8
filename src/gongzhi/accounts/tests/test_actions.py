from __future__ import annotations

from datetime import date

import pytest

from gongzhi.accounts import actions
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.accounts.queries import landing_for
from gongzhi.accounts.scope import user_roles
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


def test_create_user_validates_and_audits():
    user = actions.do_create_user("zhang", "张伟", "a-long-enough-passphrase", actor=TEST_SYSTEM)
    assert user.check_password("a-long-enough-passphrase")
    assert AuditEvent.objects.filter(verb="user.create", object_id=str(user.pk)).exists()
    with pytest.raises(actions.InvalidUsername) as exc:
        actions.do_create_user("ZHANG", "重复", actor=TEST_SYSTEM)
    assert "已被使用" in exc.value.message
    with pytest.raises(actions.WeakPassword):
        actions.do_create_user("li", "李", "12345", actor=TEST_SYSTEM)
    assert User.objects.count() == 1


def test_department_officer_needs_department(place_tree):
    user = actions.do_create_user("off", "办事员", actor=TEST_SYSTEM)
    with pytest.raises(actions.DepartmentRequired) as exc:
        actions.do_assign_role(user, Role.DEPARTMENT_OFFICER, place_tree.nanshan, actor=TEST_SYSTEM)
    assert exc.value.message == "部门审批人员必须指定所属部门"
    dept = actions.do_create_department("NS-MZ", "民政局", place_tree.nanshan, actor=TEST_SYSTEM)
    actions.do_assign_role(user, Role.DEPARTMENT_OFFICER, place_tree.nanshan, dept, actor=TEST_SYSTEM)
    assert user_roles(user) == {"department_officer"}


@pytest.mark.parametrize(
    ("role", "right", "wrong"),
    [
        (Role.COMMUNITY_SUPERVISOR, "pingshan", "taoyuan"),
        (Role.SUBDISTRICT_SUPERVISOR, "taoyuan", "pingshan"),
        (Role.DISTRICT_SUPERVISOR, "nanshan", "taoyuan"),
    ],
)
def test_supervisors_fit_the_place_kind(place_tree, role, right, wrong):
    user = actions.do_create_user("sup", "督导", actor=TEST_SYSTEM)
    with pytest.raises(actions.WrongPlaceKind) as exc:
        actions.do_assign_role(user, role, getattr(place_tree, wrong), actor=TEST_SYSTEM)
    assert exc.value.field == "place" and "只能授予在" in exc.value.message
    assert RoleAssignment.objects.count() == 0
    actions.do_assign_role(user, role, getattr(place_tree, right), actor=TEST_SYSTEM)
    assert RoleAssignment.objects.count() == 1


def test_assign_twice_reopens_instead_of_duplicating(place_tree):
    user = actions.do_create_user("w", "社工", actor=TEST_SYSTEM)
    ra = actions.do_assign_role(user, Role.COMMUNITY_WORKER, place_tree.pingshan, actor=TEST_SYSTEM)
    actions.do_revoke_role(ra, actor=TEST_SYSTEM)
    assert user_roles(user) == set()
    again = actions.do_assign_role(user, Role.COMMUNITY_WORKER, place_tree.pingshan, actor=TEST_SYSTEM)
    assert again.pk == ra.pk and again.valid_to is None
    assert user_roles(user) == {"community_worker"}
    with pytest.raises(actions.InvalidValidity):
        actions.do_assign_role(user, Role.COMMUNITY_WORKER, place_tree.pingshan,
                               valid_from=date(2026, 5, 1), valid_to=date(2026, 4, 1), actor=TEST_SYSTEM)


def test_landing_orders_widest_first(place_tree, make_user):
    user = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    actions.do_assign_role(user, Role.SUBDISTRICT_SUPERVISOR, place_tree.taoyuan, actor=TEST_SYSTEM)
    actions.do_assign_role(user, Role.RESIDENT, place_tree.pingshan, actor=TEST_SYSTEM)
    user = User.objects.get(pk=user.pk)
    landing = landing_for(user)
    assert [(r.role, r.place.name) for r in landing] == [
        ("subdistrict_supervisor", "桃源街道"),
        ("community_worker", "平山社区"),
        ("resident", "平山社区"),
    ]
    assert landing[0].label == "街道督导"


def test_superuser_lands_as_administrator(make_user):
    su = make_user(None, superuser=True)
    assert [(r.role, r.place) for r in landing_for(su)] == [("administrator", None)]
