"""The catalogue's rules (事项清单: items, materials, co-processors, routes, bundles) and its
spreadsheet: reading, checking and planning an import, and the export. Nothing here writes —
the writes are ``services/actions/catalog.py`` (DESIGN.md §2).

The spreadsheet import checks *every* row of every sheet before it writes
anything and reports each rejected row with its sheet, row number and reason; it applies
nothing if any row is bad unless the caller asked for "valid rows only" (DESIGN.md §3, bad
input). An import is idempotent: items and bundles are matched by code and updated in place.

Workbook layout (the export writes exactly what the import reads; headers are matched by the
Chinese label or by the English key, in any column order):

- 事项 — one row per item; 表单字段/即办规则 are JSON (see ``services/domain/forms.py``).
- 材料 — item code × material key; the rows of an item *replace* its materials.
- 协办 — item code × co-processing department × limit; replace the item's co-processors.
- 路由 — item code × place code × department (办理路由); replace the item's routes.
- 一件事 — bundle code, name, item codes.

A sheet that is absent is left alone (an items-only workbook does not wipe materials); a sheet
that is present but has no rows for an item in 事项 clears that item's rows of that kind.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gongzhi.accounts.actions import ensure_admin_over
from gongzhi.accounts.models import Department
from gongzhi.core.actors import Actor
from gongzhi.core.i18n import localized_text
from gongzhi.people.enums import DocumentType
from gongzhi.places.models import Place
from gongzhi.services.domain.choice import choice_conflicts
from gongzhi.services.domain.eligibility import RuleDefinitionError, check_rules, normalize_rules
from gongzhi.services.domain.forms import SchemaDefinitionError, check_schema
from gongzhi.services.enums import ApplicantType, HandlingMode, MaterialForm, MaterialKind
from gongzhi.services.errors import ServiceError
from gongzhi.services.models import (
    Bundle,
    CaseMaterial,
    ItemCoDepartment,
    ItemMaterial,
    ItemRoute,
    ServiceItem,
)

Progress = Callable[[str], Any] | None

SHEET_README = "说明"
SHEET_ITEMS = "事项"
SHEET_MATERIALS = "材料"
SHEET_CO = "协办"
SHEET_ROUTES = "路由"
SHEET_BUNDLES = "一件事"
DATA_SHEETS = (SHEET_ITEMS, SHEET_MATERIALS, SHEET_CO, SHEET_ROUTES, SHEET_BUNDLES)

MAX_ROWS = 20_000  # per sheet: a district catalog has hundreds of items; more is a wrong file
MAX_DAYS = 365  # working days; the longest statutory limits are about three months
RULE_OPS = {"eq", "ne", "in", "gte", "lte", "present"}
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
_KEY = re.compile(r"[a-z0-9][a-z0-9_\-]{0,39}")
_LIST_SPLIT = re.compile(r"[\s,，、;；]+")
_TRUE = {"是", "true", "1", "yes", "y", "t", "√", "✓"}
_FALSE = {"否", "false", "0", "no", "n", "f", "×", ""}


def _in_column(label: str, problem: object) -> str:
    """A problem of one column, named by its header (the workbook's own Chinese label)."""
    return _("“%(column)s”%(problem)s") % {"column": label, "problem": problem}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool = False
    note: str = ""


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("code", "事项编码", True, "字母、数字、-_. ，最长 40；已存在的编码会被更新"),
    Column("name", "事项名称", True),
    Column("name_zh_hant", "繁体名称", note="留空由 OpenCC 转换并标记待审"),
    Column("name_en", "英文名称"),
    Column("department", "主办部门编码", True, "accounts 部门编码，必须已存在"),
    Column("applicant_type", "申请人类型", note="person 自然人 / enterprise 法人 / both 两者"),
    Column("mode", "办理模式", note="instant 即办 / simple 简易（全程网办）/ complex 承诺件"),
    Column("statutory_days", "法定时限（工作日）", True, "0–365"),
    Column("promised_days", "承诺时限（工作日）", True, "不得大于法定时限"),
    Column("fee", "收费（元）", note="不收费填 0；最多两位小数"),
    Column("fee_note", "收费说明"),
    Column("commitment_allowed", "可告知承诺", note="是 / 否"),
    Column("accept_with_gaps", "可容缺受理", note="是 / 否"),
    Column("co_timeout_default", "协办超时默认同意", note="是 / 否"),
    Column("low_assurance", "未实名核验账户可申请", note="是 / 否，默认否；网上自助注册、尚未到窗口核验的账户只能申请标“是”的事项"),
    Column("warning_share", "预警比例", note="时限用去多少比例时预警，0–1 之间，如 0.8"),
    Column("result_doc_type", "办结证照类型", note="办结后放入证照库的证照类型，见证照类型表"),
    Column("form_schema", "表单字段（JSON）", note='如 [{"name": "reason", "label": "申请事由", "type": "text"}]'),
    Column("instant_rules", "即办规则（JSON）", note='仅即办事项，如 [{"field": "age", "op": "gte", "value": 60}]'),
    Column("eligibility_rules", "申请条件（JSON）",
           note='证件信息（age 年龄、birth_date、sex、region）或表单字段的条件，如 '
                '[{"field": "age", "op": ">=", "value": 80, "message": "须年满 80 周岁"}]'),
    Column("description", "说明"),
    Column("conditions", "受理条件", note="办事指南：谁可以申请、需满足的条件"),
    Column("legal_basis", "设定依据", note="办事指南：法律法规及条款"),
    Column("location", "办理地点", note="办事指南：窗口地址；按街道分派的事项写“所在街道党群服务中心”等"),
    Column("description_zh_hant", "繁体说明", note="留空由 OpenCC 转换并标记待审"),
    Column("description_en", "英文说明"),
    Column("active", "启用", note="是 / 否，默认是"),
)
MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("item", "事项编码", True),
    Column("key", "材料键", True, "小写字母数字，同一事项内唯一；一件事中同键材料只收一次"),
    Column("name", "材料名称", True),
    Column("name_zh_hant", "繁体材料名称", note="留空由 OpenCC 转换并标记待审"),
    Column("name_en", "英文材料名称"),
    Column("kind", "材料类型", note="mandatory 必要 / secondary 次要（可容缺），默认必要"),
    Column("doc_type", "证照类型", note="可从证照库复用的证照类型，见证照类型表"),
    Column("commitment_ok", "告知承诺可免交", note="是 / 否"),
    Column("submit_as", "原件/复印件", note="original 原件 / copy 复印件 / both 原件核验复印件留存，可留空"),
    Column("order", "顺序", note="非负整数，留空按行序"),
)
CO_COLUMNS: tuple[Column, ...] = (
    Column("item", "事项编码", True),
    Column("department", "协办部门编码", True),
    Column("limit_days", "协办时限（工作日）", True, "1 至事项承诺时限"),
)
ROUTE_COLUMNS: tuple[Column, ...] = (
    Column("item", "事项编码", True),
    Column("place", "区域编码", True, "places 区划编码；办件所在区域最近的上级路由生效"),
    Column("department", "承办部门编码", True),
)
BUNDLE_COLUMNS: tuple[Column, ...] = (
    Column("code", "一件事编码", True),
    Column("name", "名称", True),
    Column("name_zh_hant", "繁体名称", note="留空由 OpenCC 转换并标记待审"),
    Column("name_en", "英文名称"),
    Column("items", "包含事项编码", True, "至少两个，用逗号或顿号分隔"),
    Column("description", "说明"),
    Column("description_zh_hant", "繁体说明", note="留空由 OpenCC 转换并标记待审"),
    Column("description_en", "英文说明"),
    Column("active", "启用", note="是 / 否，默认是"),
)
SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_ITEMS: ITEM_COLUMNS,
    SHEET_MATERIALS: MATERIAL_COLUMNS,
    SHEET_CO: CO_COLUMNS,
    SHEET_ROUTES: ROUTE_COLUMNS,
    SHEET_BUNDLES: BUNDLE_COLUMNS,
}
ITEM_LABELS = {c.key: c.label for c in ITEM_COLUMNS}

