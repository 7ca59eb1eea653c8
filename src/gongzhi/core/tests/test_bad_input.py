"""Nonsense on every core and places URL answers 4xx with a message, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_deadline_far_in_the_future_is_a_clear_400(client: Client) -> None:
    # 9999-12-31 + 365 working days is past date.max: this used to raise OverflowError (500).
    response = client.get("/tools/deadline", {"start": "9999-12-31", "days": "365"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "id_start_errors" in html
    assert "1900" in html and "2200" in html  # says which dates are supported


def test_deadline_api_far_in_the_future_is_a_clear_422(client: Client) -> None:
    response = client.get("/api/v1/calendar/deadline", {"start": "9999-12-31", "working_days": "3650"})
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["field"] == "start" and "2200" in item["message"]


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/tools/deadline", {"start": "9999-12-31", "days": "365"}),
        ("get", "/tools/deadline", {"start": "0001-01-01", "days": "365"}),
        ("get", "/tools/deadline", {"start": "2026-02-30", "days": "1"}),
        ("get", "/tools/deadline", {"start": "2026-01-01", "days": "99999999999999999999999"}),
        ("get", "/tools/deadline", {"start": "\x00", "days": "\x00"}),
        ("get", "/tools/deadline", {"days": "3"}),
        ("post", "/tools/identifier", {"number": "\x00"}),
        ("post", "/tools/identifier", {"number": "1" * 500}),
        ("post", "/tools/identifier", {}),
        ("get", "/places/", {"as_of": "2016-99-01"}),
        ("get", "/places/", {"as_of": "\x00"}),
        ("get", "/places/%00/", {}),
        ("get", "/places/" + "9" * 300 + "/", {}),
        ("get", "/api/v1/calendar/deadline", {"start": "0001-01-01", "working_days": "1"}),
        ("get", "/api/v1/calendar/deadline", {"start": "x", "working_days": "x"}),
        ("get", "/api/v1/identifiers/check", {"number": "1" * 500}),
        ("get", "/api/v1/places", {"as_of": "9999-99-99"}),
        ("get", "/api/v1/places", {"parent": "\x00"}),
        ("get", "/api/v1/places", {"limit": "0"}),
        ("get", "/api/v1/places/%00", {}),
        ("get", "/api/v1/places/NOPE/lineage", {}),
    ],
)
def test_nonsense_gets_a_4xx(client: Client, method: str, url: str, data: dict[str, str]) -> None:
    response = getattr(client, method)(url, data)
    assert 400 <= response.status_code < 500, (url, data, response.status_code)


def test_large_text_switch_ignores_a_nonsense_next(client: Client) -> None:
    for nxt in ("\x00", "//evil.example", "javascript:alert(1)", "x" * 5000):
        response = client.post("/preferences/large-text", {"next": nxt})
        assert response.status_code == 302
        assert response["Location"] in ("/", nxt) and not response["Location"].startswith("//")


def test_nul_in_the_query_string_is_refused_before_any_view(client: Client) -> None:
    """PostgreSQL refuses NUL outright: an admin list filter with one was a 500 there."""
    page = client.get("/places/", {"as_of": "\x00"})
    assert page.status_code == 400 and "Content-Security-Policy" in page
    api = client.get("/api/v1/places", {"kind": "\x00"})
    assert api.status_code == 422
    assert api.json()["detail"][0]["field"] == "kind" and api.json()["detail"][0]["code"] == "nul_character"
