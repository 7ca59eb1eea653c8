"""The web shell without a browser: pages, headers, language and large-text switches, login."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gongzhi.accounts.enums import Role
from gongzhi.core.registry import REGISTRY
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.conftest import DEMO_PASSWORD, MakeUser

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role)


def _logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- pages render ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/accounts/login/", "/tools/identifier", "/tools/deadline", "/tools/deadline?start=2026-09-28&days=5"],
)
def test_public_pages_render_for_anonymous(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert 'href="#main"' in html  # skip link
    assert "共治" in html
    assert "/static/gongzhi/vendor/htmx.min.js" in html


def test_home_requires_login(client: Client) -> None:
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r.value for r in ALL_ROLES])
def test_home_renders_a_card_for_each_role(make_user: MakeUser, places: Any, role: Role) -> None:
    from gongzhi.accounts.enums import SUPERVISOR_PLACE_KIND

    kind = SUPERVISOR_PLACE_KIND.get(role)
    place = {"district": places.district, "subdistrict": places.subdistrict}.get(kind or "", places.community)
    if role == Role.DEPARTMENT_OFFICER:
        from gongzhi.accounts.actions import do_assign_role, do_create_department, do_create_user

        user = do_create_user("officer", "赵审批", DEMO_PASSWORD, actor=TEST_SYSTEM, validate=False)
        dept = do_create_department("NS-MZ", "南山区民政局", places.district, actor=TEST_SYSTEM)
        do_assign_role(user, role, places.district, department=dept, actor=TEST_SYSTEM)
    else:
        user = make_user(f"user-{role.value}", "测试用户", role, place=place)
    response = _logged_in(user).get(reverse("accounts:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"role-card--{role.value}" in html
    assert str(role.label) in html
    # The header names the user and the role.
    assert "测试用户" in html or "赵审批" in html
    assert 'action="/accounts/logout/"' in html


def test_home_shows_registered_links_and_skips_missing_urls(clerk: Any) -> None:
    saved = {k: list(v) for k, v in REGISTRY.landing_links.items()}
    try:
        REGISTRY.landing_links[Role.WINDOW_CLERK.value] = [
            ("core:deadline", "办结期限计算"),
            ("no_such_app:page", "不存在的页面"),
        ]
        html = _logged_in(clerk).get(reverse("accounts:home")).content.decode()
    finally:
        REGISTRY.landing_links.clear()
        REGISTRY.landing_links.update(saved)
    assert 'href="/tools/deadline"' in html
    assert "不存在的页面" not in html


def test_administrator_sees_admin_link_others_do_not(make_user: MakeUser, places: Any, clerk: Any) -> None:
    admin = make_user("admin", "系统管理员", Role.ADMINISTRATOR, place=places.district, staff=True)
    assert 'href="/admin/"' in _logged_in(admin).get(reverse("accounts:home")).content.decode()
    assert 'href="/admin/"' not in _logged_in(clerk).get(reverse("accounts:home")).content.decode()


def test_user_without_roles_is_told_so(make_user: MakeUser) -> None:
    user = make_user("nobody", "无角色")
    html = _logged_in(user).get(reverse("accounts:home")).content.decode()
    assert "尚未分配角色" in html


def test_404_page_is_ours(client: Client, settings: Any) -> None:
    settings.DEBUG = False
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_500_template_renders_without_context() -> None:
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "系统繁忙" in html
    assert "<html lang=" in html


# --- security headers -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/accounts/login/"])
def test_security_headers(client: Client, url: str) -> None:
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client: Client, clerk: Any) -> None:
    """The CSP forbids inline code; a template slipping one in would break silently in browsers."""
    import re

    pages = [client.get("/").content.decode(), _logged_in(clerk).get(reverse("accounts:home")).content.decode()]
    for html in pages:
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        assert "<style" not in html
        assert " style=" not in html
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_logged_in_pages_are_not_cached(clerk: Any) -> None:
    response = _logged_in(clerk).get(reverse("accounts:home"))
    assert "no-store" in response["Cache-Control"]


# --- language switch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "lang_attr", "text"),
    [("en", "en", "Sign in"), ("zh-hant", "zh-Hant", "登入"), ("zh-hans", "zh-CN", "登录")],
)
def test_language_switch_sets_cookie_and_translates(client: Client, code: str, lang_attr: str, text: str) -> None:
    response = client.post(reverse("set_language"), {"language": code, "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == code
    html = client.get("/accounts/login/").content.decode()
    assert f'<html lang="{lang_attr}">' in html
    assert text in html


def test_language_buttons_mark_the_current_language(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/").content.decode()
    assert 'value="en" lang="en" aria-current="true"' in html
    assert 'value="zh-hans" lang="zh-CN" aria-current' not in html


# --- large text -----------------------------------------------------------------------------


def test_large_text_toggle_sets_cookie_and_body_class(client: Client) -> None:
    assert 'class=""' in client.get("/").content.decode().split("<body", 1)[1][:40]
    response = client.post(reverse("core:large_text"), {"next": "/tools/deadline"})
    assert response.status_code == 302
    assert response["Location"] == "/tools/deadline"
    assert response.cookies["gongzhi_large_text"].value == "1"
    html = client.get("/").content.decode()
    assert '<body class="large-text"' in html
    assert 'aria-pressed="true"' in html
    response = client.post(reverse("core:large_text"), {"next": "/"})
    assert response.cookies["gongzhi_large_text"].value == "0"
    assert '<body class=""' in client.get("/").content.decode()


def test_large_text_toggle_refuses_get(client: Client) -> None:
    assert client.get(reverse("core:large_text")).status_code == 405


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "http://evil.example", "javascript:alert(1)"])
def test_large_text_refuses_open_redirect(client: Client, evil: str) -> None:
    response = client.post(reverse("core:large_text"), {"next": evil})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_language_switch_refuses_open_redirect(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert "evil.example" not in response.get("Location", "")


# --- identifier checker and deadline calculator ---------------------------------------------


def test_identifier_checker_names_the_wrong_check_character(client: Client) -> None:
    response = client.post(reverse("core:identifier_check"), {"number": "440524188001010015"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "号码无效" in html
    assert "校验位应为 4，而不是 5" in html
    assert "第 18 位" in html


def test_identifier_checker_answers_in_english(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.post(reverse("core:identifier_check"), {"number": "440524188001010015"}).content.decode()
    assert "check character should be 4, not 5" in html


def test_identifier_checker_answers_in_traditional_chinese(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    html = client.post(reverse("core:identifier_check"), {"number": "440524188001010015"}).content.decode()
    assert "校驗位應為 4，而不是 5" in html


def test_identifier_checker_accepts_a_valid_number_and_masks_it(client: Client) -> None:
    html = client.post(reverse("core:identifier_check"), {"number": "440524188001010014"}).content.decode()
    assert "号码有效" in html
    assert "居民身份证" in html
    assert "440524188001010014" not in html  # shown masked, never in full
    assert "1880年1月1日" in html


def test_identifier_checker_requires_a_number(client: Client) -> None:
    html = client.post(reverse("core:identifier_check"), {"number": ""}).content.decode()
    assert 'role="alert"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_number_helptext id_number_errors"' in html


def test_deadline_counts_working_days_over_national_day(client: Client) -> None:
    # 2026: 1–7 October are holidays (10-08 is a working day again; 09-20 and 10-10 are
    # make-up Saturdays). Five working days after Monday 28 September: 29, 30 Sep, 8, 9, 10 Oct.
    from gongzhi.core.calendar import add_working_days

    expected = add_working_days(date(2026, 9, 28), 5)
    html = client.get(reverse("core:deadline"), {"start": "2026-09-28", "days": "5"}).content.decode()
    assert expected.deadline > date(2026, 10, 7)
    assert f"{expected.deadline.year}年{expected.deadline.month}月{expected.deadline.day}日" in html


def test_deadline_in_an_unknown_year_is_provisional_not_an_error(client: Client) -> None:
    response = client.get(reverse("core:deadline"), {"start": "2099-03-02", "days": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2099年3月5日" in html
    assert "暂定" in html


def test_deadline_rejects_bad_input_with_field_errors(client: Client) -> None:
    html = client.get(reverse("core:deadline"), {"start": "2026-02-30", "days": "-1"}).content.decode()
    assert html.count('role="alert"') == 2
    assert "id_start_errors" in html and "id_days_errors" in html


# --- login ----------------------------------------------------------------------------------


def test_login_with_the_real_password_lands_on_home(client: Client, clerk: Any) -> None:
    response = client.post(reverse("accounts:login"), {"username": "clerk", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")


def test_wrong_password_shows_an_error_and_lockout_after_five(client: Client, clerk: Any) -> None:
    for attempt in range(1, 6):
        html = client.post(reverse("accounts:login"), {"username": "clerk", "password": "wrong-password"}).content.decode()
        if attempt < 5:
            assert "用户名或密码不正确" in html
    assert "账户已锁定，请于" in html
    from gongzhi.accounts.policy import login_throttled_until

    until = timezone.localtime(login_throttled_until("clerk", "127.0.0.1"))
    assert f"{until:%H:%M} 后再试" in html
    # Even the right password is refused while locked.
    html = client.post(reverse("accounts:login"), {"username": "clerk", "password": DEMO_PASSWORD}).content.decode()
    assert "账户已锁定" in html


def test_logout_is_post_only(clerk: Any) -> None:
    client = _logged_in(clerk)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


# --- template filters -----------------------------------------------------------------------


def _render(source: str, **context: Any) -> str:
    return Template("{% load gongzhi_tags %}" + source).render(Context(context))


def test_dates_are_written_like_a_shenzhen_clerk() -> None:
    # 23:30 UTC on 25 November is already 26 November in Shenzhen.
    moment = datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("UTC"))
    with translation.override("zh-hans"):
        assert _render("{{ d|cn_date }}", d=date(2026, 11, 26)) == "2026年11月26日"
        assert _render("{{ d|cn_datetime }}", d=moment) == "2026年11月26日 07:30"
    with translation.override("zh-hant"):
        assert _render("{{ d|cn_date }}", d=date(2026, 11, 26)) == "2026年11月26日"
    with translation.override("en"):
        assert _render("{{ d|cn_date }}", d=date(2026, 11, 26)) == "26 November 2026"


def test_money_and_area_filters() -> None:
    assert _render("{{ v|yuan }}", v=Decimal("1234567.8")) == "¥1,234,567.80"
    assert _render("{{ v|yuan }}", v="88") == "¥88.00"
    assert _render("{{ v|area }}", v=Decimal("12345.678")) == "12,345.68 m²"
    assert _render("{{ v|yuan }}", v=None) == ""


@pytest.mark.parametrize(
    "path", ["gongzhi/css/gongzhi.css", "gongzhi/vendor/htmx.min.js", "gongzhi/img/favicon.svg"]
)
def test_shell_static_files_are_found(path: str) -> None:
    """src/gongzhi/static/ is not an app folder: it is served only if STATICFILES_DIRS names it."""
    from django.contrib.staticfiles import finders

    assert finders.find(path), f"{path} not found by the staticfiles finders (STATICFILES_DIRS?)"
