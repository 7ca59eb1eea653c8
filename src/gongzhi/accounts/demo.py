"""Demo users: one per role, homed in 南山区 / 桃源街道 / 平山社区 and 罗湖区 / 黄贝街道 / 文华社区.

DEMO ONLY. Every demo user has the same password, from ``GONGZHI_DEMO_PASSWORD`` or the default
``gongzhi-demo-2026`` (printed by ``gongzhi demo``). Never load demo data into a real deployment.

Needs the Shenzhen place tree (``places.demo.load_demo_places``) loaded first. Idempotent: an
existing username is kept as it is (its password is not reset) and roles are re-assigned
without duplicates. Everything goes through the actions, so the demo has a real audit trail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.actions import (
    do_assign_role,
    do_create_department,
    do_create_user,
    do_enrol_totp,
    do_set_password,
    do_set_staff,
    do_set_superuser,
)
from gongzhi.accounts.domain import totp
from gongzhi.accounts.enums import PUBLIC_ROLES, Role
from gongzhi.accounts.models import Department, TotpDevice, User
from gongzhi.accounts.queries import requires_second_factor
from gongzhi.core.actors import Actor

DEFAULT_DEMO_PASSWORD = "gongzhi-demo-2026"  # noqa: S105 — documented demo-only password
# DEMO ONLY: the authenticator secret of the demo users who need a second factor (administrators,
# district and subdistrict supervisors), so the demo is usable without a phone: `gongzhi
# demo_totp` prints the current code, or add the secret to any authenticator app.
DEFAULT_DEMO_TOTP_SECRET = "GONGZHIDEMOTWOFACTORSECRETABCDEF"  # noqa: S105 — documented demo-only secret

Progress = Callable[[str], Any] | None

# (code, name, English name, place key)
DEMO_DEPARTMENTS = [
    ("NS-MZ", "民政局", "Civil Affairs Bureau", "nanshan"),
    ("NS-RS", "人力资源和社会保障局", "Human Resources and Social Security Bureau", "nanshan"),
    ("NS-SJ", "市场监督管理局", "Market Supervision Administration", "nanshan"),
    ("NS-ZJ", "住房和建设局", "Housing and Construction Bureau", "nanshan"),
    ("NS-WJ", "卫生健康局", "Health Commission", "nanshan"),
    ("NS-JY", "教育局", "Education Bureau", "nanshan"),
    ("NS-HZ", "公安分局户政科", "Public Security Sub-bureau, Household Registration", "nanshan"),
    ("NS-TY-JD", "街道办事处", "Taoyuan Subdistrict Office", "taoyuan"),
]

# (username, display name, role, place key, department code, may reveal full numbers)
DEMO_USERS = [
    ("admin", "系统管理员", Role.ADMINISTRATOR, "nanshan", None, True),
    ("sup_district", "南山区督导", Role.DISTRICT_SUPERVISOR, "nanshan", None, False),
    ("sup_subdistrict", "桃源街道督导", Role.SUBDISTRICT_SUPERVISOR, "taoyuan", None, False),
    ("sup_community", "平山社区督导", Role.COMMUNITY_SUPERVISOR, "pingshan", None, False),
    ("auditor", "审计员", Role.AUDITOR, "nanshan", None, False),
    ("officer", "民政局审批员", Role.DEPARTMENT_OFFICER, "nanshan", "NS-MZ", True),
    ("clerk", "桃源街道综合窗口", Role.WINDOW_CLERK, "taoyuan", None, True),
    ("worker", "平山社区工作者", Role.COMMUNITY_WORKER, "pingshan", None, True),
    ("moderator", "文华社区议事规则主持人", Role.COUNCIL_MODERATOR, "wenhua", None, False),
    ("member", "文华社区议事会成员", Role.COUNCIL_MEMBER, "wenhua", None, False),
    ("assetmgr", "平山股份合作公司管理人员", Role.ASSET_MANAGER, "pingshan", None, False),
    ("agent", "企业经办人", Role.ENTERPRISE_AGENT, "pingshan", None, False),
    ("resident", "平山社区居民", Role.RESIDENT, "pingshan", None, False),
]


def demo_password() -> str:
    return os.environ.get("GONGZHI_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


_hash_memo: dict[str, str] = {}


def demo_password_hash() -> str:
    """``make_password(demo_password())``, made once per process: every demo login shares the
    one public demo password, and an Argon2 hash costs up to a second on a busy machine."""
    password = demo_password()
    if password not in _hash_memo:
        _hash_memo[password] = make_password(password)
    return _hash_memo[password]


def demo_totp_secret() -> str:
    return os.environ.get("GONGZHI_DEMO_TOTP_SECRET") or DEFAULT_DEMO_TOTP_SECRET


def demo_places() -> dict[str, Any]:
    """The six demo places, looked up by name along the tree (names repeat across the city)."""
    from gongzhi.places.models import Place

    def one(name: str, parent: Any = None) -> Any:
        qs = Place.objects.filter(name=name, valid_to__isnull=True)
        if parent is not None:
            qs = qs.filter(parent=parent)
        place = qs.order_by("path").first()
        if place is None:
            raise ImproperlyConfigured(f"demo place {name!r} not found: load the places demo data first")
        return place

    nanshan = one("南山区")
    taoyuan = one("桃源街道", nanshan)
    luohu = one("罗湖区")
    huangbei = one("黄贝街道", luohu)
    return {
        "nanshan": nanshan,
        "taoyuan": taoyuan,
        "pingshan": one("平山社区", taoyuan),
        "luohu": luohu,
        "huangbei": huangbei,
        "wenhua": one("文华社区", huangbei),
    }


def load_demo_users(*, actor: Actor, progress: Progress = None) -> list[tuple[str, str, str, str]]:
    """Create the demo users; returns ``(username, password, role, place name)`` for each.

    Users who need a second factor are enrolled with the demo authenticator secret
    (``second_factor_hint`` says so under the printed logins).
    """
    places = demo_places()
    password = demo_password()
    secret = demo_totp_secret()
    reveal = Permission.objects.get(content_type__app_label="accounts", codename="reveal_personal_number")
    result: list[tuple[str, str, str, str]] = []
    with transaction.atomic():
        for code, name, name_en, place_key in DEMO_DEPARTMENTS:
            if not Department.objects.filter(code=code).exists():
                do_create_department(code, name, places[place_key], actor=actor, name_en=name_en)
        for username, display, role, place_key, dept_code, can_reveal in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = do_create_user(username, display, None, actor=actor)
                do_set_password(user, demo_password_hash(), actor=actor, hashed=True)
                if username == "admin":
                    do_set_superuser(user, True, actor=actor)
            if role not in PUBLIC_ROLES and not user.is_staff:
                # Staff may use the admin site for what their permissions allow.
                do_set_staff(user, True, actor=actor)
            if can_reveal:
                user.user_permissions.add(reveal)
            department = Department.objects.get(code=dept_code) if dept_code else None
            do_assign_role(user, role, places[place_key], department, actor=actor)
            if requires_second_factor(User.objects.get(pk=user.pk)) and not TotpDevice.objects.filter(user=user).exists():
                do_enrol_totp(user, secret, totp.code_at(secret, timezone.now()), actor=actor)
                # The demo's enrolment spent the current code; the first login may use it too.
                TotpDevice.objects.filter(user=user).update(last_step=None)
            result.append((username, password, str(role), places[place_key].name))
            if progress:
                progress(f"demo user {username} ({Role(role).label} · {places[place_key].name})")
    return result


def second_factor_hint(logins: list[tuple[str, str, str, str]]) -> str:
    """Lines printed under the demo logins: who needs the second factor, the secret, the code now."""
    names = [row[0] for row in logins]
    needing = [
        u.username
        for u in User.objects.filter(username__in=names, totp_device__isnull=False)
        if requires_second_factor(u)
    ]
    if not needing:
        return ""
    secret = demo_totp_secret()
    code = totp.code_at(secret, timezone.now())
    return (
        f"  两步验证 2FA for {', '.join(sorted(needing))}: TOTP secret {secret} "
        f"(add it to an authenticator app), code now {code}; `gongzhi demo_totp` prints the current code\n"
    )
