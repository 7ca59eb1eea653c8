"""The room's pages per role: member phone view, moderator console, projector, list, minutes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils.tests.test_consumers import build_room


@pytest.fixture
def room(db: None, place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    return build_room(place_tree, make_user)


def initial(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="room-initial" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page carries its first state as a JSON data block"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def page(client: Client, user: Any, url: str) -> Any:
    client.force_login(user)
    return client.get(url)


def test_member_page_shows_own_actions_and_the_socket_address(client: Client, room: SimpleNamespace) -> None:
    response = page(client, room.users[0], f"/councils/meetings/{room.meeting.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    state = initial(html)
    assert state["you"]["member"] == room.ids[0] and "arrive" in state["you"]["legal"]
    assert f'data-ws-url="ws://testserver/ws/meetings/{room.meeting.pk}/"' in html
    assert 'data-code="arrive"' in html and "<script>" not in html  # no inline script (CSP)


def test_socket_address_uses_the_daphne_port_under_gongzhi_run(client: Client, room: SimpleNamespace,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGZHI_WS_PORT", "8001")
    html = page(client, room.users[0], f"/councils/meetings/{room.meeting.pk}/").content.decode()
    assert f'data-ws-url="ws://testserver:8001/ws/meetings/{room.meeting.pk}/"' in html


def test_console_lists_only_legal_actions(client: Client, room: SimpleNamespace) -> None:
    from gongzhi.councils import actions

    url = f"/councils/meetings/{room.meeting.pk}/console/"
    html = page(client, room.mod_user, url).content.decode()
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert codes == ["declare_adjourned"]  # nothing pending, nobody waiting for the floor
    actions.do_apply_meeting_action(room.meeting, {"type": "arrive"}, actor=room.users[0])
    actions.do_apply_meeting_action(room.meeting, {"type": "request_floor"}, actor=room.users[0])
    html = client.get(url).content.decode()
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert sorted(codes) == ["declare_adjourned", f"recognize:{room.ids[0]}"]
    assert "准许发言：成员1" in html


def test_console_is_not_for_members_and_the_room_not_for_outsiders(client: Client, room: SimpleNamespace) -> None:
    assert page(client, room.users[0], f"/councils/meetings/{room.meeting.pk}/console/").status_code == 404
    for url in ("/", "/console/", "/projector/"):
        assert page(client, room.outsider, f"/councils/meetings/{room.meeting.pk}{url}").status_code == 404
    client.logout()
    assert client.get(f"/councils/meetings/{room.meeting.pk}/").status_code == 302  # to the login page


def test_projector_has_no_controls(client: Client, room: SimpleNamespace) -> None:
    html = page(client, room.users[1], f"/councils/meetings/{room.meeting.pk}/projector/").content.decode()
    assert initial(html)["you"]["legal"] == [] and "data-code=" not in html
    assert "?view=projector" in html


def test_moderator_starts_the_meeting_from_the_console(client: Client, db: None, place_tree: SimpleNamespace,
                                                       make_user: Callable[..., Any]) -> None:
    r = build_room(place_tree, make_user, start=False)
    url = f"/councils/meetings/{r.meeting.pk}/console/"
    html = page(client, r.mod_user, url).content.decode()
    assert initial(html)["state"]["session"] == "not_started" and "宣布开会" in html
    response = client.post(url, {"op": "start"})
    assert response.status_code == 302
    r.meeting.refresh_from_db()
    assert r.meeting.status == "in_session" and r.meeting.version == 1


def test_meeting_list_links_by_role(client: Client, room: SimpleNamespace) -> None:
    html = page(client, room.mod_user, "/councils/meetings/").content.decode()
    assert room.meeting.title in html and f"/councils/meetings/{room.meeting.pk}/console/" in html
    html = page(client, room.users[0], "/councils/meetings/").content.decode()
    assert f"/councils/meetings/{room.meeting.pk}/" in html and "/console/" not in html
    assert room.meeting.title not in page(client, room.outsider, "/councils/meetings/").content.decode()


def test_minutes_pages_draft_then_public_with_pdf_and_word(client: Client, room: SimpleNamespace) -> None:
    from gongzhi.councils import actions

    do = actions.do_apply_meeting_action
    for user in room.users:
        do(room.meeting, {"type": "arrive"}, actor=user)
    do(room.meeting, {"type": "request_floor"}, actor=room.users[0])
    do(room.meeting, {"type": "recognize", "member": room.ids[0]}, actor=room.mod_user)
    do(room.meeting, {"type": "move", "kind": "main", "text": "在楼间加装空调冷凝水管"}, actor=room.users[0])
    do(room.meeting, {"type": "second"}, actor=room.users[1])
    do(room.meeting, {"type": "state_question"}, actor=room.mod_user)
    do(room.meeting, {"type": "call_vote"}, actor=room.mod_user)
    for user in room.users:
        do(room.meeting, {"type": "cast_vote", "choice": "aye"}, actor=user)
    do(room.meeting, {"type": "announce_result"}, actor=room.mod_user)
    do(room.meeting, {"type": "declare_adjourned"}, actor=room.mod_user)
    console = f"/councils/meetings/{room.meeting.pk}/console/"
    client.force_login(room.mod_user)
    assert client.post(console, {"op": "minutes"})["Location"].endswith("/minutes/")
    detail = client.get(f"/councils/meetings/{room.meeting.pk}/minutes/")
    assert detail.status_code == 200 and "在楼间加装空调冷凝水管" in detail.content.decode()
    assert "以主持人身份批准" in detail.content.decode()
    client.logout()
    assert client.get(f"/councils/minutes/{room.meeting.pk}/").status_code == 404  # a draft is not public
    client.force_login(room.mod_user)
    client.post(f"/councils/meetings/{room.meeting.pk}/minutes/", {"as_role": "chair"})
    from gongzhi.councils.models import Minutes

    actions.do_approve_minutes(Minutes.objects.get(meeting=room.meeting), actor=TEST_SYSTEM, as_role="secretary")
    client.logout()
    public = client.get(f"/councils/minutes/{room.meeting.pk}/")
    assert public.status_code == 200 and "在楼间加装空调冷凝水管" in public.content.decode()
    pdf = client.get(f"/councils/meetings/{room.meeting.pk}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    docx = client.get(f"/councils/meetings/{room.meeting.pk}/minutes.docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
