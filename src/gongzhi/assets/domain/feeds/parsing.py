"""Reading fields of a feed: text, CSV and JSON envelopes, yuan, m², dates, identifiers.

Every reader raises :class:`FieldError` with a reason in Chinese that names the field and never
shows a personal number unmasked; the adapters turn it into a :class:`FeedIssue` for the row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from gongzhi.core.domain.identifiers import check_identifier, check_uscc, mask_number
from gongzhi.core.domain.money import MoneyError, to_area, to_yuan

__all__ = [
    "BEIJING",
    "FieldError",
    "Row",
    "Skipped",
    "decode_text",
    "load_json",
    "read_csv_rows",
]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991


class FieldError(ValueError):
    """A field that cannot be read; ``str(error)`` is the reason in Chinese."""


class FormatError(ValueError):
    """The input as a whole cannot be read (wrong encoding, not CSV/JSON, no header)."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — what Chinese systems export."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FormatError("文件编码无法识别（应为UTF-8或GB18030）")


def load_json(data: bytes) -> Any:
    """JSON with numbers as Decimal (never float)."""
    text = decode_text(data)
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise FormatError(f"不是有效的JSON：第{exc.lineno}行第{exc.colno}列附近有错误") from exc
    except RecursionError as exc:
        raise FormatError("JSON嵌套层次过深") from exc


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input record that is not a record at all (not an object, a misaligned CSV row)."""

    where: str
    reason: str


class Row:
    """One input record by canonical field name, with the Chinese labels used in messages."""

    def __init__(
        self,
        values: Mapping[str, Any],
        labels: Mapping[str, str],
        where: str,
        memo: dict[tuple[str, str], str | FieldError] | None = None,
    ) -> None:
        self.values = values
        self.labels = labels
        self.where = where
        # Identifier checks shared by the rows of one input (a company's code repeats on every
        # row); kept only as long as the rows are.
        self.memo: dict[tuple[str, str], str | FieldError] = {} if memo is None else memo

    def _memo_check(self, kind: str, key: str, value: str) -> str:
        slot = (kind + ":" + key, value)
        found = self.memo.get(slot)
        if found is None:
            try:
                found = _checked_uscc(value, self.label(key)) if kind == "uscc" else checked_identifier(value, self.label(key))
            except FieldError as exc:
                found = exc
            self.memo[slot] = found
        if isinstance(found, FieldError):
            raise FieldError(str(found))
        return found

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def raw(self, key: str) -> Any:
        value = self.values.get(key)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.raw(key)
        if value is None:
            if required:
                raise FieldError(f"缺少{self.label(key)}")
            return ""
        if isinstance(value, (dict, list, bool)):
            raise FieldError(f"{self.label(key)}应为文字")
        return str(value)

    def yuan(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise FieldError(f"缺少{self.label(key)}")
            return None
        if isinstance(value, (dict, list, bool)):
            raise FieldError(f"{self.label(key)}格式不正确")
        try:
            amount = to_yuan(str(value).replace("，", "").replace("元", ""))
        except MoneyError as exc:
            raise FieldError(f"{self.label(key)}格式不正确") from exc
        if amount < 0:
            raise FieldError(f"{self.label(key)}不能为负数")
        return amount

    def area(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise FieldError(f"缺少{self.label(key)}")
            return None
        if isinstance(value, (dict, list, bool)):
            raise FieldError(f"{self.label(key)}格式不正确")
        try:
            return to_area(str(value).replace("，", "").replace("平方米", ""))
        except MoneyError as exc:
            raise FieldError(f"{self.label(key)}格式不正确（应为不小于0的平方米数）") from exc

    def count(self, key: str) -> int | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,6}", str(value)):
            raise FieldError(f"{self.label(key)}应为非负整数")
        return int(str(value))

    def date(self, key: str, *, required: bool = False) -> date | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise FieldError(f"缺少{self.label(key)}")
            return None
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise FieldError(f"{self.label(key)}不是有效日期（应为2026-03-01这样的格式）")
        return parsed

    def choice(self, key: str, options: Mapping[str, Any], *, required: bool = True) -> Any:
        value = self.raw(key)
        if value is None:
            if required:
                raise FieldError(f"缺少{self.label(key)}")
            return None
        found = options.get(str(value).lower())
        if found is None:
            allowed = "、".join(sorted({k for k in options if not k.isascii()})) or "、".join(sorted(options))
            raise FieldError(f"{self.label(key)}的取值无法识别（可用：{allowed}）")
        return found

    def uscc(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required)
        if not value:
            return ""
        return self._memo_check("uscc", key, value)

    def identifier(self, key: str, *, required: bool = False) -> str:
        """A USCC or a personal number (ID card, residence or travel permit), normalised."""
        value = self.text(key, required=required)
        if not value:
            return ""
        return self._memo_check("any", key, value)


def _checked_uscc(value: str, label: str) -> str:
    result = check_uscc(value)
    if not result.valid:
        raise FieldError(f"{label}不是有效的统一社会信用代码（{result.errors[0].message_zh}）")
    return result.normalized


def checked_identifier(value: str, label: str) -> str:
    result = check_identifier(value)
    if not result.valid:
        raise FieldError(
            f"{label}无效（{mask_number(value)}：{result.errors[0].message_zh}）"
        )
    return result.normalized


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)


def parse_date(text: str) -> date | None:
    """A calendar date, or the Beijing date of an ISO 8601 date-time with an offset."""
    text = text.strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return parse_datetime_date(text)


def parse_datetime_date(text: str) -> date | None:
    """The date in Beijing of an ISO 8601 date-time; one without an offset is Beijing time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(BEIJING).date()


