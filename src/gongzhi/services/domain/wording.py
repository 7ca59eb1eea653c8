"""What a resident reads about a case: one mapping from the internal states to plain words.

The back office's labels (``CaseStatus`` / ``TaskStatus``: 待认领, 已办结（准予）…) are the
officers' words; a resident needs to know what is happening and what, if anything, they must do.
Every resident-facing place — the tracker page and API, the case page, the application page,
the case API's ``status_text`` and Open311's ``status_notes`` — reads these two functions, so
the wording is written once (and translated once, in the .po files).

Also here: where a received material came from, told truthfully (``material_source``): a file
the applicant uploaded online is not "scanned at the window".
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.services.enums import CaseMaterialStatus, CaseStatus, Channel, DeliveryMethod, TaskStatus

CASE_STATUS_TEXT: dict[str, Promise] = {
    CaseStatus.ACCEPTED: _("已受理，等待部门审核"),
    CaseStatus.IN_PROGRESS: _("部门正在审核"),
    CaseStatus.SUPPLEMENT: _("需要您补正材料"),
    CaseStatus.APPROVED: _("已批准，等待送达结果"),
    CaseStatus.REJECTED: _("未获批准"),
    CaseStatus.DELIVERED: _("已批准，结果已送达"),
    CaseStatus.WITHDRAWN: _("已撤回"),
}

TASK_STATUS_TEXT: dict[str, Promise] = {
    TaskStatus.PENDING: _("等待办理"),
    TaskStatus.CLAIMED: _("正在审核"),
    TaskStatus.SUPPLEMENT: _("等待补正材料"),
    TaskStatus.APPROVED: _("已同意"),
    TaskStatus.REJECTED: _("不同意"),
    TaskStatus.DEFAULTED: _("已同意（超时默认）"),
}

# Where a received material came from, by the channel that received it.
UPLOAD_SOURCE: dict[str, Promise] = {
    Channel.WINDOW: _("窗口扫描"),
    Channel.ONLINE: _("网上上传"),
    Channel.API: _("系统对接上传"),
}


def case_status_text(status: str) -> str:
    """The resident's wording of a case status (the internal label for an unknown value)."""
    text = CASE_STATUS_TEXT.get(status)
    return str(text) if text is not None else str(CaseStatus(status).label)


def task_status_text(status: str) -> str:
    text = TASK_STATUS_TEXT.get(status)
    return str(text) if text is not None else str(TaskStatus(status).label)


def material_source(status: str, channel: str, document_source: str = "") -> str:
    """How a case material was provided. A document filed into the wallet keeps its own source
    (窗口扫描 / 网上上传 / 容缺补交) and that is what is told; else the case's channel decides."""
    if status == CaseMaterialStatus.SCANNED:
        if document_source:
            return str(_(document_source)) if document_source in _KNOWN_SOURCES else document_source
        text = UPLOAD_SOURCE.get(channel)
        return str(text) if text is not None else str(CaseMaterialStatus(status).label)
    return str(CaseMaterialStatus(status).label)


# The sources intake and the owed-material hand-in write on documents (translated when shown).
_KNOWN_SOURCES = frozenset({"窗口扫描", "网上上传", "系统对接上传", "容缺补交"})
_SOURCE_MSGIDS = (_("窗口扫描"), _("网上上传"), _("系统对接上传"), _("容缺补交"))


def describe_material(cm: Any, channel: str) -> str:
    """``material_source`` for a ``CaseMaterial`` row (its document read if loaded)."""
    doc = cm.document if cm.document_id else None
    return material_source(cm.status, channel, getattr(doc, "source", "") or "")


COLLECTION_TEXT: dict[str, Promise] = {
    DeliveryMethod.ELECTRONIC: _("电子送达：办结后电子证照自动存入您的证照库（“我的证照”）"),
    DeliveryMethod.WINDOW: _("窗口领取：办结后凭受理回执到受理窗口领取"),
    DeliveryMethod.MAIL: _("邮寄送达：办结后邮寄至您提供的地址"),
}


def planned_delivery(case: Any) -> str:
    """How the result will reach the applicant: the method used if already delivered, else the
    default — electronic when the item issues an electronic licence into the wallet, otherwise
    collection at the window (no delivery choice is taken at intake yet)."""
    if case.delivery_method:
        return str(case.delivery_method)
    return DeliveryMethod.ELECTRONIC if case.item.result_doc_type else DeliveryMethod.WINDOW


def collection_text(case: Any) -> str:
    return str(COLLECTION_TEXT[planned_delivery(case)])
