"""Masking personal numbers for display — one rule for the register, application forms and free
text (a remark, a council motion): pure functions, nothing stored.

A number typed into text nobody declared personal is still a personal number (an applicant may
write a third party's ID into "remarks"; a member may paste a phone number into a motion). Text
is searched for what a clerk would recognise: an 18-character ID number whose check character is
right (GB 11643), a mainland mobile number, or a run of 12–19 digits (a bank card or account
number). Digit runs are matched whole, so a date or an amount is not mistaken for one.
"""

from __future__ import annotations

import re

from gongzhi.core.crypto import mask_phone
from gongzhi.core.domain.identifiers import check_person_number, mask_number


def mask_value(kind: str, value: str) -> str:
    """The masked form of a personal number of ``kind``."""
    if kind == "phone":
        return mask_phone(value)
    if kind == "bank_account":
        digits = "".join(value.split())
        # 6222 **** **** 1234: the bank (first 4) and the last 4, as on a bank's own slips.
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:] if len(digits) > 8 else "*" * len(digits)
    return mask_number(value)


_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{12,19}(?![0-9])")


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