def read_csv_rows(
    data: bytes, aliases: Mapping[str, str], labels: Mapping[str, str], required: tuple[str, ...]
) -> list[Row | Skipped]:
    """CSV with a header row; column names by canonical key or any alias (case-insensitive).

    Rows are numbered as a spreadsheet shows them: the header is row 1. Blank rows are skipped.
    """
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    # The header decides the separator: a comma unless the header has none and has tabs or
    # semicolons (csv.Sniffer guesses wrong on Chinese text with quoted commas).
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else (";" if ";" in first_line else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError("文件为空") from None
    except csv.Error as exc:
        raise FormatError("不是有效的CSV文件") from exc
    keys = [aliases.get(_norm_header(h)) for h in header]
    missing = [labels.get(k, k) for k in required if k not in keys]
    if missing:
        raise FormatError(f"表头缺少列：{'、'.join(missing)}")
    rows: list[Row | Skipped] = []
    memo: dict[tuple[str, str], str | FieldError] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                rows.append(
                    Skipped(
                        f"第{number}行",
                        f"本行有{len(cells)}列，多于表头的{len(header)}列（金额中的逗号是否未加引号？）",
                    )
                )
                continue
            values = {key: cell for key, cell in zip(keys, cells, strict=False) if key is not None}
            rows.append(Row(values, labels, f"第{number}行", memo))
    except csv.Error as exc:
        raise FormatError(f"CSV格式错误：第{reader.line_num}行附近") from exc
    return rows


def _norm_header(name: str) -> str:
    return re.sub(r"[\s\u3000]+", "", name).lower()


def alias_table(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Every accepted column name (normalised) → canonical key."""
    table: dict[str, str] = {}
    for key, names in aliases.items():
        table[_norm_header(key)] = key
        for name in names:
            table[_norm_header(name)] = key
    return table


def read_json_rows(
    data: bytes, list_keys: tuple[str, ...], aliases: Mapping[str, str], labels: Mapping[str, str]
) -> tuple[list[Row | Skipped], Any]:
    """The items of a JSON array (top level or under one of ``list_keys``) as rows.

    Returns the rows (an item that is not an object is :class:`Skipped`) and the decoded document, so an adapter can read paging links from it.
    """
    doc = load_json(data)
    items: Any = doc
    if isinstance(doc, dict):
        items = next((doc[k] for k in list_keys if k in doc), None)
        if items is None:
            raise FormatError(f"JSON中没有记录列表（应在{'、'.join(list_keys)}字段中）")
    if not isinstance(items, list):
        raise FormatError("JSON记录列表应为数组")
    rows: list[Row | Skipped] = []
    memo: dict[tuple[str, str], str | FieldError] = {}
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(Skipped(f"第{i}条", "记录应为对象"))
            continue
        values = {aliases[_norm_header(k)]: v for k, v in item.items() if _norm_header(k) in aliases}
        rows.append(Row(values, labels, f"第{i}条", memo))
    return rows, doc
