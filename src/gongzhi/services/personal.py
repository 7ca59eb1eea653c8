"""Personal numbers typed into application forms: sealed at intake, masked everywhere after.

A form field declared personal (``domain.forms.personal_kind``: an ID number, a phone, a bank
account — often a third party's: the other spouse, a payee) is kept the way the people register
keeps its numbers (DESIGN.md §3, ``people/models.py``): AES-GCM ciphertext and a keyed blind
index in ``Case.form_sealed``; ``Case.form_data`` holds only the masked form, so every screen,
API answer, PDF and export that shows ``form_data`` shows it masked without knowing the rule.
The plain value comes back only through ``actions.do_reveal_form_value`` (permission + audit).
"""

from __future__ import annotations

from typing import Any

from gongzhi.core.crypto import blind_index, encrypt
from gongzhi.core.domain.masking import mask_numbers_in, mask_value
from gongzhi.services.domain.forms import personal_kind

# blind_index purposes: the register's own for ID numbers and phones, so a number typed into a
# form and the same number in the register have the same index; accounts get one of their own.
INDEX_PURPOSE = {"id_number": "id", "phone": "phone", "bank_account": "bank_account"}


def personal_fields(schema: list[dict[str, Any]]) -> dict[str, str]:
    """Field name → kind of personal number, for the fields of ``schema`` that hold one."""
    return {spec["name"]: kind for spec in schema if (kind := personal_kind(spec))}


def seal_value(kind: str, value: str) -> dict[str, str]:
    purpose = INDEX_PURPOSE.get(kind)
    # Free text that merely contains a number has no index: nobody searches by a whole sentence.
    return {"kind": kind, "cipher": encrypt(value), "bidx": blind_index(value, purpose=purpose) if purpose else ""}


FREE_TEXT = "text"  # the kind of a sealed undeclared value (kept whole, shown with numbers masked)


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