# Rows of one sheet: (row number as the user sees it, {column key: cell value}).
SheetRows = list[tuple[int, dict[str, Any]]]


class CatalogError(ServiceError):
    """Bad catalog input; ``errors`` lists every (field, message) at fault."""

    code = "catalog"

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        message = "；".join(m for _f, m in errors)
        super().__init__(message, field=errors[0][0] if errors else "")
        self.errors = list(errors)


# ------------------------------------------------------------------------------ cell cleaning


class _Bad(ValueError):
    """One cell's problem, in Chinese, without the column name (the caller adds it)."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: Any, *, max_length: int, required: bool = False) -> str:
    if _blank(value):
        if required:
            raise _Bad(_("不能为空"))
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        raise _Bad(_("不能超过 %(limit)s 个字（现为 %(count)s 个）") % {"limit": max_length, "count": len(text)})
    return text


def _int(value: Any, *, low: int, high: int, default: int | None = None) -> int:
    if _blank(value):
        if default is None:
            raise _Bad(_("不能为空"))
        return default
    if isinstance(value, bool):
        raise _Bad(_("应为整数"))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise _Bad(_("应为整数（现为 %(value)r）") % {"value": value}) from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise _Bad(_("应为整数（现为 %(value)r）") % {"value": value})
    if number < low:
        raise _Bad(_("不能小于 %(low)s（现为 %(number)s）") % {"low": low, "number": number})
    if number > high:
        raise _Bad(_("不能大于 %(high)s（现为 %(number)s）") % {"high": high, "number": number})
    return int(number)


def _decimal(value: Any, *, places: int, low: Decimal, high: Decimal, default: Decimal) -> Decimal:
    if _blank(value):
        return default
    if isinstance(value, bool):
        raise _Bad(_("应为数字"))
    try:
        # str() of a spreadsheet float is its shortest repr (12.5 → "12.5"), never binary noise.
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise _Bad(_("应为数字（现为 %(value)r）") % {"value": value}) from exc
    if not number.is_finite():
        raise _Bad(_("应为数字"))
    if number < low:
        raise _Bad(_("不能小于 %(low)s（现为 %(number)s）") % {"low": low, "number": number})
    if number > high:
        raise _Bad(_("不能大于 %(high)s（现为 %(number)s）") % {"high": high, "number": number})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise _Bad(_("最多 %(places)s 位小数（现为 %(number)s）") % {"places": places, "number": number})
    return number.quantize(Decimal(1).scaleb(-places))


def _bool(value: Any, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if _blank(value):
        return default
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(_("应填“是”或“否”（现为 %(value)r）") % {"value": value})


def _choice(value: Any, choices: Any, *, default: str) -> str:
    """Accept an enum value or its Chinese label (what a clerk would type)."""
    if _blank(value):
        return default
    text = str(value).strip()
    for choice_value, label in choices.choices:
        if text in (choice_value, str(label)):
            return str(choice_value)
    allowed = "、".join(f"{v}（{label}）" for v, label in choices.choices)
    raise _Bad(_("“%(text)s”无效，可选：%(allowed)s") % {"text": text, "allowed": allowed})


def _doc_type(value: Any) -> str:
    if _blank(value):
        return ""
    return _choice(value, DocumentType, default="")


def _json_list(value: Any) -> list[Any]:
    if _blank(value):
        return []
    if isinstance(value, list):
        data: Any = value
    else:
        try:
            data = json.loads(str(value))
        except json.JSONDecodeError as exc:
            raise _Bad(_("不是有效的 JSON（第 %(line)s 行第 %(col)s 列：%(msg)s）") % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from exc
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise _Bad(_("应为 JSON 列表，每一项是一个对象 {…}"))
    return data


def _code(value: Any, what: str = "编码") -> str:
    text = _text(value, max_length=40, required=True)
    if not _CODE.fullmatch(text):
        raise _Bad(_("%(what)s“%(text)s”不合法（字母或数字开头，只含字母、数字和 -_.，最长 40）") % {"what": what, "text": text})
    return text


def _code_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    if _blank(value):
        return []
    return [c for c in _LIST_SPLIT.split(str(value).strip()) if c]


def check_instant_rules(rules: list[dict[str, Any]], schema: list[dict[str, Any]]) -> None:
    """Every rule names a form field, a known operator and (where needed) a value."""
    names = {str(spec.get("name")) for spec in schema}
    for n, rule in enumerate(rules, start=1):
        unknown = set(rule) - {"field", "op", "value"}
        if unknown:
            raise _Bad(_("第 %(n)s 条规则有未知的键：%(keys)s") % {"n": n, "keys": "、".join(sorted(unknown))})
        name = rule.get("field")
        if name not in names:
            raise _Bad(_("第 %(n)s 条规则的字段 %(name)r 不在表单字段中") % {"n": n, "name": name})
        op = rule.get("op", "eq")
        if op not in RULE_OPS:
            raise _Bad(_("第 %(n)s 条规则的运算 %(op)r 不受支持（可用：%(ops)s）") % {"n": n, "op": op, "ops": "、".join(sorted(RULE_OPS))})
        if op == "in" and not isinstance(rule.get("value"), list):
            raise _Bad(_("第 %(n)s 条规则（in）的 value 应为列表") % {"n": n})
        if op in {"gte", "lte"}:
            try:
                Decimal(str(rule.get("value")))
            except InvalidOperation as exc:
                raise _Bad(_("第 %(n)s 条规则（%(op)s）的 value 应为数字") % {"n": n, "op": op}) from exc
        if op in {"eq", "ne"} and "value" not in rule:
            raise _Bad(_("第 %(n)s 条规则（%(op)s）缺少 value") % {"n": n, "op": op})


# ---------------------------------------------------------------------------- item validation


def clean_item_fields(
    raw: Mapping[str, Any], departments: Mapping[str, Department], *, partial: bool = False
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate one item's fields (column key → value as typed or as a Python value).

    Returns model field values (``department`` as a ``Department``) and every (key, message)
    at fault. With ``partial`` only the keys present in ``raw`` are cleaned (an update or a
    workbook without some optional columns); otherwise missing keys take the model defaults.
    """
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []

    def clean(key: str, fn: Callable[[Any], Any]) -> None:
        if partial and key not in raw:
            return
        try:
            out[key] = fn(raw.get(key))
        except _Bad as exc:
            errors.append((key, _in_column(ITEM_LABELS[key], exc)))

    clean("code", _code)
    clean("name", lambda v: _text(v, max_length=120, required=True))
    clean("name_zh_hant", lambda v: _text(v, max_length=120))
    clean("name_en", lambda v: _text(v, max_length=160))
    clean("department", lambda v: _department(v, departments))
    clean("applicant_type", lambda v: _choice(v, ApplicantType, default=ApplicantType.PERSON))
    clean("mode", lambda v: _choice(v, HandlingMode, default=HandlingMode.COMPLEX))
    clean("statutory_days", lambda v: _int(v, low=0, high=MAX_DAYS))
    clean("promised_days", lambda v: _int(v, low=0, high=MAX_DAYS))
    clean("fee", lambda v: _decimal(v, places=2, low=Decimal(0), high=Decimal("9999999999.99"), default=Decimal("0.00")))
    clean("fee_note", lambda v: _text(v, max_length=120))
    clean("commitment_allowed", lambda v: _bool(v, default=False))
    clean("accept_with_gaps", lambda v: _bool(v, default=True))
    clean("co_timeout_default", lambda v: _bool(v, default=False))
    clean("low_assurance", lambda v: _bool(v, default=False))
    clean("warning_share", _warning_share)
    clean("result_doc_type", _doc_type)
    clean("form_schema", _form_schema)
    clean("instant_rules", _json_list)
    clean("eligibility_rules", lambda v: normalize_rules(_json_list(v)))
    clean("description", lambda v: _text(v, max_length=5000))
    clean("conditions", lambda v: _text(v, max_length=5000))
    clean("legal_basis", lambda v: _text(v, max_length=5000))
    clean("location", lambda v: _text(v, max_length=200))
    clean("description_zh_hant", lambda v: _text(v, max_length=5000))
    clean("description_en", lambda v: _text(v, max_length=5000))
    clean("active", lambda v: _bool(v, default=True))
    return out, errors


