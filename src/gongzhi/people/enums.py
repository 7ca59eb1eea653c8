from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NumberKind(models.TextChoices):
    # Values match gongzhi.core.domain.identifiers.IdentifierKind.
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_RESIDENCE_PERMIT = "hk_residence_permit", _("港澳台居民居住证（香港）")
    MO_RESIDENCE_PERMIT = "mo_residence_permit", _("港澳台居民居住证（澳门）")
    TW_RESIDENCE_PERMIT = "tw_residence_permit", _("港澳台居民居住证（台湾）")
    HK_MO_TRAVEL_PERMIT = "hk_mo_travel_permit", _("港澳居民来往内地通行证")


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    COOPERATIVE = "cooperative", _("股份合作公司")
    SOCIAL_ORG = "social_org", _("社会组织")
    INSTITUTION = "institution", _("事业单位")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")


class DocumentType(models.TextChoices):
    ID_CARD_COPY = "id_card", _("身份证件")
    HOUSEHOLD_REGISTER = "hukou", _("户口簿")
    RESIDENCE_PERMIT = "residence_permit", _("居住证")
    MARRIAGE_CERT = "marriage", _("结婚证")
    BIRTH_CERT = "birth", _("出生医学证明")
    BUSINESS_LICENSE = "business_license", _("营业执照")
    TENANCY = "tenancy", _("租赁合同/房屋凭证")
    PROPERTY_CERT = "property", _("不动产权证书")
    SOCIAL_INSURANCE = "social_insurance", _("社保缴纳证明")
    DEGREE = "degree", _("学历学位证书")
    PHOTO = "photo", _("证件照")
    LICENCE = "licence", _("电子证照（办理结果）")
    OTHER = "other", _("其他材料")


class ConsentPurpose(models.TextChoices):
    DATA_SHARING = "data_sharing", _("跨部门数据共享（数据多跑路）")
    NOTIFICATIONS = "notifications", _("短信/邮件通知")
    FACE_ACCESS = "face_access", _("人脸识别门禁（单独同意）")
    PUBLIC_REVIEW = "public_review", _("公开评价")
