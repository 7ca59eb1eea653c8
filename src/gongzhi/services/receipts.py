"""Printable PDFs of the service hall: 受理回执, 一次性告知书, 补正通知书.

A4, reportlab only. Chinese text uses reportlab's built-in CID font ``STSong-Light`` (Adobe's
Song for Simplified Chinese): the PDF viewer supplies the glyphs, so nothing needs a font file
and it works on an offline government intranet. The receipt carries a QR code (reportlab's own
QR widget, no image library) pointing at the public progress page.

Everything printed about the applicant is what they may see themselves: their name and their
*masked* number — a lost receipt must not hand a stranger the full ID number.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone, translation
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from gongzhi.services.domain.wording import collection_text, describe_material
from gongzhi.services.enums import CaseMaterialStatus, Channel

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
LINE = 6.2 * mm
BODY = 10.5
QR_SIZE = 30 * mm
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def public_url() -> str:
    return str(getattr(settings, "GONGZHI_PUBLIC_URL", "") or DEFAULT_PUBLIC_URL).rstrip("/")


def track_url(number: str) -> str:
    return f"{public_url()}/services/track?{urlencode({'number': number})}"


def zh_date(day: date | datetime | None) -> str:
    """As a Shenzhen clerk writes it: 2026年11月26日."""
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = timezone.localtime(day).date()
    return f"{day:%Y年%m月%d日}"


def zh_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local:%Y年%m月%d日 %H:%M}"


def _person_name(user: Any) -> str:
    if user is None or not hasattr(user, "username"):
        return str(user or "—")  # a SystemActor prints its label
    return str(getattr(user, "display_name", "") or getattr(user, "username", "") or "—")


class _Sheet:
    """A top-down writer over a canvas: headings, label/value rows, wrapped paragraphs, pages."""

    def __init__(self, title: str) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, invariant=True)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("共治平台")
        self.canvas.setSubject(title)
        self.title = title
        self.page = 1
        self.y = PAGE_H - MARGIN
        self._heading()

    def _heading(self) -> None:
        self.canvas.setFont(FONT, 18)
        self.canvas.drawCentredString(PAGE_W / 2, self.y - 6 * mm, self.title)
        self.y -= 16 * mm
        self._footer()

    def _footer(self) -> None:
        self.canvas.setFont(FONT, 8)
        self.canvas.drawCentredString(PAGE_W / 2, 10 * mm, f"第 {self.page} 页（共治平台自动生成）")

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.canvas.showPage()
            self.page += 1
            self.y = PAGE_H - MARGIN
            self._footer()

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        """Break by character width: Chinese has no spaces to break at."""
        lines: list[str] = []
        for para in str(text).split("\n"):
            current = ""
            for ch in para:
                if pdfmetrics.stringWidth(current + ch, FONT, size) > width and current:
                    lines.append(current)
                    current = ch
                else:
                    current += ch
            lines.append(current)
        return lines

    def text(self, text: str, *, size: float = BODY, indent: float = 0, width: float | None = None) -> None:
        width = width or (PAGE_W - 2 * MARGIN - indent)
        for line in self._wrap(text, width, size):
            self.need(LINE)
            self.canvas.setFont(FONT, size)
            self.canvas.drawString(MARGIN + indent, self.y - size, line)
            self.y -= LINE

    def row(self, label: str, value: str, *, width: float | None = None) -> None:
        label_w = 30 * mm
        value_w = (width or (PAGE_W - 2 * MARGIN)) - label_w
        lines = self._wrap(value, value_w, BODY)
        self.need(LINE * len(lines))
        self.canvas.setFont(FONT, BODY)
        self.canvas.drawString(MARGIN, self.y - BODY, f"{label}：")
        for line in lines:
            self.canvas.drawString(MARGIN + label_w, self.y - BODY, line)
            self.y -= LINE

    def section(self, heading: str) -> None:
        self.need(LINE * 3)
        self.y -= 2 * mm
        self.canvas.setFont(FONT, 12.5)
        self.canvas.drawString(MARGIN, self.y - 12.5, heading)
        self.y -= LINE + 1 * mm
        self.canvas.setLineWidth(0.4)
        self.canvas.line(MARGIN, self.y + 2 * mm, PAGE_W - MARGIN, self.y + 2 * mm)

    def qr(self, url: str, caption: str) -> None:
        """A QR code at the right margin, level with the current line."""
        widget = QrCodeWidget(url)
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
        drawing.add(widget)
        x, y = PAGE_W - MARGIN - QR_SIZE, self.y - QR_SIZE
        renderPDF.draw(drawing, self.canvas, x, y)
        # The code is a link too, for a receipt read on screen rather than printed.
        self.canvas.linkURL(url, (x, y, x + QR_SIZE, y + QR_SIZE), relative=0)
        self.canvas.setFont(FONT, 7.5)
        self.canvas.drawCentredString(PAGE_W - MARGIN - QR_SIZE / 2, self.y - QR_SIZE - 3 * mm, caption)

    def gap(self, height: float = 3 * mm) -> None:
        self.y -= height

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def _hall(case: Any) -> str:
    """Where the application was accepted: the clerk's place's window, or the online hall."""
    if case.channel == Channel.WINDOW and case.accepted_by is not None:
        from gongzhi.accounts.scope import active_assignments

        for ra in active_assignments(case.accepted_by):
            return f"{ra.place.name}综合窗口"
    return str(case.get_channel_display())


def _issuing_office(application: Any, case: Any) -> str:
    """Who issues the receipt: the service centre of the accepting window's place, or — online
    and by API — the service centre of the application's place, with the online hall named."""
    if case.channel == Channel.WINDOW and case.accepted_by is not None:
        from gongzhi.accounts.scope import active_assignments

        for ra in active_assignments(case.accepted_by):
            return f"{ra.place.name}政务服务中心"
    return f"{application.place.name}政务服务中心（{case.get_channel_display()}）"


