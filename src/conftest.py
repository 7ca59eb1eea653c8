"""Shared pytest fixtures for every app: a small place tree, users by role, fast test settings.

Everything is built through the actions (``places.actions.do_create_place``,
``accounts.actions.do_create_user`` / ``do_assign_role``), so fixtures get the same validation
and audit trail as real data.

The tree (names as in the Shenzhen demo data, codes are test-only)::

    深圳市
    ├── 南山区
    │   ├── 桃源街道 ── 平山社区 (``community_a``), 龙联社区 (``community_b``)
    │   └── 南头街道 ── 南头城社区 (``community_c``)
    └── 罗湖区 ── 黄贝街道 ── 文华社区 (``community_d``)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import browser, browser_page, screenshot_dir  # noqa: F401 — one browser at a time

SYSTEM = TEST_SYSTEM  # system actor for fixture writes


@pytest.fixture(autouse=True)
def _fresh_process_memos() -> None:
    # Per-process memos (working-day calendar, intake catalog) must not leak between tests whose
    # database state was rolled back.
    from gongzhi.accounts.auth import forget_roles
    from gongzhi.core.calendar import invalidate_calendar_cache
    from gongzhi.people.actions import forget_quota_exemptions
    from gongzhi.services.routing import clear_intake_cache

    forget_roles()
    forget_quota_exemptions()
    invalidate_calendar_cache()
    clear_intake_cache()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    # Argon2 costs ~150 ms a hash (FIELD-NOTES); tests that are not about hashing need none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploaded documents go to a per-test folder, so tests can check nothing is left behind.
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def system_actor() -> str:
    return SYSTEM


@pytest.fixture
def place_tree(db: Any) -> SimpleNamespace:
    from gongzhi.places.actions import do_create_place

    def mk(kind: str, code: str, name: str, parent: Any) -> Any:
        return do_create_place(kind, code, name, parent, actor=SYSTEM)

    city = mk("city", "T440300", "深圳市", None)
    nanshan = mk("district", "T440305", "南山区", city)
    taoyuan = mk("subdistrict", "T440305007", "桃源街道", nanshan)
    pingshan = mk("community", "T440305007001", "平山社区", taoyuan)
    longlian = mk("community", "T440305007002", "龙联社区", taoyuan)
    nantou = mk("subdistrict", "T440305001", "南头街道", nanshan)
    nantoucheng = mk("community", "T440305001001", "南头城社区", nantou)
    luohu = mk("district", "T440303", "罗湖区", city)
    huangbei = mk("subdistrict", "T440303003", "黄贝街道", luohu)
    wenhua = mk("community", "T440303003001", "文华社区", huangbei)
    return SimpleNamespace(
        city=city,
        nanshan=nanshan,
        taoyuan=taoyuan,
        pingshan=pingshan,
        longlian=longlian,
        nantou=nantou,
        nantoucheng=nantoucheng,
        luohu=luohu,
        huangbei=huangbei,
        wenhua=wenhua,
        # Aliases for jurisdiction tests: A and B share a subdistrict, C is in another
        # subdistrict of the same district, D in another district.
        community_a=pingshan,
        community_b=longlian,
        community_c=nantoucheng,
        community_d=wenhua,
    )


_seq = itertools.count(1)


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """``make_user(role, place, department=None, *, username=None, password=None, perms=())``.

    ``role=None`` makes a user with no role. Department officers without a department get a
    fresh department at the place. ``perms`` are codenames of ``accounts`` permissions
    (e.g. ``"reveal_personal_number"``). Without ``password`` the user cannot log in with one
    (use ``client.force_login``).
    """
    from django.contrib.auth.models import Permission

    from gongzhi.accounts.actions import do_assign_role, do_create_department, do_create_user
    from gongzhi.accounts.enums import Role

    def factory(
        role: str | None,
        place: Any = None,
        department: Any = None,
        *,
        username: str | None = None,
        password: str | None = None,
        perms: tuple[str, ...] | list[str] = (),
        superuser: bool = False,
    ) -> Any:
        n = next(_seq)
        user = do_create_user(
            username or f"{role or 'user'}{n}", f"测试用户{n}", password, actor=SYSTEM, validate=False
        )
        if superuser:
            user.is_superuser = True
            user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        if role is not None:
            if role == Role.DEPARTMENT_OFFICER and department is None:
                department = do_create_department(f"D{n}", f"测试部门{n}", place, actor=SYSTEM)
            do_assign_role(user, role, place, department, actor=SYSTEM)
        for codename in perms:
            user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename=codename))
        if perms:
            # Django caches permissions on the instance; re-fetch so has_perm sees the new ones.
            user = type(user).objects.get(pk=user.pk)
        return user

    return factory


def place_for_role(role: str, tree: SimpleNamespace, community: Any) -> Any:
    """The place a user of ``role`` is assigned over when "homed in" ``community``.

    Supervisors must sit at their level: the subdistrict / district containing the community.
    """
    from gongzhi.places.models import Place

    if role == "subdistrict_supervisor":
        return community.parent
    if role == "district_supervisor":
        return Place.objects.get(pk=community.parent.parent_id)
    return community


@pytest.fixture
def users(place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> dict[str, Any]:
    """One user per role, all over 平山社区 (supervisors at 平山's subdistrict / district)."""
    from gongzhi.accounts.enums import Role

    return {
        str(role): make_user(role, place_for_role(role, place_tree, place_tree.community_a), username=f"u_{role}")
        for role in Role
    }
