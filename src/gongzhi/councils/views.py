"""Pages of the live meeting room: the member's phone view, the moderator's console, the hall's
projector, the meeting list, and the minutes (public once approved, with PDF and Word copies).

The room pages render the state once on the server (so the first paint needs no round trip and
the console's buttons are right even before the socket opens) and hand it to ``room.js`` as a
JSON data block; from then on the websocket keeps the page current. Every button the console
shows comes from the state's ``legal`` list, which the engine itself checked.

Views parse input, read through ``queries`` (``access_*`` raise 404 outside one's scope) and
write through ``actions``; an action's error is shown as a message and nothing is stored.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ActionError
from gongzhi.councils import actions, queries
from gongzhi.councils.enums import MeetingStatus, MinutesStatus
from gongzhi.councils.labels import METHOD_NAMES, MOTION_NAMES, STATUS_NAMES
from gongzhi.councils.room import state_message
from procedure import MOTIONS

# Labels of the action codes in ``legal`` (see room.legal_for); room.js reads them from
# the page, so every word on a button goes through gettext like the rest of the interface.
ACTION_LABELS: dict[str, Any] = {
    "arrive": _("签到（我已到场）"),
    "leave": _("离场（退出会场）"),
    "request_floor": _("举手申请发言"),
    "request_floor:pro": _("举手：赞成方"),
    "request_floor:con": _("举手：反对方"),
    "speak": _("开始发言"),
    "speak:pro": _("开始发言（赞成）"),
    "speak:con": _("开始发言（反对）"),
    "yield_floor": _("结束发言"),
    "second": _("附议"),
    "withdraw": _("撤回我的动议"),
    "cast_vote:aye": _("✓ 投赞成票"),
    "cast_vote:no": _("✗ 投反对票"),
    "cast_vote:abstain": _("弃权"),
    "call_to_order": _("宣布继续开会"),
    "state_question": _("复述议题（进入审议）"),
    "no_second": _("宣布无人附议"),
    "rule:true": _("裁定：秩序问题成立"),
    "rule:false": _("裁定：秩序问题不成立"),
    "announce_result": _("宣布表决结果"),
    "declare_adjourned": _("宣布散会"),
    "call_vote:show_of_hands": _("付诸表决：举手"),
    "call_vote:roll_call": _("付诸表决：唱名"),
    "call_vote:secret_ballot": _("付诸表决：无记名投票"),
    "cut_off:overrun": _("制止发言：超时"),
    "cut_off:off_topic": _("制止发言：跑题"),
    "cut_off:personal_attack": _("制止发言：人身攻击"),
    "recognize": _("准许发言："),
    "move": _("提出动议"),
    "take_up_item": _("进入下一项议程"),
    # Greyed-out buttons (room.js GREY_*): the action, not a particular choice.
    "call_vote": _("付诸表决"),
}
# The console recording for a member who has no phone: the button names the act, not "I".
PROXY_LABELS: dict[str, Any] = {
    "arrive": _("记为到场"),
    "leave": _("记为离场"),
    "request_floor": _("记录举手"),
    "speak": _("记录开始发言"),
    "speak:pro": _("记录开始发言（赞成）"),
    "speak:con": _("记录开始发言（反对）"),
    "yield_floor": _("记录发言结束"),
    "second": _("记录附议"),
    "cast_vote:aye": _("记录赞成票"),
    "cast_vote:no": _("记录反对票"),
    "cast_vote:abstain": _("记录弃权"),
}
TEXT_LABELS: dict[str, Any] = {
    "session": {"not_started": _("未开始"), "in_session": _("会议进行中"), "recess": _("休会中"),
                "adjourned": _("已散会")},
    "stance": {"pro": _("赞成方"), "con": _("反对方"), "neutral": _("中立")},
    "connected": _("已连接，实时更新"),
    "connecting": _("正在连接……"),
    "offline": _("连接中断，正在重试……"),
    "denied": _("无法进入会议室：请重新登录或确认你有权参加本次会议。"),
    "nobody": _("暂无"),
    "floor_none": _("目前无人发言"),
    "speaking": _("正在发言"),
    "has_floor": _("已获准发言"),
    "remaining": _("剩余"),
    "overrun": _("已超时"),
    "seconds": _("秒"),
    "voted": _("已投票"),
    "of_present": _("出席"),
    "adopted": _("通过"),
    "lost": _("未通过"),
    "ayes": _("赞成"),
    "noes": _("反对"),
    "abstentions": _("弃权"),
    "quorum_ok": _("已达法定人数"),
    "quorum_no": _("未达法定人数"),
    "you_voted": _("你已投票，等待主持人宣布结果。"),
    "motion_text": _("动议内容"),
    "motion_kind": _("动议类型"),
    "motion_submit": _("提出"),
    "on_behalf": _("代为记录"),
    "minute_left": _("发言剩余 1 分钟"),
    "thirty_left": _("发言剩余 30 秒"),
    "time_up": _("发言时间已到"),
    "sent": _("已提交"),
    "chair": _("主持人"),
    "member": _("成员"),
    "no_actions": _("目前没有你可以进行的操作。"),
    "motion_kinds": {k.value: MOTION_NAMES.get(k.value, spec.name_zh) for k, spec in MOTIONS.items()},
    "status": STATUS_NAMES,
    "methods": METHOD_NAMES,
    "attendance_later": _("会议开始后签到"),
    "quorum_needed": _("法定人数"),
    "not_started_yet": _("会议尚未开始。主持人宣布开会后，本页会自动显示你可以进行的操作，无需刷新。"),
    "not_member": _("你不是本次会议的表决成员，只能旁听。"),
    "no_agenda": _("本次会议没有列出议程。"),
    "current_item": _("当前议程"),
    "item_done": _("已审议"),
    "queue_empty": _("目前没有人等候发言。"),
    "stack_empty": _("目前没有待决的动议。"),
    "no_ballot": _("目前没有进行中的表决。"),
    "off_agenda": _("提示：此动议与当前议程「%s」看不出关联，请主持人确认是否在本议程下审议。"),
    "no_current_item": _("提示：议程已全部审议完毕，此动议不在议程上，请主持人确认。"),
    "mover": _("动议人"),
    "seconder": _("附议人"),
    "confirm_adjourn": _("确定要宣布散会吗？散会后本次会议不能再进行任何操作。"),
    "confirm_adjourn_yes": _("确定散会"),
    "cancel": _("取消"),
    "applies_to": _("针对："),
    "quorum_lost_banner": _("未达法定人数（出席 %(present)s，需 %(needed)s）：现在只能动议散会、休会或确定续会时间，其他事项不能表决。"),
    "quorum_lost_now": _("出席人数已不足法定人数。"),
    "quorum_regained": _("已恢复法定人数，会议可以继续表决。"),
    "vote_void": _("表决无效"),
    "vote_void_why": _("表决期间出席人数不足法定人数，不宣布结果；该议题重新待决，可在恢复法定人数后再付表决。"),
    "why_loading": _("正在查询原因……"),
    "greyed_hint": _("现在没有可进行的操作；灰色按钮点按可查看原因。"),
    "why_legal_now": _("现在已经可以进行，请稍候按钮更新。"),
    "why_unknown": _("现在不能进行。"),
}


def ws_url(request: HttpRequest, meeting_id: int, view: str = "") -> str:
    """Where the page's websocket connects.

    Under ``gongzhi run`` HTTP (granian) and websockets (daphne) listen on neighbouring ports and
    ``GONGZHI_WS_PORT`` names the second; behind a reverse proxy, or with one ASGI server (the
    tests), it is unset and the socket goes to the page's own host and port. The session cookie is
    sent either way: cookies are scoped by host, not port.
    """
    scheme = "wss" if request.is_secure() else "ws"
    host = request.get_host()
    port = str(getattr(settings, "GONGZHI_WS_PORT", "") or os.environ.get("GONGZHI_WS_PORT", ""))
    if port:
        name = host if host.endswith("]") else host.rsplit(":", 1)[0] if ":" in host else host
        host = f"{name}:{port}"
    query = f"?view={view}" if view else ""
    return f"{scheme}://{host}/ws/meetings/{meeting_id}/{query}"


def _room_context(request: HttpRequest, meeting: Any, mode: str) -> dict[str, Any]:
    message = state_message(meeting, request.user, projector=mode == "projector")
    meeting.refresh_from_db()
    public, you, roster = message["state"], message["you"], message["roster"]
    initial = {"type": "state", **message}
    return {
        "meeting": meeting,
        "mode": mode,
        "initial": initial,
        "state": public,
        "you": you,
        "roster": roster,
        "labels": {"actions": ACTION_LABELS, "text": TEXT_LABELS, "proxy": PROXY_LABELS},
        "ws_url": ws_url(request, meeting.pk, "projector" if mode == "projector" else ""),
        "runs": you.get("moderator", False),
        "agenda": list(meeting.agenda.all()),
        "has_minutes": hasattr(meeting, "minutes"),
        "action_buttons": _buttons(you.get("legal", []), roster),
    }


def _buttons(legal: list[str], roster: dict[str, str]) -> list[dict[str, str]]:
    """The server-rendered first set of action buttons (room.js renders the same from then on)."""
    out = []
    for code in legal:
        if code.startswith("move:"):
            continue  # motions are made through the motion form
        head, _sep, arg = code.partition(":")
        if head == "recognize":
            label = f"{ACTION_LABELS['recognize']}{roster.get(arg, arg)}"
        elif head == "take_up_item":
            label = str(ACTION_LABELS["take_up_item"])
        else:
            label = str(ACTION_LABELS.get(code, code))
        out.append({"code": code, "label": label})
    return out


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = list(queries.meetings_for_user(request.user).select_related("council")[:100])
    rows = [{"meeting": m, "runs": actions.runs_meeting(m, request.user)} for m in meetings]
    return render(request, "councils/meeting_list.html", {"rows": rows, "statuses": MeetingStatus})


@login_required
def meeting_room(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = queries.access_meeting(request.user, meeting_id)
    return render(request, "councils/room.html", _room_context(request, meeting, "member"))


@login_required
def moderator_console(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = queries.access_meeting(request.user, meeting_id)
    if not actions.runs_meeting(meeting, request.user):
        raise Http404("只有本次会议的主持人或记录员可以使用主持台")
    if request.method == "POST":
        try:
            if request.POST.get("op") == "start":
                actions.do_start_meeting(meeting, actor=request.user)
                messages.success(request, _("会议已开始。"))
            elif request.POST.get("op") == "box":
                actions.do_record_ballot_box(meeting, ayes=request.POST.get("ayes"), noes=request.POST.get("noes"),
                                             abstentions=request.POST.get("abstentions"), actor=request.user)
                messages.success(request, _("票箱清点结果已录入。"))
            elif request.POST.get("op") == "minutes":
                if queries.minutes_of(meeting) is None:
                    actions.do_generate_minutes(meeting, actor=request.user)
                return redirect("councils:minutes_detail", meeting_id=meeting.pk)
        except ActionError as exc:
            messages.error(request, exc.message)
        return redirect("councils:moderator_console", meeting_id=meeting.pk)
    return render(request, "councils/console.html", _room_context(request, meeting, "console"))


@login_required
def projector(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = queries.access_meeting(request.user, meeting_id)
    return render(request, "councils/projector.html", _room_context(request, meeting, "projector"))


def _minutes_context(minutes: Any, user: Any = None) -> dict[str, Any]:
    from gongzhi.councils.minutes import minutes_outline

    # minutes_doc.html reads ``outline`` (the rendering shared with the PDF and Word copies).
    # ``approvals``: exactly the approvals the server will accept from this user (one rule).
    return {"minutes": minutes, "outline": minutes_outline(minutes), "meeting": minutes.meeting,
            "approved": minutes.status == MinutesStatus.APPROVED,
            "approvals": actions.minutes_approvals_open(minutes, user) if user is not None else []}


def minutes_index(request: HttpRequest) -> HttpResponse:
    """Every published set of minutes, newest first: public, no login (居民议事 is open government)."""
    rows = list(queries.public_minutes()[:200])
    return render(request, "councils/minutes_index.html", {"rows": rows})


def public_minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Approved minutes, open to everyone (居民议事 is open government); drafts are 404 here."""
    minutes = queries.public_minutes().filter(meeting_id=meeting_id).first()
    if minutes is None:
        raise Http404("该会议尚无公开的纪要")
    return render(request, "councils/minutes.html", {**_minutes_context(minutes), "public": True})


