"""Rendering minutes: one document outline, three outputs (HTML, PDF, Word).

``minutes_outline`` turns ``Minutes.content`` (the engine's minutes of the replayed log plus the
meeting's header) into headings, paragraphs and tables in Chinese. The HTML template
(``councils/minutes_doc.html``), the PDF (reportlab, CID font ``STSong-Light`` as for the
service-hall receipts: no font file, works offline) and the .docx (python-docx) all render that
outline, so the three can never say different things. Secret ballots appear as totals only —
the content never held more.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gongzhi.councils.labels import (
    CHOICE_NAMES,
    CUT_NAMES,
    METHOD_NAMES,
    MOTION_NAMES,
    STANCE_NAMES,
    STATUS_NAMES,
    THRESHOLD_NAMES,
    name_of,
)
from gongzhi.councils.models import Minutes, RuleProfileRecord


def _t(value: str | None) -> str:
    if not value:
        return "—"
    dt = datetime.fromisoformat(value)
    return date_format(timezone.localtime(dt), "DATETIME_FORMAT")


def _hm(value: str | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%H:%M:%S")


def _profile_name(content: dict[str, Any]) -> str:
    """The rules' display name (罗湖议事规则…), never the key they are filed under."""
    profile = content.get("profile") or {}
    key = str(profile.get("name", ""))
    if content.get("profile_name"):
        return str(content["profile_name"])
    name = RuleProfileRecord.objects.filter(key=key).values_list("name", flat=True).first() if key else None
    return str(name or key or "—")


