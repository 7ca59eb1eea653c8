from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    OFF = "off", _("休息日")
    WORK = "work", _("工作日（调休上班）")


class CalendarSource(models.TextChoices):
    LIBRARY = "library", _("节假日库")
    IMPORT = "import", _("导入")
    ADMIN = "admin", _("管理员")


class TimerStatus(models.TextChoices):
    PENDING = "pending", _("待触发")
    RUNNING = "running", _("执行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")
