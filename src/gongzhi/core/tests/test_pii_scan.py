"""The after-the-run scan for personal numbers in clear (issue #10)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from gongzhi.core.pii_scan import is_valid_id_number, scan_database, scan_files, scan_text

ID = "11010519491231002X"  # GB 11643's own example
PHONE = "13812345678"


def test_finds_valid_id_numbers_and_mobiles_and_shows_them_masked() -> None:
    found = list(scan_text(f"申请人 {ID}，电话 {PHONE}。"))
    assert [kind for kind, _ in found] == ["ID number", "mobile number"]
    assert all(ID not in masked and PHONE not in masked for _, masked in found)


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021",  # wrong check character
        "110105194913310023",  # no 13th month
        "a" + ID + "b",  # part of a longer token (hash, base64)
        "sha256:9f13812345678a",
        "12812345678",  # not a mobile prefix
        "138123456789",  # 12 digits
    ],
)
def test_ignores_what_is_not_a_personal_number(text: str) -> None:
    assert list(scan_text(text)) == []


def test_id_check() -> None:
    assert is_valid_id_number(ID) and is_valid_id_number(ID.lower())
    assert not is_valid_id_number("11010519491231002")


def test_files_are_named_and_numbers_masked(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "notifications.log").write_text(f'{{"body": "您的手机 {PHONE}"}}\n', encoding="utf-8")
    (tmp_path / "clean.txt").write_text("138****5678 1101**********002X", encoding="utf-8")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF\x00\x01" + ID.encode() + b"\x00")
    findings = scan_files([tmp_path])
    assert sorted((Path(f.where).name, f.kind) for f in findings) == [
        ("notifications.log", "mobile number"),
        ("scan.pdf", "ID number"),
    ]
    assert not any(PHONE in str(f) or ID in str(f) for f in findings)


@pytest.mark.django_db
def test_database_columns_are_named() -> None:
    from django.db import connection

    # A table of its own, dropped again: make test's plugin scans every test's database and
    # would rightly report a number this test left in a real table.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE pii_scan_probe (note varchar(100))")
        cursor.execute("INSERT INTO pii_scan_probe (note) VALUES (%s)", [f"电话 {PHONE}"])
    try:
        findings = scan_database(connection)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE pii_scan_probe")
    assert [(f.where, f.kind) for f in findings] == [("pii_scan_probe.note", "mobile number")]


def test_script_fails_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "upload.txt").write_text(ID, encoding="utf-8")
    script = Path(__file__).resolve().parents[4] / "scripts" / "scan_personal_numbers.py"
    argv = sys.argv
    sys.argv = [str(script), str(tmp_path)]
    try:
        with pytest.raises(SystemExit) as exit_:
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "upload.txt" in out and ID not in out
    (tmp_path / "upload.txt").write_text("nothing here", encoding="utf-8")
    sys.argv = [str(script), str(tmp_path)]
    try:
        with pytest.raises(SystemExit) as exit_:
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    assert exit_.value.code == 0
