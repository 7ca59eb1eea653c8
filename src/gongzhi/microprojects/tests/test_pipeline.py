"""The whole pipeline through the actions: proposal → support → merge → screening → council
vote (adopted, amended, voted down) → funding → delivery → acceptance → ratings; and every
bad input refused with nothing stored. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core.models import AuditEvent
from gongzhi.microprojects import actions, queries
from gongzhi.microprojects.actions import MicroError
from gongzhi.microprojects.demo import MotionScript, hold_meeting
from gongzhi.microprojects.models import FundingList, Proposal, ProposalPhoto, Spending, Support

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.django_db


def _propose(m: SimpleNamespace, i: int, title: str, cost: str, **kw: Any) -> Proposal:
    return actions.do_propose(m.place, actor=m.residents[i], title=title, description=f"{title}的内容",
                              estimated_cost=cost, **kw)


def _counts() -> tuple[int, ...]:
    return (Proposal.objects.count(), Support.objects.count(), AuditEvent.objects.count(),
            ProposalPhoto.objects.count(), Spending.objects.count())


def test_whole_pipeline(micro: SimpleNamespace) -> None:
    m = micro
    drip = _propose(m, 0, "加装空调滴水管套管", "86000", lat="22.5473", lng="114.1312",
                    photos=[SimpleUploadedFile("a.png", PNG, "image/png")])
    lights = _propose(m, 1, "路灯更换", "68000")
    dup = _propose(m, 2, "路灯太暗", "50000")
    gym = _propose(m, 3, "健身器材", "38000")
    mural = _propose(m, 4, "外墙彩绘", "90000")
    assert drip.photos.count() == 1 and actions.photo_path(drip.photos.get()).read_bytes() == PNG
    for i in (3, 4):
        actions.do_support(dup, actor=m.residents[i])
    actions.do_support(lights, actor=m.residents[3])
    actions.do_comment(drip, "整夜滴水", actor=m.residents[5])

    # merge: supporters carried over (each once), the duplicate's proposer credited
    actions.do_merge_proposals(dup, lights, actor=m.worker)
    lights.refresh_from_db()
    dup.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into == lights
    assert set(lights.supports.values_list("user__username", flat=True)) == {"res2", "res3", "res4"}
    assert list(lights.co_proposers.values_list("username", flat=True)) == ["res2"]

    # screening
    actions.do_screen_proposal(mural, actor=m.worker, eligible=False, reason="不属于民生微实事范围")
    for p in (drip, lights, gym):
        actions.do_screen_proposal(p, actor=m.worker, eligible=True, reason="符合")
    mural.refresh_from_db()
    assert mural.status == "rejected" and mural.screening_reason == "不属于民生微实事范围"
    with pytest.raises(MicroError):  # never screened eligible → never on the agenda
        actions.do_put_on_agenda(mural, m.meeting, actor=m.worker)

    for p in (drip, lights, gym):
        actions.do_put_on_agenda(p, m.meeting, actor=m.worker)
    titles = list(m.meeting.agenda.values_list("title", flat=True))
    assert titles[0] == "其他事项" and len(titles) == 4
    drip, lights, gym = (Proposal.objects.get(pk=p.pk) for p in (drip, lights, gym))
    assert all(p.agenda_item is not None for p in (drip, lights, gym))

    amended = "只在3号楼与4号楼之间加装空调冷凝水滴水管套管"
    minutes = hold_meeting(m.meeting, m.chair, m.members, [
        MotionScript(0, drip.motion_text, ["aye", "aye", "aye", "no", "no"],
                     amendment=(1, amended, ["aye", "aye", "aye", "no", "abstain"])),
        MotionScript(1, lights.motion_text, ["aye"] * 5),
        MotionScript(2, gym.motion_text, ["no", "no", "no", "aye", "aye"]),
    ], secretary=m.members[4])
    assert minutes.status == "approved"
    for p in (drip, lights, gym):
        actions.do_record_council_outcome(p, actor=m.worker)
    drip, lights, gym = (Proposal.objects.get(pk=p.pk) for p in (drip, lights, gym))
    assert (drip.outcome, drip.outcome_text) == ("amended", amended)
    assert (lights.outcome, lights.status) == ("adopted", "adopted")
    assert (gym.outcome, gym.status) == ("rejected", "voted_down")
    assert drip.minutes == minutes

    funding = actions.do_fund_year(m.place, m.year, actor=m.worker)
    assert funding.total == Decimal("154000.00") and funding.total <= funding.budget
    assert set(funding.chosen.values_list("pk", flat=True)) == {drip.pk, lights.pk}
    with pytest.raises(MicroError):
        actions.do_fund_year(m.place, m.year, actor=m.worker)

    lights.refresh_from_db()
    actions.do_assign_implementer(lights, "某照明公司", actor=m.worker)
    actions.do_record_spending(lights, "30000", "预付款", actor=m.worker)
    before = _counts()
    with pytest.raises(MicroError, match="支出超出立项金额"):
        actions.do_record_spending(lights, "38000.01", "超支", actor=m.worker)
    assert _counts() == before
    with pytest.raises(MicroError):  # not finished yet
        actions.do_accept_project(lights, actor=m.worker)
    actions.do_record_milestone(lights, "完工", actor=m.worker, progress=100)
    actions.do_accept_project(lights, actor=m.worker, note="验收合格")
    actions.do_rate_project(lights, 5, actor=m.residents[0])
    actions.do_rate_project(lights, "4", actor=m.residents[1])
    with pytest.raises(MicroError):
        actions.do_rate_project(lights, 6, actor=m.residents[2])
    with pytest.raises(MicroError):
        actions.do_rate_project(lights, 5, actor=m.outsider)

    f = queries.figures(m.place, m.year)
    assert (f.proposals, f.decided, f.adopted, f.accepted) == (4, 3, 2, 1)
    assert f.spent == Decimal("30000.00") and f.satisfaction == 4.5 and f.participants >= 6
    trail = [e.verb for e in queries.decision_trail(Proposal.objects.get(pk=lights.pk))]
    assert trail[0] == "microproject.propose" and "microproject.council_outcome" in trail
    assert "council.meeting.result" in trail and "minutes.publish" in trail and trail[-1] == "microproject.accept"


@pytest.mark.parametrize("cost, message", [
    ("abc", "须为数字"), ("", "请填写"), ("-5", "大于零"), ("0", "大于零"), ("1.234", "两位小数"),
    ("100000.01", "上限"), ("NaN", "须为数字"), ("Infinity", "须为数字"),
])
def test_bad_costs_store_nothing(micro: SimpleNamespace, cost: str, message: str) -> None:
    before = _counts()
    with pytest.raises(MicroError, match=message):
        _propose(micro, 0, "项目", cost)
    assert _counts() == before


def test_bad_proposals_store_nothing(micro: SimpleNamespace) -> None:
    m = micro
    before = _counts()
    with pytest.raises(MicroError, match="本人所在社区"):
        actions.do_propose(m.other, actor=m.residents[0], title="别的社区", description="x", estimated_cost="100")
    with pytest.raises(MicroError, match="JPEG 或 PNG"):
        _propose(m, 0, "项目", "100", photos=[SimpleUploadedFile("a.png", b"<svg/>", "image/png")])
    with pytest.raises(MicroError, match="同时"):
        _propose(m, 0, "项目", "100", lat="22.5")
    with pytest.raises(MicroError, match="请填写项目名称"):
        _propose(m, 0, "  ", "100")
    assert _counts() == before
    p = _propose(m, 0, "项目", "100")
    before = _counts()
    with pytest.raises(MicroError):  # another community's worker
        actions.do_screen_proposal(p, actor=m.other_worker, eligible=True)
    with pytest.raises(MicroError, match="审核意见"):  # a rejection needs a reason
        actions.do_screen_proposal(p, actor=m.worker, eligible=False)
    with pytest.raises(MicroError):  # a resident cannot screen
        actions.do_screen_proposal(p, actor=m.residents[1], eligible=True)
    with pytest.raises(MicroError, match="只能支持本人所在社区"):
        actions.do_support(p, actor=m.outsider)
    with pytest.raises(MicroError, match="议事会"):
        actions.do_record_council_outcome(p, actor=m.worker)
    assert _counts() == before
    assert not FundingList.objects.exists()


@pytest.mark.parametrize("method", ["ranked", "knapsack"])
def test_funding_list_is_reproducible_from_its_stored_inputs(micro: SimpleNamespace, method: str) -> None:
    """The stored inputs recompute to the stored list; the list never exceeds the budget."""
    from gongzhi.microprojects.domain.funding import Candidate, choose

    m = micro
    costs = ["90000", "80000", "60000", "50000", "40000"]
    props = [_propose(m, i, f"项目{i}", c) for i, c in enumerate(costs)]
    for i, p in enumerate(props):
        for j in range(i):
            actions.do_support(p, actor=m.residents[5 - j])
    for p in props:
        p.status, p.outcome = "adopted", "adopted"  # the council's step is covered above
        p.save(update_fields=["status", "outcome"])
    funding = actions.do_fund_year(m.place, m.year, actor=m.worker, method=method)
    again = choose(method, [Candidate(r["id"], Decimal(r["cost"]), r["supporters"]) for r in funding.inputs],
                   funding.budget)
    assert again.chosen == tuple(sorted(funding.chosen.values_list("pk", flat=True)))
    assert funding.total == again.total <= funding.budget == Decimal("200000.00")
    funded = Proposal.objects.filter(status="funded")
    assert sum(p.funded_amount for p in funded) == funding.total
    assert Proposal.objects.filter(status="unfunded").count() == 5 - funded.count()


def test_a_retried_proposal_is_stored_once(micro: SimpleNamespace) -> None:
    """Retries never duplicate: the same resident sending the same proposal again (a double tap,
    a resent form) gets the one already stored; different words are a new proposal."""
    first = _propose(micro, 0, "楼道照明改造", "8000")
    before = _counts()
    again = _propose(micro, 0, "楼道照明改造", "8000")
    assert again.pk == first.pk and _counts() == before
    other = _propose(micro, 0, "楼道照明改造（二期）", "8000")
    assert other.pk != first.pk
