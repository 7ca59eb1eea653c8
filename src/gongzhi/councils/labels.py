"""Words for the rules engine's codes, in the reader's language (gettext, lazily).

The engine (``procedure``) speaks in codes — ``main``, ``adopted``, ``secret_ballot`` — and the
room's pages, the projector and the minutes show them to people: every such word is here, once,
so a code never reaches a screen or a published record raw.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MOTION_NAMES: dict[str, Any] = {
    "fix_time_to_adjourn": _("确定续会时间"),
    "adjourn": _("散会"),
    "recess": _("休会"),
    "question_of_privilege": _("权益问题"),
    "orders_of_the_day": _("要求按议程进行"),
    "lay_on_the_table": _("暂时搁置"),
    "previous_question": _("停止辩论立即表决"),
    "limit_debate": _("限制或延长辩论"),
    "postpone_to_certain_time": _("推迟到指定时间"),
    "commit": _("付委"),
    "amend": _("修正"),
    "postpone_indefinitely": _("无限期推迟"),
    "main": _("主动议"),
    "point_of_order": _("秩序问题"),
    "appeal": _("申诉"),
    "suspend_rules": _("暂停规则"),
    "objection_to_consideration": _("反对审议"),
    "division_of_question": _("分拆议题"),
    "division_of_assembly": _("要求重新清点表决"),
    "take_from_table": _("恢复审议搁置议题"),
    "rescind": _("撤销已通过的决议"),
    "reconsider": _("复议"),
}

STATUS_NAMES: dict[str, Any] = {
    "proposed": _("已提出，待附议/复述"),
    "pending": _("审议中"),
    "voting": _("表决中"),
    "adopted": _("通过"),
    "lost": _("未通过"),
    "ruled": _("已裁定"),
    "withdrawn": _("已撤回"),
    "not_seconded": _("无人附议"),
    "tabled": _("已搁置"),
    "postponed": _("已推迟"),
    "committed": _("已付委"),
    "killed": _("无限期推迟"),
    "not_considered": _("不予审议"),
    "divided": _("已分拆"),
    "rescinded": _("已撤销"),
    "queued": _("等待审议"),
}

METHOD_NAMES: dict[str, Any] = {
    "show_of_hands": _("举手表决"),
    "roll_call": _("唱名表决"),
    "secret_ballot": _("无记名投票"),
}

THRESHOLD_NAMES: dict[str, Any] = {
    "majority": _("过半数"),
    "two_thirds": _("三分之二"),
    "majority_of_membership": _("全体成员过半数"),
    "majority_present": _("出席者过半数"),
    "rescind_without_notice": _("三分之二或全体过半数"),
    "sustain_chair": _("维持裁定"),
    "two_thirds_against": _("三分之二反对审议"),
}

STANCE_NAMES: dict[str, Any] = {"pro": _("赞成方"), "con": _("反对方"), "neutral": _("中立")}
CHOICE_NAMES: dict[str, Any] = {"aye": _("赞成"), "no": _("反对"), "abstain": _("弃权")}
CUT_NAMES: dict[str, Any] = {"overrun": _("超时被打断"), "off_topic": _("离题被制止"),
                             "personal_attack": _("人身攻击被制止")}


def name_of(table: dict[str, Any], code: str | None) -> str:
    """The word for ``code`` (the code itself only if the table has none: never silently empty)."""
    if not code:
        return "—"
    return str(table.get(code, code))
