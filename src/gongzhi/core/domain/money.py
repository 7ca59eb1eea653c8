"""Money (yuan) and area (m²) as Decimal — never floats (DESIGN.md §3).

Formatting follows how a Shenzhen clerk writes amounts: ``¥1,234,567.80`` / ``12,345.67 m²``,
and the capitalised form on receipts (``人民币壹仟贰佰叁拾肆元伍角``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


class MoneyError(ValueError):
    pass


def to_yuan(value: object) -> Decimal:
    """Parse a yuan amount: two decimal places, half-up rounding, floats refused."""
    if isinstance(value, float):
        raise MoneyError("金额不能使用浮点数 (amounts must not be floats)")
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation as exc:
        raise MoneyError(f"金额格式不正确：{value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"金额格式不正确：{value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_area(value: object) -> Decimal:
    """Square metres with two decimal places."""
    if isinstance(value, float):
        raise MoneyError("面积不能使用浮点数 (areas must not be floats)")
    try:
        area = Decimal(str(value).replace(",", "").replace("m²", "").replace("㎡", "").strip())
    except InvalidOperation as exc:
        raise MoneyError(f"面积格式不正确：{value!r}") from exc
    if not area.is_finite() or area < 0:
        raise MoneyError(f"面积格式不正确：{value!r}")
    return area.quantize(CENT, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount.quantize(CENT)):,.2f}"


def format_area(area: Decimal) -> str:
    return f"{area.quantize(CENT):,.2f} m²"


def _section_to_upper(section: int) -> str:
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        digit = (section // 10**pos) % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[pos]
    return out


def yuan_in_words(amount: Decimal) -> str:
    """Capitalised amount as written on Chinese financial documents (大写金额)."""
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + yuan_in_words(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, (cents // 10) % 10, cents % 10
    if yuan == 0 and cents == 0:
        return "人民币零元整"
    parts: list[str] = []
    sections = []
    n = yuan
    while n:
        sections.append(n % 10000)
        n //= 10000
    text = ""
    need_zero = False
    for idx in range(len(sections) - 1, -1, -1):
        sec = sections[idx]
        if sec == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or sec < 1000):
            text += "零"
        text += _section_to_upper(sec) + _SECTIONS[idx]
        need_zero = False
    if text:
        parts.append(text + "元")
    if jiao == 0 and fen == 0:
        parts.append("整")
    else:
        if jiao:
            parts.append(_DIGITS[jiao] + "角")
        elif text:
            parts.append("零")
        if fen:
            parts.append(_DIGITS[fen] + "分")
    return "人民币" + "".join(parts)
