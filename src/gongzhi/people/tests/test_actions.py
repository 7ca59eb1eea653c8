from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from gongzhi.core.crypto import blind_index, decrypt
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions
from gongzhi.people.errors import (
    FileTooLarge,
    InvalidDates,
    InvalidNumber,
    InvalidPhone,
    RevealRefused,
    UnsupportedFileType,
)
from gongzhi.people.models import Consent, Document, Organisation, Person
from gongzhi.people.numbers import make_id_number, make_uscc

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

pytestmark = pytest.mark.django_db


def files_on_disk() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def clerk(users):
    return users["window_clerk"]


@pytest.fixture
def person(place_tree, clerk):
    return actions.do_register_person(
        make_id_number("440305", date(1985, 3, 12), 123), "张三", phone="13800138000", home_place=place_tree.pingshan, actor=clerk
    )


def test_register_person_stores_cipher_index_and_mask(person):
    number = make_id_number("440305", date(1985, 3, 12), 123)
    assert person.number_masked == "4403**********" + number[-4:]
    assert number not in person.number_cipher
    assert decrypt(person.number_cipher) == number
    assert person.number_bidx == blind_index(number, purpose="id")
    assert person.birth_date == date(1985, 3, 12)
    assert person.sex == "M"
    assert person.number_kind == "resident_id"
    assert person.phone_masked == "138****8000"
    event = AuditEvent.objects.get(verb="person.register", object_id=str(person.pk))
    assert number not in str(event.after) and "13800138000" not in str(event.after)


def test_register_is_idempotent_even_with_spaces_and_lowercase(place_tree, clerk, person):
    number = make_id_number("440305", date(1985, 3, 12), 123)
    again = actions.do_register_person(
        f" {number[:6]} {number[6:]} ".lower(), "张三", home_place=place_tree.pingshan, actor=clerk
    )
    assert again.pk == person.pk
    assert Person.objects.count() == 1


def test_register_residence_permits_and_travel_permit(clerk, place_tree):
    hk = actions.do_register_person(make_id_number("810000", date(1990, 1, 2), 42), "陈大文", actor=clerk)
    tw = actions.do_register_person(make_id_number("830000", date(1970, 6, 30), 17), "林志明", actor=clerk)
    tp = actions.do_register_person("H12345678", "李嘉欣", actor=clerk)
    assert (hk.number_kind, hk.sex) == ("hk_residence_permit", "F")
    assert tw.number_kind == "tw_residence_permit"
    assert tp.number_kind == "hk_mo_travel_permit" and tp.birth_date is None
    # An older travel permit with the renewal count is the same holder.
    assert actions.do_register_person("H1234567801", "李嘉欣", actor=clerk).pk == tp.pk


def test_bad_number_is_named_and_nothing_stored(clerk, place_tree):
    good = make_id_number("440305", date(1985, 3, 12), 123)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidNumber) as exc:
        actions.do_register_person(bad, "张三", home_place=place_tree.pingshan, actor=clerk)
    assert "校验位" in exc.value.message and exc.value.field == "number"
    with pytest.raises(InvalidNumber) as exc:
        actions.do_register_person(make_uscc("9", "1", "440300", "MA5F12345"), "公司", actor=clerk)
    assert "统一社会信用代码" in exc.value.message
    with pytest.raises(InvalidPhone):
        actions.do_register_person(good, "张三", phone="12345", home_place=place_tree.pingshan, actor=clerk)
    assert Person.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="person.register").exists()


def test_reveal_is_audited_with_reason(person, make_user, place_tree):
    officer = make_user("community_worker", place_tree.pingshan, perms=["reveal_personal_number"])
    number = actions.do_reveal_number(person, "number", actor=officer, reason="核对户籍")
    assert number == make_id_number("440305", date(1985, 3, 12), 123)
    assert actions.do_reveal_number(person, "phone", actor=officer, reason="回访") == "13800138000"
    events = AuditEvent.objects.filter(verb="person.reveal", object_id=str(person.pk)).order_by("id")
    assert [e.after["field"] for e in events] == ["number", "phone"]
    assert events[0].after["reason"] == "核对户籍" and events[0].actor_id == officer.pk


