"""What a number tells about its holder, against the examples of GB 11643-1999 itself."""

from __future__ import annotations

from datetime import date

import pytest

from gongzhi.core.domain.identifiers import Sex, age_on, identity_facts, province_name


def test_standard_examples() -> None:
    # GB 11643-1999 §8 gives these two numbers as its worked examples.
    facts = identity_facts("11010519491231002X", today=date(2026, 12, 4))
    assert facts is not None
    assert (facts.birth_date, facts.sex, facts.address_code, facts.age) == (
        date(1949, 12, 31), Sex.FEMALE, "110105", 76)
    assert facts.region() == "北京市" and facts.region("en") == "Beijing"
    old = identity_facts("440524188001010014", today=date(2026, 12, 4))
    assert old is not None and old.sex is Sex.MALE and old.birth_date == date(1880, 1, 1)
    assert old.region("zh-hant") == "廣東省"


def test_residence_permit_says_region_and_birth() -> None:
    from stdnum.iso7064 import mod_11_2

    body = "81000019460301001"
    facts = identity_facts(body + mod_11_2.calc_check_digit(body), today=date(2026, 3, 1))
    assert facts is not None and facts.age == 80 and facts.region() == "香港特别行政区"


@pytest.mark.parametrize("number", ["H12345678", "91440300MA5DC6QX5A", "11010519491231002", "110105194912310021"])
def test_no_facts_from_other_or_invalid_numbers(number: str) -> None:
    assert identity_facts(number, today=date(2026, 1, 1)) is None


def test_age_turns_on_the_birthday() -> None:
    born = date(1946, 12, 4)
    assert age_on(born, date(2026, 12, 3)) == 79
    assert age_on(born, date(2026, 12, 4)) == 80
    assert age_on(born, date(2027, 12, 3)) == 80


def test_leap_day_birthday_turns_on_first_of_march() -> None:
    born = date(1944, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 80
    assert age_on(born, date(2024, 2, 28)) == 79
    assert age_on(born, date(2024, 2, 29)) == 80
    assert age_on(born, date(2023, 2, 28)) == 78
    assert age_on(born, date(2023, 3, 1)) == 79


def test_age_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


def test_unknown_province() -> None:
    assert province_name("990000") == ""
