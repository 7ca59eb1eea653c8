from __future__ import annotations

import pytest

from gongzhi.accounts.demo import DEFAULT_DEMO_PASSWORD, load_demo_users
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import User
from gongzhi.core.crypto import decrypt
from gongzhi.core.domain.identifiers import check_person_number, check_uscc
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.demo import load_demo_people
from gongzhi.people.models import Consent, Document, Organisation, Person

pytestmark = pytest.mark.django_db


def test_demo_is_complete_valid_and_idempotent(place_tree, monkeypatch):
    monkeypatch.delenv("GONGZHI_DEMO_PASSWORD", raising=False)
    users = load_demo_users(actor=TEST_SYSTEM)
    assert {role for _, _, role, _ in users} == {str(r) for r in Role}
    assert all(pw == DEFAULT_DEMO_PASSWORD for _, pw, _, _ in users)
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="clerk").check_password(DEFAULT_DEMO_PASSWORD)
    counts = load_demo_people(actor=TEST_SYSTEM)
    assert counts["persons"] >= 20 and counts["organisations"] >= 5
    kinds = set(Person.objects.values_list("number_kind", flat=True))
    assert {"resident_id", "hk_residence_permit", "tw_residence_permit", "hk_mo_travel_permit"} <= kinds
    for person in Person.objects.all():
        assert check_person_number(decrypt(person.number_cipher)).valid
    usccs = list(Organisation.objects.values_list("uscc", flat=True))
    assert all(check_uscc(u).valid for u in usccs) and any(u.startswith("N") for u in usccs)
    assert Person.objects.get(user__username="resident")
    assert Organisation.objects.filter(agents__username="agent").exists()
    before = (Person.objects.count(), Organisation.objects.count(), Document.objects.count(), Consent.objects.count(),
              User.objects.count())
    load_demo_users(actor=TEST_SYSTEM)
    load_demo_people(actor=TEST_SYSTEM)
    after = (Person.objects.count(), Organisation.objects.count(), Document.objects.count(), Consent.objects.count(),
             User.objects.count())
    assert before == after
    doc = Document.objects.filter(content_type="application/pdf").first()
    assert doc is not None and doc.file.open("rb").read(5) == b"%PDF-"
