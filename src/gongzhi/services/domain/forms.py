"""Application forms defined as data (``ServiceItem.form_schema``) and validated server-side.

A schema is a list of fields::

    {"name": "reason", "label": "申请事由", "type": "text", "required": true, "max_length": 200}

Types: text, textarea, int, decimal, date, choice (``choices``: list of values), bool, phone.
Optional keys: ``min``/``max`` (numbers), ``pattern`` (regex for text), ``max_length``.

Where a value comes from (``"from"``), when the platform already knows it:

* ``identity.birth_date`` / ``identity.sex`` / ``identity.age`` / ``identity.region`` — read from
  the applicant's 18-character ID or residence-permit number (GB 11643). Such a field is not
  asked: the page shows it read-only and intake takes the value from the number; a posted value
  that contradicts the number is refused. A number that says nothing (a travel permit) leaves the
  field asked as usual.
* ``person.phone`` / ``person.address`` — the person record's; left blank, intake fills it in.

Personal numbers: a field that holds an ID number, a phone number or a bank account — the
applicant's or a third party's — is declared with ``"personal": "id_number" | "phone" |
"bank_account"`` (a ``phone`` field is one by its type). Intake stores such a value encrypted
with a blind index and keeps only its masked form in the case's ``form_data``
(``services/personal.py``), as the people register does (DESIGN.md §3). A field whose *name*
says it holds one (``partner_id_number``, ``bank_account``, ``mobile``) must be declared, so a
catalog edit cannot slip a clear personal number past the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.core.i18n import localized_choice, localized_text, plain

FIELD_TYPES = {"text", "textarea", "int", "decimal", "date", "choice", "bool", "phone"}
# Source → the field types that can hold its value.
IDENTITY_SOURCES = {
    "identity.birth_date": {"date"},
    "identity.sex": {"choice", "text"},
    "identity.age": {"int"},
    "identity.region": {"text"},
}
PERSON_SOURCES = {"person.phone": {"phone"}, "person.address": {"text", "textarea"}}
SEX_VALUES = {"male": "男", "female": "女"}  # how a choice field spells the sex read from a number
PERSONAL_KINDS = ("id_number", "phone", "bank_account")
# Names that say a field holds a personal number (used to refuse an undeclared one and, once, to
# declare the fields of catalogs stored before declarations existed: migration 0005).
_PERSONAL_NAMES = (
    ("id_number", re.compile(r"(^|_)(id_number|id_no|idcard|id_card_no|certificate_number|permit_number)($|_)")),
    ("bank_account", re.compile(r"(^|_)(bank_account|account_no|account_number|card_number|card_no)($|_)")),
    ("phone", re.compile(r"(^|_)(phone|mobile|telephone|tel)($|_)")),
)
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class SchemaDefinitionError(ValueError):
    pass


def _check_translations(name: str, spec: dict[str, Any]) -> None:
    """The reader's-language texts (core/i18n.py): ``label_zh_hant``/``label_en`` (and ``help_*``)
    are text; ``choices_zh_hant``/``choices_en`` are lists parallel to ``choices``."""
    for key in ("label_zh_hant", "label_en", "help_zh_hant", "help_en"):
        if key in spec and not isinstance(spec[key], str):
            raise SchemaDefinitionError(_("字段 %(name)s 的 %(key)s 应为文本") % {"name": name, "key": key})
    for key in ("choices_zh_hant", "choices_en"):
        if key in spec and (not isinstance(spec[key], list) or len(spec[key]) != len(spec.get("choices") or [])):
            raise SchemaDefinitionError(
                _("字段 %(name)s 的 %(key)s 应与 choices 一一对应") % {"name": name, "key": key}
            )


def check_schema(schema: list[dict[str, Any]]) -> None:
    """Validate a schema definition itself (used by the admin and the catalog import)."""
    seen: set[str] = set()
    for n, spec in enumerate(schema, start=1):
        name = spec.get("name")
        if not name or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", str(name)):
            raise SchemaDefinitionError(_("第 %(n)s 个字段的名称 %(name)r 不合法（小写字母开头，字母数字下划线）") % {"n": n, "name": name})
        if name in seen:
            raise SchemaDefinitionError(_("字段名称 %(name)s 重复") % {"name": name})
        seen.add(name)
        if spec.get("type", "text") not in FIELD_TYPES:
            raise SchemaDefinitionError(_("字段 %(name)s 的类型 %(type)r 不受支持") % {"name": name, "type": spec.get("type")})
        if spec.get("type") == "choice" and not spec.get("choices"):
            raise SchemaDefinitionError(_("选择字段 %(name)s 缺少选项") % {"name": name})
        _check_translations(name, spec)
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                raise SchemaDefinitionError(_("字段 %(name)s 的格式表达式无效：%(error)s") % {"name": name, "error": exc}) from exc
        declared = spec.get("personal")
        if declared is not None and declared not in PERSONAL_KINDS:
            raise SchemaDefinitionError(
                _("字段 %(name)s 的个人号码类型 %(kind)r 不受支持（可选：%(kinds)s）") % {"name": name, "kind": declared, "kinds": "、".join(PERSONAL_KINDS)}
            )
        if declared and spec.get("type", "text") not in {"text", "phone"}:
            raise SchemaDefinitionError(_("个人号码字段 %(name)s 的类型只能是 text 或 phone") % {"name": name})
        if spec.get("type") == "phone" and declared not in (None, "phone"):
            raise SchemaDefinitionError(_("电话字段 %(name)s 只能声明为 phone") % {"name": name})
        source = spec.get("from")
        if source is not None:
            types = IDENTITY_SOURCES.get(source) or PERSON_SOURCES.get(source)
            if types is None:
                known = "、".join([*IDENTITY_SOURCES, *PERSON_SOURCES])
                raise SchemaDefinitionError(_("字段 %(name)s 的来源 %(source)r 不受支持（可选：%(known)s）")
                                            % {"name": name, "source": source, "known": known})
            if spec.get("type", "text") not in types:
                raise SchemaDefinitionError(
                    _("字段 %(name)s 的来源 %(source)s 只能用于 %(types)s 类型的字段")
                    % {"name": name, "source": source, "types": "、".join(sorted(types))}
                )
            if source == "identity.sex" and spec.get("type") == "choice" and not set(SEX_VALUES.values()) <= {
                str(c) for c in spec.get("choices", [])
            }:
                raise SchemaDefinitionError(_("字段 %(name)s 取自证件性别，选项须包括“男”和“女”") % {"name": name})
        guessed = inferred_personal_kind(spec)
        if guessed and not personal_kind(spec):
            raise SchemaDefinitionError(
                _("字段 %(name)s 看来保存个人号码，须声明 \"personal\": \"%(kind)s\"（加密保存、脱敏显示）") % {"name": name, "kind": guessed}
            )


def personal_kind(spec: dict[str, Any]) -> str:
    """The kind of personal number a field holds as declared ("" for none)."""
    declared = spec.get("personal")
    if declared:
        return str(declared)
    return "phone" if spec.get("type") == "phone" else ""


def inferred_personal_kind(spec: dict[str, Any]) -> str:
    """The kind of personal number a field's name or type says it holds ("" for none)."""
    if spec.get("type") == "phone":
        return "phone"
    name = str(spec.get("name", ""))
    for kind, pattern in _PERSONAL_NAMES:
        if pattern.search(name):
            return kind
    return ""


