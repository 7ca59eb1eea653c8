"""Browser fixtures shared by every app's browser tests (registered once, in src/conftest.py).

One Playwright instance at a time: two ``sync_playwright()`` open in one process fail ("Sync
API inside the asyncio loop"), so app test modules must not define or import these fixtures
themselves — the root conftest provides them.

The browser is Debian's chromium driven by Playwright's sync API (FIELD-NOTES: never
``playwright install``). Without chromium the browser tests are skipped loudly, or fail when
``GONGZHI_REQUIRE_BROWSER=1`` (CI), so a machine without a browser can never pass them silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


def _no_browser(reason: str) -> None:
    message = f"!!! BROWSER TESTS NOT RUN: {reason} (install Debian's chromium: apt-get install chromium)"
    if os.environ.get("GONGZHI_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " — GONGZHI_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which breaks every later async_to_sync (Channels tests) in the
    # same process. Each browser module starts chromium once and stops it before the next.
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
