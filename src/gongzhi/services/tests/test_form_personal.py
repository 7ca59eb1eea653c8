"""Personal numbers typed into application forms: declared, sealed at rest, masked, revealed
only with the register's permission and an audit event; stored clear values encrypted by 0005."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.db import connection
from django.test import Client

from gongzhi.accounts.enums import Role
from gongzhi.core.crypto import decrypt
from gongzhi.core.models import AuditEvent
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.domain.forms import SchemaDefinitionError, check_schema, personal_kind
from gongzhi.services.models import Case, ServiceItem

from .conftest import id_number

pytestmark = pytest.mark.django_db

PARTNER = id_number("44030519900303456")
ACCOUNT = "6222020200112233445"
PHONE = "13912345678"
FORM = [
    {"name": "partner_name", "label": "另一方姓名", "type": "text", "required": True},
    {"name": "partner_id_number", "label": "另一方证件号码", "type": "text", "personal": "id_number",
     "pattern": "[0-9]{17}[0-9Xx]"},
    {"name": "bank_account", "label": "收款银行账号", "type": "text", "personal": "bank_account",
     "pattern": "[0-9]{12,23}"},
    {"name": "phone", "label": "联系电话", "type": "phone"},
]
CLEAR = (PARTNER, ACCOUNT, PHONE)


@pytest.fixture
def case(hall: SimpleNamespace) -> Case:
    ServiceItem.objects.create(code="T-MZ-009", name="婚姻登记预约", department=hall.civil, promised_days=3,
                               statutory_days=10, form_schema=FORM)
    intake = Intake(applicant_number=hall.number, item_codes=["T-MZ-009"],
                    form={"partner_name": "王芳", "partner_id_number": PARTNER, "bank_account": ACCOUNT,
                          "phone": PHONE})
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="pii-1")
    return app.cases.get()


def _raw_rows() -> str:
    """Everything the database holds for cases, audit events and notifications, as text."""
    with connection.cursor() as cur:
        out = []
        for table in ("services_case", "core_auditevent", "services_notification"):
            cur.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            out += [repr(row) for row in cur.fetchall()]
    return "\n".join(out)


# ------------------------------------------------------------------------------ declaration


def test_an_undeclared_personal_number_field_is_refused() -> None:
    with pytest.raises(SchemaDefinitionError, match="personal"):
        check_schema([{"name": "partner_id_number", "label": "证件号码", "type": "text"}])
    with pytest.raises(SchemaDefinitionError, match="personal"):
        check_schema([{"name": "pension_bank_account", "label": "账号", "type": "text"}])
    with pytest.raises(SchemaDefinitionError):
        check_schema([{"name": "x", "label": "x", "type": "text", "personal": "passport"}])
    check_schema(FORM)


def test_the_catalog_declares_every_personal_number_field() -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "nanshan_catalog.json"
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    kinds = {}
    for item in items:
        check_schema(item.get("form_schema", []))
        kinds.update({f["name"]: personal_kind(f) for f in item.get("form_schema", [])})
    assert kinds["partner_id_number"] == "id_number"
    assert kinds["bank_account"] == kinds["pension_bank_account"] == "bank_account"


# ----------------------------------------------------------------------------- at rest


def test_no_clear_personal_number_is_stored(case: Case) -> None:
    raw = _raw_rows()
    for value in CLEAR:
        assert value not in raw
    assert case.form_data["partner_id_number"] == "4403**********" + PARTNER[-4:]
    assert case.form_data["bank_account"] == "6222" + "*" * 11 + "3445"
    assert case.form_data["phone"] == "139****5678"
    assert case.form_data["partner_name"] == "王芳"
    assert decrypt(case.form_sealed["bank_account"]["cipher"]) == ACCOUNT


# ------------------------------------------------------------------------------- screens


@pytest.mark.parametrize("role", [Role.COMMUNITY_SUPERVISOR, Role.AUDITOR])
def test_roles_without_the_permission_see_masked_numbers_and_cannot_reveal(
    hall: SimpleNamespace, case: Case, make_user: Callable[..., Any], role: str
) -> None:
    user = make_user(role, hall.tree.pingshan)
    client = Client()
    client.force_login(user)
    detail = client.get(f"/api/v1/services/cases/{case.number}")
    assert detail.status_code == 200
    for value in CLEAR:
        assert value not in detail.content.decode()
    r = client.post(f"/api/v1/services/cases/{case.number}/reveal",
                    json.dumps({"field": "bank_account", "reason": "核查"}), content_type="application/json")
    assert r.status_code == 403 and ACCOUNT not in r.content.decode()
    page = client.post(f"/services/cases/{case.number}/reveal/", {"field": "bank_account", "reason": "核查"})
    assert page.status_code == 403 and ACCOUNT not in page.content.decode()
    assert not AuditEvent.objects.filter(verb="case.reveal").exists()


def test_officer_pages_and_applicant_pages_show_masked_numbers(hall: SimpleNamespace, case: Case) -> None:
    officer = Client()
    officer.force_login(hall.officers["T-MZ"])
    task = case.tasks.get(role="lead")
    html = officer.get(f"/services/tasks/{task.pk}/").content.decode()
    applicant = Client()
    applicant.force_login(hall.resident_user)
    html += applicant.get(f"/services/online/cases/{case.number}/").content.decode()
    assert "6222" in html
    for value in CLEAR:
        assert value not in html


def test_reveal_with_the_permission_needs_a_reason_and_is_audited(
    hall: SimpleNamespace, case: Case, make_user: Callable[..., Any]
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER, hall.tree.nanshan, hall.civil, perms=["reveal_personal_number"])
    client = Client()
    client.force_login(officer)
    url = f"/api/v1/services/cases/{case.number}/reveal"
    r = client.post(url, json.dumps({"field": "partner_id_number"}), content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "reason"
    r = client.post(url, json.dumps({"field": "partner_id_number", "reason": "核对婚姻登记"}),
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["value"] == PARTNER
    assert r["Cache-Control"] == "no-store, private"
    event = AuditEvent.objects.get(verb="case.reveal")
    assert event.after["field"] == "partner_id_number" and event.after["reason"] == "核对婚姻登记"
    assert PARTNER not in json.dumps(event.after)
    r = client.post(url, json.dumps({"field": "partner_name", "reason": "x"}), content_type="application/json")
    assert r.status_code == 422  # not a personal number: nothing to reveal
    page = client.post(f"/services/cases/{case.number}/reveal/", {"field": "phone", "reason": "回访"})
    assert page.status_code == 200 and PHONE in page.content.decode()
    assert AuditEvent.objects.filter(verb="case.reveal").count() == 2


def test_reveal_outside_what_one_may_read_is_404(hall: SimpleNamespace, case: Case,
                                                 make_user: Callable[..., Any]) -> None:
    member = make_user(Role.COUNCIL_MEMBER, hall.tree.pingshan, perms=["reveal_personal_number"])
    client = Client()
    client.force_login(member)
    r = client.post(f"/api/v1/services/cases/{case.number}/reveal",
                    json.dumps({"field": "bank_account", "reason": "x"}), content_type="application/json")
    assert r.status_code == 404


def test_the_applicant_sees_what_they_typed(hall: SimpleNamespace, case: Case) -> None:
    client = Client()
    client.force_login(hall.resident_user)
    r = client.post(f"/api/v1/services/cases/{case.number}/reveal", json.dumps({"field": "bank_account"}),
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["value"] == ACCOUNT
    assert AuditEvent.objects.get(verb="case.reveal").after["self"] is True


# ------------------------------------------------------------------------------ migration


def test_migration_encrypts_numbers_stored_in_clear(hall: SimpleNamespace) -> None:
    # A case stored before sealing existed, with a catalog schema that declared nothing.
    undeclared = [{k: v for k, v in f.items() if k != "personal"} for f in FORM]
    item = ServiceItem.objects.create(code="T-MZ-010", name="旧事项", department=hall.civil, promised_days=3,
                                      statutory_days=10, form_schema=[FORM[0], FORM[3]])
    do_submit_application(Intake(applicant_number=hall.number, item_codes=["T-MZ-010"],
                                 form={"partner_name": "王芳", "phone": PHONE}),
                          actor=hall.clerk, channel="window", idempotency_key="old-1")
    ServiceItem.objects.filter(pk=item.pk).update(form_schema=undeclared)
    old = {"partner_name": "王芳", "partner_id_number": PARTNER, "bank_account": ACCOUNT, "phone": PHONE}
    Case.objects.filter(item=item).update(form_data=old, form_sealed={})
    migration = importlib.import_module("gongzhi.services.migrations.0005_case_form_sealed_encrypt_form_numbers")

    migration.encrypt_clear_form_numbers(global_apps, connection.schema_editor())
    migration.encrypt_clear_form_numbers(global_apps, connection.schema_editor())  # a re-run changes nothing

    case = Case.objects.get(item=item)
    raw = _raw_rows()
    for value in CLEAR:
        assert value not in raw
    assert {k: decrypt(v["cipher"]) for k, v in case.form_sealed.items()} == {
        "partner_id_number": PARTNER, "bank_account": ACCOUNT, "phone": PHONE}
    assert case.form_data["partner_name"] == "王芳"
    item.refresh_from_db()
    assert {f["name"]: personal_kind(f) for f in item.form_schema}["bank_account"] == "bank_account"
    assert item.form_schema[3] == undeclared[3]  # a phone is personal by its type: left as it was
    migration.decrypt_form_numbers(global_apps, connection.schema_editor())
    assert Case.objects.get(item=item).form_data == old
    # Leave nothing in clear behind (make test scans the database after every test).
    migration.encrypt_clear_form_numbers(global_apps, connection.schema_editor())


def test_instant_rules_judge_what_was_typed_not_its_masked_form(hall: SimpleNamespace) -> None:
    # 即办: an item decided on the spot when the payee account is the one on file — the rule must
    # see the typed account, although only its masked form is stored.
    ServiceItem.objects.create(
        code="T-RS-009", name="待遇发放账户确认", department=hall.hr, promised_days=0, statutory_days=1, mode="instant",
        form_schema=[FORM[2]], instant_rules=[{"field": "bank_account", "op": "eq", "value": ACCOUNT}],
    )
    app = do_submit_application(Intake(hall.number, ["T-RS-009"], form={"bank_account": ACCOUNT}),
                                actor=hall.clerk, channel="window", idempotency_key="instant-pii")
    case = app.cases.get()
    assert case.instant and case.closed_at is not None
    assert case.form_data["bank_account"] != ACCOUNT
