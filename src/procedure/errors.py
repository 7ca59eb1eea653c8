"""Refusals.

Every illegal action raises a subclass of :class:`ProcedureError`.  The ``rule`` code is stable
(clients switch on it, tests assert it); the two messages are for people.  A refused action never
changes the meeting: the engine checks everything before it writes anything.
"""

from __future__ import annotations

from typing import Any

# rule code -> (Chinese, English).  Placeholders are filled from the keyword arguments given
# where the refusal is raised; a missing one is left visible rather than crashing the refusal.
# fmt: off
MESSAGES: dict[str, tuple[str, str]] = {
    # order of business
    "precedence": ("{kind_zh}不合程序：当前待决的是{pending_zh}，只有位阶更高的动议才能提出。",
                   "A {kind} is out of order while a {pending} is pending: only a higher-ranking motion is."),
    "nothing_pending": ("当前没有待决议题，不能{kind_zh}。",
                        "No question is pending, so a {kind} is out of order."),
    "pending_proposal": ("主持人须先复述或宣布放弃刚提出的动议。",
                         "The chair must first state or drop the motion just made."),
    "not_amendable": ("{pending_zh}不可修正。", "A {pending} cannot be amended."),
    "not_debatable": ("{pending_zh}不可辩论。", "A {pending} is not debatable."),
    "debate_closed": ("辩论已经截止，只能进行表决。", "Debate has been closed; only the vote remains."),
    "no_ruling": ("没有可申诉的主持人裁定。", "There is no ruling of the chair to appeal."),
    "too_late": ("已过提出时机：{detail}。", "Too late: {detail}."),
    "vote_in_progress": ("表决正在进行，只能投票或宣布结果。",
                         "A vote is in progress; only voting or announcing the result is in order."),
    "no_vote": ("当前没有进行中的表决。", "No vote is in progress."),
    "not_in_session": ("会议尚未宣布开始。", "The meeting has not been called to order."),
    "adjourned": ("会议已经散会。", "The meeting has adjourned."),
    "in_recess": ("会议正在休会。", "The meeting is in recess."),
    "not_voted": ("{pending_zh}由主持人裁定，不付表决。", "A {pending} is decided by the chair, not by vote."),
    "not_stated": ("主持人尚未复述该议题。", "The chair has not yet stated the question."),
    "invalid_target": ("找不到可适用的对象：{detail}。", "No valid target: {detail}."),
    "already_in_session": ("会议已在进行中。", "The meeting is already in session."),
    "chair_debated": ("主持人已让出主持以参与辩论，须待该议题处理完毕后才能恢复主持。",
                      "A chair who left the chair to debate may not return until the question is disposed of."),
    "not_applicable": ("{kind_zh}不适用于{pending_zh}。", "A {kind} cannot be applied to a {pending}."),
    "nothing_to_second": ("没有等待附议的动议。", "No motion is waiting for a second."),
    "nothing_to_state": ("没有等待复述的动议。", "No motion is waiting to be stated."),
    "business_pending": ("尚有待决事项，须以散会动议散会。", "Business is pending: adjourn by motion."),
    "off_agenda": ("该动议不属于当前议程项（第{current}项：{title}）。",
                   "The motion is not on the order of the day now before the meeting (item {current}: {title})."),
    "agenda_order": ("须按议程顺序进行：下一项是第{next}项。",
                     "The orders of the day are taken up in order: item {next} is next."),
    "nothing_to_rule": ("没有需要主持人裁定的事项。", "Nothing is awaiting a ruling of the chair."),
    # seconds
    "not_seconded": ("该动议尚未获得附议。", "The motion has not been seconded."),
    "already_seconded": ("该动议已获附议或无需附议。", "The motion is already seconded or needs no second."),
    "own_motion": ("不能附议自己的动议。", "A member cannot second their own motion."),
    # floor and debate
    "no_floor": ("未获主持人准许发言，不能发言或提出动议。",
                 "You have not been given the floor by the chair."),
    "floor_taken": ("{member}正在发言。", "{member} has the floor."),
    "speech_limit": ("每人对同一议题最多发言{limit}次。",
                     "No member may speak more than {limit} times on the same question."),
    "first_time_first": ("尚有未发过言的成员在等候，须先让其发言。",
                         "Members who have not yet spoken on this question must be recognised first."),
    "alternation": ("应正反方轮流发言：请先请{stance_zh}方发言。",
                    "Pro and con speakers alternate: a {stance} speaker is waiting."),
    "stance_required": ("发言前须先表明赞成或反对。", "A speaker must first state whether they are for or against."),
    "chair_debating": ("主持人主持期间不得发表意见或提出动议；如需发言，请先让出主持。",
                       "The chair may not debate or make motions while presiding; hand over the chair first."),
    "not_requested": ("{member}没有申请发言。", "{member} has not asked for the floor."),
    "already_requested": ("已在发言等候名单中。", "Already waiting for the floor."),
    "not_overrun": ("发言尚未超时。", "The speech has not overrun its time."),
    "debate_open": ("仍有成员等候发言，发言用尽后才能表决。",
                    "Members are still waiting to speak; the vote comes after debate is exhausted."),
    "floor_held": ("有人正在发言。", "Someone has the floor."),
    "not_speaking": ("当前没有人在发言。", "Nobody is speaking."),
    # voting
    "double_vote": ("已经投过票。", "This member has already voted."),
    "no_quorum": ("出席未达法定人数（出席{present}，需要{needed}）。",
                  "No quorum: {present} present, {needed} needed."),
    "abstain_not_asked": ("本规则不询问弃权；不投票即视为弃权。",
                          "Abstentions are not asked under these rules; simply do not vote."),
    "chair_vote": ("本规则下主持人不投票。", "Under these rules the chair does not vote."),
    "not_decisive": ("主持人的一票不会改变结果，依规则不投。",
                     "The chair votes only when the vote would change the result."),
    "chair_votes_first": ("主持人须待其他成员投票后才能投票。",
                          "The chair votes only after the other members have voted."),
    "vote_closed": ("主持人已最后投票，表决结束。", "The chair has voted last; voting is closed."),
    # entitlement
    "not_member": ("{member}不是本会成员。", "{member} is not a member of this body."),
    "not_present": ("{member}不在会场。", "{member} is not present."),
    "not_chair": ("只有主持人可以这样做。", "Only the chair may do this."),
    "not_mover": ("只有动议人可以撤回动议。", "Only the mover may withdraw a motion."),
    "reconsider_not_prevailing": ("只有在原表决中站在多数（胜方）一边的成员才能动议复议。",
                                  "Only a member who voted on the prevailing side may move to reconsider."),
    "already_present": ("{member}已在会场。", "{member} is already present."),
    "chair_leaving": ("主持人须先移交主持再离场。", "The chair must hand over the chair before leaving."),
    # events
    "stale_version": ("会议状态已更新（当前第{current}步，你基于第{expected}步），请刷新后重试。",
                      "The meeting has moved on (now at {current}, you sent {expected}); refresh and retry."),
    "clock": ("事件时间不能早于上一事件，且须带时区。",
              "An event's timestamp must be timezone-aware and not earlier than the last one."),
    "invalid": ("无效的操作：{detail}。", "Invalid action: {detail}."),
    "bad_value": ("字段 {field} 的取值“{value}”无效，可用：{choices}。",
                  "{field}: {value} is not one of {choices}."),
    "empty_text": ("{kind_zh}须写明内容。", "A {kind} needs its wording."),
    "ballot_box": ("票箱与投票名单不符（{boxed}张选票，{voters}人投票）。",
                   "The ballot box does not match the roll ({boxed} ballots, {voters} voters)."),
    "invalid_profile": ("议事规则配置错误：{detail}。", "Invalid rule profile: {detail}."),
}
# fmt: on


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class ProcedureError(Exception):
    """Base class: ``rule`` is a stable code, ``message_zh``/``message_en`` explain it."""

    default_rule = "invalid"

    def __init__(self, rule: str | None = None, **context: Any) -> None:
        self.rule = rule or self.default_rule
        self.context = context
        zh, en = MESSAGES.get(self.rule, MESSAGES["invalid"])
        self.message_zh = zh.format_map(_Fill(context))
        self.message_en = en.format_map(_Fill(context))
        super().__init__(f"[{self.rule}] {self.message_en}")


class OutOfOrder(ProcedureError):
    """The action does not fit the order of business (precedence, timing, session state)."""

    default_rule = "precedence"


class NotSeconded(ProcedureError):
    default_rule = "not_seconded"


class DebateError(ProcedureError):
    """Floor, speech-count, speech-order and chair-neutrality rules (RONR §43, 南塘十三条)."""

    default_rule = "no_floor"


class VotingError(ProcedureError):
    default_rule = "double_vote"


class NotEntitled(ProcedureError):
    """The actor has no right to take this action (not a member, not present, not the chair ...)."""

    default_rule = "not_member"


class StaleVersion(ProcedureError):
    default_rule = "stale_version"


class InvalidAction(ProcedureError):
    """Malformed event: bad parameters or timestamps."""

    default_rule = "invalid"


class ProfileError(ProcedureError, ValueError):
    default_rule = "invalid_profile"
