"""Issue #10: "who runs this meeting" is one rule (``actions.runs_meeting``) that the pages, the
API and the socket all ask — so after the chair is handed over, every interface agrees."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.councils import actions
from gongzhi.councils.models import Meeting
from gongzhi.councils.room import viewer_for
from gongzhi.councils.tests.helpers import act, build_council

pytestmark = pytest.mark.django_db


def test_after_a_hand_over_every_interface_agrees_on_who_runs_the_meeting(place_tree: Any, make_user: Any) -> None:
    # No moderator: the council's chair (member 0) presides, in person.
    ns = build_council(place_tree, make_user, n=4, moderator=False, in_person=True)
    act(ns, 1, "arrive")
    act(ns, "chair", "hand_over_chair", to=ns.ids[1])  # the chair wants to debate
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    old_chair, new_chair = ns.users[0], ns.users[1]

    assert actions.runs_meeting(meeting, new_chair) and not actions.runs_meeting(meeting, old_chair)
    # The socket's view of who runs the room…
    assert viewer_for(meeting, new_chair).moderator and not viewer_for(meeting, old_chair).moderator
    # …the console page…
    for user, status in ((new_chair, 200), (old_chair, 404)):
        c = Client()
        c.force_login(user)
        assert c.get(f"/councils/meetings/{meeting.pk}/console/").status_code == status
    # …and recording for a member through the API.
    url = f"/api/v1/councils/meetings/{meeting.pk}/actions"
    body = {"action": {"type": "arrive"}, "on_behalf_of": ns.ids[2]}
    c = Client()
    c.force_login(old_chair)
    refused = c.post(url, body, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["rule"] == "not_chair"
    c = Client()
    c.force_login(new_chair)
    assert c.post(url, body, content_type="application/json").status_code == 200
    # The meeting's secretary runs the room too; a plain member does not.
    assert actions.runs_meeting(meeting, ns.secretary) and not actions.runs_meeting(meeting, ns.users[3])
