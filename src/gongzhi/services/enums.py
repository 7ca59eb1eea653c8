from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicantType(models.TextChoices):
    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    BOTH = "both", _("自然人和法人")


class HandlingMode(models.TextChoices):
    INSTANT = "instant", _("即办（按规则秒批）")
    SIMPLE = "simple", _("简易（全程网办）")
    COMPLEX = "complex", _("复杂（承诺件）")


class MaterialKind(models.TextChoices):
    MANDATORY = "mandatory", _("必要材料")
    SECONDARY = "secondary", _("次要材料（可容缺）")


class MaterialForm(models.TextChoices):
    """How a material is handed in (办事指南: 原件/复印件)."""

    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    BOTH = "both", _("原件核验，复印件留存")


class Channel(models.TextChoices):
    WINDOW = "window", _("综合窗口")
    ONLINE = "online", _("网上办事大厅")
    API = "api", _("系统对接")


class CaseStatus(models.TextChoices):
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")
    SUPPLEMENT = "supplement", _("待补正")
    APPROVED = "approved", _("已办结（准予）")
    REJECTED = "rejected", _("已办结（不予许可）")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_CASE_STATUSES = (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.SUPPLEMENT)
CLOSED_CASE_STATUSES = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.DELIVERED, CaseStatus.WITHDRAWN)


class DeliveryMethod(models.TextChoices):
    """送达: how an approved result reaches the applicant."""

    ELECTRONIC = "electronic", _("电子送达")  # the licence is already in the applicant's wallet
    WINDOW = "window", _("窗口领取")  # collected at a window: one more visit
    MAIL = "mail", _("邮寄送达")  # posted to the address given


class TaskRole(models.TextChoices):
    LEAD = "lead", _("主办")
    CO = "co", _("协办")


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("待认领")
    CLAIMED = "claimed", _("办理中")
    SUPPLEMENT = "supplement", _("待补正")
    APPROVED = "approved", _("同意")
    REJECTED = "rejected", _("不同意")
    DEFAULTED = "defaulted", _("超时默认同意")


OPEN_TASK_STATUSES = (TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT)


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("正常")
    WARNING = "warning", _("预警")
    OVERDUE = "overdue", _("超时")


class CaseMaterialStatus(models.TextChoices):
    WALLET = "wallet", _("证照库复用")
    SCANNED = "scanned", _("现场扫描/上传")
    MISSING_WITH_COMMITMENT = "gap", _("容缺（承诺补交）")
    COMMITMENT = "commitment", _("告知承诺（免提交）")


class ReviewLevel(models.IntegerChoices):
    # State Council 2019 No. 51: five levels; the last two are bad reviews.
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    DONE = "done", _("已整改并回访")
    VOIDED = "voided", _("申诉成立，撤销")


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    UPHELD = "upheld", _("申诉成立")
    DISMISSED = "dismissed", _("申诉不成立")
