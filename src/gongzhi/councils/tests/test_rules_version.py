"""A meeting started before the rules were tightened (issue 12) replays under the rules it was
held by: its frozen profile has no ``rules_version``, which means the first edition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gongzhi.councils import engine
from gongzhi.councils.models import Meeting
from gongzhi.councils.tests.helpers import build_council


def test_new_meetings_freeze_the_current_rules_and_old_ones_keep_theirs(
    place_tree: Any, make_user: Callable[..., Any]
) -> None:
    ns = build_council(place_tree, make_user)
    m = Meeting.objects.get(pk=ns.meeting.pk)
    assert m.profile_snapshot["rules_version"] == 2 and engine.profile_of(m).rules_version == 2
    legacy = {k: v for k, v in m.profile_snapshot.items() if k != "rules_version"}
    Meeting.objects.filter(pk=m.pk).update(profile_snapshot=legacy)
    assert engine.profile_of(Meeting.objects.get(pk=m.pk)).rules_version == 1
