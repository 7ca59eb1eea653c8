"""Log filter that masks personal numbers (ID / permit numbers, USCC is not personal, phones)."""

from __future__ import annotations

import logging
import re

# 18-character ID / residence-permit numbers and 11-digit mainland mobile numbers.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    text = _ID.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class MaskPersonalNumbersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
