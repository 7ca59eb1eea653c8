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

from gongzhi.councils.models import Minutes

STATUS_ZH = {
    "proposed": "已提出", "pending": "待决", "voting": "表决中", "adopted": "通过", "lost": "未通过",
    "ruled": "已裁定", "withdrawn": "已撤回", "not_seconded": "无人附议", "tabled": "暂时搁置",
    "postponed": "已推迟", "committed": "已付委", "killed": "无限期推迟", "not_considered": "不予审议",
    "divided": "已分拆", "rescinded": "已撤销", "queued": "待审议",
}
METHOD_ZH = {"show_of_hands": "举手表决", "roll_call": "记名表决", "secret_ballot": "无记名投票"}
STANCE_ZH = {"pro": "赞成", "con": "反对", "neutral": "中立", None: "—"}
CUT_ZH = {"overrun": "超时被打断", "off_topic": "离题被制止", "personal_attack": "人身攻击被制止"}
CHOICE_ZH = {"aye": "赞成", "no": "反对", "abstain": "弃权"}
THRESHOLD_ZH = {
    "majority": "过半数", "two_thirds": "三分之二", "majority_of_membership": "全体成员过半数",
    "majority_present": "出席者过半数", "rescind_without_notice": "三分之二或全体过半数",
    "sustain_chair": "维持裁定", "two_thirds_against": "三分之二反对审议",
}


def _t(value: str | None) -> str:
    if not value:
        return "—"
    dt = datetime.fromisoformat(value)
    return timezone.localtime(dt).strftime("%Y年%m月%d日 %H:%M")


