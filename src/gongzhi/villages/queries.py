"""Reads of the villages app, scoped by the reader's jurisdiction (DESIGN.md §2)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from gongzhi.accounts.permissions import has_permission, role_names
from gongzhi.accounts.scope import scope_q
from gongzhi.villages.enums import RoundStatus
from gongzhi.villages.models import ProgressPhoto, Project, ResettlementRound, TalentRound


def projects_for_user(user: Any) -> QuerySet[Project]:
    qs = Project.objects.select_related("village__place").order_by("deadline", "code")
    if getattr(user, "is_superuser", False):
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    return qs.filter(scope_q(user, roles=role_names("village.read"), field="village__place__path"))


def access_project(user: Any, project_id: int) -> Project:
    project = Project.objects.select_related("village__place", "owner", "supervisor").filter(pk=project_id).first()
    if project is None or not has_permission(user, "village.read", project.village.place.path):
        raise Http404
    return project


def may_manage(user: Any, project: Project) -> bool:
    return has_permission(user, "village.manage", project.village.place.path)


def access_photo(user: Any, project: Project, photo_id: int) -> ProgressPhoto:
    photo = ProgressPhoto.objects.filter(pk=photo_id, report__project=project).first()
    if photo is None:
        raise Http404
    return photo


def published_talent_round(village_id: int, round_id: int) -> TalentRound:
    rnd = TalentRound.objects.select_related("village").filter(
        pk=round_id, village_id=village_id, status=RoundStatus.PUBLISHED).first()
    if rnd is None:
        raise Http404
    return rnd


def drawn_resettlement_round(village_id: int, round_id: int) -> ResettlementRound:
    rnd = ResettlementRound.objects.select_related("village").filter(
        pk=round_id, village_id=village_id, drawn_at__isnull=False).first()
    if rnd is None:
        raise Http404
    return rnd
