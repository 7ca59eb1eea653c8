"""Chinese case search (``queries.search_cases``): numbers, names, addresses, items — two-character
terms included — on SQLite and PostgreSQL alike, always within the searcher's jurisdiction."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.accounts.enums import Role
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.domain.search import _part_tokens, search_tokens
from gongzhi.services.models import Case
from gongzhi.services.queries import search_cases
from gongzhi.services.tests.conftest import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(hall: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    zhang = do_submit_application(
        Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True,
               address="南山区桃源街道平山一路8号"),
        actor=hall.clerk, channel="window", idempotency_key="s-zhang",
    ).cases.get()
    shop = do_submit_application(
        Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"}, address="桃源村三期"),
        actor=hall.clerk, channel="window", idempotency_key="s-shop",
    ).cases.get()
    li = do_submit_application(
        Intake(hall.other_number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True,
               files={"id_card": pdf()}, address="罗湖区黄贝街道文华路1号"),
        actor=make_user(Role.WINDOW_CLERK, hall.tree.wenhua), channel="window", idempotency_key="s-li",
    ).cases.get()
    return SimpleNamespace(zhang=zhang, shop=shop, li=li)


@pytest.fixture
def admin(hall: SimpleNamespace, make_user: Callable[..., Any]) -> Any:
    return make_user(Role.ADMINISTRATOR, hall.tree.city)


def found(user: Any, query: str) -> set[str]:
    return set(search_cases(user, query).values_list("number", flat=True))


def test_by_case_number_full_prefix_and_lower_case(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, cases.zhang.number) == {cases.zhang.number}
    assert found(admin, cases.zhang.number.lower()) == {cases.zhang.number}
    application_prefix = cases.zhang.number[:-2]  # one application's cases share the prefix
    assert found(admin, application_prefix) == {cases.zhang.number}


def test_by_applicant_name_whole_and_two_characters(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, "张伟明") == {cases.zhang.number, cases.shop.number}
    assert found(admin, "张伟") == {cases.zhang.number, cases.shop.number}
    assert found(admin, "伟明") == {cases.zhang.number, cases.shop.number}
    assert found(admin, "李芳") == {cases.li.number}
    assert found(admin, "王芳") == set()


def test_by_address_place_names(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, "南山") == {cases.zhang.number}
    assert found(admin, "罗湖") == {cases.li.number}
    assert found(admin, "文华路") == {cases.li.number}
    assert found(admin, "桃源") == {cases.zhang.number, cases.shop.number}
    assert found(admin, "平山社区") >= {cases.zhang.number}  # the case's community


def test_by_item_name_in_chinese(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, "临时救助") == {cases.zhang.number, cases.li.number}
    assert found(admin, "救助") == {cases.zhang.number, cases.li.number}
    assert found(admin, "参保证明") == {cases.shop.number}
    assert found(admin, "T-RS-002") == {cases.shop.number}


def test_several_terms_must_all_match(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, "救助 张伟") == {cases.zhang.number}
    assert found(admin, "救助 罗湖") == {cases.li.number}
    assert found(admin, "参保 罗湖") == set()


def test_blank_query_finds_nothing(cases: SimpleNamespace, admin: Any) -> None:
    assert found(admin, "   ") == set()


def test_jurisdiction_limits_search(
    hall: SimpleNamespace, cases: SimpleNamespace, make_user: Callable[..., Any]
) -> None:
    # The cases belong to the applicants' home communities: 平山 (张伟明) and 文华 (李芳).
    assert Case.objects.get(pk=cases.zhang.pk).place == hall.tree.pingshan
    assert found(hall.clerk, "张伟") == {cases.zhang.number, cases.shop.number}
    assert found(hall.clerk, "李芳") == set()  # another district's case
    neighbour = make_user(Role.WINDOW_CLERK, hall.tree.longlian)  # same subdistrict, other community
    wenhua = make_user(Role.WINDOW_CLERK, hall.tree.wenhua)
    for term in ("张伟", "南山", "临时救助", cases.zhang.number):
        assert found(neighbour, term) == set()
        assert cases.zhang.number not in found(wenhua, term)
    assert found(wenhua, "李芳") == {cases.li.number}
    assert found(hall.resident_user, "救助") == {cases.zhang.number}  # a resident: own cases only
    assert found(hall.other_user, "张伟") == set()


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z]{1,4}[0-9]{1,20}", fullmatch=True))
def test_numbers_are_one_token_as_jieba_gives_them(text: str) -> None:
    """The shortcut for application and case numbers gives exactly what the segmenter gives."""
    assert search_tokens(text) == " " + " ".join(_part_tokens(text)) + " "
