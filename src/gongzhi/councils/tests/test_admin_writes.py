"""Issue #10: every councils admin write goes through an action (validated, jurisdiction-checked,
audited); the admin's forms show an action's refusal as a form error and store nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils import actions
from gongzhi.councils.models import (
    AgendaItem,
    Council,
    CouncilMember,
    Meeting,
    Moderator,
    ModeratorAssignment,
    NeutralityComplaint,
)
from gongzhi.councils.tests.helpers import build_council

pytestmark = pytest.mark.django_db


def verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))


def admin_client(make_user: Any) -> tuple[Client, Any]:
    user = make_user(None, superuser=True)
    c = Client()
    c.force_login(user)
    return c, user


def staff_worker(make_user: Any, place: Any) -> Any:
    """A community worker at ``place`` with the admin's councils permissions (not a superuser)."""
    user = make_user("community_worker", place)
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="councils")
    user.user_permissions.add(*perms)
    return type(user).objects.get(pk=user.pk)


def inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, Any]:
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}


def council_form(ns: Any, **over: Any) -> dict[str, Any]:
    data = {"name": ns.council.name, "kind": ns.council.kind, "place": ns.council.place_id,
            "profile": ns.council.profile_id, "active": "on"}
    data.update(inline_management("members", len(ns.members), len(ns.members)))
    for i, m in enumerate(ns.members):
        data.update({f"members-{i}-id": m.pk, f"members-{i}-council": ns.council.pk,
                     f"members-{i}-display_name": m.display_name, f"members-{i}-user": m.user_id or "",
                     f"members-{i}-role": m.role, f"members-{i}-sector": m.sector,
                     f"members-{i}-weight": m.weight, f"members-{i}-term_start": m.term_start.isoformat(),
                     f"members-{i}-term_end": m.term_end.isoformat() if m.term_end else ""})
    assignments = list(ModeratorAssignment.objects.filter(council=ns.council))
    data.update(inline_management("moderator_assignments", len(assignments), len(assignments)))
    for i, a in enumerate(assignments):
        data.update({f"moderator_assignments-{i}-id": a.pk, f"moderator_assignments-{i}-council": ns.council.pk,
                     f"moderator_assignments-{i}-moderator": a.moderator_id,
                     f"moderator_assignments-{i}-start": a.start.isoformat(),
                     f"moderator_assignments-{i}-end": a.end.isoformat() if a.end else ""})
    data.update(over)
    return data


def test_admin_creates_a_council_through_the_action(place_tree: Any, make_user: Any) -> None:
    c, _ = admin_client(make_user)
    profile = actions.do_create_profile("adm", "规则", "nantang", {}, actor=TEST_SYSTEM)
    before = len(verbs())
    r = c.post("/admin/councils/council/add/", {"name": "新议事会", "kind": "residents",
                                               "place": place_tree.wenhua.pk, "profile": profile.pk,
                                               "active": "on"})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Council.objects.filter(name="新议事会").exists()
    assert verbs()[before:] == ["council.create"]
    # The action's own rule (only a shareholders' meeting votes by shares) is a form error.
    r = c.post("/admin/councils/council/add/", {"name": "按股", "kind": "residents", "weighted": "on",
                                               "place": place_tree.wenhua.pk, "profile": profile.pk})
    assert r.status_code == 200 and "只有股东大会按股份表决" in r.content.decode()
    assert not Council.objects.filter(name="按股").exists()


def test_admin_outside_jurisdiction_changes_nothing(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, start=False)  # at 文华社区
    outsider = staff_worker(make_user, place_tree.pingshan)
    c = Client()
    c.force_login(outsider)
    before = len(verbs())
    r = c.post("/admin/councils/council/add/", {"name": "越界议事会", "kind": "residents",
                                               "place": place_tree.wenhua.pk, "profile": ns.profile.pk})
    assert r.status_code == 200 and "无权管理" in r.content.decode()
    assert not Council.objects.filter(name="越界议事会").exists()
    # Another community's council is not even listed, let alone editable.
    assert c.get(f"/admin/councils/council/{ns.council.pk}/change/").status_code in (302, 404)
    r = c.post(f"/admin/councils/council/{ns.council.pk}/change/", council_form(ns, name="改名"))
    assert r.status_code in (302, 404)
    assert Council.objects.get(pk=ns.council.pk).name == ns.council.name
    assert len(verbs()) == before


