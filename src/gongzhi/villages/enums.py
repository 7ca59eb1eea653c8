from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    SUBMITTED = "submitted", _("报批中")
    APPROVED = "approved", _("已批复")
    REJECTED = "rejected", _("未获批")
    COMPLETED = "completed", _("已完工")


class AlertKind(models.TextChoices):
    NEGATIVE_FLOAT = "negative_float", _("工期已无法按期完成（负时差）")
    LATE_START = "late_start", _("任务开工滞后")


class RoundStatus(models.TextChoices):
    OPEN = "open", _("受理申请")
    PUBLISHED = "published", _("已公示")


class AllocationMethod(models.TextChoices):
    LOTTERY = "lottery", _("公开摇号")
    QUEUE = "queue", _("按顺序号")


class CredentialKind(models.TextChoices):
    CARD = "card", _("门禁卡")
    QR = "qr", _("二维码")
    PIN = "pin", _("密码")
    FACE = "face", _("人脸（自愿开通）")


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已注销")


class DenyStatus(models.TextChoices):
    ACTIVE = "active", _("生效中")
    CONTESTED = "contested", _("异议审查中")
    UPHELD = "upheld", _("异议未成立")
    LIFTED = "lifted", _("已撤销")


class GateOutcome(models.TextChoices):
    ADMITTED = "admitted", _("放行")
    REFUSED = "refused", _("经人工确认拒绝")
    ADMITTED_AFTER_REVIEW = "admitted_after_review", _("人工核查后放行")


class RepairStatus(models.TextChoices):
    OPEN = "open", _("待维修")
    OVERDUE = "overdue", _("已超时")
    DONE = "done", _("已完成")
