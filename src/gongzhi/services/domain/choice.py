"""What an applicant chose: a 一件事 (bundle) and/or single items — the one rule for the window,
the online hall and the API.

A bundle and extra items combine: the bundle's items first, then each extra item not already in
it (a clerk who ticks 社保卡申领 and also chooses 新生儿出生一件事 gets the bundle once, not the
item twice — and an extra item is never silently dropped). Items that cannot share one form for
one applicant are refused with the reason (``choice_conflicts``), never half-accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

PERSON, ENTERPRISE = "person", "enterprise"  # enums.ApplicantType values (domain stays import-light)


def combine_codes(bundle_codes: Iterable[str], extra_codes: Iterable[str]) -> list[str]:
    """The bundle's item codes, then the extra codes not already there, each once, in order."""
    return list(dict.fromkeys(c for c in (*bundle_codes, *extra_codes) if c))


def choice_conflicts(specs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why these items cannot be applied for together on one form (empty when they can).

    ``specs`` are {"code", "applicant_type", "form_schema"}: no mix of person-only and
    enterprise-only items, and a form field shared by several items has one type.
    """
    problems: list[str] = []
    types = {str(s["applicant_type"]) for s in specs}
    if PERSON in types and ENTERPRISE in types:
        persons = "、".join(str(s["code"]) for s in specs if s["applicant_type"] == PERSON)
        firms = "、".join(str(s["code"]) for s in specs if s["applicant_type"] == ENTERPRISE)
        problems.append(_("事项的申请人类型互不相容（%(persons)s 只受理自然人，%(firms)s 只受理法人）")
                        % {"persons": persons, "firms": firms})
    field_types: dict[str, tuple[str, str]] = {}
    for s in specs:
        for f in s["form_schema"] or []:
            name, kind = str(f.get("name")), str(f.get("type", "text"))
            seen = field_types.setdefault(name, (kind, str(s["code"])))
            if seen[0] != kind:
                problems.append(_("表单字段“%(name)s”在事项 %(first)s 中是 %(first_type)s 类型，在 %(second)s 中是 %(second_type)s 类型")
                                % {"name": name, "first": seen[1], "first_type": seen[0], "second": s["code"],
                                   "second_type": kind})
    return problems
