"""Fixtures for the web-shell tests: a small Shenzhen place tree, users with roles, a browser.

Users and places are made through the same actions the application uses (DESIGN.md §2), with a
system actor, so the tests see exactly what a demo or an import would produce.

The browser is Debian's chromium driven by Playwright's sync API (FIELD-NOTES: never
``playwright install``). Without chromium the browser tests are skipped loudly, or fail when
``GONGZHI_REQUIRE_BROWSER=1`` (CI), so a machine without a browser can never pass them silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gongzhi.accounts.enums import Role

DEMO_PASSWORD = "gongzhi-demo-2026"
CHROMIUM = os.environ.get("GONGZHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


@dataclass
class Places:
    city: Any
    district: Any
    subdistrict: Any
    community: Any


@pytest.fixture
def places(db: None) -> Places:
    from gongzhi.places.actions import do_create_place

    city = do_create_place("city", "440300", "深圳市", None, actor="test")
    district = do_create_place("district", "440305", "南山区", city, actor="test")
    subdistrict = do_create_place("subdistrict", "440305002", "南头街道", district, actor="test")
    community = do_create_place("community", "440305002001", "同乐社区", subdistrict, actor="test")
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
        user = do_create_user(username, display_name, password, actor="test", validate=False)
        if staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.refresh_from_db()
        for role in roles:
            do_assign_role(user, role, place or places.community, actor="test")
        return user

    return make


@pytest.fixture
def clerk(make_user: MakeUser) -> Any:
    return make_user("clerk", "王小窗", Role.WINDOW_CLERK)


@pytest.fixture
def resident(make_user: MakeUser) -> Any:
    return make_user("resident", "李居民", Role.RESIDENT)


# --- Browser -----------------------------------------------------------------------------------


def _no_browser(reason: str) -> None:
    message = f"!!! BROWSER TESTS NOT RUN: {reason} (install Debian's chromium: apt-get install chromium)"
    if os.environ.get("GONGZHI_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " — GONGZHI_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _no_browser(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        _no_browser(f"playwright is not installed ({exc})")
    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from
    # it as "async-unsafe" although they are plain synchronous test code (FIELD-NOTES).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class BrowserPage:
    """A page plus what the browser reported while the test ran (CSP violations, JS errors)."""

    page: Any
    console_errors: list[str]


@pytest.fixture
def browser_page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[BrowserPage]:
    # A phone-sized viewport first: the layout is mobile-first and most residents use phones.
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 414, "height": 896}, device_scale_factor=1
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console messages about failed loads do not name the URL; these do.
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    yield BrowserPage(page, errors)
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
