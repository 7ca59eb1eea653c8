"""The one content-language helper (core/i18n.py) and its template filters."""

from types import SimpleNamespace

from django.template import Context, Template
from django.utils import translation

from gongzhi.core.i18n import draft_hant, localized, localized_schema, to_hant


def _render(src: str, **ctx: object) -> str:
    return Template("{% load gongzhi_tags %}" + src).render(Context(ctx))


def test_each_language_picks_its_column() -> None:
    item = SimpleNamespace(name="最低生活保障申请", name_zh_hant="最低生活保障申請", name_en="Minimum living allowance")
    with translation.override("zh-hans"):
        assert localized(item) == "最低生活保障申请"
    with translation.override("zh-hant"):
        assert localized(item) == "最低生活保障申請"
        assert localized(item).lang == "zh-Hant"
    with translation.override("en"):
        text = localized(item)
        assert text == "Minimum living allowance" and not text.untranslated and text.lang == "en"


def test_missing_hant_is_converted_never_simplified() -> None:
    place = SimpleNamespace(name="龙华区", name_zh_hant="", name_en="")
    with translation.override("zh-hant"):
        assert localized(place) == "龍華區"
        assert to_hant(str(localized(place))) == str(localized(place))


def test_missing_english_is_marked_not_mixed() -> None:
    spec = {"name": "id", "label": "身份证件"}
    with translation.override("en"):
        text = localized(spec, "label")
        assert text == "身份证件" and text.untranslated and text.lang == "zh-Hans"
        html = _render("{{ spec|localized:'label' }}", spec=spec)
        assert '<span lang="zh-Hans" class="untranslated">身份证件</span>' in html
        assert "(untranslated)" in html
        assert _render("{{ spec|localized_text:'label' }}", spec=spec) == "身份证件 (untranslated)"
    with translation.override("zh-hant"):
        assert _render("{{ spec|localized:'label' }}", spec=spec) == "身份證件"


def test_filter_escapes() -> None:
    item = SimpleNamespace(name="<b>x</b>", name_en="<i>y</i>")
    with translation.override("en"):
        assert _render("{{ item|localized }}", item=item) == "&lt;i&gt;y&lt;/i&gt;"


def test_draft_hant_fills_only_empty_fields() -> None:
    row = {"name": "发展和改革局", "name_zh_hant": ""}
    assert draft_hant(row) is True and row["name_zh_hant"] == "發展和改革局"
    kept = {"name": "后台", "name_zh_hant": "後臺（人工）"}
    assert draft_hant(kept) is False and kept["name_zh_hant"] == "後臺（人工）"


def test_schema_labels_localized() -> None:
    schema = [{"name": "reason", "label": "申请事由", "label_en": "Reason"}]
    with translation.override("en"):
        assert localized_schema(schema)[0]["label"] == "Reason"
    with translation.override("zh-hant"):
        assert localized_schema(schema)[0]["label"] == "申請事由"
    assert schema[0]["label"] == "申请事由"


def test_draft_hant_on_marks_rows_for_review() -> None:
    from gongzhi.core.i18n import OPENCC, draft_hant_on

    row = SimpleNamespace(name="民政局", name_zh_hant="", zh_hant_source="")
    draft_hant_on(row)
    assert (row.name_zh_hant, row.zh_hant_source) == ("民政局", OPENCC)
    row.name = "发展和改革局"  # renamed: the stale draft follows
    draft_hant_on(row)
    assert row.name_zh_hant == "發展和改革局"
    row.name_zh_hant = "發展及改革局"  # a person's text clears the mark and is kept
    draft_hant_on(row, supplied=["name_zh_hant"])
    assert (row.name_zh_hant, row.zh_hant_source) == ("發展及改革局", "")
    row.name = "发展和改革局"
    draft_hant_on(row)
    assert row.name_zh_hant == "發展及改革局"


def test_to_hant_is_a_fixed_point() -> None:
    once = to_hant("基本养老金待遇核准")
    assert to_hant(once) == once
