"""Tests for gongzhi.core.domain.identifiers — pure Python, no Django needed.

The check-character schemes are tested against the standards' own examples, against python-stdnum
and against straightforward reimplementations written here from the standards' text, so that a
change in either library or module shows up as a disagreement.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2

from gongzhi.core.domain.identifiers import (
    PROVINCE_PREFIXES,
    USCC_ALPHABET,
    ErrorCode,
    IdentifierError,
    IdentifierKind,
    IdentifierResult,
    Sex,
    check_identifier,
    check_person_number,
    check_uscc,
    clean_number,
    mask_number,
    resident_id_check_character,
    uscc_check_character,
)

TODAY = date(2026, 5, 9)
# No example database: the tests must not write a .hypothesis directory into the repository.
hypothesis_settings = settings(database=None, deadline=None)

PERSON_KINDS = {
    IdentifierKind.RESIDENT_ID,
    IdentifierKind.HK_RESIDENCE_PERMIT,
    IdentifierKind.MO_RESIDENCE_PERMIT,
    IdentifierKind.TW_RESIDENCE_PERMIT,
    IdentifierKind.HK_MO_TRAVEL_PERMIT,
}

# --- Independent reimplementations, from the standards' text ---------------------------------

# GB 11643-1999: weights for positions 1-17 and the map from (sum mod 11) to check character.
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = {0: "1", 1: "0", 2: "X", 3: "9", 4: "8", 5: "7", 6: "6", 7: "5", 8: "4", 9: "3", 10: "2"}

# GB 32100-2015: 31-character alphabet (no I O Z S V), weights 3^(i-1) mod 31.
GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def reference_id_check(body: str) -> str:
    total = 0
    for digit, weight in zip(body, GB11643_WEIGHTS, strict=True):
        total += int(digit) * weight
    return GB11643_CHECK[total % 11]


def reference_uscc_check(body: str) -> str:
    total = 0
    for ch, weight in zip(body, GB32100_WEIGHTS, strict=True):
        total += GB32100_ALPHABET.index(ch) * weight
    return GB32100_ALPHABET[(31 - total % 31) % 31]


def with_id_check(body: str) -> str:
    return body + reference_id_check(body)


def with_uscc_check(body: str) -> str:
    return body + reference_uscc_check(body)


def codes(result: IdentifierResult) -> list[str]:
    return [str(error.code) for error in result.errors]


# --- Strategies -------------------------------------------------------------------------------

# Real Shenzhen and other codes, including districts created long after many residents were born
# (Longhua 440309 and Pingshan 440310 in 2017, Guangming 440311 in 2018), and the permit codes.
ADDRESS_CODES = (
    "440300", "440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310",
    "440311", "440524", "110105", "310115", "500101", "650102", "710000",
    "810000", "820000", "830000",
)  # fmt: skip

address_codes = st.one_of(
    st.sampled_from(ADDRESS_CODES),
    st.builds(
        lambda prefix, rest: prefix + rest,
        st.sampled_from(sorted(PROVINCE_PREFIXES - {"81", "82", "83"})),
        st.text(alphabet="0123456789", min_size=4, max_size=4),
    ),
)
birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=TODAY)
sequences = st.text(alphabet="0123456789", min_size=3, max_size=3)


@st.composite
def id_bodies(draw: st.DrawFn) -> str:
    return draw(address_codes) + draw(birth_dates).strftime("%Y%m%d") + draw(sequences)


@st.composite
def uscc_bodies(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from("123456789ANY"))
    entity_type = draw(st.sampled_from(GB32100_ALPHABET))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    organisation = draw(st.text(alphabet=GB32100_ALPHABET, min_size=9, max_size=9))
    return authority + entity_type + region + organisation


def test_module_does_not_import_django() -> None:
    # Scripts and fixtures use it without settings; run in a fresh interpreter because pytest-django
    # may already have imported Django into this one.
    src = Path(__file__).resolve().parents[3]
    code = (
        "import sys; import gongzhi.core.domain.identifiers; "
        "sys.exit(any(name == 'django' or name.startswith('django.') for name in sys.modules))"
    )
    completed = subprocess.run(  # noqa: S603 -- a fixed command line, no outside input
        [sys.executable, "-c", code], cwd=src, check=False, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr or "Django was imported"


# --- The check-character schemes --------------------------------------------------------------


def test_weights_are_the_standards_formulas() -> None:
    # GB 11643 / ISO 7064 MOD 11-2: weight of position i (1-based, of 18) is 2^(18-i) mod 11.
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == GB11643_WEIGHTS
    # GB 32100: weight of position i is 3^(i-1) mod 31.
    assert tuple(pow(3, i, 31) for i in range(17)) == GB32100_WEIGHTS
    assert len(GB32100_ALPHABET) == 31
    assert USCC_ALPHABET == GB32100_ALPHABET
    assert not set("IOZSV") & set(USCC_ALPHABET)


def test_every_single_substitution_changes_the_weighted_sum() -> None:
    # Why the property tests below can demand that every substitution is caught: the moduli
    # (11 and 31) are prime and no weight is a multiple of them, so w*(a-b) is never 0 mod m for
    # two different values a, b of one position. The check position has weight 1 in both schemes.
    for weight in (*GB11643_WEIGHTS, 1):
        for a in range(11 if weight == 1 else 10):
            for b in range(11 if weight == 1 else 10):
                if a != b:
                    assert (weight * (a - b)) % 11 != 0
    for weight in (*GB32100_WEIGHTS, 1):
        for a in range(31):
            for b in range(31):
                if a != b:
                    assert (weight * (a - b)) % 31 != 0


def test_every_adjacent_transposition_changes_the_weighted_sum() -> None:
    # Swapping values a != b at positions i, i+1 changes the sum by (a-b)(w_i - w_{i+1}).
    for weights, modulus in ((GB11643_WEIGHTS, 11), (GB32100_WEIGHTS, 31)):
        full = (*weights, 1)
        for left, right in itertools.pairwise(full):
            assert (left - right) % modulus != 0


@hypothesis_settings
@given(id_bodies())
def test_id_check_character_matches_stdnum_and_reference(body: str) -> None:
    expected = reference_id_check(body)
    assert resident_id_check_character(body) == expected
    assert mod_11_2.calc_check_digit(body) == expected
    assert mod_11_2.checksum(body + expected) == 1


@hypothesis_settings
@given(uscc_bodies())
def test_uscc_check_character_matches_stdnum_and_reference(body: str) -> None:
    # The module delegates to stdnum's cn.uscc.calc_check_digit; pin that it is GB 32100's.
    expected = reference_uscc_check(body)
    assert stdnum_uscc.calc_check_digit(body) == expected
    assert uscc_check_character(body) == expected


@pytest.mark.parametrize("body", ["1234567890123456", "123456789012345678", "1234567890123456A"])
def test_id_check_character_refuses_bad_bodies(body: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        resident_id_check_character(body)


@pytest.mark.parametrize("body", ["9111000060003734", "91110000600O37341"])
def test_uscc_check_character_refuses_bad_bodies(body: str) -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_character(body)


# --- Standard examples and valid numbers ------------------------------------------------------


def test_gb11643_example() -> None:
    result = check_identifier("440524188001010014", today=TODAY)
    assert result == IdentifierResult(
        valid=True,
        kind=IdentifierKind.RESIDENT_ID,
        normalized="440524188001010014",
        birth_date=date(1880, 1, 1),
        sex=Sex.MALE,
    )
    assert check_person_number("440524188001010014", today=TODAY) == result


def test_gb32100_example() -> None:
    expected = IdentifierResult(valid=True, kind=IdentifierKind.USCC, normalized="91110000600037341L")
    assert check_uscc("91110000600037341L") == expected
    assert check_identifier("91110000600037341L") == expected
    assert reference_uscc_check("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        # Check characters computed by hand from GB 11643 and pinned here.
        ("810000199001011230", IdentifierKind.HK_RESIDENCE_PERMIT),
        ("820000199001011232", IdentifierKind.MO_RESIDENCE_PERMIT),
        ("830000199001011234", IdentifierKind.TW_RESIDENCE_PERMIT),
    ],
)
def test_residence_permits(number: str, kind: IdentifierKind) -> None:
    assert number == with_id_check(number[:17])
    for check in (check_identifier, check_person_number):
        result = check(number, today=TODAY)
        assert result.valid, result.errors
        assert result.kind is kind
        assert result.birth_date == date(1990, 1, 1)
        assert result.sex is Sex.MALE  # sequence 123 is odd


def test_sex_comes_from_the_parity_of_the_sequence() -> None:
    female = with_id_check("44030419900101124")
    male = with_id_check("44030419900101125")
    assert check_person_number(female, today=TODAY).sex is Sex.FEMALE
    assert check_person_number(male, today=TODAY).sex is Sex.MALE
    assert Sex.FEMALE.label_zh == "女"


@pytest.mark.parametrize(
    "address_code",
    [
        "440309",  # Longhua, created 2017
        "440310",  # Pingshan, created 2017
        "440311",  # Guangming, created 2018
    ],
)
def test_address_code_newer_than_the_birth_year_is_valid(address_code: str) -> None:
    # stdnum's cn.ric.validate would reject these: the code records where the number was first
    # issued (a person born 1985 who registered there later), not where they were born.
    number = with_id_check(f"{address_code}19850101123")
    result = check_identifier(number, today=TODAY)
    assert result.valid, result.errors
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert result.birth_date == date(1985, 1, 1)


def test_leap_day_in_a_leap_year_is_valid() -> None:
    result = check_person_number(with_id_check("44030420000229123"), today=TODAY)
    assert result.valid
    assert result.birth_date == date(2000, 2, 29)


def test_born_today_is_valid() -> None:
    assert check_person_number(with_id_check("44030420260509123"), today=TODAY).valid


@pytest.mark.parametrize(
    ("number", "normalized"),
    [
        ("H12345678", "H12345678"),
        ("M12345678", "M12345678"),
        # Older cards add a 2-digit renewal count; the holder is the first 9 characters.
        ("M1234567801", "M12345678"),
        ("h 1234 5678", "H12345678"),
        ("H-12345678-03", "H12345678"),
    ],
)
def test_travel_permits(number: str, normalized: str) -> None:
    for check in (check_identifier, check_person_number):
        result = check(number)
        assert result == IdentifierResult(
            valid=True, kind=IdentifierKind.HK_MO_TRAVEL_PERMIT, normalized=normalized
        )


@pytest.mark.parametrize("first", ["N", "Y", "A", "1", "5", "9"])
def test_uscc_registration_authorities_including_letters_are_valid(first: str) -> None:
    # stdnum's cn.uscc.validate rejects codes beginning with a letter; N (rural collectives),
    # Y (others) and A are legal in GB 32100 and its amendments.
    number = with_uscc_check(f"{first}1440300MA5F00001")
    result = check_uscc(number)
    assert result.valid, result.errors
    assert check_identifier(number).valid


# --- Cleaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "440524 18800101 0014",
        "440524-18800101-0014",
        "\t440524188001010014\n",
        "440524\u201318800101\u20130014",  # en dashes, as pasted from documents
        "\uff14\uff14\uff10\uff15\uff12\uff14\uff11\uff18\uff18\uff10\uff10\uff11\uff10\uff11\uff10\uff10\uff11\uff14",
        "4405\u300024188001010014",  # ideographic space
    ],
)
def test_whitespace_hyphens_and_full_width_forms_are_cleaned(number: str) -> None:
    result = check_identifier(number, today=TODAY)
    assert result.valid, result.errors
    assert result.normalized == "440524188001010014"


def test_lowercase_x_is_accepted_and_normalized() -> None:
    assert reference_id_check("11010519491231002") == "X"
    for number in ("11010519491231002x", "11010519491231002X", "11010519491231002\uff58"):
        result = check_person_number(number, today=TODAY)
        assert result.valid, result.errors
        assert result.normalized == "11010519491231002X"
        assert result.sex is Sex.FEMALE


def test_lowercase_uscc_is_accepted_and_normalized() -> None:
    result = check_uscc("91110000600037341l")
    assert result.valid
    assert result.normalized == "91110000600037341L"


def test_clean_number() -> None:
    assert clean_number(" 9111-0000 6000 3734 1l ") == "91110000600037341L"
    assert clean_number("") == ""


# --- Bad input, one error code at a time ------------------------------------------------------


@pytest.mark.parametrize("check", [check_identifier, check_person_number, check_uscc])
@pytest.mark.parametrize("number", ["", "   ", " - ", "\u3000"])
def test_empty(check: object, number: str) -> None:
    assert callable(check)
    result = check(number)
    assert isinstance(result, IdentifierResult)
    assert not result.valid
    assert result.kind is None
    assert result.normalized == ""
    assert codes(result) == ["empty"]


@pytest.mark.parametrize(("number", "actual"), [("44052418800101001", 17), ("4405241880010100140", 19)])
def test_id_wrong_length(number: str, actual: int) -> None:
    result = check_identifier(number, today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["length"]
    error = result.errors[0]
    assert error.message_en == f"a resident ID number has 18 characters, not {actual}"
    assert error.message_zh == f"居民身份证号码应为 18 位，实际为 {actual} 位"


def test_first_generation_card() -> None:
    result = check_identifier("440524800101001", today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["first_generation"]
    assert result.errors[0].message_en == (
        "15-digit first-generation card is no longer valid; use the 18-digit number"
    )


def test_letter_in_id_body_is_named_and_suppresses_the_check() -> None:
    result = check_identifier("4405241880010100A4", today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["bad_character"]
    error = result.errors[0]
    assert error.position == 17
    assert error.message_en == "character 'A' at position 17 is not a digit"
    assert error.message_zh == "第 17 位“A”不是数字"


def test_letter_typed_for_zero_in_an_id_is_reported_as_an_id_error() -> None:
    result = check_identifier("4405241880O1010014", today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["bad_character"]
    assert result.errors[0].position == 11


def test_bad_check_character_in_id() -> None:
    result = check_person_number("44052418800101001A", today=TODAY)
    assert codes(result) == ["bad_character"]
    assert result.errors[0].position == 18
    assert result.errors[0].message_en == "check character (position 18) must be a digit or X, not 'A'"


def test_wrong_check_character_in_id_names_the_expected_one() -> None:
    result = check_identifier("11010519491231002" + "4", today=TODAY)
    assert codes(result) == ["check_character"]
    error = result.errors[0]
    assert error.position == 18
    assert error.message_zh == "校验位应为 X，而不是 4"
    assert error.message_zh_hant == "校驗位應為 X，而不是 4"
    assert error.message_en == "check character should be X, not 4"


@pytest.mark.parametrize(
    "birth",
    [
        "19990230",  # February 30th
        "19990229",  # not a leap year
        "19000229",  # century, not a leap year
        "19991301",  # month 13
        "19990400",  # day 0
        "19990431",  # April has 30 days
    ],
)
def test_no_such_date(birth: str) -> None:
    number = with_id_check(f"440304{birth}123")
    result = check_person_number(number, today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["no_such_date"]
    shown = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    assert result.errors[0].message_en == f"no such date {shown}"
    assert result.errors[0].message_zh == f"出生日期 {shown} 不存在"
    assert result.errors[0].position == 7
    assert result.birth_date is None


def test_future_birth_date() -> None:
    result = check_identifier(with_id_check("44030420260510123"), today=TODAY)
    assert codes(result) == ["future_date"]
    assert "2026-05-10" in result.errors[0].message_en
    assert "2026-05-10" in result.errors[0].message_zh
    # The same number is fine once that day has come.
    assert check_identifier(with_id_check("44030420260510123"), today=date(2026, 5, 10)).valid


def test_future_date_defaults_to_today() -> None:
    assert codes(check_person_number(with_id_check("44030421000101123"))) == ["future_date"]


def test_birth_date_before_1800() -> None:
    result = check_person_number(with_id_check("44030417991231123"), today=TODAY)
    assert codes(result) == ["date_too_early"]
    assert "1799-12-31" in result.errors[0].message_en


@pytest.mark.parametrize(
    "prefix", ["00", "10", "16", "20", "24", "30", "38", "47", "55", "60", "66", "72", "84", "99"]
)
def test_unknown_province_prefix(prefix: str) -> None:
    number = with_id_check(f"{prefix}030419900101123")
    result = check_person_number(number, today=TODAY)
    assert codes(result) == ["unknown_region"]
    assert (
        result.errors[0].message_en
        == f"address code prefix {prefix} is not a province-level code (GB/T 2260)"
    )
    assert prefix in result.errors[0].message_zh


@pytest.mark.parametrize("code", ["811234", "820100", "830001"])
def test_hong_kong_macao_taiwan_use_one_address_code_each(code: str) -> None:
    result = check_person_number(with_id_check(f"{code}19900101123"), today=TODAY)
    assert codes(result) == ["unknown_region"]
    assert code in result.errors[0].message_en


def test_all_errors_are_collected() -> None:
    # A bad date and a wrong check character are both reported, in position order.
    result = check_identifier("440524199902300014", today=TODAY)
    assert result.kind is IdentifierKind.RESIDENT_ID
    assert codes(result) == ["no_such_date", "check_character"]
    body = "00052419990230001"
    wrong = "1" if reference_id_check(body) == "0" else "0"
    result = check_person_number(body + wrong, today=TODAY)
    assert codes(result) == ["unknown_region", "no_such_date", "check_character"]


@pytest.mark.parametrize(
    ("number", "code", "position"),
    [
        ("H1234567", "length", None),
        ("H123456789", "length", None),
        ("H123456789012", "length", None),
        ("H1234567A", "bad_character", 9),
        ("E12345678", "bad_character", 1),  # a passport, say: the letter must be H or M
    ],
)
def test_bad_travel_permits(number: str, code: str, position: int | None) -> None:
    result = check_person_number(number)
    assert result.kind is IdentifierKind.HK_MO_TRAVEL_PERMIT
    assert codes(result) == [code]
    assert result.errors[0].position == position


def test_travel_permit_length_message() -> None:
    error = check_identifier("H1234567").errors[0]
    assert error.message_en == "a Mainland Travel Permit number has 9 characters (11 on older cards), not 8"
    assert error.message_zh == "回乡证号码应为 9 位（旧证 11 位），实际为 8 位"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_uscc_letters_are_named(letter: str) -> None:
    number = "91110000" + letter + "00037341L"
    for check in (check_uscc, check_identifier):
        result = check(number)
        assert result.kind is IdentifierKind.USCC
        # No check-character error: the body itself is wrong.
        assert codes(result) == ["forbidden_letter"]
        error = result.errors[0]
        assert error.position == 9
        assert error.message_en == f"letter {letter} is not allowed in a credit code (position 9)"
        assert error.message_zh == f"统一社会信用代码中不允许字母 {letter}（第 9 位）"
        assert error.message_zh_hant == f"統一社會信用代碼中不允許字母 {letter}（第 9 位）"


def test_forbidden_letter_as_uscc_check_character() -> None:
    result = check_uscc("91110000600037341O")
    assert codes(result) == ["forbidden_letter"]
    assert result.errors[0].position == 18


def test_several_uscc_errors_are_collected() -> None:
    result = check_uscc("9111000060003734IO")
    assert codes(result) == ["forbidden_letter", "forbidden_letter"]
    assert [error.position for error in result.errors] == [17, 18]


def test_wrong_uscc_check_character() -> None:
    result = check_uscc("91110000600037341M")
    assert codes(result) == ["check_character"]
    assert result.errors[0].message_en == "check character should be L, not M"


def test_uscc_region_code_must_be_digits() -> None:
    result = check_uscc(with_uscc_check("911A0000600037341"))
    assert codes(result) == ["bad_character"]
    assert result.errors[0].position == 4
    assert "region code" in result.errors[0].message_en


@pytest.mark.parametrize("first", ["0", "B", "M"])
def test_uscc_unknown_registration_authority(first: str) -> None:
    result = check_uscc(with_uscc_check(f"{first}1110000600037341"))
    assert codes(result) == ["registration_authority"]
    assert f"'{first}'" in result.errors[0].message_en


def test_uscc_bad_character() -> None:
    result = check_uscc("9111000060003734#L")
    assert codes(result) == ["bad_character"]
    assert result.errors[0].message_en == "character '#' at position 17 is not allowed in a credit code"


def test_uscc_wrong_length() -> None:
    result = check_uscc("91110000600037341")
    assert codes(result) == ["length"]
    assert result.errors[0].message_en == "a credit code has 18 characters, not 17"
    assert result.errors[0].message_zh == "统一社会信用代码应为 18 位，实际为 17 位"
    # A credit code with a character missing is recognised as one by the generic check too.
    assert check_identifier("9111000060003734L").kind is IdentifierKind.USCC


@pytest.mark.parametrize("number", ["hello", "4403**", "12#45", "ABC-DEF"])
def test_unknown_format(number: str) -> None:
    result = check_identifier(number)
    assert result.kind is None
    assert codes(result) == ["unknown_format"]
    assert str(len(clean_number(number))) in result.errors[0].message_en
    assert codes(check_person_number(number)) == ["unknown_format"]


# --- Telling people from organisations --------------------------------------------------------


def test_person_check_refuses_an_enterprise_code() -> None:
    result = check_person_number("91110000600037341L")
    assert result.kind is IdentifierKind.USCC
    assert codes(result) == ["enterprise_code"]
    assert "enterprise code" in result.errors[0].message_en


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("440524188001010014", IdentifierKind.RESIDENT_ID),
        ("810000199001011230", IdentifierKind.HK_RESIDENCE_PERMIT),
        ("H12345678", IdentifierKind.HK_MO_TRAVEL_PERMIT),
    ],
)
def test_uscc_check_refuses_a_person_number(number: str, kind: IdentifierKind) -> None:
    result = check_uscc(number, today=TODAY)
    assert result.kind is kind
    assert codes(result) == ["person_number"]


def _all_digit_uscc() -> str:
    # An all-digit credit code (GB 32100 allows a digit check character) that is no ID card.
    for serial in range(1000):
        number = with_uscc_check(f"11100000{serial:09d}")
        if number[-1].isdigit():
            return number
    raise AssertionError("unreachable: 10 of 31 check characters are digits")


def test_all_digit_uscc_is_recognised() -> None:
    number = _all_digit_uscc()
    result = check_identifier(number, today=TODAY)
    assert result == IdentifierResult(valid=True, kind=IdentifierKind.USCC, normalized=number)
    assert codes(check_person_number(number, today=TODAY)) == ["enterprise_code"]


def _mistyped_id_that_passes_the_uscc_check() -> str:
    for serial in range(1000):
        body = f"44030419850101{serial:03d}"
        candidate = body + uscc_check_character(body)
        if candidate[-1].isdigit() and candidate[-1] != reference_id_check(body):
            return candidate
    raise AssertionError("unreachable")


def test_id_with_a_bad_date_that_passes_the_uscc_check() -> None:
    # 1999-02-30 with a correct GB 11643 check character whose digits also pass GB 32100's check.
    number = "440304199902301238"
    assert check_uscc(number).valid  # the premise
    # Asked for a personal number, the user is told about the date, not about enterprise codes.
    assert codes(check_person_number(number, today=TODAY)) == ["no_such_date"]
    # The generic check cannot know; it reports the one valid reading (see its docstring).
    assert check_identifier(number, today=TODAY).kind is IdentifierKind.USCC


def test_mistyped_id_is_not_taken_for_an_enterprise_code() -> None:
    number = _mistyped_id_that_passes_the_uscc_check()
    assert check_uscc(number).valid  # the premise: it is a valid credit code
    for check in (check_identifier, check_person_number):
        result = check(number, today=TODAY)
        assert result.kind is IdentifierKind.RESIDENT_ID
        assert codes(result) == ["check_character"]


# --- Results, errors, labels ------------------------------------------------------------------


def test_result_is_valid_exactly_when_it_has_no_errors() -> None:
    error = IdentifierError(ErrorCode.LENGTH, "zh", "zh-hant", "en")
    with pytest.raises(ValueError, match="valid exactly when"):
        IdentifierResult(valid=True, kind=None, normalized="", errors=(error,))
    with pytest.raises(ValueError, match="valid exactly when"):
        IdentifierResult(valid=False, kind=None, normalized="")


def test_error_message_by_language() -> None:
    error = check_identifier("11010519491231002" + "4", today=TODAY).errors[0]
    assert error.message("zh-hans") == error.message("zh-cn") == error.message("zh") == error.message_zh
    assert (
        error.message("zh-hant") == error.message("zh_TW") == error.message("zh-hk") == error.message_zh_hant
    )
    assert error.message("en") == error.message(None) == error.message("fr") == error.message_en


def test_error_codes_are_plain_strings() -> None:
    error = check_identifier("").errors[0]
    assert error.code == "empty"
    assert isinstance(error.code, str)


def test_kind_labels() -> None:
    assert IdentifierKind.RESIDENT_ID.label_zh == "居民身份证"
    assert IdentifierKind.RESIDENT_ID.label_en == "Resident ID card"
    assert IdentifierKind.HK_RESIDENCE_PERMIT.label_zh == "港澳居民居住证（香港）"
    assert IdentifierKind.MO_RESIDENCE_PERMIT.label_zh == "港澳居民居住证（澳门）"
    assert IdentifierKind.TW_RESIDENCE_PERMIT.label_zh == "台湾居民居住证"
    assert IdentifierKind.HK_MO_TRAVEL_PERMIT.label_zh == "港澳居民来往内地通行证"
    assert IdentifierKind.USCC.label_zh == "统一社会信用代码"
    assert IdentifierKind.USCC.label_en == "Unified Social Credit Code"
    for kind in IdentifierKind:
        assert kind.label_zh and kind.label_zh_hant and kind.label_en
        assert kind.is_person == (kind in PERSON_KINDS)
    assert {kind.value for kind in IdentifierKind} == {
        "resident_id",
        "hk_residence_permit",
        "mo_residence_permit",
        "tw_residence_permit",
        "hk_mo_travel_permit",
        "uscc",
    }


# --- Masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("440304199001011239", "4403**********1239"),  # DESIGN.md §3
        ("4403 0419 9001 0112 39", "4403**********1239"),
        ("11010519491231002x", "1101**********002X"),
        ("91110000600037341L", "9111**********341L"),
        ("H12345678", "H******78"),
        ("M1234567801", "M********01"),
        ("440524800101001", "4************01"),
        ("4403**", "******"),
        ("", ""),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_result_masked() -> None:
    assert check_identifier("M1234567801").masked == "M******78"
    assert check_identifier("440524188001010014", today=TODAY).masked == "4405**********0014"


# --- Properties -------------------------------------------------------------------------------


@hypothesis_settings
@given(id_bodies())
def test_valid_id_numbers_are_accepted(body: str) -> None:
    number = with_id_check(body)
    result = check_person_number(number, today=TODAY)
    assert result.valid, result.errors
    expected_kind = {
        "810000": IdentifierKind.HK_RESIDENCE_PERMIT,
        "820000": IdentifierKind.MO_RESIDENCE_PERMIT,
        "830000": IdentifierKind.TW_RESIDENCE_PERMIT,
    }.get(body[:6], IdentifierKind.RESIDENT_ID)
    assert result.kind is expected_kind
    assert result.birth_date is not None
    assert result.birth_date.strftime("%Y%m%d") == body[6:14]
    assert result.sex is (Sex.MALE if int(body[16]) % 2 else Sex.FEMALE)
    assert check_identifier(number, today=TODAY) == result
    as_uscc = check_uscc(number, today=TODAY)
    # Refused as a personal number, unless the digits also happen to pass the credit-code check.
    assert codes(as_uscc) == ["person_number"] or reference_uscc_check(body) == number[17]
    assert check_identifier(number.lower(), today=TODAY) == result


@hypothesis_settings
@given(id_bodies())
def test_every_single_substitution_in_an_id_number_is_caught(body: str) -> None:
    number = with_id_check(body)
    for index in range(18):
        for replacement in "0123456789X" if index == 17 else "0123456789":
            if replacement == number[index]:
                continue
            mutated = number[:index] + replacement + number[index + 1 :]
            assert resident_id_check_character(mutated[:17]) != mutated[17]
            assert not check_person_number(mutated, today=TODAY).valid
            # The generic check may (rarely, see its docstring) read it as a credit code, but
            # never as a valid personal number.
            generic = check_identifier(mutated, today=TODAY)
            assert not (generic.valid and generic.kind in PERSON_KINDS)


@hypothesis_settings
@given(id_bodies())
def test_every_adjacent_transposition_in_an_id_number_is_caught(body: str) -> None:
    number = with_id_check(body)
    for index in range(17):
        left, right = number[index], number[index + 1]
        if left == right:
            continue
        mutated = number[:index] + right + left + number[index + 2 :]
        assert not check_person_number(mutated, today=TODAY).valid
        if "X" not in (left, right):
            assert resident_id_check_character(mutated[:17]) != mutated[17]


@hypothesis_settings
@given(uscc_bodies())
def test_valid_uscc_are_accepted(body: str) -> None:
    number = with_uscc_check(body)
    result = check_uscc(number)
    assert result == IdentifierResult(valid=True, kind=IdentifierKind.USCC, normalized=number)
    assert check_uscc(number.lower()) == result
    generic = check_identifier(number, today=TODAY)
    # The one documented exception: all digits that read as an ID card off by its check character.
    assert generic.valid or (number.isdigit() and codes(generic) == ["check_character"])
    person = check_person_number(number, today=TODAY)
    # Refused, unless these 18 characters also happen to be a valid ID card number.
    assert not person.valid or (person.kind in PERSON_KINDS and mod_11_2.checksum(number) == 1)


@hypothesis_settings
@given(uscc_bodies())
def test_every_single_substitution_in_a_uscc_is_caught(body: str) -> None:
    number = with_uscc_check(body)
    for index in range(18):
        for replacement in USCC_ALPHABET:
            if replacement == number[index]:
                continue
            mutated = number[:index] + replacement + number[index + 1 :]
            assert reference_uscc_check(mutated[:17]) != mutated[17]
            assert not check_uscc(mutated).valid


@hypothesis_settings
@given(uscc_bodies())
def test_every_adjacent_transposition_in_a_uscc_is_caught(body: str) -> None:
    number = with_uscc_check(body)
    for index in range(17):
        left, right = number[index], number[index + 1]
        if left != right:
            mutated = number[:index] + right + left + number[index + 2 :]
            assert not check_uscc(mutated).valid


@hypothesis_settings
@given(st.text(max_size=30), st.sampled_from([check_identifier, check_person_number, check_uscc]))
def test_any_text_gives_a_well_formed_result(text: str, check: object) -> None:
    assert callable(check)
    result = check(text, today=TODAY)
    assert isinstance(result, IdentifierResult)
    assert result.valid == (not result.errors)
    assert not any(ch.isspace() for ch in result.normalized)
    for error in result.errors:
        assert error.message_zh and error.message_zh_hant and error.message_en
        assert error.position is None or 1 <= error.position <= len(result.normalized)
    masked = mask_number(text)
    assert len(masked) == len(clean_number(text))


@hypothesis_settings
@given(st.text(alphabet="0123456789Xx -", min_size=15, max_size=22))
def test_digit_strings_never_crash_and_valid_means_checked(text: str) -> None:
    result = check_identifier(text, today=TODAY)
    if result.valid and result.kind in PERSON_KINDS - {IdentifierKind.HK_MO_TRAVEL_PERMIT}:
        assert mod_11_2.checksum(result.normalized) == 1
    if result.valid and result.kind is IdentifierKind.USCC:
        assert reference_uscc_check(result.normalized[:17]) == result.normalized[17]