def hotline() -> str:
    """The service hotline printed on receipts (setting ``GONGZHI_SERVICE_HOTLINE``)."""
    return str(getattr(settings, "GONGZHI_SERVICE_HOTLINE", "") or "12345")


def _clerk_name(case: Any) -> str:
    """The clerk by name, never the login account: an account without a name on record is
    printed as the window's staff, not as its username. Online and by API no clerk accepted."""
    user = case.accepted_by
    if case.channel != Channel.WINDOW or user is None:
        return "网上自动受理"
    return str(getattr(user, "display_name", "") or "综合窗口工作人员")


def _material_line(cm: Any, case: Any) -> str:
    name = cm.material.name
    if cm.status == CaseMaterialStatus.WALLET:
        source = f"证照库复用（{cm.document.title}）" if cm.document is not None else "证照库复用"
    elif cm.status == CaseMaterialStatus.SCANNED:
        with translation.override("zh-hans"):  # the receipt is printed in Chinese
            source = describe_material(cm, case.channel)  # 窗口扫描 / 网上上传: told truthfully
    elif cm.status == CaseMaterialStatus.MISSING_WITH_COMMITMENT:
        source = f"容缺受理，承诺于 {zh_date(case.gaps_due)} 前补交"
    elif cm.status == CaseMaterialStatus.COMMITMENT:
        source = "告知承诺，免予提交"
    else:
        source = str(cm.get_status_display())
    return f"{name}：{source}"


