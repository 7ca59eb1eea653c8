"""Jurisdiction holds for EVERY role: nothing outside a user's scope is listed, read, revealed or
changed — through queries, actions, the API and the download view — and 404 (not 403) is
answered outside scope so ids cannot be probed.

Every user here also holds ``reveal_personal_number``, so a refused reveal is refused for scope.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from conftest import place_for_role
from gongzhi.accounts.enums import ORG_READ_ROLES, PERSON_READ_ROLES, PERSON_WRITE_ROLES, Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions as people_actions
from gongzhi.people import queries as people_queries
from gongzhi.people.models import Document, Person
from gongzhi.people.numbers import make_id_number, make_uscc

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
ALL_ROLES = [str(r) for r in Role]


def _home(tree: SimpleNamespace, community, n: int, system: Any = TEST_SYSTEM) -> SimpleNamespace:
    """A person, an organisation and a document each, homed in ``community``."""
    person = people_actions.do_register_person(
        make_id_number("440305", date(1980, 1, n), 10 + n), f"居民{n}", phone=f"1380013{n:04d}",
        home_place=community, actor=system,
    )
    org = people_actions.do_register_organisation(
        make_uscc("9", "1", "440300", f"MA5F{n:05d}"), f"企业{n}", "enterprise", community, actor=system
    )
    pdoc = people_actions.do_add_document(
        person, "id_card", "身份证", SimpleUploadedFile("id.pdf", PDF), actor=system
    )
    odoc = people_actions.do_add_document(
        org, "business_license", "营业执照", SimpleUploadedFile("bl.pdf", PDF), actor=system
    )
    return SimpleNamespace(person=person, org=org, pdoc=pdoc, odoc=odoc, number=make_id_number("440305", date(1980, 1, n), 10 + n))


@pytest.fixture
def world(place_tree):
    return SimpleNamespace(
        a=_home(place_tree, place_tree.community_a, 1),
        b=_home(place_tree, place_tree.community_b, 2),
        c=_home(place_tree, place_tree.community_c, 3),
        d=_home(place_tree, place_tree.community_d, 4),
    )


def _outside(role: str, world) -> list[SimpleNamespace]:
    """Homes outside the jurisdiction of ``role`` held over community A."""
    if role == Role.DISTRICT_SUPERVISOR:
        return [world.d]
    if role == Role.SUBDISTRICT_SUPERVISOR:
        return [world.c, world.d]
    return [world.b, world.c, world.d]


def _user(role: str, place_tree, make_user):
    return make_user(role, place_for_role(role, place_tree, place_tree.community_a), perms=["reveal_personal_number"])


@pytest.mark.parametrize("role", ALL_ROLES)
def test_nothing_outside_scope_is_visible_or_changeable(role, place_tree, make_user, world, client):
    user = _user(role, place_tree, make_user)
    client.force_login(user)
    for home in _outside(role, world):
        # Lists.
        assert home.person not in people_queries.persons_for_user(user)
        assert home.org not in people_queries.organisations_for_user(user)
        assert home.pdoc not in people_queries.documents_for_user(user)
        # Single reads by guessed id.
        with pytest.raises(Http404):
            people_queries.access_person(user, home.person.pk)
        with pytest.raises(Http404):
            people_queries.access_organisation(user, home.org.pk)
        for doc in (home.pdoc, home.odoc):
            with pytest.raises(Http404):
                people_queries.access_document(user, doc.pk)
        # Writes and reveals: 404 as if the record did not exist.
        with pytest.raises(Http404):
            people_actions.do_reveal_number(home.person, "number", actor=user, reason="试探")
        with pytest.raises(Http404):
            people_actions.do_update_person_contact(home.person, address="改地址", actor=user)
        with pytest.raises(Http404):
            people_actions.do_add_document(home.person, "other", "塞材料", actor=user)
        with pytest.raises(Http404):
            people_actions.do_revoke_document(home.pdoc, actor=user)
        with pytest.raises(Http404):
            people_actions.do_grant_consent(home.person, "data_sharing", "网上", actor=user)
        with pytest.raises(Http404):
            people_actions.do_add_document(home.org, "other", "塞材料", actor=user)
        # API and views: 404, never 403.
        for url in (
            f"/api/v1/people/persons/{home.person.pk}",
            f"/api/v1/people/persons/{home.person.pk}/documents",
            f"/api/v1/people/organisations/{home.org.pk}",
            f"/api/v1/people/organisations/{home.org.pk}/documents",
            f"/people/persons/{home.person.pk}/",
            f"/people/documents/{home.pdoc.pk}/download/",
            f"/people/documents/{home.odoc.pk}/download/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/people/persons/{home.person.pk}/reveal/", {"field": "number", "reason": "x"}).status_code == 404
        listed = client.get("/api/v1/people/persons").json()
        assert home.person.pk not in {p["id"] for p in listed["items"]}
        # Lookup by full number: only counter roles serve walk-ins from anywhere (documented).
        found = people_queries.find_person_by_number(user, home.number)
        if role in (Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER):
            assert found == home.person
        else:
            assert found is None
            assert client.get("/api/v1/people/persons", {"number": home.number}).json()["count"] == 0
    # Nothing outside was changed or revealed.
    assert not Document.objects.filter(title="塞材料").exists()
    assert not Person.objects.filter(address="改地址").exists()
    from gongzhi.core.models import AuditEvent

    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inside_scope_matches_the_role(role, place_tree, make_user, world, client):
    user = _user(role, place_tree, make_user)
    client.force_login(user)
    home = world.a
    reads = role in PERSON_READ_ROLES
    assert (home.person in people_queries.persons_for_user(user)) is reads
    assert (home.org in people_queries.organisations_for_user(user)) is (role in ORG_READ_ROLES)
    assert client.get(f"/api/v1/people/persons/{home.person.pk}").status_code == (200 if reads else 404)
    assert client.get(f"/people/documents/{home.pdoc.pk}/download/").status_code == (200 if reads else 404)
    if not reads:
        with pytest.raises(Http404):
            people_queries.access_person(user, home.person.pk)
        with pytest.raises(Http404):
            people_actions.do_update_person_contact(home.person, address="新地址", actor=user)
        return
    assert people_actions.do_reveal_number(home.person, "number", actor=user, reason="核对") == home.number
    if role in PERSON_WRITE_ROLES:
        people_actions.do_update_person_contact(home.person, address="新地址", actor=user)
        home.person.refresh_from_db()
        assert home.person.address == "新地址"
    else:
        # Supervisors and auditors check the work; they cannot change records.
        with pytest.raises(PermissionDenied):
            people_actions.do_update_person_contact(home.person, address="新地址", actor=user)
        with pytest.raises(PermissionDenied):
            people_actions.do_add_document(home.person, "other", "x", actor=user)


def test_subdistrict_supervisor_sees_all_communities_of_their_subdistrict_only(place_tree, make_user, world):
    sup = make_user(Role.SUBDISTRICT_SUPERVISOR, place_tree.taoyuan)
    assert set(people_queries.persons_for_user(sup)) == {world.a.person, world.b.person}


def test_district_supervisor_sees_the_district(place_tree, make_user, world):
    sup = make_user(Role.DISTRICT_SUPERVISOR, place_tree.nanshan)
    assert set(people_queries.persons_for_user(sup)) == {world.a.person, world.b.person, world.c.person}
    luohu = make_user(Role.DISTRICT_SUPERVISOR, place_tree.luohu)
    assert set(people_queries.persons_for_user(luohu)) == {world.d.person}


def test_resident_sees_only_own_profile_and_wallet(place_tree, make_user, world, client):
    resident = make_user(None)
    people_actions.do_link_user_to_person(resident, world.a.person, actor=TEST_SYSTEM)
    assert list(people_queries.persons_for_user(resident)) == [world.a.person]
    assert set(people_queries.documents_for_user(resident)) == {world.a.pdoc}
    # A neighbour in the same community is invisible, by id and by number.
    neighbour = people_actions.do_register_person(
        make_id_number("440305", date(1991, 2, 3), 21), "邻居", home_place=place_tree.community_a, actor=TEST_SYSTEM
    )
    with pytest.raises(Http404):
        people_queries.access_person(resident, neighbour.pk)
    assert people_queries.find_person_by_number(resident, make_id_number("440305", date(1991, 2, 3), 21)) is None
    client.force_login(resident)
    assert client.get("/people/me/wallet/").status_code == 200
    assert client.get(f"/api/v1/people/persons/{neighbour.pk}").status_code == 404
    assert client.get(f"/people/documents/{world.a.odoc.pk}/download/").status_code == 404


def test_enterprise_agent_sees_only_their_organisations(place_tree, make_user, world):
    agent = make_user(None)
    people_actions.do_add_agent(world.a.org, agent, actor=TEST_SYSTEM)
    assert list(people_queries.organisations_for_user(agent)) == [world.a.org]
    assert set(people_queries.documents_for_user(agent)) == {world.a.odoc}
    assert list(people_queries.persons_for_user(agent)) == []  # the role itself grants no persons
    other = people_actions.do_register_organisation(
        make_uscc("9", "1", "440300", "MA5F99999"), "同社区另一企业", "enterprise", place_tree.community_a, actor=TEST_SYSTEM
    )
    with pytest.raises(Http404):
        people_queries.access_organisation(agent, other.pk)


def test_role_outside_validity_grants_nothing(place_tree, make_user, world):
    from gongzhi.accounts.actions import do_assign_role, do_revoke_role

    user = make_user(None)
    ra = do_assign_role(user, Role.COMMUNITY_WORKER, place_tree.community_a, valid_from=date(2099, 1, 1), actor=TEST_SYSTEM)
    assert list(people_queries.persons_for_user(user)) == []
    do_assign_role(user, Role.COMMUNITY_WORKER, place_tree.community_a, actor=TEST_SYSTEM)
    assert world.a.person in people_queries.persons_for_user(user)
    ra.refresh_from_db()
    do_revoke_role(ra, actor=TEST_SYSTEM)
    user = type(user).objects.get(pk=user.pk)
    assert list(people_queries.persons_for_user(user)) == []


def test_administrator_manages_users_only_in_scope(place_tree, make_user):
    from gongzhi.accounts.actions import do_assign_role, do_issue_api_token
    from gongzhi.accounts.queries import access_user, users_for_user

    admin = make_user(Role.ADMINISTRATOR, place_tree.community_a)
    inside = make_user(Role.WINDOW_CLERK, place_tree.community_a)
    outside = make_user(Role.WINDOW_CLERK, place_tree.community_b)
    assert inside in users_for_user(admin) and outside not in users_for_user(admin)
    with pytest.raises(Http404):
        access_user(admin, outside.pk)
    with pytest.raises(PermissionDenied):
        do_assign_role(outside, Role.COMMUNITY_WORKER, place_tree.community_b, actor=admin)
    with pytest.raises(PermissionDenied):
        do_issue_api_token(outside, "x", actor=admin)
    do_assign_role(inside, Role.COMMUNITY_WORKER, place_tree.community_a, actor=admin)
    # Non-administrators manage nobody.
    clerk = make_user(Role.WINDOW_CLERK, place_tree.community_a)
    with pytest.raises(PermissionDenied):
        do_assign_role(inside, Role.COUNCIL_MEMBER, place_tree.community_a, actor=clerk)


def test_walk_in_without_home_place_is_kept_by_counter_roles_only(place_tree, make_user):
    walk_in = people_actions.do_register_person("H60012345", "李嘉欣", actor=make_user(Role.WINDOW_CLERK, place_tree.community_a))
    clerk = make_user(Role.WINDOW_CLERK, place_tree.community_b)
    people_actions.do_add_document(walk_in, "id_card", "回乡证", actor=clerk)
    for role in (Role.COMMUNITY_WORKER, Role.DISTRICT_SUPERVISOR, Role.ADMINISTRATOR):
        other = make_user(role, place_for_role(role, place_tree, place_tree.community_a))
        with pytest.raises(Http404):
            people_actions.do_add_document(walk_in, "other", "x", actor=other)
        with pytest.raises(Http404):
            people_queries.access_person(other, walk_in.pk)
