"""The minutes' tamper evidence: a SHA-256 of their canonical JSON (pure)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def minutes_digest(content: Any) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()
