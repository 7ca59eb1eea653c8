from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    SUBDISTRICT = "subdistrict", _("街道")
    COMMUNITY = "community", _("社区")
    GROUP = "group", _("居民小组")
    GRID = "grid", _("网格")


# Parent kind each kind hangs under (a new area such as Dapeng is a DISTRICT-level unit).
PARENT_KIND = {
    PlaceKind.DISTRICT: PlaceKind.CITY,
    PlaceKind.SUBDISTRICT: PlaceKind.DISTRICT,
    PlaceKind.COMMUNITY: PlaceKind.SUBDISTRICT,
    PlaceKind.GROUP: PlaceKind.COMMUNITY,
    PlaceKind.GRID: PlaceKind.COMMUNITY,
}


class ChangeKind(models.TextChoices):
    CREATE = "create", _("设立")
    SPLIT = "split", _("拆分")
    MERGE = "merge", _("合并")
    RENAME = "rename", _("更名")
    ABOLISH = "abolish", _("撤销")
    # A lower-level unit carried over to a new parent by a split or merge. Its old row is closed
    # and a successor row opened under the new parent, because ``path`` never changes.
    MOVE = "move", _("调整隶属")


class PlanKind(models.TextChoices):
    SPLIT = "split", _("拆分")
    MERGE = "merge", _("合并")
    RENAME = "rename", _("更名")


class PlanStatus(models.TextChoices):
    """A restructuring plan's life: drafted → approved → applied on its effective date.

    Until it is applied it can be edited (back to draft, to be approved again) or cancelled.
    """

    DRAFT = "draft", _("草案待审核")
    APPROVED = "approved", _("已批准待生效")
    APPLIED = "applied", _("已生效")
    CANCELLED = "cancelled", _("已撤回")


OPEN_PLAN_STATUSES = (PlanStatus.DRAFT, PlanStatus.APPROVED)
