"""The ``council_pk`` path converter: a database id, or no match (404) — never a 500.

Django's ``int`` converter takes any number of digits, and an id past the integer column's range
(``/councils/minutes/99999999999999999999/``) then fails inside the database driver. A real id
is 1 … 2³¹−1 (the smallest integer primary key Django creates on any backend).
"""

from __future__ import annotations

from django.urls import register_converter

DB_ID_MAX = 2**31 - 1


class DbIdConverter:
    regex = "[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= DB_ID_MAX:
            raise ValueError("out of range")  # the pattern does not match: 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


# Registered once, when the first of urls.py / routing.py imports this module.
register_converter(DbIdConverter, "council_pk")