def test_reveal_refused_without_permission_reason_or_scope(person, make_user, place_tree):
    no_perm = make_user("community_worker", place_tree.pingshan)
    with pytest.raises(PermissionDenied):
        actions.do_reveal_number(person, "number", actor=no_perm, reason="x")
    with_perm = make_user("community_worker", place_tree.pingshan, perms=["reveal_personal_number"])
    with pytest.raises(RevealRefused):
        actions.do_reveal_number(person, "number", actor=with_perm, reason="  ")
    elsewhere = make_user("community_worker", place_tree.longlian, perms=["reveal_personal_number"])
    with pytest.raises(Http404):
        actions.do_reveal_number(person, "number", actor=elsewhere, reason="x")
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


def test_person_reveals_own_number_without_permission(person, make_user, place_tree):
    own = make_user(None)
    actions.do_link_user_to_person(own, person, actor=TEST_SYSTEM)
    assert actions.do_reveal_number(person, "number", actor=own) == decrypt(person.number_cipher)
    assert AuditEvent.objects.get(verb="person.reveal").after["self"] is True


def test_document_upload_is_stored_with_sha256(person, clerk):
    doc = actions.do_add_document(
        person, "id_card", "身份证正反面", SimpleUploadedFile("scan.pdf", PDF, content_type="image/png"),
        issued_on=date(2020, 1, 1), expires_on=date(2040, 1, 1), actor=clerk,
    )
    assert doc.content_type == "application/pdf"  # sniffed, not the client's claim
    assert doc.size == len(PDF)
    import hashlib

    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.filename == "scan.pdf" and doc.file.name.endswith(".pdf") and "scan" not in doc.file.name
    assert [p.read_bytes() for p in files_on_disk()] == [PDF]


def test_document_too_large_says_sizes_and_stores_nothing(person, clerk, settings):
    settings.DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * int(12.3 * 1024 * 1024), content_type="application/pdf")
    with pytest.raises(FileTooLarge) as exc:
        actions.do_add_document(person, "id_card", "大文件", big, actor=clerk)
    assert exc.value.message == "文件过大：12.3 MB，上限 10 MB"
    assert Document.objects.count() == 0 and files_on_disk() == []


@pytest.mark.parametrize(
    "content", [b"GIF89a" + b"\x00" * 20, b"<html><script>alert(1)</script>", b"PK\x03\x04docx"]
)
def test_document_wrong_type_refused_whatever_the_client_says(person, clerk, content):
    upload = SimpleUploadedFile("fake.pdf", content, content_type="application/pdf")
    with pytest.raises(UnsupportedFileType) as exc:
        actions.do_add_document(person, "id_card", "伪装文件", upload, actor=clerk)
    assert exc.value.message == "不支持的文件类型：仅限 PDF、JPEG、PNG"
    assert Document.objects.count() == 0 and files_on_disk() == []


def test_document_expiry_before_issue_refused(person, clerk):
    with pytest.raises(InvalidDates) as exc:
        actions.do_add_document(
            person, "id_card", "身份证", SimpleUploadedFile("a.png", PNG),
            issued_on=date(2024, 5, 1), expires_on=date(2024, 4, 30), actor=clerk,
        )
    assert "早于签发日" in exc.value.message
    assert Document.objects.count() == 0 and files_on_disk() == []


