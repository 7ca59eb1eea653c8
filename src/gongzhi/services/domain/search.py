"""Chinese search text: jieba's search-mode segmentation, space-joined (FIELD-NOTES).

Two-character terms such as 南山 must be found on both databases: the segmenter emits the
short words inside longer ones (南山区 → 南山, 山区, 南山区), and we also add every
two-character window of CJK runs so that a name the dictionary does not know (a person's name
such as 张伟明) is still found by any two of its characters.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)
_CJK = re.compile(r"[\u3400-\u9fff]+")
_NUMBER = re.compile(r"[A-Za-z]{1,4}[0-9]+", re.ASCII)


def warm_up() -> None:
    """Load the segmentation dictionary now (about a second) rather than in a request."""
    jieba.initialize()


def search_tokens(*parts: str) -> str:
    tokens: list[str] = []
    seen: set[str] = set()
    for part in parts:
        if not part:
            continue
        text = str(part).strip()
        # An application or case number (letters, then digits) is one token, as jieba returns it
        # (property-tested); each new number would only push names out of the cache below.
        words = (text.lower(),) if _NUMBER.fullmatch(text) else _part_tokens(text)
        for word in words:
            if word not in seen:
                seen.add(word)
                tokens.append(word)
    return " " + " ".join(tokens) + " "


@lru_cache(maxsize=8192)  # item names, place names and applicants recur on every intake
def _part_tokens(text: str) -> tuple[str, ...]:
    words = list(jieba.cut_for_search(text))
    for run in _CJK.findall(text):
        words += [run[i : i + 2] for i in range(len(run) - 1)]
    words.append(text.replace(" ", ""))
    stripped = (word.strip().lower() for word in words)
    return tuple(dict.fromkeys(w for w in stripped if w and not w.isspace()))


def query_tokens(query: str) -> list[str]:
    """Tokens a query must all match; a CJK run longer than 2 is matched by its bigrams."""
    out: list[str] = []
    for piece in query.split():
        piece = piece.strip().lower()
        if not piece:
            continue
        if _CJK.fullmatch(piece) and len(piece) > 2:
            out += [piece[i : i + 2] for i in range(len(piece) - 1)]
        else:
            out.append(piece)
    return list(dict.fromkeys(out))
