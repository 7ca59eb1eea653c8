"""Who may apply for an item (申请条件), as data on the catalogue item and checked at intake.

A rule names a fact, an operator and a value, and may carry the message to show when it fails::

    {"field": "age", "op": ">=", "value": 80,
     "message": {"zh-hans": "高龄津贴须年满 80 周岁", "zh-hant": "高齡津貼須年滿 80 週歲",
                 "en": "The old-age allowance is for residents aged 80 or over"}}

Facts are the applicant's identity (``age``, ``birth_date``, ``sex``, ``region`` — read from the
ID number, ``services/domain/forms.identity_values``) and the application form's fields. The
identity wins over the form: a birth date typed into the form cannot make anyone 80.

``message`` is one string or one per language (``zh-hans``, ``zh-hant``, ``en``); ``{value}``
and ``{actual}`` in it are replaced by the rule's value and the applicant's. Pure: no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

IDENTITY_FACTS = ("age", "birth_date", "sex", "region")
# Symbols as a catalogue editor writes them, and the instant rules' words for the same.
OPS = {
    ">=": ">=", "gte": ">=", "<=": "<=", "lte": "<=", ">": ">", "gt": ">", "<": "<", "lt": "<",
    "==": "==", "eq": "==", "!=": "!=", "ne": "!=", "in": "in", "not_in": "not_in",
}  # fmt: skip
MESSAGE_LANGUAGES = ("zh-hans", "zh-hant", "en")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RuleDefinitionError(ValueError):
    """A rule that cannot be evaluated (the catalogue import and the admin refuse it)."""


@dataclass(frozen=True)
class Failed:
    """A rule the applicant does not meet: the rule, and the fact's value (``None``: unknown)."""

    rule: dict[str, Any]
    actual: Any

    @property
    def field(self) -> str:
        return str(self.rule["field"])


def check_rules(rules: Any, schema: list[dict[str, Any]]) -> None:
    """Every rule names a known fact or form field, a known operator, a comparable value and
    a well-formed message."""
    if not isinstance(rules, list):
        raise RuleDefinitionError(_("申请条件应为列表"))
    names = set(IDENTITY_FACTS) | {str(spec.get("name")) for spec in schema}
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict):
            raise RuleDefinitionError(_("第 %(n)s 条申请条件应为对象") % {"n": n})
        unknown = set(rule) - {"field", "op", "value", "message"}
        if unknown:
            raise RuleDefinitionError(_("第 %(n)s 条申请条件有未知的键：%(keys)s") % {"n": n, "keys": "、".join(sorted(unknown))})
        if rule.get("field") not in names:
            raise RuleDefinitionError(
                _("第 %(n)s 条申请条件的字段 %(field)r 既不是证件信息（%(facts)s）也不在表单中")
                % {"n": n, "field": rule.get("field"), "facts": "、".join(IDENTITY_FACTS)}
            )
        op = OPS.get(str(rule.get("op")))
        if op is None:
            raise RuleDefinitionError(_("第 %(n)s 条申请条件的运算 %(op)r 不受支持（可用：%(ops)s）") % {"n": n, "op": rule.get("op"), "ops": "、".join(OPS)})
        if "value" not in rule:
            raise RuleDefinitionError(_("第 %(n)s 条申请条件缺少 value") % {"n": n})
        value = rule["value"]
        if op in {"in", "not_in"} and not isinstance(value, list):
            raise RuleDefinitionError(_("第 %(n)s 条申请条件（%(op)s）的 value 应为列表") % {"n": n, "op": op})
        if op in {">=", "<=", ">", "<"} and _orderable(value) is None:
            raise RuleDefinitionError(_("第 %(n)s 条申请条件（%(op)s）的 value 应为数字或日期（YYYY-MM-DD）") % {"n": n, "op": op})
        message = rule.get("message", "")
        if isinstance(message, dict):
            bad = set(message) - set(MESSAGE_LANGUAGES)
            if bad or not all(isinstance(v, str) for v in message.values()):
                raise RuleDefinitionError(
                    _("第 %(n)s 条申请条件的 message 应为文字，或按语言（%(languages)s）给出的文字")
                    % {"n": n, "languages": "、".join(MESSAGE_LANGUAGES)}
                )
        elif not isinstance(message, str):
            raise RuleDefinitionError(_("第 %(n)s 条申请条件的 message 应为文字") % {"n": n})


def normalize_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Operators in one spelling (``gte`` → ``>=``), so stored rules compare equal."""
    return [{**rule, "op": OPS.get(str(rule.get("op")), rule.get("op"))} for rule in rules]


def unmet(rules: list[dict[str, Any]], facts: dict[str, Any]) -> list[Failed]:
    """Every rule the facts do not meet, in the rules' order. A fact that is unknown (a travel
    permit says no age) fails the rule: eligibility is shown, not assumed."""
    failed = []
    for rule in rules:
        actual = facts.get(str(rule.get("field")))
        if actual in (None, "") or not _holds(OPS.get(str(rule.get("op")), ""), actual, rule.get("value")):
            failed.append(Failed(rule, None if actual in (None, "") else actual))
    return failed


def rule_message(rule: dict[str, Any], language: str | None, actual: Any) -> str:
    """The rule's own message in ``language`` (Django's code), or "" when it has none."""
    message = rule.get("message") or ""
    if isinstance(message, dict):
        lang = (language or "").lower().replace("_", "-")
        if lang.startswith("zh"):
            key = "zh-hant" if any(t in lang for t in ("hant", "-tw", "-hk", "-mo")) else "zh-hans"
        else:
            key = "en"
        message = message.get(key) or message.get("zh-hans") or next(iter(message.values()), "")
    value = rule.get("value")
    shown = "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(message).replace("{value}", shown).replace("{actual}", "" if actual is None else str(actual))


def _orderable(value: Any) -> Decimal | date | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, int | Decimal | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _holds(op: str, actual: Any, expected: Any) -> bool:
    if op == "in":
        return str(actual) in [str(v) for v in expected or []]
    if op == "not_in":
        return str(actual) not in [str(v) for v in expected or []]
    if op in {"==", "!="}:
        a, b = _orderable(actual), _orderable(expected)
        same = a == b if a is not None and b is not None else str(actual) == str(expected)
        return same if op == "==" else not same
    a, b = _orderable(actual), _orderable(expected)
    if a is None or b is None or type(a) is not type(b):
        return False
    if op == ">=":
        return a >= b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    if op == "<":
        return a < b  # type: ignore[operator]
    return False
