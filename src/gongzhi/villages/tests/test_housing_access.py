"""Housing fairness (reproducible published orders) and lawful access control (both databases)."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.core.tests.authz_world import id_number
from gongzhi.people.actions import do_register_person
from gongzhi.villages import actions as va
from gongzhi.villages.domain import allocation
from gongzhi.villages.enums import CredentialStatus, DenyStatus
from gongzhi.villages.models import Credential, GateEvent

RULES = {"require": [{"fact": "owns_home_in_city", "op": "eq", "value": False}],
         "score": [{"fact": "talent_level", "points": {"A": 60, "B": 40, "C": 20}},
                   {"fact": "years_in_district", "per": 5, "max": 25}]}


def test_ranking_is_reproducible_and_ignores_input_order() -> None:
    rng = random.Random(7)
    apps = [(f"RC-{i:03d}", {"owns_home_in_city": rng.random() < 0.2, "talent_level": rng.choice("ABC"),
                              "years_in_district": rng.randint(0, 8)}) for i in range(60)]
    first = allocation.rank(RULES, apps, 10, "seed-1")
    shuffled = apps[:]
    rng.shuffle(shuffled)
    assert allocation.rank(RULES, shuffled, 10, "seed-1") == first
    eligible = [r for r in first if r.eligible]
    assert [r.rank for r in eligible] == list(range(1, len(eligible) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(eligible))
    assert sum(r.allocated for r in first) == 10 and all(r.allocated == (r.rank is not None and r.rank <= 10)
                                                          for r in first)
    assert all(not r.eligible for r in first if r.failed)


def test_lottery_order_is_recomputable_from_the_published_seed() -> None:
    refs = [f"H{i:02d}" for i in range(30)]
    order = allocation.lottery_order("abc", refs)
    assert order == allocation.lottery_order("abc", list(reversed(refs))) and sorted(order) == refs
    assert order != allocation.lottery_order("abd", refs)


def _person(n: int, place: Any, name: str = "李安居") -> Any:
    return do_register_person(id_number(f"44030519800101{n:03d}"), name, home_place=place, actor=SYSTEM)


def _village(place: Any) -> Any:
    return va.do_create_village(place, "V-H", "平山村", 2026, actor=SYSTEM)


@pytest.mark.django_db
def test_talent_round_publishes_masked_ranking(place_tree: Any) -> None:
    village = _village(place_tree.pingshan)
    rnd = va.do_open_talent_round(village, "2026年第一批", 1, RULES, actor=SYSTEM, seed="s")
    a = va.do_apply_talent(rnd, _person(1, place_tree.pingshan, "王一"), {"owns_home_in_city": False, "talent_level": "B",
                                                                           "years_in_district": 2}, actor=SYSTEM)
    b = va.do_apply_talent(rnd, _person(2, place_tree.pingshan, "陈二"), {"owns_home_in_city": False, "talent_level": "A",
                                                                           "years_in_district": 0}, actor=SYSTEM)
    with pytest.raises(ConflictError):
        va.do_apply_talent(rnd, a.person, {}, actor=SYSTEM)
    rnd = va.do_publish_ranking(rnd, actor=SYSTEM)
    assert [(r["number"], r["name"], r["allocated"]) for r in rnd.ranking] == [(b.number, "陈*", True), (a.number, "王*", False)]
    with pytest.raises(ConflictError):
        va.do_apply_talent(rnd, _person(3, place_tree.pingshan), {}, actor=SYSTEM)
    with pytest.raises(ActionError):
        va.do_open_talent_round(village, "x", 1, {"require": [{"fact": "x", "op": "like", "value": 1}]}, actor=SYSTEM)


@pytest.mark.django_db
def test_resettlement_lottery_turns_entitlements_and_hand_over(place_tree: Any, client: Any) -> None:
    village = _village(place_tree.pingshan)
    rnd, seed = va.do_open_resettlement_round(village, "一号地块选房", "盐田一号地块", "lottery", actor=SYSTEM)
    hh = {ref: va.do_add_household(rnd, ref, _person(i, place_tree.pingshan), "120.00", 1, actor=SYSTEM)
          for i, ref in enumerate(["H01", "H02", "H03"], start=10)}
    va.do_add_units(rnd, [("1栋", "101", "89.50"), ("1栋", "102", "130.00"), ("1栋", "201", "89.50"),
                          ("1栋", "202", "89.50")], actor=SYSTEM)
    with pytest.raises(ActionError) as e:
        va.do_draw_order(rnd, seed="not-the-seed", actor=SYSTEM)
    assert e.value.field == "seed"
    rnd = va.do_draw_order(rnd, seed=seed, actor=SYSTEM)
    assert rnd.order == allocation.lottery_order(seed, ["H01", "H02", "H03"])
    first, second = hh[rnd.order[0]], hh[rnd.order[1]]
    units = {u.number: u for u in rnd.units.all()}
    with pytest.raises(ConflictError):
        va.do_select_unit(second, units["101"], actor=SYSTEM)  # not their turn
    with pytest.raises(ActionError):
        va.do_select_unit(first, units["102"], actor=SYSTEM)  # larger than the entitlement
    va.do_select_unit(first, units["101"], actor=SYSTEM)
    assert va.current_turn(rnd) == second.ref
    with pytest.raises(ConflictError):
        va.do_select_unit(second, units["101"], actor=SYSTEM)  # taken
    ho = va.do_record_hand_over(units["101"], clock.localdate(), actor=SYSTEM)
    assert ho.household == first
    page = client.get(f"/villages/{village.pk}/resettlement/{rnd.pk}/").content.decode()
    assert seed in page and rnd.seed_hash in page and "1栋-101" in page


@pytest.mark.django_db
def test_face_entry_is_opt_in_withdrawable_and_never_the_only_way(place_tree: Any) -> None:
    village = _village(place_tree.pingshan)
    p = _person(20, place_tree.pingshan)
    with pytest.raises(ActionError) as e:
        va.do_issue_credential(village, p, "face", actor=SYSTEM)
    assert e.value.code == "no_consent"
    consent = va.do_record_face_consent(village, p, "2026-01", actor=SYSTEM)
    with pytest.raises(ActionError) as e:
        va.do_issue_credential(village, p, "face", actor=SYSTEM)
    assert e.value.code == "no_alternative"
    card = va.do_issue_credential(village, p, "card", actor=SYSTEM)
    face = va.do_issue_credential(village, p, "face", actor=SYSTEM)
    with pytest.raises(ActionError):
        va.do_revoke_credential(card, actor=SYSTEM)  # the last non-face way in
    assert va.do_withdraw_face_consent(consent, actor=SYSTEM) == 1
    face.refresh_from_db()
    assert face.status == CredentialStatus.REVOKED
    assert Credential.objects.get(pk=card.pk).status == CredentialStatus.ACTIVE
    field_names = {f.name for f in Credential._meta.get_fields()}
    assert not field_names & {"template", "image", "photo", "embedding", "face"}


@pytest.mark.django_db
def test_deny_entry_needs_a_person_to_refuse_expires_and_can_be_contested(place_tree: Any, users: dict[str, Any],
                                                                           make_user: Any) -> None:
    village = _village(place_tree.pingshan)
    gate = va.do_create_gate(village, "东门", actor=SYSTEM)
    p = _person(30, place_tree.pingshan)
    stranger = _person(31, place_tree.pingshan)
    card = va.do_issue_credential(village, p, "card", actor=SYSTEM)
    sup, guard = users["community_supervisor"], users["community_worker"]
    now = clock.now()
    kw = {"legal_basis": "《治安管理处罚法》第X条决定", "reason": "法院禁止令", "notice_text": "已书面告知，可提出异议",
          "starts_at": now - timedelta(hours=1), "expires_at": now + timedelta(days=30)}
    with pytest.raises(ActionError) as e:
        va.do_add_deny_entry(village, stranger, approver=sup, actor=SYSTEM, **kw)
    assert e.value.code == "not_a_holder"  # no watch-list of strangers
    with pytest.raises(ActionError):
        va.do_add_deny_entry(village, p, approver=guard, actor=SYSTEM, **kw)  # not an approver
    with pytest.raises(ActionError):
        va.do_add_deny_entry(village, p, approver=sup, actor=SYSTEM,
                             **{**kw, "expires_at": now + timedelta(days=400)})
    entry = va.do_add_deny_entry(village, p, approver=sup, actor=guard, **kw)
    answer = va.do_gate_lookup(gate, card.token, actor=guard)
    assert answer.answer == "ask_person" and not GateEvent.objects.exists()  # the device never refuses
    with pytest.raises(NotAllowedError):
        va.do_confirm_gate(gate, card, refuse=True, actor=SYSTEM)  # a machine cannot confirm
    event = va.do_confirm_gate(gate, card, refuse=True, actor=guard)
    assert event.outcome == "refused" and event.confirmed_by == guard and event.deny_entry == entry
    # contested: still in force until decided, then lifted
    entry = va.do_contest_deny_entry(entry, "禁止令已撤销", actor=guard)
    assert entry.status == DenyStatus.CONTESTED
    assert va.do_gate_lookup(gate, card.token, actor=guard).answer == "ask_person"
    with pytest.raises(NotAllowedError):
        va.do_decide_contest(entry, lift=True, decision="核实撤销", actor=guard)
    entry = va.do_decide_contest(entry, lift=True, decision="核实撤销", actor=sup)
    assert va.do_gate_lookup(gate, card.token, actor=guard).answer == "admit"
    # an entry expires by itself
    va.do_add_deny_entry(village, p, approver=sup, actor=guard, **{**kw, "expires_at": now + timedelta(days=2)})
    assert va.do_gate_lookup(gate, card.token, actor=guard).answer == "ask_person"
    with clock.frozen_at(now + timedelta(days=3)):
        assert va.do_gate_lookup(gate, card.token, actor=guard).answer == "admit"
    assert AuditEvent.objects.filter(verb="villages.gate_lookup").count() == 5  # every lookup audited