def _department(value: Any, departments: Mapping[str, Department]) -> Department:
    if isinstance(value, Department):
        return value
    code = _text(value, max_length=30, required=True)
    dept = departments.get(code)
    if dept is None:
        raise _Bad(_("部门编码“%(code)s”不存在") % {"code": code})
    return dept


def _warning_share(value: Any) -> Decimal:
    share = _decimal(value, places=2, low=Decimal("0.01"), high=Decimal("0.99"), default=Decimal("0.80"))
    return share


def _form_schema(value: Any) -> list[dict[str, Any]]:
    schema = _json_list(value)
    try:
        check_schema(schema)
    except SchemaDefinitionError as exc:
        raise _Bad(str(exc)) from exc
    return schema


def check_item_consistency(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules across fields: promised ≤ statutory (DB constraint too), instant rules only on
    instant items and naming real form fields."""
    errors: list[tuple[str, str]] = []
    statutory, promised = fields.get("statutory_days"), fields.get("promised_days")
    if isinstance(statutory, int) and isinstance(promised, int) and promised > statutory:
        errors.append(("promised_days", _("承诺时限 %(promised)s 个工作日不能大于法定时限 %(statutory)s 个工作日") % {"promised": promised, "statutory": statutory}))
    mode, rules = fields.get("mode"), fields.get("instant_rules")
    if rules is not None and mode is not None:
        if mode == HandlingMode.INSTANT and not rules:
            errors.append(("instant_rules", _("即办事项必须设置即办规则（否则永远不会自动办结）")))
        if mode != HandlingMode.INSTANT and rules:
            errors.append(("instant_rules", _("只有即办事项才能设置即办规则")))
    schema = fields.get("form_schema")
    if rules and schema is not None:
        try:
            check_instant_rules(rules, schema)
        except _Bad as exc:
            errors.append(("instant_rules", _in_column(ITEM_LABELS["instant_rules"], exc)))
    eligibility = fields.get("eligibility_rules")
    if eligibility and schema is not None:
        try:
            check_rules(eligibility, schema)
        except RuleDefinitionError as exc:
            errors.append(("eligibility_rules", _in_column(ITEM_LABELS["eligibility_rules"], exc)))
    return errors


# --------------------------------------------------------------------------- write primitives
# No audit here: the public actions and the import each write their own event.


# ------------------------------------------------------------------------------ public actions


def _departments_by_code() -> dict[str, Department]:
    return {d.code: d for d in Department.objects.select_related("place")}


class _Row:
    """Collects every problem of one row (not just the first), each naming its column."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def get(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _Bad as exc:
            self.problems.append(_in_column(label, exc) if label else str(exc))
            return None


def _material_spec(spec: Mapping[str, Any], default_order: int) -> tuple[dict[str, Any], list[str]]:
    row = _Row()
    out = {
        "key": row.get("", _material_key, spec.get("key")),
        "name": row.get("材料名称", _text, spec.get("name"), max_length=120, required=True),
        "kind": row.get("材料类型", _choice, spec.get("kind"), MaterialKind, default=MaterialKind.MANDATORY),
        "doc_type": row.get("证照类型", _doc_type, spec.get("doc_type")),
        "commitment_ok": row.get("告知承诺可免交", _bool, spec.get("commitment_ok"), default=False),
        "submit_as": row.get("原件/复印件", _choice, spec.get("submit_as"), MaterialForm, default=""),
        "order": row.get("顺序", _int, spec.get("order"), low=0, high=32767, default=default_order),
    }
    # The translations are optional columns: a workbook (or caller) without them keeps the
    # stored ones instead of wiping them.
    if "name_zh_hant" in spec:
        out["name_zh_hant"] = row.get("繁体材料名称", _text, spec.get("name_zh_hant"), max_length=120)
    if "name_en" in spec:
        out["name_en"] = row.get("英文材料名称", _text, spec.get("name_en"), max_length=200)
    return out, row.problems


def clean_material_specs(specs: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Validate material rows (key, name, kind, doc_type, commitment_ok, submit_as, order)."""
    out: list[dict[str, Any]] = []
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, spec in enumerate(specs, start=1):
        cleaned, problems = _material_spec(spec, n)
        if cleaned["key"] is not None and cleaned["key"] in seen:
            problems.append(_("材料键“%(key)s”重复") % {"key": cleaned["key"]})
        seen.add(cleaned["key"])
        if problems:
            errors += [("materials", _("第 %(n)s 项材料：%(problem)s") % {"n": n, "problem": p}) for p in problems]
        else:
            out.append(cleaned)
    return out, errors


def _labelled(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _Bad as exc:
        raise _Bad(_in_column(label, exc)) from exc


def _material_key(value: Any) -> str:
    key = _labelled("材料键", _text, value, max_length=40, required=True)
    if not _KEY.fullmatch(key):
        raise _Bad(_("材料键“%(key)s”不合法（小写字母或数字开头，只含小写字母、数字、-和_）") % {"key": key})
    return key


def check_bundle_items(items: Sequence[ServiceItem] | Sequence[Mapping[str, Any]]) -> list[str]:
    """A bundle is one form for one applicant: at least two items, an applicant type all items
    accept, and a shared form field name means the same type everywhere."""
    specs = [i if isinstance(i, Mapping) else {"code": i.code, "applicant_type": i.applicant_type,
                                                "form_schema": i.form_schema} for i in items]
    problems = [_("一件事至少包含两个事项")] if len(specs) < 2 else []
    # The same rule an application with several items meets at intake (domain/choice.py).
    return problems + choice_conflicts(specs)



def _item_fields(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code, "name": item.name, "name_zh_hant": item.name_zh_hant, "name_en": item.name_en,
        "department": item.department.code,
        "applicant_type": item.applicant_type, "mode": item.mode, "statutory_days": item.statutory_days,
        "promised_days": item.promised_days, "fee": f"{Decimal(item.fee):.2f}", "fee_note": item.fee_note,
        "commitment_allowed": item.commitment_allowed, "accept_with_gaps": item.accept_with_gaps,
        "co_timeout_default": item.co_timeout_default, "warning_share": f"{Decimal(item.warning_share):.2f}",
        "result_doc_type": item.result_doc_type, "form_schema": item.form_schema,
        "instant_rules": item.instant_rules, "eligibility_rules": item.eligibility_rules,
        "description": item.description, "description_zh_hant": item.description_zh_hant,
        "description_en": item.description_en, "conditions": item.conditions,
        "legal_basis": item.legal_basis, "location": item.location, "active": item.active,
        "low_assurance": item.low_assurance,
    }


def _ensure_catalog_admin(actor: Actor, department: Department | None) -> None:
    """The catalog belongs to the administrators whose jurisdiction covers the department."""
    ensure_admin_over(actor, department.place.path if department is not None else None)


# -------------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # as the spreadsheet shows it (header is row 1); 0 = the sheet or file as a whole
    message: str

    def __str__(self) -> str:
        if self.row:
            return _("%(sheet)s 第 %(row)s 行：%(message)s") % {"sheet": self.sheet, "row": self.row, "message": self.message}
        return _("%(sheet)s：%(message)s") % {"sheet": self.sheet, "message": self.message}


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False
    valid_rows_only: bool = False
    rows_read: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    bundles_created: int = 0
    bundles_updated: int = 0
    bundles_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rejected_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.row})

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read, "rows_rejected": self.rejected_rows,
            "items_created": self.items_created, "items_updated": self.items_updated,
            "items_unchanged": self.items_unchanged, "bundles_created": self.bundles_created,
            "bundles_updated": self.bundles_updated, "bundles_unchanged": self.bundles_unchanged,
        }

    def summary(self) -> str:
        if not self.applied:
            return _("未导入：%(errors)s 处错误（%(rows)s 行被拒绝），数据未作任何改动。") % {"errors": len(self.errors), "rows": self.rejected_rows}
        text = _(
            "已导入：事项新增 %(ic)s、更新 %(iu)s、未变 %(in)s；一件事新增 %(bc)s、更新 %(bu)s、未变 %(bn)s。"
        ) % {"ic": self.items_created, "iu": self.items_updated, "in": self.items_unchanged,
             "bc": self.bundles_created, "bu": self.bundles_updated, "bn": self.bundles_unchanged}
        if self.errors:
            text += _(" 跳过 %(rows)s 行有错误的行。") % {"rows": self.rejected_rows}
        return text


class CatalogFileError(ServiceError):
    code = "catalog_file"


def read_workbook(source: str | Path | IO[bytes] | bytes) -> tuple[dict[str, SheetRows], list[RowError]]:
    """Read the data sheets into rows keyed by column key. Unknown sheets (说明, notes) are
    ignored; unknown or duplicate headers and missing required columns are errors."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (zip, XML, key errors) for a non-xlsx file
        raise CatalogFileError(_("无法读取文件（应为 .xlsx 工作簿）：%(error)s") % {"error": exc}, field="file") from exc
    sheets: dict[str, SheetRows] = {}
    errors: list[RowError] = []
    try:
        for name in DATA_SHEETS:
            if name not in wb.sheetnames:
                continue
            columns = SHEET_COLUMNS[name]
            by_label = {c.label: c.key for c in columns} | {c.key: c.key for c in columns}
            rows = wb[name].iter_rows(values_only=True)
            header = next(rows, None) or ()
            keys: list[str | None] = []
            for cell in header:
                label = "" if cell is None else str(cell).strip()
                if not label:
                    keys.append(None)
                    continue
                key = by_label.get(label)
                if key is None:
                    errors.append(RowError(name, 1, _("未知的列“%(label)s”") % {"label": label}))
                elif key in keys:
                    errors.append(RowError(name, 1, _("列“%(label)s”重复") % {"label": label}))
                keys.append(key)
            for column in columns:
                if column.required and column.key not in keys:
                    errors.append(RowError(name, 1, _("缺少必填列“%(label)s”") % {"label": column.label}))
            data: SheetRows = []
            for number, values in enumerate(rows, start=2):
                if number - 1 > MAX_ROWS:
                    errors.append(RowError(name, number, _("行数超过上限 %(n)s") % {"n": MAX_ROWS}))
                    break
                row = {k: v for k, v in zip(keys, values, strict=False) if k is not None}
                if all(_blank(v) for v in row.values()):
                    continue
                data.append((number, row))
            sheets[name] = data
    finally:
        wb.close()
    if SHEET_ITEMS not in sheets:
        errors.append(RowError(SHEET_ITEMS, 0, _("工作簿中没有“事项”工作表")))
    return sheets, errors


@dataclass
class _ItemPlan:
    row: int
    code: str
    fields: dict[str, Any]
    materials: list[dict[str, Any]] = field(default_factory=list)
    co: list[tuple[Department, int]] = field(default_factory=list)
    routes: list[tuple[Place, Department]] = field(default_factory=list)


@dataclass
class _BundlePlan:
    row: int
    code: str
    fields: dict[str, Any]
    item_codes: list[str]


class _Planner:
    """Validates all sheets into plans; collects every problem with its sheet and row."""

    def __init__(self, sheets: Mapping[str, SheetRows], actor: Actor) -> None:
        self.sheets = sheets
        self.actor = actor
        self.errors: list[RowError] = []
        self.departments = _departments_by_code()
        self.items: dict[str, _ItemPlan] = {}
        self.bad_items: set[str] = set()  # codes with a bad 事项 row
        self.bad_children: dict[str, list[tuple[str, int]]] = defaultdict(list)  # code → bad child rows
        self.bundles: list[_BundlePlan] = []
        self.item_rows: dict[str, int] = {}  # every code in 事项 (good or bad) → its row
        self._scope_ok: dict[int, bool] = {}

    def err(self, sheet: str, row: int, message: str) -> None:
        self.errors.append(RowError(sheet, row, message))

    def may_manage(self, dept: Department) -> bool:
        if dept.pk not in self._scope_ok:
            try:
                _ensure_catalog_admin(self.actor, dept)
                self._scope_ok[dept.pk] = True
            except PermissionDenied:
                self._scope_ok[dept.pk] = False
        return self._scope_ok[dept.pk]

    # ---- 事项
    def plan_items(self) -> None:
        rows = self.sheets.get(SHEET_ITEMS, [])
        codes = Counter(str(r.get("code") or "").strip() for _n, r in rows)
        stored = {i.code: i for i in ServiceItem.objects.filter(code__in=list(codes)).select_related("department__place")}
        for number, raw in rows:
            code = str(raw.get("code") or "").strip()
            self.item_rows.setdefault(code, number)
            present = set(raw)
            cleaned, errors = clean_item_fields(raw, self.departments, partial=False)
            # Columns the sheet lacks keep the stored value on update (no silent resets).
            cleaned = {k: v for k, v in cleaned.items() if k in present}
            problems = [m for _k, m in errors]
            if code and codes[code] > 1:
                dup = [str(n) for n, r in rows if str(r.get("code") or "").strip() == code]
                problems.append(_("事项编码“%(code)s”在第 %(rows)s 行重复出现") % {"code": code, "rows": "、".join(dup)})
            existing = stored.get(code)
            merged = {**(_python_fields(existing) if existing else {}), **cleaned}
            problems += [m for _k, m in check_item_consistency(merged)]
            dept = cleaned.get("department")
            if isinstance(dept, Department) and not self.may_manage(dept):
                problems.append(_("部门“%(code)s”不在您的管辖范围内") % {"code": dept.code})
            if existing is not None and existing.department_id != getattr(dept, "pk", existing.department_id):
                if not self.may_manage(existing.department):
                    problems.append(_("事项现属部门“%(code)s”不在您的管辖范围内") % {"code": existing.department.code})
            if problems:
                for message in problems:
                    self.err(SHEET_ITEMS, number, message)
                self.bad_items.add(code)
                continue
            self.items[code] = _ItemPlan(number, code, cleaned)

    def _item_of(self, sheet: str, number: int, raw: Mapping[str, Any]) -> str | None:
        code = str(raw.get("item") or "").strip()
        if not code:
            self.err(sheet, number, _("“事项编码”不能为空"))
            return None
        if code not in self.item_rows:
            self.err(sheet, number, _("事项编码“%(code)s”不在“事项”表中（只能为本次导入的事项设置%(sheet)s）") % {"code": code, "sheet": sheet})
            return None
        return code

    # ---- 材料
    def plan_materials(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        position: Counter[str] = Counter()
        for number, raw in self.sheets.get(SHEET_MATERIALS, []):
            code = self._item_of(SHEET_MATERIALS, number, raw)
            if code is None:
                continue
            position[code] += 1
            spec, problems = _material_spec(raw, position[code])
            key = spec["key"]
            if key is not None:
                if (code, key) in seen:
                    problems.append(_("事项 %(code)s 的材料键“%(key)s”与第 %(row)s 行重复") % {"code": code, "key": key, "row": seen[(code, key)]})
                else:
                    seen[(code, key)] = number
            if self._failed(SHEET_MATERIALS, number, code, problems):
                continue
            if code in self.items:
                self.items[code].materials.append(spec)

    def _failed(self, sheet: str, number: int, code: str, problems: list[str]) -> bool:
        for message in problems:
            self.err(sheet, number, message)
        if problems:
            self.bad_children[code].append((sheet, number))
        return bool(problems)

    def _promised_days(self, code: str) -> int | None:
        plan = self.items.get(code)
        if plan is None:
            return None  # the item row is bad and already reported
        if "promised_days" in plan.fields:
            return int(plan.fields["promised_days"])
        existing = ServiceItem.objects.filter(code=code).first()
        return existing.promised_days if existing else None

    # ---- 协办
    def plan_co(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for number, raw in self.sheets.get(SHEET_CO, []):
            code = self._item_of(SHEET_CO, number, raw)
            if code is None:
                continue
            row = _Row()
            dept = row.get("协办部门编码", _department, raw.get("department"), self.departments)
            days = row.get("协办时限（工作日）", _int, raw.get("limit_days"), low=1, high=MAX_DAYS)
            promised = self._promised_days(code)
            if days is not None and promised is not None and days > promised:
                row.problems.append(_("协办时限 %(days)s 个工作日不能大于事项承诺时限 %(promised)s 个工作日") % {"days": days, "promised": promised})
            plan = self.items.get(code)
            if dept is not None:
                lead = plan.fields.get("department") if plan else None
                if isinstance(lead, Department) and lead.pk == dept.pk:
                    row.problems.append(_("协办部门“%(code)s”就是该事项的主办部门") % {"code": dept.code})
                if (code, dept.code) in seen:
                    row.problems.append(_("事项 %(code)s 的协办部门“%(dept)s”与第 %(row)s 行重复") % {"code": code, "dept": dept.code, "row": seen[(code, dept.code)]})
                else:
                    seen[(code, dept.code)] = number
            if self._failed(SHEET_CO, number, code, row.problems):
                continue
            if plan is not None:
                plan.co.append((dept, days))

    # ---- 路由
    def plan_routes(self) -> None:
        rows = self.sheets.get(SHEET_ROUTES, [])
        place_codes = {str(r.get("place") or "").strip() for _n, r in rows}
        places = {p.code: p for p in Place.objects.filter(code__in=place_codes)}
        seen: dict[tuple[str, str], int] = {}
        for number, raw in rows:
            code = self._item_of(SHEET_ROUTES, number, raw)
            if code is None:
                continue
            row = _Row()
            place_code = str(raw.get("place") or "").strip()
            place = places.get(place_code)
            if not place_code:
                row.problems.append(_("“区域编码”不能为空"))
            elif place is None:
                row.problems.append(_("区域编码“%(code)s”不存在") % {"code": place_code})
            elif place.valid_to is not None:
                row.problems.append(_("区域“%(name)s”（%(code)s）已撤销或拆分，不能再设路由") % {"name": localized_text(place), "code": place_code})
            dept = row.get("承办部门编码", _department, raw.get("department"), self.departments)
            if dept is not None and not self.may_manage(dept):
                row.problems.append(_("部门“%(code)s”不在您的管辖范围内") % {"code": dept.code})
            if place is not None:
                if (code, place_code) in seen:
                    row.problems.append(_("事项 %(code)s 在区域“%(place)s”的路由与第 %(row)s 行重复") % {"code": code, "place": place_code, "row": seen[(code, place_code)]})
                else:
                    seen[(code, place_code)] = number
            if self._failed(SHEET_ROUTES, number, code, row.problems):
                continue
            if code in self.items and place is not None:
                self.items[code].routes.append((place, dept))

    # ---- materials used by cases must stay
    def check_used_materials(self) -> None:
        if SHEET_MATERIALS not in self.sheets:
            return
        used = defaultdict(set)
        for code, key in (
            CaseMaterial.objects.filter(material__item__code__in=list(self.items))
            .values_list("material__item__code", "material__key").distinct()
        ):
            used[code].add(key)
        for code, plan in list(self.items.items()):
            missing = used.get(code, set()) - {m["key"] for m in plan.materials}
            if missing:
                for key in sorted(missing):
                    self.err(SHEET_ITEMS, plan.row, _("材料“%(key)s”已被办件使用，不能删除（请在“材料”表中保留该行）") % {"key": key})
                self.bad_items.add(code)
                del self.items[code]

    # ---- 一件事
    def plan_bundles(self) -> None:
        rows = self.sheets.get(SHEET_BUNDLES, [])
        codes = Counter(str(r.get("code") or "").strip() for _n, r in rows)
        mentioned = {c for _n, r in rows for c in _code_list(r.get("items"))}
        stored = {i.code: i for i in ServiceItem.objects.filter(code__in=mentioned).select_related("department")}
        for number, raw in rows:
            row = _Row()
            fields: dict[str, Any] = {
                "code": row.get("", _code, raw.get("code"), "一件事编码"),
                "name": row.get("名称", _text, raw.get("name"), max_length=120, required=True),
                "name_zh_hant": row.get("繁体名称", _text, raw.get("name_zh_hant"), max_length=120),
                "name_en": row.get("英文名称", _text, raw.get("name_en"), max_length=160),
                "description": row.get("说明", _text, raw.get("description"), max_length=5000),
                "description_zh_hant": row.get("繁体说明", _text, raw.get("description_zh_hant"), max_length=5000),
                "description_en": row.get("英文说明", _text, raw.get("description_en"), max_length=5000),
                "active": row.get("启用", _bool, raw.get("active"), default=True),
            }
            # Optional translation columns: absent from the workbook → the stored texts stay.
            fields = {k: v for k, v in fields.items() if k in raw or k in {"code", "name", "active"}
                      or not k.endswith(("_zh_hant", "_en"))}
            messages = row.problems
            code = fields.get("code", "")
            if code and codes[code] > 1:
                dup = [str(n) for n, r in rows if str(r.get("code") or "").strip() == code]
                messages.append(_("一件事编码“%(code)s”在第 %(rows)s 行重复出现") % {"code": code, "rows": "、".join(dup)})
            item_codes = list(dict.fromkeys(_code_list(raw.get("items"))))
            specs: list[dict[str, Any]] = []
            for item_code in item_codes:
                if item_code in self.items:
                    plan = self.items[item_code]
                    current = stored.get(item_code)
                    base = _python_fields(current) if current else {}
                    merged = {**base, **plan.fields}
                    specs.append({"code": item_code, "applicant_type": merged.get("applicant_type", ApplicantType.PERSON),
                                  "form_schema": merged.get("form_schema", [])})
                elif item_code in self.item_rows:
                    messages.append(_("包含的事项“%(code)s”在“事项”表中有错误，未能导入") % {"code": item_code})
                elif item_code in stored:
                    specs.append({"code": item_code, "applicant_type": stored[item_code].applicant_type,
                                  "form_schema": stored[item_code].form_schema})
                else:
                    messages.append(_("包含的事项编码“%(code)s”不存在") % {"code": item_code})
            if len(specs) == len(item_codes):
                messages += check_bundle_items(specs)
            for item_code in item_codes:
                dept = self.items[item_code].fields.get("department") if item_code in self.items else (
                    stored[item_code].department if item_code in stored else None)
                if isinstance(dept, Department) and not self.may_manage(dept):
                    messages.append(_("事项“%(code)s”的部门不在您的管辖范围内") % {"code": item_code})
            if messages:
                for message in messages:
                    self.err(SHEET_BUNDLES, number, message)
                continue
            self.bundles.append(_BundlePlan(number, code, fields, item_codes))

    def cascade(self) -> None:
        """valid_rows_only: an item whose child rows failed is skipped whole, and so is every
        bundle that needs an item that was skipped."""
        for code, failures in self.bad_children.items():
            plan = self.items.pop(code, None)
            if plan is not None:
                where = "、".join(_("%(sheet)s第 %(row)s 行") % {"sheet": s, "row": n} for s, n in failures)
                self.err(SHEET_ITEMS, plan.row, _("该事项的%(where)s有错误，整项未导入") % {"where": where})
                self.bad_items.add(code)
        kept = []
        for bundle in self.bundles:
            skipped = [c for c in bundle.item_codes if c in self.bad_items]
            if skipped:
                self.err(SHEET_BUNDLES, bundle.row, _("包含的事项“%(codes)s”未导入，该一件事也未导入") % {"codes": "、".join(skipped)})
            else:
                kept.append(bundle)
        self.bundles = kept


def _python_fields(item: ServiceItem) -> dict[str, Any]:
    return {k: getattr(item, k) for k in ITEM_LABELS if k != "department"} | {"department": item.department}


# -------------------------------------------------------------------------------------- export


def _cell_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return value


def catalog_rows(item_codes: Collection[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The catalog as sheet rows (column key → cell value), in a stable order. With
    ``item_codes``, only those items, and only the bundles made entirely of them."""
    items_qs = ServiceItem.objects.select_related("department").order_by("code")
    materials = ItemMaterial.objects.select_related("item").order_by("item__code", "order", "id")
    co_rows = ItemCoDepartment.objects.select_related("item", "department").order_by("item__code", "department__code")
    routes = ItemRoute.objects.select_related("item", "place", "department").order_by("item__code", "place__code")
    bundles = Bundle.objects.prefetch_related("items").order_by("code")
    if item_codes is not None:
        codes = list(item_codes)
        items_qs = items_qs.filter(code__in=codes)
        materials = materials.filter(item__code__in=codes)
        co_rows = co_rows.filter(item__code__in=codes)
        routes = routes.filter(item__code__in=codes)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in DATA_SHEETS}
    for item in items_qs:
        fields = _item_fields(item)
        fields["fee"], fields["warning_share"] = Decimal(item.fee), Decimal(item.warning_share)
        out[SHEET_ITEMS].append(fields)
    for m in materials:
        out[SHEET_MATERIALS].append({"item": m.item.code, "key": m.key, "name": m.name,
                                     "name_zh_hant": m.name_zh_hant, "name_en": m.name_en, "kind": m.kind,
                                     "doc_type": m.doc_type, "commitment_ok": m.commitment_ok, "submit_as": m.submit_as,
                                     "order": m.order})
    for c in co_rows:
        out[SHEET_CO].append({"item": c.item.code, "department": c.department.code, "limit_days": c.limit_days})
    for r in routes:
        out[SHEET_ROUTES].append({"item": r.item.code, "place": r.place.code, "department": r.department.code})
    for b in bundles:
        member_codes = sorted(i.code for i in b.items.all())
        if item_codes is not None and not set(member_codes) <= set(item_codes):
            continue
        out[SHEET_BUNDLES].append({"code": b.code, "name": b.name, "name_zh_hant": b.name_zh_hant,
                                   "name_en": b.name_en, "items": ", ".join(member_codes),
                                   "description": b.description, "description_zh_hant": b.description_zh_hant,
                                   "description_en": b.description_en,
                                   "active": b.active})
    return out


def export_catalog_xlsx(item_codes: Collection[str] | None = None) -> bytes:
    """The catalog (or only ``item_codes``) as a workbook in the import layout: export →
    import changes nothing."""
    wb = Workbook()
    readme = wb.active
    assert readme is not None
    readme.title = SHEET_README
    _write_readme(readme)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for name, rows in catalog_rows(item_codes).items():
        ws = wb.create_sheet(name)
        columns = SHEET_COLUMNS[name]
        ws.append([c.label for c in columns])
        for cell in ws[1]:
            cell.font, cell.fill = head_font, head_fill
        for row in rows:
            ws.append([_cell_value(row.get(c.key)) for c in columns])
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                # A text starting with "=" would be written as a formula (and run by Excel):
                # force it to stay text.
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        for n, column in enumerate(columns, start=1):
            width = 60 if column.key in {"form_schema", "instant_rules", "eligibility_rules", "description", "conditions", "legal_basis"} else max(12, len(column.label) * 2 + 2)
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = "B2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _write_readme(ws: Any) -> None:
    ws.append(["共治平台 · 政务服务事项清单（导入/导出格式）"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["导入时逐行检查；任何一行有错误则不导入任何数据（除非选择“只导入无误的行”），并列出每一行的错误。"])
    ws.append(["事项按编码匹配：已存在则更新，不存在则新增。某工作表缺失时，该类数据保持不变。"])
    ws.append([])
    ws.append(["工作表", "列", "必填", "说明"])
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for name in DATA_SHEETS:
        for column in SHEET_COLUMNS[name]:
            ws.append([name, column.label, "是" if column.required else "", column.note])
    ws.append([])
    ws.append(["证照类型", "取值", "", "名称"])
    for value, label in DocumentType.choices:
        ws.append(["", value, "", str(label)])
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["D"].width = 80
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=False)


def catalog_snapshot() -> dict[str, Any]:
    """A plain-data picture of the whole catalog, for comparisons (round trip, idempotency)."""
    rows = catalog_rows()
    return {name: [dict(sorted(r.items())) for r in sheet] for name, sheet in rows.items()}
