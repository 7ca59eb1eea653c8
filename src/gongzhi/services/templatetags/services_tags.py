"""Template filters of the service hall: the resident-facing wording (domain/wording.py)."""

from __future__ import annotations

from typing import Any

from django import template

from gongzhi.services.domain.wording import case_status_text, describe_material, task_status_text

register = template.Library()


@register.filter
def status_text(status: str) -> str:
    """A case status in the resident's words: ``{{ case.status|status_text }}``."""
    return case_status_text(status)


@register.filter
def task_text(status: str) -> str:
    return task_status_text(status)


@register.filter
def material_source(cm: Any, channel: str) -> str:
    """Where a case material came from, told truthfully: ``{{ m|material_source:case.channel }}``."""
    return describe_material(cm, channel)