def test_failed_audit_write_removes_the_file(person, clerk, monkeypatch):
    # If the row cannot be committed, the file that was already written must not stay behind.
    def boom(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(actions, "record_event", boom)
    with pytest.raises(RuntimeError):
        actions.do_add_document(person, "photo", "证件照", SimpleUploadedFile("p.png", PNG), actor=clerk)
    assert Document.objects.count() == 0 and files_on_disk() == []


def test_wallet_filters_revoked_expired_and_future(person, clerk):
    from gongzhi.people.queries import wallet_for

    ok = actions.do_add_document(person, "hukou", "户口簿", issued_on=date(2020, 1, 1), actor=clerk)
    expired = actions.do_add_document(
        person, "residence_permit", "居住证", issued_on=date(2020, 1, 1), expires_on=date(2025, 12, 31), actor=clerk
    )
    future = actions.do_add_document(person, "degree", "学位证", issued_on=date(2027, 7, 1), actor=clerk)
    revoked = actions.do_add_document(person, "marriage", "结婚证", actor=clerk)
    actions.do_revoke_document(revoked, actor=clerk, reason="扫描错误")
    on = date(2026, 1, 1)
    assert set(wallet_for(person, valid_on=on)) == {ok}
    assert set(wallet_for(person, valid_on=date(2025, 12, 31))) == {ok, expired}  # last valid day
    assert set(wallet_for(person, valid_on=date(2027, 7, 1))) == {ok, future}
    # The intake index applies the same rule (one newest document per type).
    from gongzhi.people.queries import wallet_index

    for day in (on, date(2025, 12, 31), date(2027, 7, 1)):
        assert set(wallet_index(person, valid_on=day).values()) == {d.pk for d in wallet_for(person, valid_on=day)}


def test_wallet_index_picks_the_newest_document_of_a_type(person, clerk):
    from gongzhi.people.queries import wallet_index

    old = actions.do_add_document(person, "hukou", "户口簿（旧）", issued_on=date(2010, 1, 1), actor=clerk)
    new = actions.do_add_document(person, "hukou", "户口簿", issued_on=date(2020, 1, 1), actor=clerk)
    undated = actions.do_add_document(person, "hukou", "户口簿（未注明日期）", actor=clerk)
    later_upload = actions.do_add_document(person, "photo", "证件照", actor=clerk)
    first_upload = actions.do_add_document(person, "photo", "证件照（早）", actor=clerk)
    index = wallet_index(person, valid_on=date(2026, 1, 1))
    assert index["hukou"] == new.pk and old.pk != new.pk != undated.pk  # dated beats undated, newest date wins
    assert index["photo"] == max(later_upload.pk, first_upload.pk)  # undated: the latest upload


def test_consent_grant_is_idempotent_and_withdrawable(person, clerk):
    c1 = actions.do_grant_consent(person, "data_sharing", "窗口", actor=clerk)
    c2 = actions.do_grant_consent(person, "data_sharing", "网上", actor=clerk)
    assert c1.pk == c2.pk
    actions.do_withdraw_consent(c1, actor=clerk)
    c3 = actions.do_grant_consent(person, "data_sharing", "网上", actor=clerk)
    assert c3.pk != c1.pk
    assert Consent.objects.filter(person=person).count() == 2
    assert list(AuditEvent.objects.filter(verb__startswith="consent.").values_list("verb", flat=True).order_by("id")) == [
        "consent.grant", "consent.withdraw", "consent.grant",
    ]


def test_register_organisation_with_letter_authority_and_idempotent(place_tree, clerk, person):
    uscc = make_uscc("N", "2", "440305", "MA5G00001")
    org = actions.do_register_organisation(uscc, "平山股份合作公司", "cooperative", place_tree.pingshan,
                                           legal_representative=person, actor=clerk)
    again = actions.do_register_organisation(uscc.lower(), "平山股份合作公司", "cooperative", place_tree.pingshan, actor=clerk)
    assert again.pk == org.pk and Organisation.objects.count() == 1
    with pytest.raises(InvalidNumber) as exc:
        actions.do_register_organisation(uscc[:-1] + ("0" if uscc[-1] != "0" else "1"), "x", "enterprise",
                                         place_tree.pingshan, actor=clerk)
    assert exc.value.field == "uscc" and "校验" in exc.value.message
    with pytest.raises(InvalidNumber):
        actions.do_register_organisation(make_id_number("440305", date(1985, 3, 12), 123), "x", "enterprise",
                                         place_tree.pingshan, actor=clerk)


def test_add_agent_gives_enterprise_agent_role(place_tree, clerk, make_user):
    from gongzhi.accounts.scope import user_roles

    org = actions.do_register_organisation(make_uscc("9", "1", "440300", "MA5F12345"), "某科技有限公司", "enterprise",
                                           place_tree.pingshan, actor=clerk)
    agent = make_user(None)
    actions.do_add_agent(org, agent, actor=clerk)
    assert list(org.agents.all()) == [agent]
    assert user_roles(agent) == {"enterprise_agent"}


def test_update_contact_audits_masked_values(person, clerk):
    actions.do_update_person_contact(person, phone="139 0013 9000", address="平山村 1 栋", actor=clerk)
    person.refresh_from_db()
    assert decrypt(person.phone_cipher) == "13900139000"
    event = AuditEvent.objects.get(verb="person.update")
    assert event.before["phone"] == "138****8000" and event.after["phone"] == "139****9000"
    assert "13900139000" not in str(event.after)
