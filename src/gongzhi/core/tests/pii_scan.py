"""Find personal numbers in what a response carries: HTML, JSON, PDF text, Word and Excel files.

Used by the authorization-matrix test. A PDF made by reportlab with the CID font the project
uses (STSong-Light, UniGB-UCS2-H) stores each character as two big-endian bytes inside
Flate-compressed content streams, so the text is recovered by inflating the streams and reading
the string operands both as UTF-16BE and as Latin-1 (digits set in a base-14 font). reportlab
wraps compressed streams in ASCII85 by default; that is undone first.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterable

from gongzhi.core.domain.identifiers import check_person_number

ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_STREAM_RE = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_LITERAL_RE = re.compile(rb"\((?:\\.|[^\\()])*\)", re.S)
_HEX_RE = re.compile(rb"<([0-9A-Fa-f\s]+)>")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i : i + 1]
        if c == b"\\" and i + 1 < len(raw):
            nxt = raw[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            i += 1
            continue
        out += c
        i += 1
    return bytes(out)


def _strings(stream: bytes) -> Iterable[bytes]:
    for m in _LITERAL_RE.finditer(stream):
        yield _unescape(m.group(0)[1:-1])
    for m in _HEX_RE.finditer(stream):
        hexdigits = re.sub(rb"\s", b"", m.group(1))
        if len(hexdigits) % 2:
            hexdigits += b"0"
        yield bytes.fromhex(hexdigits.decode())


def pdf_text(data: bytes) -> str:
    """The text of a PDF, good enough to search for numbers (one line per string operand)."""
    streams = [data]
    for m in _STREAM_RE.finditer(data):
        body = m.group(1).strip()
        if body.endswith(b"~>"):  # reportlab's default: /ASCII85Decode then /FlateDecode
            try:
                body = base64.a85decode(body[:-2], ignorechars=b" \t\n\r\v")
            except ValueError:
                pass
        try:
            streams.append(zlib.decompress(body))
        except zlib.error:
            streams.append(body)
    parts: list[str] = []
    for stream in streams:
        # Operands of one text object, joined, so a number split over two show operators is found.
        chunk_utf16: list[str] = []
        chunk_latin: list[str] = []
        for s in _strings(stream):
            chunk_latin.append(s.decode("latin-1"))
            if len(s) % 2 == 0:
                chunk_utf16.append(s.decode("utf-16-be", errors="ignore"))
        parts += ["".join(chunk_latin), "".join(chunk_utf16), "\n".join(chunk_latin), "\n".join(chunk_utf16)]
    return "\n".join(parts)


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    return re.sub(r"<[^>]+>", "", xml)


def xlsx_text(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += [str(v) for v in row if v is not None]
    return "\n".join(cells)


def response_text(content_type: str, body: bytes) -> str:
    """Everything a reader of the response could see, as text."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if body.startswith(b"%PDF") or ctype == "application/pdf":
        return pdf_text(body)
    if body.startswith(b"PK") and "wordprocessingml" in ctype:
        return docx_text(body)
    if body.startswith(b"PK") and "spreadsheetml" in ctype:
        return xlsx_text(body)
    if body.startswith(b"PK"):
        try:
            return docx_text(body)
        except zipfile.BadZipFile:
            return ""
    text = body.decode("utf-8", errors="replace")
    if ctype.endswith("json"):
        # JSON may escape every non-ASCII character (\\uXXXX): read it as a person would.
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def id_numbers_in(text: str) -> set[str]:
    """Valid GB 11643 ID numbers (region, date and check digit) anywhere in ``text``."""
    return {m.group(0).upper() for m in ID_RE.finditer(text) if check_person_number(m.group(0)).valid}


def known_numbers_in(text: str, known: Iterable[str]) -> set[str]:
    """Which of ``known`` (phones, bank accounts, IDs) appear whole in ``text``."""
    found = set()
    for value in known:
        if re.search(rf"(?<!\d){re.escape(value)}(?!\d)", text, re.I):
            found.add(value)
    return found