def minutes_outline(minutes: Minutes) -> dict[str, Any]:
    """The minutes as headings, paragraphs and tables, in the reader's language (gettext)."""
    c = minutes.content or {}
    head = c.get("meeting", {})
    rec = c.get("record", {})
    names: dict[str, str] = c.get("names", {})

    def n(member: str | None) -> str:
        return names.get(member or "", member or "—")

    sep = _("、")
    # Motions are referred to by kind and wording, never by the engine's ids (m13).
    titles = {m["id"]: f"{name_of(MOTION_NAMES, m['kind'])}「{m['text'] or '—'}」" for m in rec.get("motions", [])}

    # A decision of an earlier meeting (rescinded or amended here) by its wording and meeting.
    prior: dict[str, str] = c.get("prior") or {}

    def title(i: str) -> str:
        if i in titles:
            return titles[i]
        if i in prior or i.startswith("mtg"):
            return _("先前会议的决议%(what)s") % {"what": prior.get(i, "")}
        return i

    def t(ids: Any) -> str:
        return sep.join(title(i) for i in ids)

    weighted = bool(head.get("weighted"))
    sections: list[dict[str, Any]] = []
    chairs = sep.join(_("%(name)s（%(time)s起）") % {"name": n(ch), "time": _hm(at)} for ch, at in rec.get("chairs", []))
    overview = [
        _("议事会：%(council)s（%(place)s）") % {"council": head.get("council", ""), "place": head.get("place", "")},
        _("地点：%(location)s") % {"location": head.get("location") or "—"},
        _("开会：%(start)s；散会：%(end)s") % {"start": _t(rec.get("called_to_order_at")), "end": _t(rec.get("adjourned_at"))},
        _("主持：%(chairs)s") % {"chairs": chairs or "—"},
        (_("议事规则：%(rules)s；法定人数：%(quorum)s（全体股份 %(total)s）") if weighted else
         _("议事规则：%(rules)s；法定人数：%(quorum)s（全体成员 %(total)s）"))
        % {"rules": _profile_name(c), "quorum": rec.get("quorum_needed"), "total": rec.get("membership_weight")},
    ]
    if c.get("agenda"):
        overview.append(_("议程：%(items)s") % {"items": _("；").join(c.get("agenda", []))})
    sections.append({"heading": _("会议概况"), "paras": overview, "table": None})
    rows = []
    for a in rec.get("attendance", []):
        spans = _("；").join(f"{_hm(s[0])}–{_hm(s[1]) if s[1] else _('散会')}" for s in a.get("spans", []))
        rows.append([n(a["member"]), str(a.get("weight", 1)), spans])
    sections.append({"heading": _("出席情况"), "paras": [_("出席 %(count)s 人。") % {"count": len(rows)}],
                     "table": {"head": [_("成员"), _("股份") if weighted else _("表决权"), _("到会/离会")], "rows": rows}})
    for m in rec.get("motions", []):
        if m["kind"] in ("point_of_order", "question_of_privilege", "orders_of_the_day"):
            continue  # reported under rulings
        paras = [
            _("动议人：%(mover)s；附议人：%(seconder)s；提出：%(at)s；结果：%(status)s") % {
                "mover": n(m["mover"]), "seconder": n(m.get("seconder")) if m.get("seconder") else "—",
                "at": _hm(m["made_at"]), "status": name_of(STATUS_NAMES, m["status"])},
        ]
        if m.get("applies_to"):
            paras.append(_("针对：%(what)s") % {"what": t([m["applies_to"]])})
        if m.get("original_text") and m["original_text"] != m["text"]:
            paras.append(_("原文：%(text)s") % {"text": m["original_text"]})
        if m.get("amendments"):
            paras.append(_("修正动议：%(list)s") % {"list": t(m["amendments"])})
        if m.get("parts"):
            paras.append(_("分拆为：%(list)s") % {"list": _("；").join(m["parts"])})
        if m.get("postponed_to"):
            paras.append(_("推迟/付委至：%(when)s") % {"when": m["postponed_to"]})
        for v in m.get("votes", []):
            r = v["result"]
            if weighted:
                counts = _("赞成 %(ayes)s 人（%(ayes_w)s 股）、反对 %(noes)s 人（%(noes_w)s 股）") % {
                    "ayes": r["ayes"], "ayes_w": r["ayes_weight"], "noes": r["noes"], "noes_w": r["noes_weight"]}
            else:
                counts = _("赞成 %(ayes)s、反对 %(noes)s") % {"ayes": r["ayes"], "noes": r["noes"]}
            if r.get("abstentions"):
                counts += sep + _("弃权 %(n)s") % {"n": r["abstentions"]}
            line = _("%(method)s（%(threshold)s）：%(counts)s；%(outcome)s") % {
                "method": name_of(METHOD_NAMES, v["method"]), "threshold": name_of(THRESHOLD_NAMES, r["threshold"]),
                "counts": counts, "outcome": _("通过") if r["adopted"] else _("未通过")}
            if v.get("void"):
                # Counted, but nothing decided: the quorum failed while the vote was open.
                line = _("%(method)s：表决期间出席人数不足法定人数，表决无效，未宣布结果（已投 %(counts)s）") % {
                    "method": name_of(METHOD_NAMES, v["method"]), "counts": counts}
            if v.get("superseded"):
                line += _("（经要求重新清点，本次结果作废）")
            paras.append(line)
            if v.get("roll"):
                paras.append(_("记名：%(list)s") % {"list": _("；").join(
                    f"{n(mid)} {name_of(CHOICE_NAMES, ch)}" for mid, ch in v["roll"])})
            elif v["method"] == "secret_ballot":
                paras.append(_("无记名投票：只记录总数，投票人 %(n)s 人。") % {"n": len(v.get("voters", []))})
        speech_rows = [
            [n(s["member"]), name_of(STANCE_NAMES, s.get("stance")), str(s["number"]), _hm(s["started"]),
             _("%(n)s 秒") % {"n": round(s["seconds"])} if s.get("seconds") is not None else "—",
             str(CUT_NAMES.get(s.get("cut_off") or "", _("被动议打断") if s.get("interrupted") else ""))]
            for s in m.get("speeches", [])
        ]
        sections.append({
            # Readers see the motion's kind in words; the engine's ids (m13) are no one's business.
            "heading": _("%(kind)s：%(text)s") % {"kind": name_of(MOTION_NAMES, m["kind"]), "text": m["text"] or "—"},
            "paras": paras,
            "table": {"head": [_("发言人"), _("立场"), _("第几次"), _("开始"), _("用时"), _("备注")], "rows": speech_rows}
            if speech_rows else None,
        })
    ruling_rows = []
    for r in rec.get("rulings", []):
        wt = r.get("well_taken")
        decision = _("成立") if wt else (_("不成立") if wt is False else _("未裁定"))
        appeal = "—"
        if r.get("appeals"):
            appeal = (_("申诉后推翻") if r.get("overruled") else
                      (_("申诉后维持") if r.get("overruled") is False else _("已申诉")))
        ruling_rows.append([n(r["raised_by"]), _hm(r["raised_at"]), r.get("text") or "—", decision,
                            r.get("ruling_text") or "—", appeal])
    if ruling_rows:
        sections.append({"heading": _("秩序问题与主持人裁定"), "paras": [],
                         "table": {"head": [_("提出人"), _("时间"), _("问题"), _("裁定"), _("理由"), _("申诉")],
                                   "rows": ruling_rows}})
    closing = [_("散会：%(at)s") % {"at": _t(rec.get("adjourned_at"))}]
    if rec.get("adjourned_to"):
        closing.append(_("续会时间：%(when)s") % {"when": rec["adjourned_to"]})
    if rec.get("unfinished"):
        closing.append(_("未决事项：%(list)s") % {"list": t(rec["unfinished"])})
    if rec.get("tabled"):
        closing.append(_("搁置事项：%(list)s") % {"list": t(rec["tabled"])})
    sections.append({"heading": _("散会"), "paras": closing, "table": None})
    approval = [
        (_("主持人批准"), _t(minutes.chair_approved_at.isoformat()) if minutes.chair_approved_at else _("未批准")),
        (_("记录员批准"), _t(minutes.secretary_approved_at.isoformat()) if minutes.secretary_approved_at else _("未批准")),
        (_("公开时间"), _t(minutes.published_at.isoformat()) if minutes.published_at else _("未公开（草稿）")),
        (_("内容摘要（SHA-256）"), minutes.digest),
    ]
    return {"title": _("%(title)s 会议纪要") % {"title": head.get("title", "")}, "subtitle": head.get("council", ""),
            "sections": sections, "approval": approval, "digest": minutes.digest,
            "published": minutes.published_at is not None, "approval_heading": _("审批与存证")}