@login_required
def minutes_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The minutes of a meeting; before they exist, what stands in their place (never a 404 for
    someone who may follow the meeting): not yet adjourned, or not yet generated — with the
    button to generate them for those who may."""
    minutes = queries.public_minutes().filter(meeting_id=meeting_id).first()
    if minutes is None:
        meeting = queries.access_meeting(request.user, meeting_id)
        minutes = queries.minutes_of(meeting)
        if minutes is None:
            return _minutes_pending(request, meeting)
    if request.method == "POST":
        try:
            if request.POST.get("op") == "generate":
                actions.do_generate_minutes(minutes.meeting, actor=request.user)
                messages.success(request, _("纪要已重新生成。"))
            else:
                actions.do_approve_minutes(minutes, actor=request.user, as_role=request.POST.get("as_role", "chair"))
                messages.success(request, _("已批准。"))
        except ActionError as exc:
            messages.error(request, exc.message)
        return redirect("councils:minutes_detail", meeting_id=meeting_id)
    return render(request, "councils/minutes.html", {**_minutes_context(minutes, request.user), "public": False})


def _minutes_pending(request: HttpRequest, meeting: Any) -> HttpResponse:
    may_generate = meeting.status == MeetingStatus.ADJOURNED and actions.may_generate_minutes(meeting, request.user)
    if request.method == "POST" and request.POST.get("op") == "generate":
        try:
            actions.do_generate_minutes(meeting, actor=request.user)
            messages.success(request, _("纪要已生成，请主持人和记录员审阅批准。"))
        except ActionError as exc:
            messages.error(request, exc.message)
        return redirect("councils:minutes_detail", meeting_id=meeting.pk)
    return render(request, "councils/minutes_pending.html",
                  {"meeting": meeting, "may_generate": may_generate,
                   "adjourned": meeting.status == MeetingStatus.ADJOURNED})


def _minutes_for_download(request: HttpRequest, meeting_id: int) -> Any:
    # Published minutes are public; a draft only for those who may see the meeting (access_minutes).
    minutes = queries.public_minutes().filter(meeting_id=meeting_id).first()
    if minutes is None:
        if not request.user.is_authenticated:
            raise Http404("该会议尚无公开的纪要")
        minutes = queries.access_minutes(request.user, meeting_id)
    return minutes


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def minutes_pdf(request: HttpRequest, meeting_id: int) -> HttpResponse:
    from gongzhi.councils import minutes as render_minutes

    minutes = _minutes_for_download(request, meeting_id)
    return _download(render_minutes.render_minutes_pdf(minutes), "application/pdf", f"minutes-{meeting_id}.pdf")


def minutes_docx(request: HttpRequest, meeting_id: int) -> HttpResponse:
    from gongzhi.councils import minutes as render_minutes

    minutes = _minutes_for_download(request, meeting_id)
    return _download(render_minutes.render_minutes_docx(minutes),
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     f"minutes-{meeting_id}.docx")