def test_admin_member_edits_go_through_actions(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    c, _ = admin_client(make_user)
    url = f"/admin/councils/council/{ns.council.pk}/change/"
    before = len(verbs())
    today = timezone.localdate()
    data = council_form(ns, name="文华社区居民议事会（第二届）")
    data["members-1-term_end"] = today.isoformat()  # ends a membership
    data["members-2-display_name"] = "成员三（改）"
    # A new member…
    data["members-TOTAL_FORMS"] = 4
    data.update({"members-3-council": ns.council.pk, "members-3-display_name": "新成员", "members-3-role": "member",
                 "members-3-sector": "resident", "members-3-weight": 1,
                 "members-3-term_start": today.isoformat(), "members-3-user": ""})
    r = c.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert set(verbs()[before:]) == {"council.update", "council.member.end", "council.member.update",
                                     "council.member.add"}
    assert CouncilMember.objects.get(pk=ns.members[1].pk).term_end == today
    assert CouncilMember.objects.get(pk=ns.members[2].pk).display_name == "成员三（改）"
    # A weight above 1 in a one-person-one-vote council is the action's refusal, shown on the form.
    ns.members = list(CouncilMember.objects.filter(council=ns.council).order_by("id"))
    ns.council.refresh_from_db()
    before = len(verbs())
    data = council_form(ns)
    data["members-0-weight"] = 5
    r = c.post(url, data)
    assert r.status_code == 200 and "一人一票" in r.content.decode()
    assert CouncilMember.objects.get(pk=ns.members[0].pk).weight == 1 and len(verbs()) == before


def test_admin_cannot_delete_records_that_history_refers_to(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    c, _ = admin_client(make_user)
    data = council_form(ns)
    data["members-0-DELETE"] = "on"
    c.post(f"/admin/councils/council/{ns.council.pk}/change/", data)
    assert CouncilMember.objects.filter(pk=ns.members[0].pk).exists()
    for model, pk in (("council", ns.council.pk), ("meeting", ns.meeting.pk), ("moderator", ns.mod.pk)):
        assert c.get(f"/admin/councils/{model}/{pk}/delete/").status_code == 403, model


def test_admin_moderator_register_assignment_and_complaint(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    c, admin_user = admin_client(make_user)
    trainee = make_user("council_moderator", place_tree.wenhua)
    before = len(verbs())
    r = c.post("/admin/councils/moderator/add/", {
        "user": trainee.pk, "display_name": "新主持", "place": place_tree.wenhua.pk, "training_hours": 30,
        "certificate_no": "LH-2026-099", "certified_on": "2026-03-01", "active": "on",
        **inline_management("assignments"), **inline_management("complaints")})
    assert r.status_code == 302, r.content.decode()[:3000]
    assert verbs()[before:] == ["council.moderator.register"]
    bad = c.post("/admin/councils/moderator/add/", {
        "user": make_user("council_moderator", place_tree.wenhua).pk, "display_name": "无证", "active": "on",
        "place": place_tree.wenhua.pk, "training_hours": 30, "certificate_no": "LH-1",
        **inline_management("assignments"), **inline_management("complaints")})
    assert bad.status_code == 200 and "发证日期" in bad.content.decode()
    # Resolving a neutrality complaint from the moderator's page.
    complaint = actions.do_file_neutrality_complaint(ns.mod, "主持人发言偏向一方。", actor=ns.users[0])
    assignment = ModeratorAssignment.objects.get(moderator=ns.mod)
    data = {"user": ns.mod.user_id, "display_name": ns.mod.display_name, "place": ns.mod.place_id,
            "training_hours": ns.mod.training_hours + 8, "certificate_no": ns.mod.certificate_no,
            "certified_on": ns.mod.certified_on.isoformat(), "active": "on",
            **inline_management("assignments", 1, 1), **inline_management("complaints", 1, 1),
            "assignments-0-id": assignment.pk, "assignments-0-moderator": ns.mod.pk,
            "assignments-0-council": ns.council.pk, "assignments-0-start": assignment.start.isoformat(),
            "assignments-0-end": (assignment.start + timedelta(days=90)).isoformat(),
            "complaints-0-id": complaint.pk, "complaints-0-moderator": ns.mod.pk,
            "complaints-0-status": "dismissed", "complaints-0-resolution": "经核查，主持人按规则主持。"}
    before = len(verbs())
    r = c.post(f"/admin/councils/moderator/{ns.mod.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert set(verbs()[before:]) == {"council.moderator.update", "council.moderator.assignment.end",
                                     "council.complaint.resolve"}
    assert NeutralityComplaint.objects.get(pk=complaint.pk).status == "dismissed"
    assert ModeratorAssignment.objects.get(pk=assignment.pk).end == assignment.start + timedelta(days=90)
    assert Moderator.objects.get(pk=ns.mod.pk).training_hours == ns.mod.training_hours + 8
    assert Moderator.objects.filter(user=trainee).exists() and admin_user


def test_admin_meeting_and_agenda_go_through_actions(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    c, _ = admin_client(make_user)
    when = timezone.localtime(timezone.now() + timedelta(days=3)).replace(microsecond=0)
    base = {"council": ns.council.pk, "title": "第二次议事会", "scheduled_at_0": when.date().isoformat(),
            "scheduled_at_1": when.time().isoformat(), "location": "党群服务中心",
            "moderator": ns.mod.pk, "secretary": ns.secretary.pk}
    before = len(verbs())
    r = c.post("/admin/councils/meeting/add/", {**base, **inline_management("agenda")})
    assert r.status_code == 302, r.content.decode()[:3000]
    meeting = Meeting.objects.get(title="第二次议事会")
    assert verbs()[before:] == ["council.meeting.schedule"]
    before = len(verbs())
    data = {**base, "title": "第二次议事会（改期）", **inline_management("agenda", 2, 0),
            "agenda-0-meeting": meeting.pk, "agenda-0-order": 1, "agenda-0-title": "小区停车",
            "agenda-0-description": "", "agenda-1-meeting": meeting.pk, "agenda-1-order": 2,
            "agenda-1-title": "垃圾分类", "agenda-1-description": ""}
    r = c.post(f"/admin/councils/meeting/{meeting.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert set(verbs()[before:]) == {"council.meeting.update", "council.meeting.agenda"}
    assert list(AgendaItem.objects.filter(meeting=meeting).values_list("title", flat=True)) == ["小区停车", "垃圾分类"]
    # A meeting that has started is a record: its details and agenda no longer change.
    actions.do_start_meeting(ns.meeting, actor=ns.chair_user)
    started = Meeting.objects.get(pk=ns.meeting.pk)
    before = len(verbs())
    r = c.post(f"/admin/councils/meeting/{started.pk}/change/", {
        **base, "title": "改过的标题", **inline_management("agenda")})
    assert r.status_code == 200 and "已经开始" in r.content.decode()
    assert Meeting.objects.get(pk=started.pk).title == started.title and len(verbs()) == before


def test_end_membership_from_the_admin_is_validated(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    c, _ = admin_client(make_user)
    data = council_form(ns)
    data["members-0-term_end"] = (ns.members[0].term_start - timedelta(days=1)).isoformat()
    r = c.post(f"/admin/councils/council/{ns.council.pk}/change/", data)
    assert r.status_code == 200 and "不能早于任期开始" in r.content.decode()
    assert CouncilMember.objects.get(pk=ns.members[0].pk).term_end is None
    assert date.today()
