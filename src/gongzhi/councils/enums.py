from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CouncilKind(models.TextChoices):
    RESIDENTS = "residents", _("居民议事会")
    JOINT = "joint", _("党政社群共治议事会")
    SHAREHOLDERS = "shareholders", _("股份合作公司股东大会")
    BOARD = "board", _("理事会/董事会")


class MemberRole(models.TextChoices):
    MEMBER = "member", _("成员")
    CHAIR = "chair", _("主席/召集人")
    SECRETARY = "secretary", _("记录员")


class MemberSector(models.TextChoices):
    # Joint councils seat party, government, society and residents (党政社群).
    RESIDENT = "resident", _("居民代表")
    PARTY = "party", _("党组织代表")
    GOVERNMENT = "government", _("政府代表")
    SOCIETY = "society", _("社会组织代表")
    ENTERPRISE = "enterprise", _("驻区单位代表")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    NOTICED = "noticed", _("已通知")
    IN_SESSION = "in_session", _("进行中")
    ADJOURNED = "adjourned", _("已休会/散会")
    CANCELLED = "cancelled", _("已取消")


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已批准公开")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("成立")
    DISMISSED = "dismissed", _("不成立")