def _hm(value: str | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%H:%M:%S")


def minutes_outline(minutes: Minutes) -> dict[str, Any]:
    c = minutes.content or {}
    head = c.get("meeting", {})
    rec = c.get("record", {})
    names: dict[str, str] = c.get("names", {})

    def n(member: str | None) -> str:
        return names.get(member or "", member or "—")

    weighted = bool(head.get("weighted"))
    sections: list[dict[str, Any]] = []
    chairs = "、".join(f"{n(ch)}（{_hm(at)}起）" for ch, at in rec.get("chairs", []))
    sections.append({"heading": "会议概况", "paras": [
        f"议事会：{head.get('council', '')}（{head.get('place', '')}）",
        f"地点：{head.get('location') or '—'}",
        f"开会：{_t(rec.get('called_to_order_at'))}；散会：{_t(rec.get('adjourned_at'))}",
        f"主持：{chairs or '—'}",
        f"议事规则：{rec.get('profile', '')}；法定人数：{rec.get('quorum_needed')}"
        f"（全体{'股份' if weighted else '成员'} {rec.get('membership_weight')}）",
    ] + ([f"议程：{'；'.join(c.get('agenda', []))}"] if c.get("agenda") else []), "table": None})
    rows = []
    for a in rec.get("attendance", []):
        spans = "；".join(f"{_hm(s[0])}–{_hm(s[1]) if s[1] else '散会'}" for s in a.get("spans", []))
        rows.append([n(a["member"]), str(a.get("weight", 1)), spans])
    sections.append({"heading": "出席情况", "paras": [f"出席 {len(rows)} 人。"],
                     "table": {"head": ["成员", "股份" if weighted else "表决权", "到会/离会"], "rows": rows}})
    for m in rec.get("motions", []):
        if m["kind"] in ("point_of_order", "question_of_privilege", "orders_of_the_day"):
            continue  # reported under rulings
        paras = [
            f"动议人：{n(m['mover'])}；附议人：{n(m.get('seconder')) if m.get('seconder') else '—'}；"
            f"提出：{_hm(m['made_at'])}；结果：{STATUS_ZH.get(m['status'], m['status'])}",
        ]
        if m.get("applies_to"):
            paras.append(f"针对：{m['applies_to']}")
        if m.get("original_text") and m["original_text"] != m["text"]:
            paras.append(f"原文：{m['original_text']}")
        if m.get("amendments"):
            paras.append(f"修正动议：{'、'.join(m['amendments'])}")
        if m.get("parts"):
            paras.append(f"分拆为：{'；'.join(m['parts'])}")
        if m.get("postponed_to"):
            paras.append(f"推迟/付委至：{m['postponed_to']}")
        for v in m.get("votes", []):
            r = v["result"]
            counts = (f"赞成 {r['ayes']} 人（{r['ayes_weight']} 股）、反对 {r['noes']} 人（{r['noes_weight']} 股）"
                      if weighted else f"赞成 {r['ayes']}、反对 {r['noes']}")
            if r.get("abstentions"):
                counts += f"、弃权 {r['abstentions']}"
            line = (f"{METHOD_ZH.get(v['method'], v['method'])}（{THRESHOLD_ZH.get(r['threshold'], r['threshold'])}）："
                    f"{counts}；{'通过' if r['adopted'] else '未通过'}")
            if v.get("superseded"):
                line += "（经要求重新清点，本次结果作废）"
            paras.append(line)
            if v.get("roll"):
                paras.append("记名：" + "；".join(f"{n(mid)} {CHOICE_ZH.get(ch, ch)}" for mid, ch in v["roll"]))
            elif v["method"] == "secret_ballot":
                paras.append(f"无记名投票：只记录总数，投票人 {len(v.get('voters', []))} 人。")
        speech_rows = [
            [n(s["member"]), STANCE_ZH.get(s.get("stance"), "—"), str(s["number"]), _hm(s["started"]),
             f"{round(s['seconds'])} 秒" if s.get("seconds") is not None else "—",
             CUT_ZH.get(s.get("cut_off") or "", "被动议打断" if s.get("interrupted") else "")]
            for s in m.get("speeches", [])
        ]
        sections.append({
            "heading": f"{m['id']} {m['name_zh']}：{m['text'] or '—'}",
            "paras": paras,
            "table": {"head": ["发言人", "立场", "第几次", "开始", "用时", "备注"], "rows": speech_rows}
            if speech_rows else None,
        })
    ruling_rows = []
    for r in rec.get("rulings", []):
        wt = r.get("well_taken")
        decision = "成立" if wt else ("不成立" if wt is False else "未裁定")
        appeal = "—"
        if r.get("appeals"):
            appeal = "申诉后推翻" if r.get("overruled") else ("申诉后维持" if r.get("overruled") is False else "已申诉")
        ruling_rows.append([n(r["raised_by"]), _hm(r["raised_at"]), r.get("text") or "—", decision,
                            r.get("ruling_text") or "—", appeal])
    if ruling_rows:
        sections.append({"heading": "秩序问题与主持人裁定", "paras": [],
                         "table": {"head": ["提出人", "时间", "问题", "裁定", "理由", "申诉"], "rows": ruling_rows}})
    closing = [f"散会：{_t(rec.get('adjourned_at'))}"]
    if rec.get("adjourned_to"):
        closing.append(f"续会时间：{rec['adjourned_to']}")
    if rec.get("unfinished"):
        closing.append(f"未决事项：{'、'.join(rec['unfinished'])}")
    if rec.get("tabled"):
        closing.append(f"搁置事项：{'、'.join(rec['tabled'])}")
    sections.append({"heading": "散会", "paras": closing, "table": None})
    approval = [
        f"主持人批准：{_t(minutes.chair_approved_at.isoformat()) if minutes.chair_approved_at else '未批准'}",
        f"记录员批准：{_t(minutes.secretary_approved_at.isoformat()) if minutes.secretary_approved_at else '未批准'}",
        f"公开时间：{_t(minutes.published_at.isoformat()) if minutes.published_at else '未公开（草稿）'}",
        f"内容摘要（SHA-256）：{minutes.digest}",
    ]
    return {"title": f"{head.get('title', '')} 会议纪要", "subtitle": head.get("council", ""),
            "sections": sections, "approval": approval, "digest": minutes.digest,
            "published": minutes.published_at is not None}


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
    story.append(Paragraph("审批与存证", h2))
    story.extend(Paragraph(esc(p), body) for p in doc["approval"])
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
    d.add_heading("审批与存证", level=2)
    for p in doc["approval"]:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# Names the meeting-room views call.
minutes_pdf = render_minutes_pdf
minutes_docx = render_minutes_docx
minutes_html = render_minutes_html
