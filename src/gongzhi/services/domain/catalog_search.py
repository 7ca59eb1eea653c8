"""Finding a catalogue entry (事项 or 一件事) by what people type: a Chinese word, an item code, or
pinyin — initials (ylbx → 养老保险) or the full syllables (yanglao).

Pure: the caller passes plain entries and gets back scores. ``services.queries.search_catalog``
is the one reader (public page, window picker, online hall and API all go through it).

Each entry's keys are computed once per distinct (code, name, …) and cached, so a catalog edit
is picked up by the next search while an unchanged catalog costs only set look-ups. Measured on
the 57-item demo catalogue (2026-12-04): keys for every entry ≈ 20 ms cold (pypinyin's
dictionary import, once per process, ≈ 0.5 s — warmed at start-up), a query ≈ 0.2 ms warm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from gongzhi.services.domain.search import query_tokens, search_tokens

_CJK = re.compile(r"[\u3400-\u9fff]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_LETTERS = re.compile(r"[a-z]+")

# Score bands: a better kind of match always ranks above a weaker one.
CODE_EXACT, CODE_PART, NAME_PART, INITIALS_PREFIX, PINYIN_PART, INITIALS_PART, WORDS, OTHER_TEXT = (
    100, 80, 70, 60, 55, 50, 40, 20)


@dataclass(frozen=True)
class Keys:
    """What one entry can be found by."""

    code: str  # lower-case, letters and digits only: "nsmz001"
    name: str  # the name as written, lower-case
    initials: str  # first letters of the name's pinyin: "zdshbzsq"
    pinyin: str  # the name's pinyin without tones or spaces: "zuidishenghuobaozhangshenqing"
    tokens: frozenset[str]  # jieba search tokens of name, description and department
    other: str  # English name, department and description, lower-case, for plain substring matches
    text_initials: str  # pinyin initials of the description: "ylbx" finds an item whose text says 养老保险


def _pinyin(text: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin  # a 0.5 s dictionary import: only where pinyin is needed

    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="ignore")
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(initials).lower(), "".join(syllables).lower()


@lru_cache(maxsize=4096)
def entry_keys(code: str, name: str, name_en: str = "", department: str = "", description: str = "") -> Keys:
    initials, syllables = _pinyin(name)
    tokens = frozenset(search_tokens(name, department, description).split())
    other = " ".join(p for p in (name_en, department, description) if p).lower()
    text_initials = _pinyin(description)[0] if description else ""
    return Keys(_NOT_ALNUM.sub("", code.lower()), name.lower(), initials, syllables, tokens, other, text_initials)


def warm_up() -> None:
    _pinyin("养老保险")


def normalise_query(query: str) -> list[str]:
    """The pieces a query is made of; every piece must match for an entry to be found."""
    return [p for p in query.strip().lower().split() if p][:8]


def _piece_score(piece: str, keys: Keys) -> int:
    alnum = _NOT_ALNUM.sub("", piece)
    has_cjk = bool(_CJK.search(piece))
    if alnum and not has_cjk and any(c.isdigit() for c in alnum):
        # An item code, whole or in part: "NS-MZ-001", "mz-001", "mz001", "001".
        if alnum == keys.code:
            return CODE_EXACT
        if alnum in keys.code:
            return CODE_PART
    if piece in keys.name:
        return NAME_PART
    if has_cjk:
        tokens = query_tokens(piece)
        if tokens and all(t in keys.tokens for t in tokens):
            return WORDS
        return OTHER_TEXT if piece in keys.other else 0
    if _LETTERS.fullmatch(alnum or "-"):
        if len(alnum) >= 2 and keys.initials.startswith(alnum):
            return INITIALS_PREFIX
        if len(alnum) >= 2 and alnum in keys.pinyin:
            return PINYIN_PART
        if len(alnum) >= 2 and alnum in keys.initials:
            return INITIALS_PART
        if alnum in keys.code:
            return CODE_PART  # letters of a code: "mz" finds every 民政 item
        if len(alnum) >= 4 and alnum in keys.text_initials:
            return OTHER_TEXT  # four letters or more: shorter runs occur in any long text
    return OTHER_TEXT if len(piece) >= 2 and piece in keys.other else 0


def score(query: str | list[str], keys: Keys) -> int:
    """0 if the entry does not match every piece of the query; otherwise higher is better."""
    pieces = normalise_query(query) if isinstance(query, str) else query
    if not pieces:
        return 0
    total = 0
    for piece in pieces:
        points = _piece_score(piece, keys)
        if not points:
            return 0
        total += points
    return total
