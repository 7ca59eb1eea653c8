"""Demo collective companies (DEMO ONLY) — filled in below."""

from __future__ import annotations

from typing import Any


def load_demo_assets(*, actor: Any, progress: Any = None) -> list[tuple[str, str, str, str]]:
    return []
