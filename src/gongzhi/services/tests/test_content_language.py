"""Catalogue content in the reader's language (issue 11): 繁體 pages show no Simplified-only
content, English pages show English names or the visible "(untranslated)" marker — never a
mixed line — and the catalogue spreadsheet takes the translation columns."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from gongzhi.accounts.enums import Role
from gongzhi.core.i18n import OPENCC, to_hant
from gongzhi.people.actions import do_link_user_to_person, do_register_person
from gongzhi.services.actions import Intake, do_import_catalog, do_submit_application
from gongzhi.services.catalog import SHEET_COLUMNS, SHEET_ITEMS, SHEET_MATERIALS
from gongzhi.services.demo import load_demo_catalog
from gongzhi.services.models import Bundle, ItemMaterial, ServiceItem

from .conftest import SYSTEM, id_number


class _Text(HTMLParser):
    """The text nodes of ``<main>``, each with the ``lang`` in force and whether it sits in an
    "untranslated" element (the marker's own text included)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col", "embed", "param", "track"}

    def __init__(self, page_lang: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, str, bool]] = [("html", page_lang, False)]
        self.in_main = 0
        self.nodes: list[tuple[str, str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "main":
            self.in_main += 1
        if tag in self.VOID:
            return
        _t, lang, marked = self.stack[-1]
        classes = (a.get("class") or "").split()
        self.stack.append((tag, a.get("lang") or lang,
                           marked or "untranslated" in classes or "untranslated-mark" in classes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main -= 1
        if tag in self.VOID:
            return
        while len(self.stack) > 1:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if text and self.in_main and self.stack[-1][0] not in {"script", "style"}:
            _t, lang, marked = self.stack[-1]
            self.nodes.append((text, lang, marked))


def _nodes(html: str, lang: str) -> list[tuple[str, str, bool]]:
    parser = _Text(lang)
    parser.feed(html)
    assert parser.nodes, "no text in <main>"
    return parser.nodes


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _client(user: Any, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _content_strings(*, all_chinese: bool = False) -> list[str]:
    names = [i.name for i in ServiceItem.objects.filter(active=True).select_related("department")]
    names += [i.department.name for i in ServiceItem.objects.select_related("department")]
    names += list(ItemMaterial.objects.values_list("name", flat=True))
    names += list(Bundle.objects.values_list("name", flat=True))
    for item in ServiceItem.objects.all():
        names += [str(s["label"]) for s in item.form_schema or [] if s.get("label")]
        names += [str(c) for s in item.form_schema or [] for c in s.get("choices") or []]
    if all_chinese:
        return sorted({n for n in names if _has_cjk(n)})
    return sorted({n for n in names if to_hant(n) != n})  # only the ones 繁體 writes differently


def _assert_hant_page(html: str) -> None:
    """No Simplified-only catalogue content: no content string that 繁體 writes differently
    appears as such, and the content names shown are text OpenCC's s2t leaves unchanged."""
    nodes = [t for t, _l, _m in _nodes(html, "zh-Hant")]
    content = _content_strings()
    leaked = [s for s in content if any(s in t for t in nodes)]
    assert not leaked, f"Simplified catalogue content on a 繁體 page: {leaked[:10]}"
    shown = [t for t in nodes if t in {to_hant(s) for s in content}]  # text nodes that are a content name
    assert shown, "no catalogue content found on the page"
    assert all(to_hant(t) == t for t in shown), [t for t in shown if to_hant(t) != t][:10]


def _assert_english_page(html: str) -> None:
    """A text node holding catalogue content in Chinese is marked untranslated (lang="zh-Hans"
    and the visible marker): never an English line with Chinese content mixed in."""
    content = _content_strings(all_chinese=True)
    mixed = [t for t, lang, marked in _nodes(html, "en")
             if any(s in t for s in content) and not (marked and lang.startswith("zh"))]
    assert not mixed, f"Chinese catalogue content on an English page without the untranslated marker: {mixed[:10]}"
    assert "（未翻译）" not in html


@pytest.fixture(autouse=True)
def _default_language_after() -> Any:
    """The pages here activate 繁體 and English in this thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def demo_hall(place_tree: SimpleNamespace, make_user: Any) -> SimpleNamespace:
    load_demo_catalog(actor=SYSTEM)
    resident = make_user(Role.RESIDENT, place_tree.pingshan, username="reader")
    person = do_register_person(id_number("44030519850101123"), "张伟明", home_place=place_tree.pingshan, actor=SYSTEM)
    do_link_user_to_person(resident, person, actor=SYSTEM)
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="window")
    return SimpleNamespace(resident=resident, clerk=clerk, number=id_number("44030519850101123"), tree=place_tree)


def test_demo_catalogue_has_english_and_reviewed_hant_drafts(demo_hall: SimpleNamespace) -> None:
    items = ServiceItem.objects.all()
    assert items.count() == 57
    assert all(i.name_en and i.name_zh_hant for i in items)
    assert all(i.zh_hant_source == OPENCC for i in items)  # machine drafts, marked for review
    assert all(m.name_en and m.name_zh_hant and m.zh_hant_source == OPENCC for m in ItemMaterial.objects.all())
    for item in items:
        for spec in item.form_schema:
            assert spec["label_en"] and spec["label_zh_hant"] == to_hant(spec["label"])
            if spec.get("choices"):
                assert len(spec["choices_en"]) == len(spec["choices_zh_hant"]) == len(spec["choices"])
    assert all(b.name_en and b.name_zh_hant for b in Bundle.objects.all())


def test_online_hall_in_hant_and_english(demo_hall: SimpleNamespace) -> None:
    url = reverse("services:online")
    hant = _client(demo_hall.resident, "zh-hant").get(url)
    assert hant.status_code == 200
    html = hant.content.decode()
    assert "最低生活保障申請" in html and "最低生活保障申请" not in html
    _assert_hant_page(html)
    en = _client(demo_hall.resident, "en").get(url)
    html = en.content.decode()
    assert "Minimum living allowance (dibao)" in html and "Civil Affairs Bureau" in html
    assert "最低生活保障申请" not in html
    _assert_english_page(html)


def test_window_item_picker_in_hant_and_english(demo_hall: SimpleNamespace) -> None:
    url = reverse("services:window")
    step = {"step": "lookup", "number": demo_hall.number}
    html = _client(demo_hall.clerk, "zh-hant").post(url, step).content.decode()
    assert "開辦餐飲店一件事" in html
    _assert_hant_page(html)
    html = _client(demo_hall.clerk, "en").post(url, step).content.decode()
    assert "Opening a restaurant" in html and "Human Resources and Social Security Bureau" in html
    _assert_english_page(html)


def test_application_form_labels_materials_and_choices(demo_hall: SimpleNamespace) -> None:
    item = ServiceItem.objects.get(code="NS-MZ-001")
    chooser = next(i for i in ServiceItem.objects.all() if any(s.get("choices") for s in i.form_schema))
    url = reverse("services:online_apply") + f"?items={item.code}&items={chooser.code}"
    html = _client(demo_hall.resident, "zh-hant").get(url).content.decode()
    assert "家庭月總收入（元）" in html
    _assert_hant_page(html)
    html = _client(demo_hall.resident, "en").get(url).content.decode()
    assert "Monthly household income (yuan)" in html
    assert "Household income and assets declaration" in html
    spec = next(s for s in chooser.form_schema if s.get("choices"))
    assert f">{spec['choices_en'][0]}</option>" in html
    _assert_english_page(html)


def test_case_page_untranslated_content_is_marked(hall: SimpleNamespace) -> None:
    """The test hall's items have no English: an English case page shows their Chinese names
    marked, 繁體 shows OpenCC's text."""
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="lang")
    case = app.cases.get()
    url = reverse("services:my_case", args=[case.number])
    html = _client(hall.resident_user, "en").get(url).content.decode()
    assert '<span lang="zh-Hans" class="untranslated">临时救助申请</span>' in html
    assert "(untranslated)" in html
    _assert_english_page(html)
    html = _client(hall.resident_user, "zh-hant").get(url).content.decode()
    assert "臨時救助申請" in html and "临时救助申请" not in html
    _assert_hant_page(html)


def _workbook(rows: dict[str, list[dict[str, Any]]]) -> bytes:
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    for sheet, data in rows.items():
        ws = wb.create_sheet(sheet)
        columns = [c for c in SHEET_COLUMNS[sheet] if any(c.key in r for r in data)]
        ws.append([c.label for c in columns])
        for r in data:
            ws.append([r.get(c.key) for c in columns])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_import_takes_translation_columns(hall: SimpleNamespace, make_user: Any) -> None:
    admin = make_user(Role.ADMINISTRATOR, hall.tree.city, username="catadmin")
    data = {
        SHEET_ITEMS: [
            {"code": "T-I18N-1", "name": "居住证签注", "name_zh_hant": "居住證簽註（人工）", "name_en": "Residence permit endorsement",
             "department": hall.civil.code, "statutory_days": 5, "promised_days": 1,
             "description": "网上即时签注", "description_en": "Endorsed online at once"},
            {"code": "T-I18N-2", "name": "临时身份证明", "department": hall.civil.code, "statutory_days": 5,
             "promised_days": 1},
        ],
        SHEET_MATERIALS: [
            {"item": "T-I18N-1", "key": "photo", "name": "证件照", "name_en": "ID photo"},
            {"item": "T-I18N-2", "key": "photo", "name": "证件照"},
        ],
    }
    report = do_import_catalog(_workbook(data), actor=admin)
    assert not report.errors, report.errors
    typed = ServiceItem.objects.get(code="T-I18N-1")
    assert (typed.name_zh_hant, typed.name_en, typed.description_en) == (
        "居住證簽註（人工）", "Residence permit endorsement", "Endorsed online at once")
    assert typed.zh_hant_source == OPENCC  # the description was drafted, so the row awaits review
    drafted = ServiceItem.objects.get(code="T-I18N-2")
    assert drafted.name_zh_hant == "臨時身份證明" and drafted.zh_hant_source == OPENCC and drafted.name_en == ""
    photo = ItemMaterial.objects.get(item=typed, key="photo")
    assert (photo.name_zh_hant, photo.name_en) == ("證件照", "ID photo")
    # A workbook without the translation columns keeps the stored translations.
    again = {SHEET_ITEMS: [{"code": "T-I18N-1", "name": "居住证签注", "department": hall.civil.code,
                            "statutory_days": 5, "promised_days": 1}],
             SHEET_MATERIALS: [{"item": "T-I18N-1", "key": "photo", "name": "证件照"}]}
    assert not do_import_catalog(_workbook(again), actor=admin).errors
    typed.refresh_from_db()
    photo.refresh_from_db()
    assert typed.name_en == "Residence permit endorsement" and photo.name_en == "ID photo"
