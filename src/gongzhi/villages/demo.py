"""The villages' share of the demo district (filled below)."""

from __future__ import annotations

from typing import Any


def load_demo_villages(actor: Any, progress: Any = None) -> list[tuple[str, str, str, str]]:
    return []
