"""Fixtures for the web-shell tests: a small Shenzhen place tree, users with roles, a browser.

Users and places are made through the same actions the application uses (DESIGN.md §2), with a
system actor, so the tests see exactly what a demo or an import would produce.

The browser is Debian's chromium driven by Playwright's sync API (FIELD-NOTES: never
``playwright install``). Without chromium the browser tests are skipped loudly, or fail when
``GONGZHI_REQUIRE_BROWSER=1`` (CI), so a machine without a browser can never pass them silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from gongzhi.accounts.enums import Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import (  # noqa: F401 — names only; fixtures live in src/conftest.py
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    SCREENSHOT_DIR,
    BrowserPage,
)


@dataclass
class Places:
    city: Any
    district: Any
    subdistrict: Any
    community: Any


@pytest.fixture
def places(db: None) -> Places:
    from gongzhi.places.actions import do_create_place

    city = do_create_place("city", "440300", "深圳市", None, actor=TEST_SYSTEM)
    district = do_create_place("district", "440305", "南山区", city, actor=TEST_SYSTEM)
    subdistrict = do_create_place("subdistrict", "440305002", "南头街道", district, actor=TEST_SYSTEM)
    community = do_create_place("community", "440305002001", "同乐社区", subdistrict, actor=TEST_SYSTEM)
    return Places(city, district, subdistrict, community)


MakeUser = Callable[..., Any]


@pytest.fixture
def make_user(places: Places) -> MakeUser:
    """``make_user("clerk", "王窗口", Role.WINDOW_CLERK)`` → a user holding that role in 同乐社区."""
    from gongzhi.accounts.actions import do_assign_role, do_create_user

    def make(
        username: str,
        display_name: str,
        *roles: str,
        place: Any = None,
        password: str = DEMO_PASSWORD,
        staff: bool = False,
    ) -> Any:
        user = do_create_user(username, display_name, password, actor=TEST_SYSTEM, validate=False)
        if staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.refresh_from_db()
        for role in roles:
            do_assign_role(user, role, place or places.community, actor=TEST_SYSTEM)
        return user

    return make


@pytest.fixture
def clerk(make_user: MakeUser) -> Any:
    return make_user("clerk", "王小窗", Role.WINDOW_CLERK)


@pytest.fixture
def resident(make_user: MakeUser) -> Any:
    return make_user("resident", "李居民", Role.RESIDENT)


# --- Browser -----------------------------------------------------------------------------------


