"""The live room builds each distinct view once (``room.view_groups``): members who share a group
must be shown exactly what building each member's view on its own would show them.

Pure: engines driven in memory by random legal events, no database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.councils.room import Viewer, view_groups, viewer_state
from procedure import NANTANG, RONR, CallToOrder, ChairVotes, Decision, Meeting, Member, RuleProfile
from procedure.tests.helpers import T0

MEMBERS = [Member("a"), Member("b"), Member("c", 2), Member("d"), Member("e", 3), Member("f"), Member("g"),
           Member("h")]
CHAIR = "mod-1"  # a trained moderator presiding, not a voting member (as in the app)
PROFILES = (
    RONR,
    NANTANG,
    RuleProfile(name="shares", vote_by_weight=True, seconds_required=False, motions_need_floor=False,
                speech_seconds=60, max_speeches=1, chair_votes=ChairVotes.NEVER),
)
PRIOR = (Decision("old-1", "earlier decision", adopted=True),)


def viewers() -> list[Viewer]:
    people = [Viewer(i, m.id, False) for i, m in enumerate(MEMBERS)]
    # Two sockets of one member, the moderator's console, a projector, an outsider who may watch.
    return [*people, Viewer(0, "a", False), Viewer(90, CHAIR, True), Viewer(91, None, False, True),
            Viewer(92, None, False)]


def without_member(you: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in you.items() if k != "member"}


def assert_groups_share_one_view(engine: Meeting) -> int:
    at = (engine.last_at or T0) + timedelta(seconds=1)
    groups = view_groups(engine, viewers())
    for members in groups.values():
        views = [without_member(viewer_state(engine, v.member, moderator=v.moderator, at=at)) for v in members]
        assert all(view == views[0] for view in views), (members, views)
    return len(groups)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), data=st.data())
def test_every_member_of_a_group_is_shown_what_their_own_view_would_show(profile: RuleProfile,
                                                                         data: st.DataObject) -> None:
    engine = Meeting(MEMBERS, profile, prior=PRIOR)
    actors = [CHAIR, *(m.id for m in MEMBERS)]
    engine.push(CallToOrder(actor=CHAIR, at=T0))
    assert_groups_share_one_view(engine)
    for step in range(1, 40):
        at = T0 + timedelta(seconds=7 * step)
        actor = data.draw(st.sampled_from(actors), label="actor")
        events = engine.legal_events(actor, at)
        if not events:
            continue
        engine.push(data.draw(st.sampled_from(events), label="event"))
        assert_groups_share_one_view(engine)


def test_a_quiet_room_of_members_is_three_views() -> None:
    """Everyone present and named nowhere: one view for them all, one for the moderator, one for
    those who only watch."""
    from procedure import Arrive

    engine = Meeting(MEMBERS, RONR)
    engine.push(CallToOrder(actor=CHAIR, at=T0))
    for m in MEMBERS:
        engine.push(Arrive(actor=m.id, at=T0))
    groups = view_groups(engine, viewers())
    assert sorted(len(g) for g in groups.values()) == [1, 2, 9]
    assert assert_groups_share_one_view(engine) == 3


def test_a_changed_engine_shape_falls_back_to_one_view_each() -> None:
    class Odd:
        chair = None

    groups = view_groups(Odd(), viewers())  # type: ignore[arg-type]
    assert len(groups) == len({v.key for v in viewers()})
