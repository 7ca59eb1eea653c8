"""Find personal numbers in clear text: files, logs and database tables (issue #10).

After a full test run nothing personal may sit anywhere in clear: not in ``var/`` (uploads,
notification logs, the SQLite file), not in the logs, not in a database column. This module finds
18-character ID / residence-permit numbers whose GB 11643 check character and birth date are valid
(so a random run of digits is not reported) and mainland mobile numbers (``1[3-9]`` + 9 digits).
A finding names the file or table and column and shows the number masked — the scan must not
itself print what it is looking for.

Run by ``make test`` through ``scripts/scan_personal_numbers.py`` (files) and the pytest plugin
``gongzhi.core.pii_check`` (the test database).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gongzhi.core.domain.identifiers import mask_number, resident_id_check_character

# Letters and digits around a match mean it is part of something longer (a hash, a base64
# ciphertext, a longer number): not a personal number.
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_ID_BYTES = re.compile(rb"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_BYTES = re.compile(rb"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")

# Files that are not data: source, compiled translations, the vendored browser assets.
SKIP_SUFFIXES = frozenset({".py", ".pyc", ".mo", ".po", ".js", ".css", ".map", ".svg", ".png", ".woff2"})


@dataclass(frozen=True)
class Finding:
    where: str  # file path, or ``table.column``
    kind: str  # "ID number" or "mobile number"
    masked: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.masked}"


def is_valid_id_number(text: str) -> bool:
    """18 characters with a real birth date and the right GB 11643 check character."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return resident_id_check_character(text[:17]) == text[17].upper()


def _mask_mobile(number: str) -> str:
    return number[:3] + "****" + number[7:]


def scan_text(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, masked)`` for each personal number in ``text``."""
    for m in _ID.finditer(text):
        if is_valid_id_number(m.group()):
            yield "ID number", mask_number(m.group())
    for m in _MOBILE.finditer(text):
        yield "mobile number", _mask_mobile(m.group())


def scan_bytes(data: bytes) -> Iterator[tuple[str, str]]:
    """The same on raw bytes (a SQLite file, a binary upload): ASCII digits are ASCII in UTF-8."""
    for m in _ID_BYTES.finditer(data):
        number = m.group().decode("ascii")
        if is_valid_id_number(number):
            yield "ID number", mask_number(number)
    for m in _MOBILE_BYTES.finditer(data):
        yield "mobile number", _mask_mobile(m.group().decode("ascii"))


def scan_files(paths: Iterable[Path]) -> list[Finding]:
    """Every file under ``paths`` (files or directories), read as bytes."""
    findings: list[Finding] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix.lower() in SKIP_SUFFIXES:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            seen: set[tuple[str, str]] = set()
            for kind, masked in scan_bytes(data):
                if (kind, masked) not in seen:
                    seen.add((kind, masked))
                    findings.append(Finding(str(path), kind, masked))
    return findings


# Tables that hold no personal data and only change by migration: not worth a query per test.
STATIC_TABLES = frozenset(
    {"django_migrations", "django_content_type", "auth_permission", "core_calendarday", "core_calendaryear"}
)


def scan_database(connection: Any, columns_cache: dict[str, list[str]] | None = None) -> list[Finding]:
    """Every column of every table the connection sees (Django's introspection).

    ``columns_cache`` keeps each table's column names between calls (the plugin scans after every
    test; the schema does not change between tests, introspecting it each time doubled the run).
    """
    findings: list[Finding] = []
    cache = columns_cache if columns_cache is not None else {}
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in sorted(tables):
            if table in STATIC_TABLES:
                continue
            if table not in cache:
                cache[table] = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            columns = cache[table]
            if not columns:
                continue
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 — names from introspection
            seen: set[tuple[str, str, str]] = set()
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None or isinstance(value, (int, float, bool, date)):
                        continue
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    for kind, masked in scan_text(text):
                        key = (column, kind, masked)
                        if key not in seen:
                            seen.add(key)
                            findings.append(Finding(f"{table}.{column}", kind, masked))
    return findings