# ------------------------------------------------------------------------------------- HTML


def render_minutes_html(minutes: Minutes) -> str:
    """The minutes as an HTML fragment (include ``councils/minutes_doc.html`` in a page)."""
    return render_to_string("councils/minutes_doc.html", {"minutes": minutes, "outline": minutes_outline(minutes)})


# -------------------------------------------------------------------------------------- PDF


def render_minutes_pdf(minutes: Minutes) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from reportlab.platypus.flowables import Flowable

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    doc = minutes_outline(minutes)
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=4 * mm)
    h2 = ParagraphStyle("h", fontName=font, fontSize=12, leading=17, spaceBefore=4 * mm, spaceAfter=2 * mm)
    body = ParagraphStyle("b", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    cell = ParagraphStyle("c", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK")

    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    story: list[Flowable] = [Paragraph(esc(doc["title"]), title), Paragraph(esc(doc["subtitle"]), body)]
    for sec in doc["sections"]:
        story.append(Paragraph(esc(sec["heading"]), h2))
        story.extend(Paragraph(esc(p), body) for p in sec["paras"])
        if sec["table"] and sec["table"]["rows"]:
            data = [[Paragraph(esc(c), cell) for c in sec["table"]["head"]]]
            data += [[Paragraph(esc(c), cell) for c in row] for row in sec["table"]["rows"]]
            t = Table(data, repeatRows=1, hAlign="LEFT")
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(Spacer(1, 2 * mm))
            story.append(t)
    story.append(Paragraph(esc(doc["approval_heading"]), h2))
    story.extend(Paragraph(esc(f"{label}：{value}"), body) for label, value in doc["approval"])
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                      bottomMargin=18 * mm, title=doc["title"], author="共治").build(story)
    return buf.getvalue()


# ------------------------------------------------------------------------------------- Word


def render_minutes_docx(minutes: Minutes) -> bytes:
    import docx
    from docx.oxml.ns import qn

    doc = minutes_outline(minutes)
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "SimSun"
    # East Asian text takes its font from w:eastAsia, not from the Latin font name.
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    d.core_properties.title = doc["title"]
    d.add_heading(doc["title"], level=0)
    d.add_paragraph(doc["subtitle"])
    for sec in doc["sections"]:
        d.add_heading(sec["heading"], level=2)
        for p in sec["paras"]:
            d.add_paragraph(p)
        if sec["table"] and sec["table"]["rows"]:
            table = d.add_table(rows=1, cols=len(sec["table"]["head"]))
            table.style = "Table Grid"
            for i, h in enumerate(sec["table"]["head"]):
                table.rows[0].cells[i].text = h
            for row in sec["table"]["rows"]:
                cells = table.add_row().cells
                for i, value in enumerate(row):
                    cells[i].text = value
    d.add_heading(doc["approval_heading"], level=2)
    for label, value in doc["approval"]:
        d.add_paragraph(f"{label}：{value}")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# Names the meeting-room views call.
minutes_pdf = render_minutes_pdf
minutes_docx = render_minutes_docx
minutes_html = render_minutes_html
