"""Generate valid test and demo numbers (real check characters, made-up people)."""

from __future__ import annotations

from datetime import date

from gongzhi.core.domain.identifiers import resident_id_check_character, uscc_check_character


def make_id_number(address_code: str, birth: date, sequence: int) -> str:
    """An 18-digit ID / residence-permit number; odd ``sequence`` = male, even = female."""
    body = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check_character(body)


def make_uscc(authority: str, entity: str, region: str, org_code: str) -> str:
    """A credit code: 1 authority + 1 entity type + 6 region + 9 organisation code + check."""
    body = f"{authority}{entity}{region}{org_code}"
    return body + uscc_check_character(body)
