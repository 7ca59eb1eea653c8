"""The company decision held as a shareholders' meeting (councils, votes by shares), its minutes
attached to the deal (issue 13, item 3)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.assets import actions
from gongzhi.core.errors import ActionError
from gongzhi.councils import actions as council_actions
from gongzhi.councils.models import Meeting, Minutes
from gongzhi.councils.tests.helpers import act, arrive_all, build_council, floor

pytestmark = pytest.mark.django_db


def _held(place_tree: Any, make_user: Any, place: Any, *, weighted: bool = True, approve: bool = True) -> Any:
    ns = build_council(place_tree, make_user, n=3, weighted=weighted, weights=[60, 25, 15] if weighted else None,
                       place=place)
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="平山工业区A栋整栋公开招租")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="roll_call")
    act(ns, 0, "cast_vote", choice="aye")
    act(ns, 1, "cast_vote", choice="no")
    act(ns, 2, "cast_vote", choice="no")
    act(ns, "chair", "announce_result")
    act(ns, "chair", "declare_adjourned")
    minutes = council_actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.chair_user)
    if approve:
        council_actions.do_approve_minutes(minutes, actor=ns.chair_user, as_role="chair")
        council_actions.do_approve_minutes(Minutes.objects.get(pk=minutes.pk), actor=ns.secretary, as_role="secretary")
    return ns


def _deal(estate: SimpleNamespace) -> Any:
    return actions.do_open_deal(estate.company, estate.building, "平山工业区A栋整栋招租", "8000", 60,
                                decision_ref="平山股份〔2026〕股东大会决议第3号", decided_on=date(2026, 3, 2),
                                actor=estate.manager)


def test_share_weighted_resolution_attached_to_the_deal(estate: SimpleNamespace, place_tree: Any, make_user: Any,
                                                        client: Client) -> None:
    ns = _held(place_tree, make_user, estate.place)
    deal = _deal(estate)
    actions.do_attach_resolution(deal, ns.meeting.pk, actor=estate.manager)
    deal.refresh_from_db()
    assert deal.decision_meeting_id == ns.meeting.pk
    client.force_login(estate.manager)
    page = client.get(f"/assets/deals/{deal.pk}/").content.decode()
    assert f"/councils/minutes/{ns.meeting.pk}/" in page and "60" in page  # 60 shares for, though 1 head to 2


def test_resolution_refused_without_shares_or_approved_minutes(estate: SimpleNamespace, place_tree: Any,
                                                               make_user: Any) -> None:
    deal = _deal(estate)
    with pytest.raises(ActionError):
        actions.do_attach_resolution(deal, 999999, actor=estate.manager)
    draft = _held(place_tree, make_user, estate.place, approve=False)
    with pytest.raises(ActionError, match="纪要"):
        actions.do_attach_resolution(deal, draft.meeting.pk, actor=estate.manager)
    residents = _held(place_tree, make_user, estate.place, weighted=False)
    with pytest.raises(ActionError, match="股东大会"):
        actions.do_attach_resolution(deal, residents.meeting.pk, actor=estate.manager)


def test_resolution_attached_on_the_deal_page(estate: SimpleNamespace, place_tree: Any, make_user: Any,
                                              client: Client) -> None:
    ns = _held(place_tree, make_user, estate.place)
    deal = _deal(estate)
    client.force_login(estate.manager)
    url = f"/assets/deals/{deal.pk}/step/"
    assert client.post(url, {"step": "resolution", "meeting": "x"}).status_code == 400
    assert client.post(url, {"step": "resolution", "meeting": str(ns.meeting.pk)}).status_code == 302
    deal.refresh_from_db()
    assert deal.decision_meeting_id == ns.meeting.pk
