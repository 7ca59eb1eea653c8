"""Browser fixtures shared by every app's browser tests (registered once, in src/conftest.py).

One Playwright instance at a time: two ``sync_playwright()`` open in one process fail ("Sync
API inside the asyncio loop"), so app test modules must not define or import these fixtures
themselves — the root conftest provides them.

The browser is Debian's chromium driven by Playwright's sync API (FIELD-NOTES: never
``playwright install``). Without chromium the browser tests are skipped loudly, or fail when
``GONGZHI_REQUIRE_BROWSER=1`` (CI), so a machine without a browser can never pass them silently.
"""

from __future__ import annotations

import json
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
    visited: list[str]  # pages (GET, 200, HTML) the test opened: each is checked at 390 px after it


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
    visited: list[str] = []
    page.on("response", lambda r: note_page(r, visited))
    yield BrowserPage(page, errors, visited)
    try:
        problems = check_phone_layout(context, live_server.url, visited)
    finally:
        context.close()
    assert not problems, "pages this test visited do not fit a 390-px phone:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------ phone layout

# Every page a browser test visits is checked once per test session at 390 × 844 (a common
# phone) in the three languages, with and without large text: the page must not scroll
# sideways, and a 繁體 page must not show content marked as Simplified Chinese.
PHONE = {"width": 390, "height": 844}
LANGUAGES = ("zh-hans", "zh-hant", "en")
_checked: set[str] = set()

_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    if (el.closest('.visually-hidden, .table-scroll, [hidden]')) continue;
    const style = getComputedStyle(el);
    if (style.position === 'fixed' || style.visibility === 'hidden') continue;
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    out.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} right=${Math.round(box.right)} "${text}"`);
    if (out.length >= 3) break;
  }
  return out.length ? out : [`scrollWidth ${document.documentElement.scrollWidth} > ${width}`];
}"""

# Content marked as Simplified Chinese inside a 繁體 page (the language switch's own 简体
# button is the one legitimate place).
_SIMPLIFIED_JS = """() => Array.from(document.querySelectorAll('[lang="zh-Hans"], [lang="zh-CN"], [lang="zh-hans"]'))
  .filter(el => !el.closest('.lang-switch'))
  .slice(0, 3).map(el => (el.textContent || '').trim().slice(0, 40))"""


def open_menu(page: Any) -> None:
    """On a phone the header's tools and navigation are folded behind 菜单 (shell.js): open it
    before clicking the language, large-text or logout buttons or a navigation link."""
    toggle = page.locator(".menu-toggle")
    if toggle.count() and toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def note_page(response: Any, visited: list[str]) -> None:
    request = response.request
    if (request.resource_type == "document" and request.method == "GET" and response.status == 200
            and "text/html" in (response.headers.get("content-type") or "")):
        visited.append(response.url)


def check_phone_layout(context: Any, base_url: str, urls: list[str]) -> list[str]:
    """Open each new page at 390 px in every language, with and without large text, as the
    test's user (same browser context, so the same login); return what does not fit."""
    todo = [u for u in dict.fromkeys(urls) if u.startswith(base_url) and _key(u, base_url) not in _checked]
    if not todo:
        return []
    page = context.new_page()
    page.set_viewport_size(PHONE)
    problems: list[str] = []
    try:
        for url in todo:
            _checked.add(_key(url, base_url))
            for language in LANGUAGES:
                for large in (False, True):
                    context.add_cookies([
                        {"name": "gongzhi_language", "value": language, "url": base_url},
                        {"name": "gongzhi_large_text", "value": "1" if large else "0", "url": base_url},
                    ])
                    response = page.goto(url)
                    if response is None or response.status != 200:
                        continue  # the test's own flow moved on (a one-time page); not a layout question
                    where = f"{url[len(base_url):]} [{language}{', large text' if large else ''}]"
                    problems += [f"{where}: {p}" for p in page.evaluate(_OVERFLOW_JS)]
                    if language == "zh-hant":
                        problems += [f"{where}: Simplified-only content “{p}”" for p in page.evaluate(_SIMPLIFIED_JS)]
    finally:
        page.close()
    return problems


def _key(url: str, base_url: str) -> str:
    # The same page with another query (a search term, a filter) is the same layout.
    return url[len(base_url):].split("?", 1)[0].split("#", 1)[0]


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


# ---------------------------------------------------------------- shared steps of browser tests

BLOCKING_IMPACTS = {"serious", "critical"}


def check_page(bp: BrowserPage, name: str, screenshots: Path | None = None) -> None:
    """Axe-check the current page, fail on browser errors, optionally save a screenshot."""
    from axe_playwright_python.sync_playwright import Axe

    page = bp.page
    page.wait_for_load_state("load")
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        report = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
                "summary": v["nodes"][0].get("failureSummary", "") if v["nodes"] else "",
            }
            for v in blocking
        ]
        print(json.dumps(report, ensure_ascii=False, indent=2))
    assert not blocking, f"{name} ({page.url}): axe found {len(blocking)} serious/critical violation(s), printed above"
    assert not bp.console_errors, f"{name} ({page.url}): browser reported errors: {bp.console_errors}"
    if screenshots is not None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def with_password(*users: Any) -> None:
    """Give test users the demo password (set through the action, unvalidated)."""
    from gongzhi.accounts.actions import do_set_password
    from gongzhi.core.tests.actors import SYSTEM

    for user in users:
        do_set_password(user, DEMO_PASSWORD, actor=SYSTEM, validate=False)


def log_in(bp: BrowserPage, username: str, next_url: str, totp_secret: str | None = None) -> None:
    """Log in through the login page and land on ``next_url`` (with the TOTP step if given)."""
    page = bp.page
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("main form")
    form.get_by_label("用户名").fill(username)
    form.locator("input[type=password]").fill(DEMO_PASSWORD)
    form.get_by_role("button").click()
    page.wait_for_load_state("load")
    if totp_secret is not None:
        # Supervisors of a district pass a second step: the code of their authenticator app.
        import pyotp

        form = page.locator("main form")
        form.get_by_label("验证码").fill(pyotp.TOTP(totp_secret).now())
        form.get_by_role("button").click()
        page.wait_for_load_state("load")
    assert page.url.endswith(next_url), page.url
