from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("征集中")
    MERGED = "merged", _("已合并")
    ELIGIBLE = "eligible", _("审核通过")
    REJECTED = "rejected", _("审核未通过")
    ON_AGENDA = "on_agenda", _("提交议事会")
    ADOPTED = "adopted", _("议事会通过")
    VOTED_DOWN = "voted_down", _("议事会否决")
    FUNDED = "funded", _("已立项")
    UNFUNDED = "unfunded", _("本年度未入选")
    ACCEPTED = "accepted", _("已验收")


class CouncilOutcome(models.TextChoices):
    ADOPTED = "adopted", _("通过")
    AMENDED = "amended", _("修改后通过")
    REJECTED = "rejected", _("否决")


class FundingMethod(models.TextChoices):
    KNAPSACK = "knapsack", _("预算最优组合")
    RANKED = "ranked", _("按支持数排序")
