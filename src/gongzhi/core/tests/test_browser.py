"""The web shell in a real browser against a real server (pytest-django's ``live_server``).

Every page visited is checked with axe-core: no "serious" or "critical" violation may remain,
and the browser must not report an error (a CSP violation by an inline script or style shows
up here, and nowhere else). Screenshots land in docs/screenshots/ for the user guide.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.urls import NoReverseMatch, reverse

from gongzhi.core.tests.browser_fixtures import check_page, open_menu
from gongzhi.core.tests.conftest import DEMO_PASSWORD, BrowserPage

pytestmark = [pytest.mark.browser]



def _html_lang(bp: BrowserPage) -> str:
    return str(bp.page.locator("html").get_attribute("lang"))


def _log_in(bp: BrowserPage, username: str, password: str, *, username_label: str = "用户名") -> None:
    page = bp.page
    form = page.locator("main form")
    form.get_by_label(username_label).fill(username)
    # Playwright's get_by_label matches substrings; the password field is the only password input.
    form.locator("input[type=password]").fill(password)
    form.get_by_role("button").click()
    page.wait_for_load_state("load")


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def test_clerk_journey_languages_large_text_and_logout(
    browser_page: BrowserPage, clerk: Any, resident: Any, screenshot_dir: Path
) -> None:
    bp = browser_page
    page = bp.page

    # Public landing page, Chinese first.
    page.goto("/")
    assert _html_lang(bp) == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "共治 · 社区共建共治共享平台"
    check_page(bp, "index-zh-hans", screenshot_dir)

    # The skip link is the first thing the keyboard reaches and it moves focus to <main>.
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    skip.press("Enter")
    assert page.url.endswith("#main")

    # Log in with the real password typed into the form.
    page.get_by_role("link", name="登录").first.click()
    assert page.url.endswith(reverse("accounts:login"))
    check_page(bp, "login-zh-hans", screenshot_dir)
    _log_in(bp, "clerk", DEMO_PASSWORD)
    assert page.url.endswith(reverse("accounts:home"))
    assert page.get_by_role("heading", level=1).inner_text() == "王小窗，您好"
    whoami = page.locator(".whoami").inner_text()
    assert "王小窗" in whoami and "综合窗口受理员" in whoami
    card = page.locator(".role-card--window_clerk")
    assert "综合窗口受理员" in card.inner_text()
    assert "同乐社区" in card.inner_text()
    check_page(bp, "home-clerk-zh-hans", screenshot_dir)

    # English.
    open_menu(page)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(reverse("accounts:home"))
    assert _html_lang(bp) == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, 王小窗"
    assert "Window clerk" in page.locator(".role-card--window_clerk").inner_text()
    open_menu(page)
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_role("button", name="English").get_attribute("aria-current") == "true"
    check_page(bp, "home-clerk-en", screenshot_dir)

    # Traditional Chinese (Hong Kong usage).
    open_menu(page)
    page.get_by_role("button", name="繁體").click()
    page.wait_for_load_state("load")
    assert _html_lang(bp) == "zh-Hant"
    assert "綜合窗口受理員" in page.locator(".role-card--window_clerk").inner_text()
    open_menu(page)
    assert page.get_by_role("button", name="登出").is_visible()
    check_page(bp, "home-clerk-zh-hant", screenshot_dir)

    # Large-text mode: the body class changes and the text really grows.
    body = page.locator("body")
    assert "large-text" not in (body.get_attribute("class") or "")
    normal_size = float(body.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    open_menu(page)
    page.get_by_role("button", name="適老化 大字模式").click()
    page.wait_for_load_state("load")
    assert "large-text" in (body.get_attribute("class") or "")
    large_size = float(body.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert large_size >= 22 > normal_size
    open_menu(page)
    toggle = page.get_by_role("button", name="適老化 大字模式")
    assert toggle.get_attribute("aria-pressed") == "true"
    open_menu(page)
    for button in page.locator("button, a.button").all():
        if not button.is_visible():
            continue
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, f"target too small in large-text mode: {button.inner_text()}"
    check_page(bp, "home-clerk-zh-hant-large-text", screenshot_dir)

    # Back to normal size and Simplified Chinese, then log out.
    open_menu(page)
    toggle.click()
    page.wait_for_load_state("load")
    assert "large-text" not in (body.get_attribute("class") or "")
    open_menu(page)
    page.get_by_role("button", name="简体").click()
    page.wait_for_load_state("load")
    assert _html_lang(bp) == "zh-CN"
    open_menu(page)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("load")
    assert urlparse(page.url).path == reverse("core:index")
    assert "您已安全退出登录" in page.locator("main").inner_text()
    check_page(bp, "index-after-logout")
    page.goto(reverse("accounts:home"))
    assert reverse("accounts:login") in page.url  # the session really ended

    # A resident logs in and sees their own landing page.
    _log_in(bp, "resident", DEMO_PASSWORD)
    assert page.url.endswith(reverse("accounts:home"))
    assert "李居民" in page.locator(".whoami").inner_text()
    card = page.locator(".role-card--resident")
    assert "居民" in card.inner_text()
    check_page(bp, "home-resident-zh-hans", screenshot_dir)
    wallet = _url_or_none("people:wallet")
    if wallet is not None:
        card.get_by_role("link", name="我的证照").click()
        page.wait_for_load_state("load")
        assert page.url.endswith(wallet)
        check_page(bp, "wallet-resident-zh-hans", screenshot_dir)


def test_wrong_password_then_lockout(browser_page: BrowserPage, clerk: Any, screenshot_dir: Path) -> None:
    bp = browser_page
    page = bp.page
    page.goto(reverse("accounts:login"))
    _log_in(bp, "clerk", "not-the-password")
    alert = page.locator("#login-errors[role=alert]")
    assert "用户名或密码不正确" in alert.inner_text()
    assert page.url.endswith(reverse("accounts:login"))
    check_page(bp, "login-wrong-password", screenshot_dir)
    for _ in range(4):
        _log_in(bp, "clerk", "not-the-password")
    text = page.locator("#login-errors").inner_text()
    assert re.search(r"账户已锁定，请于 \d\d:\d\d 后再试", text), text
    check_page(bp, "login-locked", screenshot_dir)
    # The right password does not get in while the account is locked.
    _log_in(bp, "clerk", DEMO_PASSWORD)
    assert page.url.endswith(reverse("accounts:login"))
    assert "账户已锁定" in page.locator("#login-errors").inner_text()


def test_public_tools_work_with_htmx_under_the_csp(browser_page: BrowserPage, screenshot_dir: Path) -> None:
    bp = browser_page
    page = bp.page
    page.goto(reverse("core:identifier_check"))
    check_page(bp, "identifier-checker")
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"

    # An empty submission: the field error is announced and tied to the input.
    page.locator("main form").get_by_role("button", name="校验").click()
    field = page.get_by_label("证件号码或统一社会信用代码")
    field.wait_for()
    page.locator("#id_number_errors[role=alert]").wait_for()
    assert "id_number_errors" in (field.get_attribute("aria-describedby") or "")
    # The form with errors answers 400 (bad input is 4xx) and htmx still swapped it in; the
    # browser logs that status, which is expected here and nothing else.
    assert bp.console_errors and all("400" in e for e in bp.console_errors), bp.console_errors
    bp.console_errors.clear()
    check_page(bp, "identifier-checker-empty")

    # A wrong check character is named, in Chinese, with its position; htmx swapped <main> in place.
    page.get_by_label("证件号码或统一社会信用代码").fill("440524188001010015")
    page.locator("main form").get_by_role("button", name="校验").click()
    result = page.locator(".result--error")
    result.wait_for()
    assert "第 18 位" in result.inner_text()
    assert "校验位应为 4，而不是 5" in result.inner_text()
    check_page(bp, "identifier-checker-error", screenshot_dir)

    page.goto(reverse("core:deadline"))
    page.get_by_label("受理日期").fill("2026-09-28")
    page.get_by_label("承诺时限（工作日）").fill("5")
    page.locator("main form").get_by_role("button", name="计算").click()
    page.locator(".result__big").wait_for()
    assert re.fullmatch(r"2026年10月\d+日", page.locator(".result__big").inner_text().strip())
    assert "start=2026-09-28" in page.url  # htmx pushed the bookmarkable URL
    check_page(bp, "deadline-calculator", screenshot_dir)


def test_desktop_layout_and_error_page(browser_page: BrowserPage, screenshot_dir: Path, settings: Any) -> None:
    bp = browser_page
    page = bp.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    check_page(bp, "index-desktop", screenshot_dir)
    settings.DEBUG = False
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "页面不存在"
    bp.console_errors.clear()  # the browser logs the 404 status of the page itself
    check_page(bp, "not-found")


def test_api_docs_render_from_local_assets_under_the_csp(browser_page: BrowserPage) -> None:
    """Swagger UI comes from ninja's bundled static files: no CDN (blocked by the CSP, unreachable
    on an intranet), and the page renders the schema without a CSP violation."""
    bp = browser_page
    page = bp.page
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Gongzhi" in page.locator(".swagger-ui .info .title").inner_text()
    assert len(hosts) == 1, hosts  # the test server only
    assert not bp.console_errors, bp.console_errors


def test_the_phone_check_sees_sideways_scroll_and_simplified_content(browser_page: BrowserPage, live_server: Any) -> None:
    """The 390-px check that runs after every browser test can fail: a wide block and content
    marked zh-Hans on a 繁體 page are both reported; the front page itself fits."""
    from gongzhi.core.tests.browser_fixtures import _OVERFLOW_JS, _SIMPLIFIED_JS, PHONE

    page = browser_page.page
    page.set_viewport_size(PHONE)
    page.goto("/")
    assert browser_page.visited and browser_page.visited[-1].startswith(live_server.url)
    assert page.evaluate(_OVERFLOW_JS) == []
    page.set_content('<html><body><p lang="zh-Hans">身份证件</p><div id="wide">x</div></body></html>')
    page.evaluate("() => { document.getElementById('wide').style.width = '900px'; }")
    assert page.evaluate(_OVERFLOW_JS)
    assert page.evaluate(_SIMPLIFIED_JS) == ["身份证件"]
