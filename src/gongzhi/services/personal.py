"""Personal numbers typed into application forms: sealed at intake, masked everywhere after.

A form field declared personal (``domain.forms.personal_kind``: an ID number, a phone, a bank
account — often a third party's: the other spouse, a payee) is kept the way the people register
keeps its numbers (DESIGN.md §3, ``people/models.py``): AES-GCM ciphertext and a keyed blind
index in ``Case.form_sealed``; ``Case.form_data`` holds only the masked form, so every screen,
API answer, PDF and export that shows ``form_data`` shows it masked without knowing the rule.
The plain value comes back only through ``actions.do_reveal_form_value`` (permission + audit).
"""

from __future__ import annotations

import re
from typing import Any

from gongzhi.core.crypto import blind_index, encrypt, mask_phone
from gongzhi.core.domain.identifiers import check_person_number, mask_number
from gongzhi.services.domain.forms import personal_kind

# blind_index purposes: the register's own for ID numbers and phones, so a number typed into a
# form and the same number in the register have the same index; accounts get one of their own.
INDEX_PURPOSE = {"id_number": "id", "phone": "phone", "bank_account": "bank_account"}


def mask_value(kind: str, value: str) -> str:
    """The masked form of a personal number of ``kind``."""
    if kind == "phone":
        return mask_phone(value)
    if kind == "bank_account":
        digits = "".join(value.split())
        # 6222 **** **** 1234: the bank (first 4) and the last 4, as on a bank's own slips.
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:] if len(digits) > 8 else "*" * len(digits)
    return mask_number(value)


def personal_fields(schema: list[dict[str, Any]]) -> dict[str, str]:
    """Field name → kind of personal number, for the fields of ``schema`` that hold one."""
    return {spec["name"]: kind for spec in schema if (kind := personal_kind(spec))}


def seal_value(kind: str, value: str) -> dict[str, str]:
    purpose = INDEX_PURPOSE.get(kind)
    # Free text that merely contains a number has no index: nobody searches by a whole sentence.
    return {"kind": kind, "cipher": encrypt(value), "bidx": blind_index(value, purpose=purpose) if purpose else ""}


# A number typed into a field nobody declared personal is still a personal number (a catalogue
# author may name a field ``spouse_id`` or ``收款账号``; an applicant may write a third party's
# ID into "remarks"). Each undeclared text value is searched for what a clerk would recognise:
# an 18-character ID number whose check character is right (GB 11643), a mainland mobile number,
# or a run of 12–19 digits (a bank card or account number). Digit runs are matched whole, so
# a date or an amount is not mistaken for one.
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{12,19}(?![0-9])")
FREE_TEXT = "text"  # the kind of a sealed undeclared value (kept whole, shown with numbers masked)


def mask_numbers_in(text: str) -> str:
    """``text`` with every personal number found in it masked ("" changes nothing)."""

    def id_or_run(m: re.Match[str]) -> str:
        token = m.group(0)
        if check_person_number(token).valid:
            return mask_number(token)
        return mask_value("bank_account", token) if token.isdigit() else token

    masked = _ID_CANDIDATE.sub(id_or_run, text)
    masked = _MOBILE.sub(lambda m: mask_phone(m.group(0)), masked)
    return _DIGIT_RUN.sub(lambda m: mask_value("bank_account", m.group(0)), masked)


def seal_form(schema: list[dict[str, Any]], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """(``form_data`` to store, ``form_sealed`` to store) for cleaned form ``data``.

    Personal values are replaced by their masked form in the first and sealed in the second.
    """
    fields = personal_fields(schema)
    shown = dict(data)
    sealed: dict[str, dict[str, str]] = {}
    for name, value in data.items():
        if name in fields or not isinstance(value, str) or not value:
            continue
        masked = mask_numbers_in(value)
        if masked != value:
            sealed[name] = seal_value(FREE_TEXT, value)
            shown[name] = masked
    for name, kind in fields.items():
        value = data.get(name)
        if value is None or value == "":
            continue
        text = str(value)
        sealed[name] = seal_value(kind, text)
        shown[name] = mask_value(kind, text)
    return (shown, sealed) if sealed else (data, {})
