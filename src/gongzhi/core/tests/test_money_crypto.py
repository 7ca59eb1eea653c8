from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core import crypto
from gongzhi.core.domain.money import MoneyError, format_area, format_yuan, to_area, to_yuan, yuan_in_words
from gongzhi.core.logging import MaskPersonalNumbersFilter, mask_text


def test_yuan_parsing_and_format() -> None:
    assert to_yuan("1,234.565") == Decimal("1234.57")
    assert to_yuan(100000) == Decimal("100000.00")
    assert format_yuan(Decimal("1234567.8")) == "¥1,234,567.80"
    assert format_area(Decimal("3000")) == "3,000.00 m²"
    assert to_area("3,000㎡") == Decimal("3000.00")
    with pytest.raises(MoneyError):
        to_yuan(0.1)
    with pytest.raises(MoneyError):
        to_yuan("abc")
    with pytest.raises(MoneyError):
        to_area("-1")


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "人民币零元整"),
        ("100000", "人民币壹拾万元整"),
        ("1234.5", "人民币壹仟贰佰叁拾肆元伍角"),
        ("1005.07", "人民币壹仟零伍元零柒分"),
        ("10010", "人民币壹万零壹拾元整"),
        ("0.35", "人民币叁角伍分"),
        ("100000000", "人民币壹亿元整"),
        ("-8", "负人民币捌元整"),
    ],
)
def test_yuan_in_words(amount: str, words: str) -> None:
    assert yuan_in_words(Decimal(amount)) == words


@pytest.mark.django_db
def test_encrypt_roundtrip_and_blind_index() -> None:
    token = crypto.encrypt("440524188001010014")
    assert "440524" not in token and token.startswith("v1:")
    assert crypto.decrypt(token) == "440524188001010014"
    assert crypto.encrypt("440524188001010014") != token  # random nonce
    assert crypto.blind_index("440524188001010014") == crypto.blind_index(" 440524188001010014 ")
    assert crypto.blind_index("1") != crypto.blind_index("1", purpose="phone")
    assert crypto.mask_phone("13812345678") == "138****5678"


@given(st.text(max_size=50))
def test_encrypt_roundtrip_any_text(text: str) -> None:
    assert crypto.decrypt(crypto.encrypt(text)) == text


def test_logs_mask_personal_numbers() -> None:
    assert mask_text("applicant 440524188001010014 phone 13812345678") == (
        "applicant 4405**********0014 phone 138****5678"
    )
    record = logging.LogRecord("x", logging.INFO, "f", 1, "lookup %s", ("44052418800101001X",), None)
    MaskPersonalNumbersFilter().filter(record)
    assert record.getMessage() == "lookup 4405**********001X"
