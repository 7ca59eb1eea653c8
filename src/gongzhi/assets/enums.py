"""Choices of the collective-asset register and its on-platform trading (阳光交易)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetKind(models.TextChoices):
    LAND = "land", _("土地")
    BUILDING = "building", _("楼栋")
    UNIT = "unit", _("房屋单元")


class LandUse(models.TextChoices):
    INDUSTRIAL = "industrial", _("工业")
    COMMERCIAL = "commercial", _("商业")
    RESIDENTIAL = "residential", _("居住")
    WAREHOUSE = "warehouse", _("仓储")
    OFFICE = "office", _("办公")
    MIXED = "mixed", _("综合")
    OTHER = "other", _("其他")


class Occupancy(models.TextChoices):
    LEASED = "leased", _("已出租")
    VACANT = "vacant", _("空置")
    SELF_USE = "self_use", _("自用")


class CounterpartyKind(models.TextChoices):
    ORG = "org", _("单位（统一社会信用代码）")
    PERSON = "person", _("个人（身份证件号码）")


class LeaseStatus(models.TextChoices):
    ACTIVE = "active", _("履行中")
    ENDED = "ended", _("已到期")
    TERMINATED = "terminated", _("已解除")


class DealStatus(models.TextChoices):
    """The on-platform trading lifecycle, in order (DOMAIN.md: collective assets)."""

    DECIDED = "decided", _("已决议")
    APPRAISED = "appraised", _("已评估")
    PRICED = "priced", _("已定底价")
    LISTED = "listed", _("挂牌公告中")
    AWARDED = "awarded", _("已确定成交")
    NOTICED = "noticed", _("已发布结果公告")
    CONTRACTED = "contracted", _("已签订合同")
    FAILED = "failed", _("流拍")


class BidMode(models.TextChoices):
    OPEN = "open", _("公开竞价（增价）")
    SEALED = "sealed", _("密封报价")


class AlertKind(models.TextChoices):
    OFF_PLATFORM = "off_platform", _("应进场未进场")
    SPLIT_DEAL = "split_deal", _("疑似拆分交易")
    AT_RESERVE = "at_reserve", _("以底价或低于底价成交")
    SINGLE_BIDDER = "single_bidder", _("仅一家竞买人")
    TERM_TOO_LONG = "term_too_long", _("租期超过二十年")
    BELOW_BENCHMARK = "below_benchmark", _("租金低于片区基准价")
    ARREARS = "arrears", _("租金拖欠")
    EXPIRING = "expiring", _("合同即将到期未重新招租")
    VACANT = "vacant", _("资产空置")
    # Feeds from other systems (reconciliation with the register)
    FEED_MISSING_HERE = "feed_missing_here", _("外部系统有记录，台账未登记")
    FEED_MISSING_THERE = "feed_missing_there", _("台账有记录，外部系统无此交易")
    FEED_PRICE_MISMATCH = "feed_price_mismatch", _("台账价格与外部系统不一致")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    CLOSED = "closed", _("已办结")


class FeedSourceChoice(models.TextChoices):
    """The other systems a feed comes from (``domain.feeds.FeedSource``)."""

    EXCHANGE = "exchange", _("产权交易所")
    PROCUREMENT = "procurement", _("政府采购系统")
    TRADING_CENTRE = "trading_centre", _("建设工程交易中心")


class FeedRunStatus(models.TextChoices):
    APPLIED = "applied", _("已导入")
    FAILED = "failed", _("导入失败")


class FeedChannel(models.TextChoices):
    FILE = "file", _("文件导入")
    PULL = "pull", _("接口拉取")