def declare_personal(schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``schema`` with every field that holds a personal number by its name declared so.

    Fields already personal (declared, or a ``phone`` by type) are left as they are, so a catalog
    import comparing stored schemas with its file sees no change where there is none.
    """
    out = []
    for spec in schema:
        kind = "" if personal_kind(spec) else inferred_personal_kind(spec)
        out.append({**spec, "personal": kind} if kind else dict(spec))
    return out


def identity_values(facts: Any) -> dict[str, Any]:
    """The values an ID number gives (``core.domain.identifiers.IdentityFacts`` or ``None``),
    by fact name: ``birth_date`` (ISO), ``sex`` (男/女), ``age`` (周岁), ``region``."""
    if facts is None:
        return {}
    return {
        "birth_date": facts.birth_date.isoformat(),
        "sex": SEX_VALUES[str(facts.sex)],
        "age": facts.age,
        "region": facts.region("zh-hans"),
    }


def derived_values(schema: list[dict[str, Any]], facts: dict[str, Any]) -> dict[str, Any]:
    """Field name → value for every field taken from the identity that the identity can fill."""
    out: dict[str, Any] = {}
    for spec in schema:
        source = str(spec.get("from", ""))
        if source in IDENTITY_SOURCES:
            fact = source.split(".", 1)[1]
            if facts.get(fact) not in (None, ""):
                out[spec["name"]] = facts[fact]
    return out


def contradictions(
    schema: list[dict[str, Any]], derived: dict[str, Any], posted: dict[str, Any]
) -> list[tuple[str, str]]:
    """Posted values of identity fields that differ from what the number says (compared as the
    schema would clean them, so ``0080`` and ``80`` are not a contradiction): (name, label)."""
    errors = []
    for spec in schema:
        name = spec["name"]
        if name not in derived or posted.get(name) in (None, ""):
            continue
        label = spec.get("label", name)
        try:
            given = _clean_value(spec.get("type", "text"), posted[name], spec, label)
        except ValueError:
            given = posted[name]
        if str(given) != str(derived[name]):
            errors.append((name, str(label)))
    return errors


def validate_form(schema: list[dict[str, Any]], data: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Return (cleaned data, errors). Unknown keys are errors too: the form is the schema."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    known = {spec["name"] for spec in schema}
    for key in data:
        if key not in known:
            errors.append(FieldError(key, _("表单中没有“%(field)s”这一项") % {"field": key}))
    for spec in schema:
        name, label = spec["name"], (localized_text(spec, "label") if spec.get("label") else spec["name"])
        kind = spec.get("type", "text")
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if spec.get("required"):
                errors.append(FieldError(name, _("“%(label)s”为必填项") % {"label": label}))
            continue
        try:
            cleaned[name] = _clean_value(kind, raw, spec, label)
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    return cleaned, errors


def _clean_value(kind: str, raw: Any, spec: dict[str, Any], label: str) -> Any:
    if kind in {"text", "textarea"}:
        value = str(raw).strip()
        limit = int(spec.get("max_length", 200 if kind == "text" else 2000))
        if len(value) > limit:
            raise ValueError(_("“%(label)s”不能超过 %(limit)s 个字（现为 %(count)s 个）") % {"label": label, "limit": limit, "count": len(value)})
        if spec.get("pattern") and not re.fullmatch(spec["pattern"], value):
            raise ValueError(_("“%(label)s”格式不正确") % {"label": label})
        return value
    if kind == "phone":
        value = str(raw).strip().replace(" ", "")
        if not _PHONE.fullmatch(value):
            raise ValueError(_("“%(label)s”不是有效的手机号或座机号") % {"label": label})
        return value
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in {"true", "1", "yes", "on", "是"}:
            return True
        if str(raw).lower() in {"false", "0", "no", "off", "否"}:
            return False
        raise ValueError(_("“%(label)s”应为“是”或“否”") % {"label": label})
    if kind == "choice":
        choices = [str(c) for c in spec.get("choices", [])]
        if str(raw) not in choices:
            raise ValueError(_("“%(label)s”只能是：%(choices)s") % {"label": label, "choices": "、".join(plain(localized_choice(spec, c)) for c in choices)})
        return str(raw)
    if kind == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError as exc:
            raise ValueError(_("“%(label)s”不是有效日期（YYYY-MM-DD）：%(value)s") % {"label": label, "value": raw}) from exc
    if kind in {"int", "decimal"}:
        if isinstance(raw, bool) or isinstance(raw, float):
            raise ValueError((_("“%(label)s”应为数字（不接受浮点数，请使用字符串）") if isinstance(raw, float) else _("“%(label)s”应为数字")) % {"label": label})
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise ValueError(_("“%(label)s”应为数字") % {"label": label}) from exc
        if not number.is_finite():
            raise ValueError(_("“%(label)s”应为数字") % {"label": label})
        if kind == "int" and number != number.to_integral_value():
            raise ValueError(_("“%(label)s”应为整数") % {"label": label})
        if "min" in spec and number < Decimal(str(spec["min"])):
            raise ValueError(_("“%(label)s”不能小于 %(min)s") % {"label": label, "min": spec["min"]})
        if "max" in spec and number > Decimal(str(spec["max"])):
            raise ValueError(_("“%(label)s”不能大于 %(max)s") % {"label": label, "max": spec["max"]})
        return int(number) if kind == "int" else str(number)
    raise ValueError(_("“%(label)s”类型未知") % {"label": label})


def rules_pass(rules: list[dict[str, Any]], data: dict[str, Any]) -> bool:
    """Instant-approval rules (即办): every rule ``{"field", "op", "value"}`` must hold.

    ops: eq, ne, in, gte, lte, present. An item with no rules is never decided automatically.
    """
    if not rules:
        return False
    for rule in rules:
        value = data.get(rule["field"])
        op, expected = rule.get("op", "eq"), rule.get("value")
        if op == "present":
            ok = value not in (None, "")
        elif value is None:
            ok = False
        elif op == "eq":
            ok = str(value) == str(expected)
        elif op == "ne":
            ok = str(value) != str(expected)
        elif op == "in":
            ok = str(value) in [str(v) for v in expected or []]
        elif op in {"gte", "lte"}:
            try:
                a, b = Decimal(str(value)), Decimal(str(expected))
            except InvalidOperation:
                return False
            ok = a >= b if op == "gte" else a <= b
        else:
            ok = False
        if not ok:
            return False
    return True
