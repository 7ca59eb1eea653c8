"""Residents sign themselves up (issue 11): number, name, phone and community; the phone proves
itself by a code sent through the accounts outbox; the account is unverified until a window
clerk (or a real-name provider) confirms it. Bad input gets its own message and changes nothing;
nobody learns from the pages whether a number is already registered."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts import actions as account_actions
from gongzhi.accounts.enums import IdentityStatus, Role
from gongzhi.accounts.models import OutboxMessage, SignupCode, User
from gongzhi.core import crypto
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.actions import do_link_user_to_person, do_register_person
from gongzhi.people.models import Person
from gongzhi.people.numbers import make_id_number

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("440305", date(1990, 3, 7), 21)
PHONE = "13912345678"
PASSWORD = "a-long-signup-passphrase"
SENT: list[Any] = []


class Capture:
    """A notification backend that keeps what it is asked to send (the outbox goes through it)."""

    def send(self, note: Any) -> None:
        SENT.append(note)


class ConfirmingProvider:
    """A real-name provider double that confirms everyone."""

    def confirm(self, number: str, name: str) -> bool:
        return True


@pytest.fixture(autouse=True)
def _capture(settings: Any) -> None:
    settings.GONGZHI_NOTIFY_BACKEND = "gongzhi.people.tests.test_signup.Capture"
    SENT.clear()


def sent_to(phone: str) -> list[Any]:
    account_actions.send_outbox()
    return [note for note in SENT if note.recipient == phone]


def code_sent_to(phone: str) -> str:
    notes = [n for n in sent_to(phone) if re.search(r"\b\d{6}\b", n.body)]
    assert notes, f"no code was sent to {phone}"
    match = re.search(r"\b(\d{6})\b", notes[-1].body)
    assert match is not None
    return match.group(1)


def start(client: Client, place: Any, *, number: str = NUMBER, phone: str = PHONE, name: str = "陈小明",
          address: str = "127.0.0.1") -> Any:
    return client.post(reverse("people:signup"), {"number": number, "name": name, "phone": phone,
                                                  "home_place": place.pk}, REMOTE_ADDR=address)


def finish(client: Client, code: str, username: str = "chenxm") -> Any:
    return client.post(reverse("people:signup_confirm"), {"code": code, "username": username,
                                                          "password1": PASSWORD, "password2": PASSWORD})


def state() -> tuple[int, ...]:
    return (User.objects.count(), Person.objects.count(), SignupCode.objects.filter(used_at__isnull=False).count())


def test_happy_path_makes_an_unverified_resident_logged_in_in_the_hall(place_tree: Any) -> None:
    client = Client()
    page = client.get(reverse("people:signup"))
    assert page.status_code == 200 and "身份证件号码" in page.content.decode()
    r = start(client, place_tree.pingshan)
    assert r.status_code == 302 and r["Location"] == reverse("people:signup_confirm")
    confirm = client.get(reverse("people:signup_confirm")).content.decode()
    code = code_sent_to(PHONE)
    # The code goes through the notification layer only: never on a page, never stored plain.
    assert code not in confirm and "139****5678" in confirm and PHONE not in confirm
    row = SignupCode.objects.get()
    assert code not in row.code_hash and PHONE not in row.phone_cipher and NUMBER not in row.number_cipher
    assert OutboxMessage.objects.get().body == ""  # emptied once sent
    r = finish(client, code)
    assert r.status_code == 302 and r["Location"] == reverse("services:online")
    user = User.objects.get(username="chenxm")
    assert user.identity_status == IdentityStatus.UNVERIFIED
    assert user.phone_masked == "139****5678" and crypto.decrypt(user.phone_cipher) == PHONE
    person = Person.objects.get(user=user)
    assert person.name == "陈小明" and person.home_place == place_tree.pingshan and person.number_bidx == row.number_bidx
    assert user.roles.filter(role=Role.RESIDENT, place=place_tree.pingshan).exists()
    assert client.get(reverse("services:online")).status_code == 200  # logged in, in the hall
    home = client.get(reverse("accounts:home")).content.decode()
    assert "未实名核验" in home and "综合窗口" in home
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"account.signup_requested", "account.signup", "person.register", "person.link_user"} <= verbs
    assert not any(NUMBER in str(e.after) or PHONE in str(e.after) for e in AuditEvent.objects.all())


def test_retries_never_duplicate(place_tree: Any) -> None:
    client = Client()
    start(client, place_tree.pingshan)
    start(client, place_tree.pingshan)  # a double click: the live code is reused, one message
    assert SignupCode.objects.count() == 1 and len(sent_to(PHONE)) == 1
    code = code_sent_to(PHONE)
    finish(client, code)
    before = state()
    # Replaying the request from another browser that kept the ticket: refused, nothing new.
    other = Client()
    session = other.session
    session["gongzhi_signup"] = {"ticket": SignupCode.objects.get().ticket, "phone": "139****5678"}
    session.save()
    r = finish(other, code, username="someone")
    assert r.status_code == 400 and "已经使用过" in r.content.decode()
    assert state() == before


def test_wrong_code_counts_and_voids_then_expired_and_replayed(place_tree: Any, settings: Any) -> None:
    settings.SIGNUP_MAX_ATTEMPTS = 2
    client = Client()
    start(client, place_tree.pingshan)
    code = code_sent_to(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    before = state()
    r = finish(client, wrong)
    assert r.status_code == 400 and "验证码不正确，还可以再试 1 次" in r.content.decode()
    r = finish(client, wrong)
    assert "错误次数过多" in r.content.decode()
    r = finish(client, code)  # the right code no longer helps: the row is void
    assert "错误次数过多" in r.content.decode()
    assert state() == before and SignupCode.objects.get().attempts == 2

    # A new request (after the resend window) gives a new code; once it expires it is refused.
    SignupCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    start(client, place_tree.pingshan)
    code = code_sent_to(PHONE)
    SignupCode.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = finish(client, code)
    assert r.status_code == 400 and "验证码已过期" in r.content.decode()
    assert state() == before


def test_english_messages(place_tree: Any) -> None:
    client = Client(headers={"accept-language": "en"})
    client.cookies["django_language"] = "en"
    r = start(client, place_tree.pingshan, number=NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"))
    assert r.status_code == 400
    assert "check" in r.content.decode().lower()


def test_bad_check_digit_and_bad_phone_change_nothing(place_tree: Any) -> None:
    client = Client()
    bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    r = start(client, place_tree.pingshan, number=bad)
    assert r.status_code == 400 and "校验" in r.content.decode()
    r = start(client, place_tree.pingshan, phone="12345")
    assert r.status_code == 400 and "11 位手机号码" in r.content.decode()
    r = client.post(reverse("people:signup"), {"number": NUMBER, "name": "陈小明", "phone": PHONE,
                                               "home_place": place_tree.taoyuan.pk})
    assert r.status_code == 400 and "field--error" in r.content.decode()  # a subdistrict is no community
    assert SignupCode.objects.count() == 0 and OutboxMessage.objects.count() == 0
    assert not AuditEvent.objects.filter(verb__startswith="account.signup").exists()


def test_rate_limited_by_number_phone_and_address(place_tree: Any, settings: Any) -> None:
    settings.SIGNUP_MAX_PER_HOUR = 2
    settings.SIGNUP_RESEND_SECONDS = 0
    client = Client()
    assert start(client, place_tree.pingshan).status_code == 302
    assert start(client, place_tree.pingshan).status_code == 302
    r = start(client, place_tree.pingshan)
    assert r.status_code == 429 and "过于频繁" in r.content.decode()
    assert SignupCode.objects.count() == 2
    # One address trying many numbers and phones: 3× the per-number limit, then refused.
    for i in range(6):
        number = make_id_number("440305", date(1980, 1, 1 + i), 31)
        r = start(client, place_tree.pingshan, number=number, phone=f"1371234560{i}", address="10.9.9.9")
        assert r.status_code == 302
    r = start(client, place_tree.pingshan, number=make_id_number("440305", date(1981, 1, 1), 31),
              phone="13612345600", address="10.9.9.9")
    assert r.status_code == 429
    assert SignupCode.objects.count() == 8


def _registered_with_account(place: Any) -> User:
    person = do_register_person(NUMBER, "陈小明", phone="13700000001", home_place=place, actor=TEST_SYSTEM)
    user = account_actions.do_create_user("chen_old", "陈小明", actor=TEST_SYSTEM)
    account_actions.do_set_phone(user, "13700000002", actor=TEST_SYSTEM)
    do_link_user_to_person(user, person, actor=TEST_SYSTEM)
    return user


def test_no_enumeration_of_registered_numbers(place_tree: Any) -> None:
    # A fresh number and a number that already has an account read exactly the same.
    fresh = Client()
    r1 = start(fresh, place_tree.pingshan, number=make_id_number("440305", date(1991, 4, 4), 41))
    page1 = fresh.get(reverse("people:signup_confirm")).content.decode()
    assert code_sent_to(PHONE)  # a number not on file: the code goes to the phone typed
    SENT.clear()
    _registered_with_account(place_tree.pingshan)
    taken = Client()
    r2 = start(taken, place_tree.pingshan)
    page2 = taken.get(reverse("people:signup_confirm")).content.decode()
    assert (r1.status_code, r1["Location"]) == (r2.status_code, r2["Location"])
    strip = re.compile(r"[A-Za-z0-9]{64}")  # the CSRF tokens
    assert strip.sub("", page1) == strip.sub("", page2)
    # No code went to the phone typed; the account's phone on record got a notice instead.
    assert not sent_to(PHONE)
    notice = sent_to("13700000002")
    assert notice and not re.search(r"\b\d{6}\b", notice[-1].body) and NUMBER not in notice[-1].body
    # Whatever code is tried, the answer is the one a wrong code gets; no account is made.
    before = state()
    r = finish(taken, "123456", username="intruder")
    assert r.status_code == 400 and "验证码不正确" in r.content.decode()
    assert state() == before and not User.objects.filter(username="intruder").exists()


def test_person_on_file_without_account_links_when_the_phone_matches(place_tree: Any) -> None:
    person = do_register_person(NUMBER, "陈小明", phone=PHONE, home_place=place_tree.longlian, actor=TEST_SYSTEM)
    client = Client()
    start(client, place_tree.pingshan)
    finish(client, code_sent_to(PHONE))
    person.refresh_from_db()
    assert person.user is not None and person.user.username == "chenxm"
    assert person.home_place == place_tree.longlian  # the record on file keeps its community
    assert Person.objects.count() == 1
    # Another phone for a record on file gets no code (the phone on record is told instead).
    SENT.clear()
    other = make_id_number("440305", date(1970, 9, 9), 51)
    do_register_person(other, "王芳", phone="13700000003", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    start(Client(), place_tree.pingshan, number=other, phone="13600000009", name="王芳")
    assert not sent_to("13600000009") and sent_to("13700000003")


def test_real_name_provider_verifies_at_once(place_tree: Any, settings: Any) -> None:
    settings.GONGZHI_REALNAME_PROVIDER = "gongzhi.people.tests.test_signup.ConfirmingProvider"
    client = Client()
    start(client, place_tree.pingshan)
    finish(client, code_sent_to(PHONE))
    user = User.objects.get(username="chenxm")
    assert user.identity_status == IdentityStatus.VERIFIED and user.identity_verified_via == "provider"
    assert AuditEvent.objects.filter(verb="account.verify_identity").count() == 1


def test_taken_username_and_weak_password_keep_the_code(place_tree: Any) -> None:
    account_actions.do_create_user("chenxm", "别人", actor=TEST_SYSTEM)
    client = Client()
    start(client, place_tree.pingshan)
    code = code_sent_to(PHONE)
    before = state()
    r = finish(client, code)
    assert r.status_code == 400 and "已被使用" in r.content.decode()
    r = client.post(reverse("people:signup_confirm"), {"code": code, "username": "chen2", "password1": "123",
                                                       "password2": "123"})
    assert r.status_code == 400
    assert state() == before
    assert finish(client, code, username="chen2").status_code == 302


def test_window_clerk_verifies_the_account(place_tree: Any, make_user: Any) -> None:
    client = Client()
    start(client, place_tree.pingshan)
    finish(client, code_sent_to(PHONE))
    user = User.objects.get(username="chenxm")
    clerk = make_user(Role.WINDOW_CLERK, place_tree.wenhua)  # 一窗办: a clerk anywhere serves
    worker = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    c = Client()
    c.force_login(worker)
    assert c.get(reverse("people:verify_account")).status_code == 403
    c.force_login(clerk)
    assert c.get(reverse("people:verify_account")).status_code == 200
    # Verify without finding first: refused, nothing changes.
    c.post(reverse("people:verify_account"), {"step": "verify"})
    user.refresh_from_db()
    assert user.identity_status == IdentityStatus.UNVERIFIED
    r = c.post(reverse("people:verify_account"), {"step": "find", "number": NUMBER})
    html = r.content.decode()
    assert r.status_code == 200 and "chenxm" in html and "未实名核验" in html and NUMBER not in html
    assert PHONE not in html and "139****5678" in html
    r = c.post(reverse("people:verify_account"), {"step": "verify"})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.identity_status == IdentityStatus.VERIFIED and user.identity_verified_via == "window"
    event = AuditEvent.objects.get(verb="account.verify_identity")
    assert event.actor_id == clerk.pk
    # A number with no account: a specific message.
    r = c.post(reverse("people:verify_account"),
               {"step": "find", "number": make_id_number("440305", date(1960, 1, 1), 61)})
    assert r.status_code == 404 and "没有网上账户" in r.content.decode()


def test_signup_links_on_login_page_and_header() -> None:
    html = Client().get(reverse("accounts:login")).content.decode()
    assert html.count(reverse("people:signup")) >= 2  # the header and the login form


def test_old_signup_rows_are_pruned(place_tree: Any) -> None:
    start(Client(), place_tree.pingshan)
    assert account_actions.prune_signup_codes() == 0
    SignupCode.objects.update(expires_at=timezone.now() - timedelta(days=2))
    assert account_actions.prune_signup_codes() == 1 and not SignupCode.objects.exists()


def test_clerks_landing_page_links_the_verification_page(place_tree: Any, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.WINDOW_CLERK, place_tree.pingshan))
    assert reverse("people:verify_account") in client.get(reverse("accounts:home")).content.decode()