def acceptance_receipt_pdf(application: Any) -> bytes:
    """受理回执: every case of the application with its number, deadline, materials and QR code."""
    cases = list(
        application.cases.select_related("item", "department", "accepted_by", "application__place").order_by("number")
    )
    sheet = _Sheet("受理回执")
    first = cases[0] if cases else None
    sheet.row("申请编号", application.number)
    if application.bundle_id:
        sheet.row("一件事", application.bundle.name)
    if first is not None:
        sheet.row("申请人", f"{first.applicant_name}（{first.applicant_masked}）")
        sheet.row("受理时间", zh_datetime(first.accepted_at))
        sheet.row("出具单位", _issuing_office(application, first))
        sheet.row("受理地点", _hall(first))
        sheet.row("受理人", _clerk_name(first))
    for case in cases:
        sheet.section(f"办件 {case.number}")
        sheet.need(QR_SIZE + 8 * mm)
        top = sheet.y
        sheet.qr(track_url(case.number), "扫码查询办理进度")
        narrow = PAGE_W - 2 * MARGIN - QR_SIZE - 4 * mm
        sheet.row("办件编号", case.number, width=narrow)
        sheet.row("办理事项", f"{case.item.name}（{case.item.code}）", width=narrow)
        sheet.row("主办部门", case.department.name, width=narrow)
        deadline = zh_date(case.deadline)
        if case.deadline_provisional:
            deadline += "（暂定：节假日安排公布后重算）"
        if case.instant:
            deadline = "即办件，已当场办结"
        sheet.row("承诺办结", f"{deadline}（{case.limit_days} 个工作日）" if not case.instant else deadline,
                  width=narrow)
        sheet.row("当前状态", str(case.get_status_display()), width=narrow)
        with translation.override("zh-hans"):
            sheet.row("结果领取", collection_text(case), width=narrow)
        sheet.y = min(sheet.y, top - QR_SIZE - 6 * mm)
        sheet.text("已收材料：")
        materials = case.materials.select_related("material", "document").order_by("material__order", "pk")
        # Numbered, not bulleted: STSong-Light has no glyph for the middle dot.
        for n, cm in enumerate(materials, start=1):
            sheet.text(f"{n}. {_material_line(cm, case)}", indent=4 * mm)
        if case.with_gaps:
            sheet.text(f"容缺受理：请于 {zh_date(case.gaps_due)} 前补交上述容缺材料，逾期未补交的，按规定终止办理。",
                       indent=4 * mm)
        if case.by_commitment:
            sheet.text("告知承诺：申请人已书面承诺；承诺不实的，将依法撤销办理结果。", indent=4 * mm)
    sheet.gap()
    sheet.section("温馨提示")
    sheet.text("凭办件编号和申请人证件号码后四位，可扫描二维码或登录网上办事大厅查询办理进度。"
               "承诺时限按工作日计算，法定节假日不计入；补正期间暂停计时。")
    sheet.text(f"进度查询：{public_url()}/services/track（申请编号 {application.number} 或办件编号均可查询）")
    sheet.text(f"服务热线：{hotline()}")
    return sheet.finish()


def missing_materials_notice_pdf(
    items: Iterable[Any], missing: Sequence[str], applicant_name: str, clerk: Any
) -> bytes:
    """一次性告知书 (Administrative Licensing Law Art. 32): every missing material, once."""
    items = list(items)
    sheet = _Sheet("材料补正一次性告知书")
    sheet.text(f"{applicant_name or '申请人'}：")
    names = "、".join(f"“{getattr(i, 'name', i)}”" for i in items) or "所申请事项"
    sheet.text(f"您申请办理的{names}，经审查，申请材料尚不齐全。根据《中华人民共和国行政许可法》"
               "第三十二条，现一次性告知您需要补齐的全部材料如下：", indent=0)
    sheet.gap(2 * mm)
    for n, label in enumerate(missing, start=1):
        sheet.text(f"{n}. {label}", indent=6 * mm)
    sheet.gap(2 * mm)
    sheet.text("以上为全部需补齐的材料，不会再要求您补充本告知书以外的材料。材料齐全后，"
               "可到任一综合窗口或在网上办事大厅提交。")
    sheet.gap()
    sheet.row("告知人", _person_name(clerk))
    sheet.row("告知日期", zh_date(timezone.localdate()))
    return sheet.finish()


def supplement_notice_pdf(supplement_request: Any) -> bytes:
    """补正通知书: the back office's supplement request, with its due date; the clock is paused."""
    req = supplement_request
    case = req.case
    sheet = _Sheet("补正材料通知书")
    sheet.text(f"{case.applicant_name}（{case.applicant_masked}）：")
    sheet.text(f"您于 {zh_date(case.accepted_at)} 申请办理的“{case.item.name}”（办件编号 {case.number}），"
               f"经{case.department.name}审查，需补正以下材料（一次性告知）：")
    sheet.gap(2 * mm)
    for n, label in enumerate(req.items, start=1):
        sheet.text(f"{n}. {label}", indent=6 * mm)
    if req.reason:
        sheet.gap(2 * mm)
        sheet.row("补正理由", req.reason)
    sheet.gap(2 * mm)
    sheet.text(f"请于 {zh_date(req.due)} 前补正。补正期间办理时限暂停计算，补正后恢复计时；"
               "逾期未补正的，需重新申请。")
    sheet.gap()
    sheet.row("通知部门", case.department.name)
    sheet.row("经办人", _person_name(req.requested_by))
    sheet.row("通知日期", zh_date(req.requested_at))
    sheet.need(QR_SIZE + 8 * mm)
    sheet.qr(track_url(case.number), "扫码查询办理进度")
    return sheet.finish()
