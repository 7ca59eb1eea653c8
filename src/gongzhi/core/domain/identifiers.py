"""Identity numbers the platform keys people and organisations on (DESIGN.md §3, 一号).

* Resident ID card, GB 11643-1999: 6-digit address code (GB/T 2260) + birth date YYYYMMDD +
  3-digit sequence (odd male, even female) + check character (ISO 7064 MOD 11-2, ``X`` = 10).
* Residence permits for Hong Kong, Macao and Taiwan residents (2018 measures): the same layout
  and check, with the fixed address codes 810000, 820000 and 830000.
* Mainland Travel Permit for Hong Kong and Macao residents (回乡证): ``H``/``M`` + 8 digits, plus a
  2-digit renewal count on older cards; no public check character.
* Unified Social Credit Code, GB 32100-2015: 18 characters from a 31-character alphabet with a
  MOD 31 check character.

We use python-stdnum's check-character functions but not its ``cn.ric`` / ``cn.uscc`` validators
(FIELD-NOTES "Pitfalls"): ``cn.ric.validate`` checks the address code against the birth year, yet
the address code records where a number was *first issued* and never changes, so people born
before their district existed (Longhua 440309, created 2017) and all residence-permit holders
would be rejected; ``cn.uscc.validate`` rejects legal codes whose first character is a letter
(A, N, Y).

The module is pure Python and must not import Django: it is used by scripts, fixtures and tests
that run without settings. Messages therefore come in three languages on each error instead of
going through gettext; :meth:`IdentifierError.message` picks one for ``get_language()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final, NamedTuple

from stdnum.cn import uscc as _stdnum_uscc
from stdnum.iso7064 import mod_11_2

__all__ = [
    "PROVINCE_PREFIXES",
    "USCC_ALPHABET",
    "USCC_REGISTRATION_AUTHORITIES",
    "ErrorCode",
    "IdentifierError",
    "IdentifierKind",
    "IdentifierResult",
    "IdentityFacts",
    "Sex",
    "age_on",
    "check_identifier",
    "check_person_number",
    "check_uscc",
    "clean_number",
    "identity_facts",
    "mask_number",
    "province_name",
    "resident_id_check_character",
    "uscc_check_character",
]


class _Text(NamedTuple):
    zh: str
    zh_hant: str
    en: str


class IdentifierKind(StrEnum):
    RESIDENT_ID = "resident_id"
    HK_RESIDENCE_PERMIT = "hk_residence_permit"
    MO_RESIDENCE_PERMIT = "mo_residence_permit"
    TW_RESIDENCE_PERMIT = "tw_residence_permit"
    HK_MO_TRAVEL_PERMIT = "hk_mo_travel_permit"
    USCC = "uscc"

    @property
    def label_zh(self) -> str:
        return _KIND_LABELS[self].zh

    @property
    def label_zh_hant(self) -> str:
        return _KIND_LABELS[self].zh_hant

    @property
    def label_en(self) -> str:
        return _KIND_LABELS[self].en

    @property
    def is_person(self) -> bool:
        return self is not IdentifierKind.USCC


_KIND_LABELS: Final[dict[IdentifierKind, _Text]] = {
    IdentifierKind.RESIDENT_ID: _Text("居民身份证", "居民身份證", "Resident ID card"),
    IdentifierKind.HK_RESIDENCE_PERMIT: _Text(
        "港澳居民居住证（香港）", "港澳居民居住證（香港）", "Residence permit for Hong Kong residents"
    ),
    IdentifierKind.MO_RESIDENCE_PERMIT: _Text(
        "港澳居民居住证（澳门）", "港澳居民居住證（澳門）", "Residence permit for Macao residents"
    ),
    IdentifierKind.TW_RESIDENCE_PERMIT: _Text(
        "台湾居民居住证", "台灣居民居住證", "Residence permit for Taiwan residents"
    ),
    IdentifierKind.HK_MO_TRAVEL_PERMIT: _Text(
        "港澳居民来往内地通行证",
        "港澳居民來往內地通行證",
        "Mainland Travel Permit for Hong Kong and Macao residents",
    ),
    IdentifierKind.USCC: _Text("统一社会信用代码", "統一社會信用代碼", "Unified Social Credit Code"),
}


# How messages name a number of each kind ("a credit code", not "a Unified Social Credit Code number").
_KIND_NOUNS: Final[dict[IdentifierKind, _Text]] = {
    IdentifierKind.RESIDENT_ID: _Text("居民身份证号码", "居民身份證號碼", "resident ID number"),
    IdentifierKind.HK_RESIDENCE_PERMIT: _Text(
        "港澳居民居住证号码", "港澳居民居住證號碼", "Hong Kong residence permit number"
    ),
    IdentifierKind.MO_RESIDENCE_PERMIT: _Text(
        "港澳居民居住证号码", "港澳居民居住證號碼", "Macao residence permit number"
    ),
    IdentifierKind.TW_RESIDENCE_PERMIT: _Text(
        "台湾居民居住证号码", "台灣居民居住證號碼", "Taiwan residence permit number"
    ),
    IdentifierKind.HK_MO_TRAVEL_PERMIT: _Text("回乡证号码", "回鄉證號碼", "Mainland Travel Permit number"),
    IdentifierKind.USCC: _Text("统一社会信用代码", "統一社會信用代碼", "credit code"),
}


class Sex(StrEnum):
    # GB 11643-1999: the sequence code is odd for men and even for women.
    MALE = "male"
    FEMALE = "female"

    @property
    def label_zh(self) -> str:
        return "男" if self is Sex.MALE else "女"

    @property
    def label_en(self) -> str:
        return "male" if self is Sex.MALE else "female"


class ErrorCode(StrEnum):
    """Stable machine-readable error codes (forms, API responses and tests key on these)."""

    EMPTY = "empty"
    LENGTH = "length"
    BAD_CHARACTER = "bad_character"
    FORBIDDEN_LETTER = "forbidden_letter"
    CHECK_CHARACTER = "check_character"
    NO_SUCH_DATE = "no_such_date"
    FUTURE_DATE = "future_date"
    DATE_TOO_EARLY = "date_too_early"
    UNKNOWN_REGION = "unknown_region"
    REGISTRATION_AUTHORITY = "registration_authority"
    FIRST_GENERATION = "first_generation"
    UNKNOWN_FORMAT = "unknown_format"
    ENTERPRISE_CODE = "enterprise_code"
    PERSON_NUMBER = "person_number"


@dataclass(frozen=True, slots=True)
class IdentifierError:
    code: ErrorCode
    message_zh: str
    message_zh_hant: str
    message_en: str
    position: int | None = None  # 1-based, as the standards and the messages count

    def message(self, language: str | None = None) -> str:
        """The message for a Django language code (``zh-hans``, ``zh-hant``, ``en``, ``zh-hk`` …)."""
        lang = (language or "").lower().replace("_", "-")
        if lang.startswith("zh"):
            if any(tag in lang for tag in ("hant", "-tw", "-hk", "-mo")):
                return self.message_zh_hant
            return self.message_zh
        return self.message_en


@dataclass(frozen=True, slots=True)
class IdentifierResult:
    valid: bool
    kind: IdentifierKind | None
    normalized: str
    errors: tuple[IdentifierError, ...] = ()
    # Read from the number, only for a valid resident ID card or residence permit.
    birth_date: date | None = None
    sex: Sex | None = None

    def __post_init__(self) -> None:
        if self.valid == bool(self.errors):
            raise ValueError("an IdentifierResult is valid exactly when it has no errors")

    @property
    def codes(self) -> tuple[ErrorCode, ...]:
        return tuple(error.code for error in self.errors)

    @property
    def masked(self) -> str:
        return mask_number(self.normalized)


# --- Tables ---------------------------------------------------------------------------------

_DIGITS: Final = frozenset("0123456789")

# First two digits of GB/T 2260 province-level codes, plus 83 which the 2018 residence-permit
# measures assign to Taiwan residents. Only the province is checked: finer codes change every year
# and a number keeps the code it was first issued under (see module docstring).
PROVINCE_PREFIXES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",  # 北京 天津 河北 山西 内蒙古
        "21", "22", "23",  # 辽宁 吉林 黑龙江
        "31", "32", "33", "34", "35", "36", "37",  # 上海 江苏 浙江 安徽 福建 江西 山东
        "41", "42", "43", "44", "45", "46",  # 河南 湖北 湖南 广东 广西 海南
        "50", "51", "52", "53", "54",  # 重庆 四川 贵州 云南 西藏
        "61", "62", "63", "64", "65",  # 陕西 甘肃 青海 宁夏 新疆
        "71", "81", "82",  # 台湾 香港 澳门
        "83",  # 台湾居民居住证
    }
)  # fmt: skip

# The residence-permit measures give each region exactly one code; GB/T 2260 does not subdivide
# 81 and 82 either, so any other code under 81/82/83 is a typo.
_PERMIT_ADDRESS_CODES: Final = {
    "810000": IdentifierKind.HK_RESIDENCE_PERMIT,
    "820000": IdentifierKind.MO_RESIDENCE_PERMIT,
    "830000": IdentifierKind.TW_RESIDENCE_PERMIT,
}
_PERMIT_ONLY_PREFIXES: Final = {code[:2]: code for code in _PERMIT_ADDRESS_CODES}

# A floor catches century typos (0985 for 1985); the standard's own example is born in 1880, so it
# sits well below any living holder.
_EARLIEST_BIRTH_DATE: Final = date(1800, 1, 1)

# GB 32100-2015: digits and upper-case letters without I O Z S V (too easily read as 1 0 2 5 U).
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FORBIDDEN_LETTERS: Final = frozenset("IOZSV")
# Position 1, registration authority: 1 机构编制 2 外交 3 司法行政 4 文化 5 民政 6 旅游 7 宗教
# 8 工会 9 市场监管(工商) A 中央军委改革和编制办公室 N 农业(农村集体经济组织) Y 其他.
USCC_REGISTRATION_AUTHORITIES: Final = frozenset("123456789ANY")

_TRAVEL_PERMIT_LETTERS: Final = frozenset("HM")  # H = Hong Kong, M = Macao
_TRAVEL_PERMIT_LENGTHS: Final = (9, 11)  # 11 = older cards with a 2-digit renewal count
_TRAVEL_PERMIT_HOLDER_LENGTH: Final = 9  # the renewal count is not part of the holder's identity

# China has kept UTC+8 without daylight saving since 1991; "today" for a birth date is the
# applicant's calendar day, not the server's UTC one (a baby registered at 07:00 in Shenzhen).
_CHINA_TIME: Final = timezone(timedelta(hours=8), "Asia/Shanghai")

_FULLWIDTH_TO_ASCII: Final = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus sign.
_SEPARATORS: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")


# --- Check characters -----------------------------------------------------------------------


def resident_id_check_character(body: str) -> str:
    """Check character for the first 17 digits of an ID card or residence-permit number.

    GB 11643-1999 specifies ISO 7064 MOD 11-2 (weights 2^(18-i) mod 11, ``X`` for 10), so
    python-stdnum's ISO 7064 implementation computes it.
    """
    if len(body) != 17 or not _DIGITS.issuperset(body):
        raise ValueError(f"expected 17 digits, got {body!r}")
    return mod_11_2.calc_check_digit(body)


def uscc_check_character(body: str) -> str:
    """Check character for the first 17 characters of a Unified Social Credit Code.

    GB 32100-2015: weights 3^(i-1) mod 31, check = alphabet[(31 - sum mod 31) mod 31].
    python-stdnum's ``cn.uscc.calc_check_digit`` computes exactly this (pinned by a test against
    an independent implementation); its ``validate`` is not used, see the module docstring.
    """
    if len(body) != 17 or any(ch not in USCC_ALPHABET for ch in body):
        raise ValueError(f"expected 17 characters of the credit-code alphabet, got {body!r}")
    return _stdnum_uscc.calc_check_digit(body)


# --- Cleaning and masking -------------------------------------------------------------------


def clean_number(number: str) -> str:
    """Strip whitespace and hyphens, map full-width forms to ASCII, upper-case ASCII letters.

    Full-width input (``４４０３…Ｘ``) is what a Chinese input method produces by default.
    Only ASCII letters are upper-cased so that positions in messages match what was typed.
    """
    text = number.translate(_FULLWIDTH_TO_ASCII)
    return "".join(
        ch.upper() if "a" <= ch <= "z" else ch for ch in text if not ch.isspace() and ch not in _SEPARATORS
    )


def mask_number(number: str) -> str:
    """Masked form for screens, logs and exports (DESIGN.md §3): ``4403**********1239``.

    18-character numbers keep the first 4 (province and city, no more) and the last 4; shorter
    numbers such as travel permits keep the first character and the last 2; six characters or
    fewer are masked entirely, since showing three of them would reveal half the number.
    """
    text = clean_number(number)
    length = len(text)
    if length == 18:
        head, tail = 4, 4
    elif length > 6:
        head, tail = 1, 2
    else:
        return "*" * length
    return text[:head] + "*" * (length - head - tail) + text[-tail:]


# --- Messages -------------------------------------------------------------------------------


def _shown(ch: str) -> str:
    return ch if ch.isprintable() else f"U+{ord(ch):04X}"


def _error(code: ErrorCode, text: _Text, position: int | None = None) -> IdentifierError:
    return IdentifierError(code, text.zh, text.zh_hant, text.en, position)


def _empty_error() -> IdentifierError:
    return _error(ErrorCode.EMPTY, _Text("请输入号码", "請輸入號碼", "no number was entered"))


def _length_error(kind: IdentifierKind, actual: int) -> IdentifierError:
    noun = _KIND_NOUNS[kind]
    return _error(
        ErrorCode.LENGTH,
        _Text(
            f"{noun.zh}应为 18 位，实际为 {actual} 位",
            f"{noun.zh_hant}應為 18 位，實際為 {actual} 位",
            f"a {noun.en} has 18 characters, not {actual}",
        ),
    )


def _not_digit_error(position: int, ch: str) -> IdentifierError:
    shown = _shown(ch)
    return _error(
        ErrorCode.BAD_CHARACTER,
        _Text(
            f"第 {position} 位“{shown}”不是数字",
            f"第 {position} 位「{shown}」不是數字",
            f"character '{shown}' at position {position} is not a digit",
        ),
        position,
    )


def _check_mismatch_error(expected: str, actual: str, position: int) -> IdentifierError:
    return _error(
        ErrorCode.CHECK_CHARACTER,
        _Text(
            f"校验位应为 {expected}，而不是 {actual}",
            f"校驗位應為 {expected}，而不是 {actual}",
            f"check character should be {expected}, not {actual}",
        ),
        position,
    )


# --- Resident ID card and residence permits (GB 11643-1999) ---------------------------------


def _read_id_layout(text: str, today: date) -> IdentifierResult:
    kind = _PERMIT_ADDRESS_CODES.get(text[:6], IdentifierKind.RESIDENT_ID)
    if len(text) == 15 and _DIGITS.issuperset(text):
        # The 15-digit first-generation card stopped being valid on 2013-01-01 (Resident
        # Identity Card Law, 2011 amendment); the holder has an 18-digit number.
        return _invalid(
            IdentifierKind.RESIDENT_ID,
            text,
            [
                _error(
                    ErrorCode.FIRST_GENERATION,
                    _Text(
                        "15 位第一代身份证已停止使用，请填写 18 位号码",
                        "15 位第一代身份證已停止使用，請填寫 18 位號碼",
                        "15-digit first-generation card is no longer valid; use the 18-digit number",
                    ),
                )
            ],
        )

    errors: list[IdentifierError] = []
    if len(text) != 18:
        errors.append(_length_error(kind, len(text)))
    body_is_digits = True
    for position, ch in enumerate(text[:17], start=1):
        if ch not in _DIGITS:
            body_is_digits = False
            errors.append(_not_digit_error(position, ch))
    check_is_legal = len(text) >= 18 and (text[17] in _DIGITS or text[17] == "X")
    if len(text) >= 18 and not check_is_legal:
        shown = _shown(text[17])
        errors.append(
            _error(
                ErrorCode.BAD_CHARACTER,
                _Text(
                    f"第 18 位校验位只能是数字或 X，而不是“{shown}”",
                    f"第 18 位校驗位只能是數字或 X，而不是「{shown}」",
                    f"check character (position 18) must be a digit or X, not '{shown}'",
                ),
                18,
            )
        )
    if len(text) != 18:
        # The positional checks below assume the fields are aligned; with a digit missing or
        # extra we cannot tell which field is off, and guessing would add misleading errors.
        return _invalid(kind, text, errors)

    errors.extend(_address_code_errors(text[:6]))
    birth_date, date_errors = _read_birth_date(text[6:14], today)
    errors.extend(date_errors)
    if body_is_digits and check_is_legal:
        # Only meaningful when every character is legal: a letter in the body already says
        # what is wrong, and a check character computed around it would be noise.
        expected = resident_id_check_character(text[:17])
        if text[17] != expected:
            errors.append(_check_mismatch_error(expected, text[17], 18))
    if errors:
        return _invalid(kind, text, errors)
    return IdentifierResult(
        valid=True,
        kind=kind,
        normalized=text,
        birth_date=birth_date,
        sex=Sex.MALE if int(text[16]) % 2 else Sex.FEMALE,
    )


def _address_code_errors(code: str) -> list[IdentifierError]:
    prefix = code[:2]
    if not _DIGITS.issuperset(prefix):
        return []  # already reported as a bad character
    if prefix not in PROVINCE_PREFIXES:
        return [
            _error(
                ErrorCode.UNKNOWN_REGION,
                _Text(
                    f"地址码前两位 {prefix} 不是省级行政区划代码（GB/T 2260）",
                    f"地址碼前兩位 {prefix} 不是省級行政區劃代碼（GB/T 2260）",
                    f"address code prefix {prefix} is not a province-level code (GB/T 2260)",
                ),
                1,
            )
        ]
    permit_code = _PERMIT_ONLY_PREFIXES.get(prefix)
    if permit_code is not None and code != permit_code and _DIGITS.issuperset(code):
        return [
            _error(
                ErrorCode.UNKNOWN_REGION,
                _Text(
                    f"地址码 {code} 无效：港澳台居民的号码使用 {permit_code}",
                    f"地址碼 {code} 無效：港澳台居民的號碼使用 {permit_code}",
                    f"address code {code} is not valid; numbers under {prefix} use {permit_code}",
                ),
                1,
            )
        ]
    return []


def _read_birth_date(digits: str, today: date) -> tuple[date | None, list[IdentifierError]]:
    if not _DIGITS.issuperset(digits):
        return None, []  # already reported as a bad character
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        birth_date = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None, [
            _error(
                ErrorCode.NO_SUCH_DATE,
                _Text(f"出生日期 {shown} 不存在", f"出生日期 {shown} 不存在", f"no such date {shown}"),
                7,
            )
        ]
    if birth_date > today:
        return None, [
            _error(
                ErrorCode.FUTURE_DATE,
                _Text(
                    f"出生日期 {shown} 晚于今天（{today.isoformat()}）",
                    f"出生日期 {shown} 晚於今天（{today.isoformat()}）",
                    f"birth date {shown} is in the future (today is {today.isoformat()})",
                ),
                7,
            )
        ]
    if birth_date < _EARLIEST_BIRTH_DATE:
        earliest = _EARLIEST_BIRTH_DATE.isoformat()
        return None, [
            _error(
                ErrorCode.DATE_TOO_EARLY,
                _Text(
                    f"出生日期 {shown} 早于 {earliest}",
                    f"出生日期 {shown} 早於 {earliest}",
                    f"birth date {shown} is before {earliest}",
                ),
                7,
            )
        ]
    return birth_date, []


# --- Mainland Travel Permit for Hong Kong and Macao residents (回乡证) --------------------------


def _read_travel_permit(text: str) -> IdentifierResult:
    kind = IdentifierKind.HK_MO_TRAVEL_PERMIT
    errors: list[IdentifierError] = []
    if text[0] not in _TRAVEL_PERMIT_LETTERS:
        shown = _shown(text[0])
        errors.append(
            _error(
                ErrorCode.BAD_CHARACTER,
                _Text(
                    f"第 1 位应为 H（香港）或 M（澳门），而不是“{shown}”",
                    f"第 1 位應為 H（香港）或 M（澳門），而不是「{shown}」",
                    f"first letter should be H (Hong Kong) or M (Macao), not '{shown}'",
                ),
                1,
            )
        )
    if len(text) not in _TRAVEL_PERMIT_LENGTHS:
        errors.append(
            _error(
                ErrorCode.LENGTH,
                _Text(
                    f"回乡证号码应为 9 位（旧证 11 位），实际为 {len(text)} 位",
                    f"回鄉證號碼應為 9 位（舊證 11 位），實際為 {len(text)} 位",
                    f"a Mainland Travel Permit number has 9 characters (11 on older cards), not {len(text)}",
                ),
            )
        )
    for position, ch in enumerate(text[1:], start=2):
        if ch not in _DIGITS:
            errors.append(_not_digit_error(position, ch))
    if errors:
        return _invalid(kind, text, errors)
    # The first 9 characters identify the holder; the renewal count on older cards changes with
    # each new card, so keying on it would split one person into several.
    return IdentifierResult(valid=True, kind=kind, normalized=text[:_TRAVEL_PERMIT_HOLDER_LENGTH])


# --- Unified Social Credit Code (GB 32100-2015) ---------------------------------------------


def _read_uscc(text: str) -> IdentifierResult:
    kind = IdentifierKind.USCC
    errors: list[IdentifierError] = []
    aligned = len(text) == 18
    if not aligned:
        errors.append(_length_error(kind, len(text)))
    body_is_legal = True
    for position, ch in enumerate(text, start=1):
        shown = _shown(ch)
        in_body = position <= 17
        if ch in _USCC_FORBIDDEN_LETTERS:
            body_is_legal = body_is_legal and not in_body
            errors.append(
                _error(
                    ErrorCode.FORBIDDEN_LETTER,
                    _Text(
                        f"统一社会信用代码中不允许字母 {ch}（第 {position} 位）",
                        f"統一社會信用代碼中不允許字母 {ch}（第 {position} 位）",
                        f"letter {ch} is not allowed in a credit code (position {position})",
                    ),
                    position,
                )
            )
        elif ch not in USCC_ALPHABET:
            body_is_legal = body_is_legal and not in_body
            errors.append(
                _error(
                    ErrorCode.BAD_CHARACTER,
                    _Text(
                        f"第 {position} 位“{shown}”不是统一社会信用代码允许的字符",
                        f"第 {position} 位「{shown}」不是統一社會信用代碼允許的字符",
                        f"character '{shown}' at position {position} is not allowed in a credit code",
                    ),
                    position,
                )
            )
        elif aligned and 3 <= position <= 8 and ch not in _DIGITS:
            # Positions 3-8 are the GB/T 2260 code of the registering administration.
            body_is_legal = False
            errors.append(
                _error(
                    ErrorCode.BAD_CHARACTER,
                    _Text(
                        f"第 {position} 位“{shown}”应为数字（第 3–8 位是行政区划码）",
                        f"第 {position} 位「{shown}」應為數字（第 3–8 位是行政區劃碼）",
                        f"character '{shown}' at position {position} should be a digit"
                        " (positions 3-8 are the region code)",
                    ),
                    position,
                )
            )
        elif aligned and position == 1 and ch not in USCC_REGISTRATION_AUTHORITIES:
            errors.append(
                _error(
                    ErrorCode.REGISTRATION_AUTHORITY,
                    _Text(
                        f"第 1 位登记管理部门代码“{shown}”无效（应为 1–9、A、N 或 Y）",
                        f"第 1 位登記管理部門代碼「{shown}」無效（應為 1–9、A、N 或 Y）",
                        f"registration authority code '{shown}' (position 1) is not valid;"
                        " expected 1-9, A, N or Y",
                    ),
                    1,
                )
            )
    if aligned and body_is_legal and text[17] in USCC_ALPHABET:
        expected = uscc_check_character(text[:17])
        if text[17] != expected:
            errors.append(_check_mismatch_error(expected, text[17], 18))
    if errors:
        return _invalid(kind, text, errors)
    return IdentifierResult(valid=True, kind=kind, normalized=text)


# --- Public checks --------------------------------------------------------------------------


def _invalid(kind: IdentifierKind | None, normalized: str, errors: list[IdentifierError]) -> IdentifierResult:
    return IdentifierResult(valid=False, kind=kind, normalized=normalized, errors=tuple(errors))


def _today_in_china() -> date:
    return datetime.now(tz=_CHINA_TIME).date()


def _looks_like_travel_permit(text: str) -> bool:
    if not ("A" <= text[0] <= "Z"):
        return False
    digits_after_letter = _DIGITS.issuperset(text[1:])
    if text[0] in _TRAVEL_PERMIT_LETTERS:
        return digits_after_letter or len(text) in _TRAVEL_PERMIT_LENGTHS
    # Another letter followed by 8 or 10 digits is a travel permit with its letter mistyped
    # (or another document, such as a passport): say which letters are expected.
    return digits_after_letter and len(text) in _TRAVEL_PERMIT_LENGTHS


def _looks_like_id_digits(text: str) -> bool:
    # 17 digits and a check character, give or take a digit (or the 15-digit first generation).
    return _DIGITS.issuperset(text[:-1]) and (text[-1] in _DIGITS or text[-1] == "X")


def _reads_as_mistyped_id(text: str, as_id: IdentifierResult) -> bool:
    """Whether an 18-character string that is a valid credit code is rather a mistyped ID card.

    An all-digit credit code is legal (GB 32100 allows a digit check character), so 18 digits do
    not say which of the two was meant. When the only fault of the ID-card reading is its check
    character, the province prefix and the birth date are real, which a credit code (region code
    in positions 3-8, organisation code after it) almost never produces by chance, whereas any
    single typo in an ID card yields exactly this, and passes the credit-code check 1 time in 31.
    """
    return _looks_like_id_digits(text) and as_id.codes == (ErrorCode.CHECK_CHARACTER,)


def _plausible_id(text: str) -> bool:
    """Whether an 18-character string that is not a valid ID card was meant as one.

    Credit codes put a region-code suffix (``00`` for most, ``04`` for Futian …) where an ID card
    has the century of the birth year, so a province prefix followed by a birth year from
    1800-2099 points to the ID card, whose errors then say what to fix (a bad date, say).
    """
    year = text[6:10]
    return text[:2] in PROVINCE_PREFIXES and _DIGITS.issuperset(year) and 1800 <= int(year) <= 2099


def _unknown_format(text: str, *, persons_only: bool) -> IdentifierResult:
    if persons_only:
        expected = _Text(
            "应为 18 位的身份证或居住证号码，或以 H/M 开头的 9 位回乡证号码",
            "應為 18 位的身份證或居住證號碼，或以 H/M 開頭的 9 位回鄉證號碼",
            "expected an 18-character ID card or residence permit number, or a 9-character"
            " travel permit starting with H or M",
        )
    else:
        expected = _Text(
            "应为 18 位的身份证、居住证号码或统一社会信用代码，或以 H/M 开头的 9 位回乡证号码",
            "應為 18 位的身份證、居住證號碼或統一社會信用代碼，或以 H/M 開頭的 9 位回鄉證號碼",
            "expected an 18-character ID card, residence permit or credit code, or a 9-character"
            " travel permit starting with H or M",
        )
    length = len(text)
    return _invalid(
        None,
        text,
        [
            _error(
                ErrorCode.UNKNOWN_FORMAT,
                _Text(
                    f"无法识别的号码：{expected.zh}（实际为 {length} 位）",
                    f"無法識別的號碼：{expected.zh_hant}（實際為 {length} 位）",
                    f"unrecognised number: {expected.en} (got {length} characters)",
                ),
            )
        ],
    )


def _enterprise_code_result(text: str) -> IdentifierResult:
    return _invalid(
        IdentifierKind.USCC,
        text,
        [
            _error(
                ErrorCode.ENTERPRISE_CODE,
                _Text(
                    "这是统一社会信用代码（企业或组织），不是个人证件号码",
                    "這是統一社會信用代碼（企業或組織），不是個人證件號碼",
                    "this is an enterprise code (Unified Social Credit Code), not a personal ID number",
                ),
            )
        ],
    )


def _person_number_result(kind: IdentifierKind, normalized: str) -> IdentifierResult:
    noun = _KIND_NOUNS[kind]
    return _invalid(
        kind,
        normalized,
        [
            _error(
                ErrorCode.PERSON_NUMBER,
                _Text(
                    f"这是{noun.zh}，不是统一社会信用代码",
                    f"這是{noun.zh_hant}，不是統一社會信用代碼",
                    f"this is a {noun.en}, not a credit code (Unified Social Credit Code)",
                ),
            )
        ],
    )


def check_person_number(number: str, *, today: date | None = None) -> IdentifierResult:
    """Check a personal number: resident ID card, residence permit or travel permit (回乡证).

    A valid credit code is refused with ``enterprise_code`` rather than with the errors it would
    raise as an ID card, which would not tell the user what went wrong — unless it looks like an
    ID card (digits, province prefix and birth year, see :func:`_plausible_id`), whose errors are
    then more useful. ``today`` (default: today in China) bounds the birth date.
    """
    text = clean_number(number)
    if not text:
        return _invalid(None, "", [_empty_error()])
    if today is None:
        today = _today_in_china()
    if _looks_like_travel_permit(text):
        return _read_travel_permit(text)
    if len(text) == 18:
        as_id = _read_id_layout(text, today)
        if as_id.valid or (_looks_like_id_digits(text) and _plausible_id(text)):
            # Here the user means a personal number: an ID card with a bad date or check
            # character is told so, even if the digits also pass the credit-code check (1 in 31).
            return as_id
        return _enterprise_code_result(text) if _read_uscc(text).valid else as_id
    if _looks_like_id_digits(text):
        return _read_id_layout(text, today)
    return _unknown_format(text, persons_only=True)


def check_uscc(number: str, *, today: date | None = None) -> IdentifierResult:
    """Check a Unified Social Credit Code (GB 32100-2015).

    A valid personal number is refused with ``person_number`` rather than with the errors it
    would raise as a credit code. ``today`` only matters for recognising such numbers.
    """
    text = clean_number(number)
    if not text:
        return _invalid(None, "", [_empty_error()])
    result = _read_uscc(text)
    if result.valid:
        return result
    if _looks_like_travel_permit(text):
        person = _read_travel_permit(text)
    else:
        person = _read_id_layout(text, _today_in_china() if today is None else today)
    if person.valid and person.kind is not None:
        return _person_number_result(person.kind, person.normalized)
    return result


def check_identifier(number: str, *, today: date | None = None) -> IdentifierResult:
    """Check any supported number, telling the kind from its shape.

    18 characters are read both as an ID-card-layout number and as a credit code, since an
    all-digit credit code is legal. A valid ID-card reading wins; then a valid credit-code
    reading, unless it reads as a mistyped ID card (:func:`_reads_as_mistyped_id`). With neither
    valid, the errors reported are the ID card's if the string looks like one
    (:func:`_plausible_id`), else the credit code's.

    Limits of guessing, both rare: an ID-card typo that also breaks the birth date or the
    province passes the credit-code check 1 time in 31 and is then read as a valid credit code;
    an all-digit credit code whose positions 1-14 happen to form a province and a real date is
    read as a mistyped ID card. When the caller knows what to expect, use
    :func:`check_person_number` or :func:`check_uscc`, which never accept one for the other.
    """
    text = clean_number(number)
    if not text:
        return _invalid(None, "", [_empty_error()])
    if today is None:
        today = _today_in_china()
    if _looks_like_travel_permit(text):
        return _read_travel_permit(text)
    if len(text) == 18:
        as_id = _read_id_layout(text, today)
        if as_id.valid:
            return as_id
        as_uscc = _read_uscc(text)
        if as_uscc.valid:
            return as_id if _reads_as_mistyped_id(text, as_id) else as_uscc
        if _plausible_id(text):
            return as_id
        if text[0] in USCC_REGISTRATION_AUTHORITIES or not _looks_like_id_digits(text):
            return as_uscc
        return as_id
    if _looks_like_id_digits(text):
        return _read_id_layout(text, today)  # an ID number with a digit missing or extra, or 15-digit
    if 16 <= len(text) <= 20 and all(ch in USCC_ALPHABET or ch in _USCC_FORBIDDEN_LETTERS for ch in text):
        return _read_uscc(text)  # a credit code with a character missing or extra
    return _unknown_format(text, persons_only=False)


# --- What a number tells about its holder ----------------------------------------------------

# GB/T 2260 province-level names by the first two digits of the address code (and 83 for the
# Taiwan residents' permit), in the three languages the platform speaks.
_PROVINCE_NAMES: Final = {
    "11": _Text("北京市", "北京市", "Beijing"), "12": _Text("天津市", "天津市", "Tianjin"),
    "13": _Text("河北省", "河北省", "Hebei"), "14": _Text("山西省", "山西省", "Shanxi"),
    "15": _Text("内蒙古自治区", "內蒙古自治區", "Inner Mongolia"),
    "21": _Text("辽宁省", "遼寧省", "Liaoning"), "22": _Text("吉林省", "吉林省", "Jilin"),
    "23": _Text("黑龙江省", "黑龍江省", "Heilongjiang"),
    "31": _Text("上海市", "上海市", "Shanghai"), "32": _Text("江苏省", "江蘇省", "Jiangsu"),
    "33": _Text("浙江省", "浙江省", "Zhejiang"), "34": _Text("安徽省", "安徽省", "Anhui"),
    "35": _Text("福建省", "福建省", "Fujian"), "36": _Text("江西省", "江西省", "Jiangxi"),
    "37": _Text("山东省", "山東省", "Shandong"),
    "41": _Text("河南省", "河南省", "Henan"), "42": _Text("湖北省", "湖北省", "Hubei"),
    "43": _Text("湖南省", "湖南省", "Hunan"), "44": _Text("广东省", "廣東省", "Guangdong"),
    "45": _Text("广西壮族自治区", "廣西壯族自治區", "Guangxi"), "46": _Text("海南省", "海南省", "Hainan"),
    "50": _Text("重庆市", "重慶市", "Chongqing"), "51": _Text("四川省", "四川省", "Sichuan"),
    "52": _Text("贵州省", "貴州省", "Guizhou"), "53": _Text("云南省", "雲南省", "Yunnan"),
    "54": _Text("西藏自治区", "西藏自治區", "Tibet"),
    "61": _Text("陕西省", "陝西省", "Shaanxi"), "62": _Text("甘肃省", "甘肅省", "Gansu"),
    "63": _Text("青海省", "青海省", "Qinghai"), "64": _Text("宁夏回族自治区", "寧夏回族自治區", "Ningxia"),
    "65": _Text("新疆维吾尔自治区", "新疆維吾爾自治區", "Xinjiang"),
    "71": _Text("台湾省", "台灣省", "Taiwan"), "81": _Text("香港特别行政区", "香港特別行政區", "Hong Kong"),
    "82": _Text("澳门特别行政区", "澳門特別行政區", "Macao"), "83": _Text("台湾地区", "台灣地區", "Taiwan"),
}  # fmt: skip


def province_name(address_code: str, language: str | None = None) -> str:
    """The province-level region of a GB/T 2260 address code ("" when unknown)."""
    text = _PROVINCE_NAMES.get(address_code[:2])
    if text is None:
        return ""
    lang = (language or "zh-hans").lower().replace("_", "-")
    if lang.startswith("zh"):
        return text.zh_hant if any(t in lang for t in ("hant", "-tw", "-hk", "-mo")) else text.zh
    return text.en


def age_on(birth_date: date, on: date) -> int:
    """Full years of age (周岁) on ``on``: one more on each birthday, not the day after.

    A person born on 29 February gains a year on 1 March in common years (the day 28 February
    would be one day early). A date before the birth date is an error, not a negative age.
    """
    if on < birth_date:
        raise ValueError(f"{on.isoformat()} is before the birth date {birth_date.isoformat()}")
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True, slots=True)
class IdentityFacts:
    """What an 18-character resident ID or residence-permit number says about its holder
    (GB 11643-1999: positions 1-6 address code, 7-14 birth date, 17 odd for men)."""

    birth_date: date
    sex: Sex
    address_code: str
    age: int

    def region(self, language: str | None = None) -> str:
        """Province-level region where the number was first issued (not where the holder lives)."""
        return province_name(self.address_code, language)


def identity_facts(number: str, *, today: date | None = None) -> IdentityFacts | None:
    """Birth date, sex, issuing region and age (on ``today``, default today in China) read from
    a valid resident ID or residence-permit number; ``None`` for any other number (a travel
    permit or a credit code says none of these, and an invalid number is not trusted)."""
    today = _today_in_china() if today is None else today
    result = check_person_number(number, today=today)
    if not result.valid or result.birth_date is None or result.sex is None:
        return None
    return IdentityFacts(result.birth_date, result.sex, result.normalized[:6], age_on(result.birth_date, today))
