"""Minutes: generated from the log, approved by chair and secretary, published, tamper-evident."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.councils import actions
from gongzhi.councils.minutes import (
    minutes_outline,
    render_minutes_docx,
    render_minutes_html,
    render_minutes_pdf,
)
from gongzhi.councils.models import Meeting, Minutes
from gongzhi.councils.queries import public_minutes, verify_minutes
from gongzhi.councils.tests.helpers import act, arrive_all, build_council, floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(place_tree: Any, make_user: Callable[..., Any]) -> Any:
    ns = build_council(place_tree, make_user)
    arrive_all(ns)
    # A point of order ruled on by the chair, then the main business.
    act(ns, 4, "move", kind="point_of_order", text="发言人在人身攻击")
    act(ns, "chair", "rule", well_taken=True, text="请发言人就事论事")
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="在3号楼与4号楼间加装空调滴水管套管")
    act(ns, "chair", "state_question")
    floor(ns, 0, "pro")
    act(ns, 0, "speak")
    act(ns, 0, "yield_floor")
    floor(ns, 1, "con")
    act(ns, 1, "speak")
    act(ns, 1, "yield_floor")
    act(ns, "chair", "call_vote", method="secret_ballot")
    for i, choice in enumerate(["aye", "aye", "no", "no", "no"]):
        act(ns, i, "cast_vote", choice=choice)
    act(ns, "chair", "announce_result")
    act(ns, "chair", "declare_adjourned")
    ns.meeting = Meeting.objects.get(pk=ns.meeting.pk)
    return ns


def test_minutes_cannot_be_generated_before_adjournment(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user)
    with pytest.raises(actions.CouncilError):
        actions.do_generate_minutes(ns.meeting, actor=ns.mod_user)


def test_generate_approve_publish_and_verify(held: Any) -> None:
    minutes = actions.do_generate_minutes(held.meeting, actor=held.mod_user)
    assert minutes.status == "draft" and len(minutes.digest) == 64
    record = minutes.content["record"]
    main = next(m for m in record["motions"] if m["kind"] == "main")
    assert main["status"] == "lost" and main["mover"] == held.ids[0]
    assert [s["stance"] for s in main["speeches"]] == ["pro", "con"]
    vote = main["votes"][0]
    assert vote["method"] == "secret_ballot" and vote["roll"] == []
    assert (vote["result"]["ayes"], vote["result"]["noes"]) == (2, 3)
    assert record["rulings"][0]["well_taken"] is True
    assert len(record["attendance"]) == 7
    assert not public_minutes().exists()
    # A member may not approve; the moderator approves as chair, the secretary as secretary.
    with pytest.raises(actions.NotAllowed):
        actions.do_approve_minutes(minutes, actor=held.users[0], as_role="chair")
    actions.do_approve_minutes(minutes, actor=held.mod_user, as_role="chair")
    assert not public_minutes().exists()
    with pytest.raises(actions.CouncilError):
        actions.do_approve_minutes(minutes, actor=held.mod_user, as_role="chair")
    published = actions.do_approve_minutes(minutes, actor=held.secretary, as_role="secretary")
    assert published.status == "approved" and published.published_at is not None
    assert list(public_minutes()) == [published]
    sealed = AuditEvent.objects.get(verb="minutes.publish")
    assert sealed.after["digest"] == published.digest
    check = verify_minutes(published)
    assert check.ok and check.content_matches and check.sealed_matches
    with pytest.raises(actions.CouncilError):
        actions.do_generate_minutes(held.meeting, actor=held.mod_user)


def test_tampering_with_content_is_detected(held: Any) -> None:
    minutes = actions.do_generate_minutes(held.meeting, actor=held.mod_user)
    actions.do_approve_minutes(minutes, actor=held.mod_user, as_role="chair")
    actions.do_approve_minutes(minutes, actor=held.secretary, as_role="secretary")
    content = minutes.content
    content["record"]["motions"][-1]["status"] = "adopted"  # someone edits the database
    Minutes.objects.filter(pk=minutes.pk).update(content=content)
    check = verify_minutes(minutes)
    assert not check.ok and not check.content_matches
    # Re-hashing the edited content to hide it is caught by the digest sealed in the audit chain.
    Minutes.objects.filter(pk=minutes.pk).update(digest=actions.minutes_digest(content))
    check = verify_minutes(minutes)
    assert not check.ok and check.content_matches and check.sealed_matches is False


def test_tampered_draft_cannot_be_approved(held: Any) -> None:
    minutes = actions.do_generate_minutes(held.meeting, actor=held.mod_user)
    content = minutes.content
    content["agenda"] = ["改过的议程"]
    Minutes.objects.filter(pk=minutes.pk).update(content=content)
    with pytest.raises(actions.CouncilError) as info:
        actions.do_approve_minutes(minutes, actor=held.mod_user, as_role="chair")
    assert info.value.field == "content"


def test_renderings_carry_the_record(held: Any) -> None:
    minutes = actions.do_generate_minutes(held.meeting, actor=held.mod_user)
    outline = minutes_outline(minutes)
    text = "\n".join(p for s in outline["sections"] for p in [s["heading"], *s["paras"]])
    assert "在3号楼与4号楼间加装空调滴水管套管" in text and "无记名投票" in text and "赞成 2、反对 3" in text
    html = render_minutes_html(minutes)
    assert "出席情况" in html and "成员1" in html and minutes.digest in html and "<script" not in html
    pdf = render_minutes_pdf(minutes)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    docx = render_minutes_docx(minutes)
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        body = z.read("word/document.xml").decode()
    assert "出席情况" in body and "加装空调滴水管套管" in body and minutes.digest in body
