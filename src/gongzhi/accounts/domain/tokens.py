"""API token secrets: only their SHA-256 is stored (a leaked database does not leak tokens)."""

from __future__ import annotations

import hashlib


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
