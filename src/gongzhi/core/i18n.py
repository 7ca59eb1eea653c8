"""Content in the reader's language: the ONE way to pick the display name of catalogue content.

Chrome (buttons, headings, messages) is translated by gettext. *Content* — service items,
materials, departments, bundles, places, the labels of an item's form — is data entered in
Simplified Chinese (the canonical name, ``name`` / ``label``), with two optional translations
stored beside it under one naming convention:

* models: ``<field>_zh_hant`` and ``<field>_en`` columns (``ServiceItem.name_zh_hant``,
  ``Place.name_en`` …);
* JSON dicts (a form-schema field): ``<field>_zh_hant`` and ``<field>_en`` keys
  (``{"name": "reason", "label": "申请事由", "label_zh_hant": "申請事由", "label_en": "Reason"}``).

``localized(obj, "name")`` returns the text for the active language (or ``lang``):

* 简体 — the canonical text;
* 繁體 — the stored 繁體 text; when none is stored, an OpenCC ``s2t`` conversion of the canonical
  text (so a 繁體 page never shows Simplified-only content). Stored 繁體 text is itself drafted by
  OpenCC when the catalogue is imported or built (``draft_hant``) and marked for review with
  ``zh_hant_source = "opencc"`` until a person checks it;
* English — the stored English text; when none, the canonical Chinese text flagged
  ``untranslated`` (never a half-translated mixture). Pages show it with ``lang="zh-Hans"`` and a
  visible "(untranslated)" marker (the ``localized`` template filter does this).

The result is a ``str`` (usable anywhere a name was), carrying ``.lang`` (a BCP 47 tag for the
``lang`` attribute) and ``.untranslated``. Templates use the filters in
``core/templatetags/gongzhi_tags.py``: ``{{ item|localized }}`` (HTML, marker included),
``{{ item|localized_text }}`` (plain text: attributes, ``<option>``, ``<title>``), and
``{{ field|localized:"label" }}`` for another field. PDFs and the API call ``localized`` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

HANS, HANT, EN = "zh-hans", "zh-hant", "en"
#: BCP 47 tags for the ``lang`` attribute, by content language.
LANG_TAGS = {HANS: "zh-Hans", HANT: "zh-Hant", EN: "en"}
#: Value of ``zh_hant_source`` for a 繁體 text drafted by OpenCC and not yet reviewed.
OPENCC = "opencc"


def content_language(lang: str | None = None) -> str:
    """The content language (``zh-hans`` / ``zh-hant`` / ``en``) for a Django language code."""
    code = (lang or get_language() or HANS).lower().replace("_", "-")
    if code.startswith("en"):
        return EN
    if code.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        return HANT
    return HANS


class Localized(str):
    """A display text that knows its language (``lang``) and whether it is a translation gap."""

    lang: str
    untranslated: bool

    def __new__(cls, text: str, lang: str, untranslated: bool = False) -> Localized:
        obj = super().__new__(cls, text)
        obj.lang = lang
        obj.untranslated = untranslated
        return obj


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # OpenCC dictionaries ship inside the wheel: no download at run time

    return opencc.OpenCC("s2t")


@lru_cache(maxsize=8192)
def to_hant(text: str) -> str:
    """OpenCC's Simplified → Traditional conversion (``s2t``) of ``text``, applied until it
    changes nothing: one pass is not always a fixed point (核准 → 覈准 → 覈準), and a 繁體 text is
    one that OpenCC leaves as it is."""
    if not text:
        return text
    convert = _converter().convert
    for _pass in range(4):
        converted = str(convert(text))
        if converted == text:
            break
        text = converted
    return text


def plain(text: str) -> str:
    """``text`` for places that take no markup (a form label, ``<option>``, an attribute, a PDF,
    a JSON name): an untranslated text gets its "(untranslated)" marker written out."""
    if getattr(text, "untranslated", False):
        return f"{text} {gettext('（未翻译）')}"
    return str(text)


def localized_text(obj: Any, field: str = "name", lang: str | None = None) -> str:
    """``plain(localized(obj, field))``: the one-liner for forms, PDFs and exports."""
    return plain(localized(obj, field, lang))


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def localized(obj: Any, field: str = "name", lang: str | None = None) -> Localized:
    """The text of ``obj.<field>`` (or ``obj[field]``) in the active language; see the module doc."""
    want = content_language(lang)
    if isinstance(obj, Localized) and lang is None:  # already picked (e.g. by a view)
        return obj
    if obj is None:
        return Localized("", LANG_TAGS[want])
    if isinstance(obj, str):  # plain text (already a name): only the script can be adapted
        base: str = obj
        if want == HANT:
            return Localized(to_hant(base), LANG_TAGS[HANT])
        if want == EN:
            return Localized(base, LANG_TAGS[HANS], untranslated=bool(base))
        return Localized(base, LANG_TAGS[HANS])
    raw = _get(obj, field)
    base = "" if raw is None else str(raw)
    if want == HANS or not base:
        return Localized(base, LANG_TAGS[HANS])
    if want == HANT:
        hant = _get(obj, f"{field}_zh_hant")
        return Localized(str(hant) if hant else to_hant(base), LANG_TAGS[HANT])
    en = _get(obj, f"{field}_en")
    if en:
        return Localized(str(en), LANG_TAGS[EN])
    return Localized(base, LANG_TAGS[HANS], untranslated=True)


def localized_html(obj: Any, field: str = "name", lang: str | None = None) -> SafeString:
    """``localized`` as HTML: an untranslated text in its own ``lang`` with a visible
    "(untranslated)" marker. The ``|localized`` template filter and code that builds HTML
    (the case page's timeline) both call this."""
    text = localized(obj, field, lang)
    if text.untranslated:
        return format_html(
            '<span lang="{}" class="untranslated">{}</span> <small class="untranslated-mark">{}</small>',
            text.lang, str(text), gettext("（未翻译）"),
        )
    return format_html("{}", str(text))


def draft_hant(values: dict[str, Any], fields: Iterable[str] = ("name",)) -> bool:
    """Fill each empty ``<field>_zh_hant`` in ``values`` with OpenCC's draft of ``<field>``.

    For writers (catalogue import, the demo loader, create/update actions) before saving. Returns
    True when anything was drafted; the caller then marks the row ``zh_hant_source = "opencc"``
    (machine-drafted, awaiting review). Works on a row's field dict and on a form-schema field.
    """
    drafted = False
    for field in fields:
        base = values.get(field)
        if base and not values.get(f"{field}_zh_hant"):
            values[f"{field}_zh_hant"] = to_hant(str(base))
            drafted = True
    return drafted


def draft_hant_on(obj: Any, fields: Iterable[str] = ("name",), supplied: Iterable[str] = ()) -> None:
    """Before a model row is saved: keep its 繁體 texts and their review mark right.

    * an empty ``<field>_zh_hant`` gets OpenCC's draft of ``<field>``;
    * a stored draft (row marked ``"opencc"``) that no longer matches the Chinese text (the name
      was changed) is drafted again — unless this write supplies the 繁體 text itself;
    * ``zh_hant_source`` is ``"opencc"`` while any of the row's 繁體 texts is a draft — drafted
      here, or supplied (``supplied``: the ``<field>_zh_hant`` a person or a spreadsheet gave)
      but equal to OpenCC's draft (a re-imported export of an unreviewed row); it is cleared
      when every 繁體 text was written by a person.
    """
    given = set(supplied)
    was_draft = getattr(obj, "zh_hant_source", "") == OPENCC
    drafted = False
    human = False
    for field in fields:
        base = str(getattr(obj, field, "") or "")
        key = f"{field}_zh_hant"
        hant = str(getattr(obj, key, "") or "")
        draft = to_hant(base)
        if key in given and hant:
            human = human or hant != draft
            drafted = drafted or hant == draft
            continue
        if base and (not hant or (was_draft and hant != draft)):
            setattr(obj, key, draft)
            drafted = True
        elif not base and hant:
            setattr(obj, key, "")
    if drafted or human or given:
        # Anything machine-drafted keeps the row in the review queue; only person-written texts
        # (and no drafts) clear it.
        obj.zh_hant_source = OPENCC if drafted else ""


def _at(values: Any, index: int) -> Any:
    if isinstance(values, list | tuple) and index < len(values):
        return values[index]
    return None


def localized_choice(spec: Mapping[str, Any], value: Any, lang: str | None = None) -> Localized:
    """The display text of one ``choices`` value of a form-schema field.

    Translations are lists parallel to ``choices``: ``choices_zh_hant`` and ``choices_en``. The
    stored value (what the applicant's form holds) is always the canonical Chinese one.
    """
    text = "" if value is None else str(value)
    choices = [str(c) for c in spec.get("choices") or []]
    if text in choices:
        i = choices.index(text)
        view = {"c": text, "c_zh_hant": _at(spec.get("choices_zh_hant"), i), "c_en": _at(spec.get("choices_en"), i)}
        return localized(view, "c", lang)
    return localized({"c": text}, "c", lang)


def draft_schema_hant(schema: list[dict[str, Any]], previous: Iterable[Mapping[str, Any]] = ()) -> bool:
    """Fill a form schema's missing 繁體 texts (``label_zh_hant``, ``choices_zh_hant``) with OpenCC
    drafts, in place; returns True when anything was drafted (the item is then marked "opencc").

    A 繁體 label carried over from ``previous`` (the stored schema) that was OpenCC's draft of the
    old label is drafted again when the label itself changed, so a draft never goes stale.
    """
    old = {str(s.get("name")): s for s in previous}
    drafted = False
    for spec in schema:
        before = old.get(str(spec.get("name")), {})
        label, hant = str(spec.get("label") or ""), str(spec.get("label_zh_hant") or "")
        stale = (
            hant
            and label != before.get("label")
            and hant == before.get("label_zh_hant")
            and hant == to_hant(str(before.get("label") or ""))
        )
        if label and (not hant or stale):
            spec["label_zh_hant"] = to_hant(label)
            drafted = True
        choices = [str(c) for c in spec.get("choices") or []]
        hant_choices = spec.get("choices_zh_hant")
        if choices and (not isinstance(hant_choices, list) or len(hant_choices) != len(choices)
                        or (choices != before.get("choices") and hant_choices == before.get("choices_zh_hant"))):
            spec["choices_zh_hant"] = [to_hant(c) for c in choices]
            drafted = True
    return drafted


def localized_schema(schema: Iterable[Mapping[str, Any]], lang: str | None = None) -> list[dict[str, Any]]:
    """A copy of a form schema with each ``label`` (and ``help``) in the reader's language."""
    out = []
    for spec in schema:
        copy = dict(spec)
        for key in ("label", "help"):
            if spec.get(key):
                copy[key] = localized(spec, key, lang)
        if spec.get("choices"):
            copy["choice_labels"] = [localized_choice(spec, c, lang) for c in spec["choices"]]
        out.append(copy)
    return out
