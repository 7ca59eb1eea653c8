from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    return {
        "large_text": getattr(request, "large_text", False),
        "site_languages": settings.LANGUAGES,
    }
