"""Who sees which council, meeting and minutes: 404 outside one's scope, never 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils import actions, queries
from gongzhi.councils.tests.helpers import build_council

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(place_tree: Any, make_user: Callable[..., Any]) -> Any:
    return build_council(place_tree, make_user)


def test_moderator_of_another_community_gets_404(room: Any, place_tree: Any, make_user: Any) -> None:
    other = make_user("council_moderator", place_tree.community_a)
    with pytest.raises(Http404):
        queries.access_meeting(other, room.meeting.pk)
    with pytest.raises(Http404):
        queries.access_council(other, room.council.pk)
    assert not queries.meetings_for_user(other).exists()
    assert queries.moderator_register(other) == []


def test_staff_in_scope_and_members_see_the_meeting(room: Any, place_tree: Any, make_user: Any) -> None:
    worker = make_user("community_worker", place_tree.wenhua)
    supervisor = make_user("district_supervisor", place_tree.luohu)
    for user in (worker, supervisor, room.users[0], room.mod_user):
        assert queries.access_meeting(user, room.meeting.pk) == room.meeting
    fresh = queries.access_meeting(room.users[0], room.meeting.pk)
    assert queries.member_for_user(fresh, room.users[0]) == room.ids[0]
    assert queries.member_for_user(fresh, room.mod_user) == room.chair_id
    assert queries.member_for_user(fresh, worker) is None


def test_a_member_elsewhere_sees_only_their_own_council(room: Any, place_tree: Any, make_user: Any) -> None:
    # A resident member has no staff scope; they see the council they sit on.
    resident = make_user("resident", place_tree.community_a)
    assert not queries.councils_for_user(resident).exists()
    actions.do_add_member(room.council, "外来成员", user=resident, actor=TEST_SYSTEM)
    assert list(queries.councils_for_user(resident)) == [room.council]


def test_staff_outside_scope_cannot_manage(room: Any, place_tree: Any, make_user: Any) -> None:
    other_worker = make_user("community_worker", place_tree.community_a)
    with pytest.raises(actions.NotAllowed):
        actions.do_add_member(room.council, "某人", actor=other_worker)
    with pytest.raises(actions.NotAllowed):
        actions.do_schedule_meeting(room.council, "会", room.meeting.scheduled_at, actor=other_worker)


def test_draft_minutes_are_not_public(room: Any, place_tree: Any, make_user: Any) -> None:
    from gongzhi.councils.tests.helpers import run_meeting

    run_meeting(room)
    fresh = queries.access_meeting(room.mod_user, room.meeting.pk)
    actions.do_generate_minutes(fresh, actor=room.mod_user)
    outsider = make_user("council_member", place_tree.community_a)
    with pytest.raises(Http404):
        queries.access_minutes(outsider, room.meeting.pk)
    assert queries.access_minutes(room.users[0], room.meeting.pk).meeting_id == room.meeting.pk
