"""Forms that know the applicant (issue 11): what the ID number says is filled and checked, not
asked; eligibility rules are catalogue data checked at intake for every channel; the wallet
offers only documents of the material's type; nothing typed or attached is lost on an error
round-trip or across the one-time notice."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gongzhi.core.models import Timer
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.people.actions import do_add_document, do_register_person
from gongzhi.people.models import Document
from gongzhi.services import uploads
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.domain.eligibility import RuleDefinitionError, check_rules, rule_message, unmet
from gongzhi.services.domain.forms import SchemaDefinitionError, check_schema, contradictions, derived_values
from gongzhi.services.errors import FormInvalid, InvalidInput, NotEligible
from gongzhi.services.models import Application, Case, ItemMaterial, ServiceItem, Task
from gongzhi.services.tests.conftest import id_number, pdf

pytestmark = pytest.mark.django_db

RULE = {
    "field": "age", "op": ">=", "value": 80,
    "message": {"zh-hans": "高龄津贴须年满 {value} 周岁，申请人现年 {actual} 周岁",
                "zh-hant": "高齡津貼須年滿 {value} 週歲，申請人現年 {actual} 週歲",
                "en": "The old-age allowance is for people aged {value} or over; the applicant is {actual}"},
}
SCHEMA = [
    {"name": "birth_date", "label": "出生日期", "type": "date", "required": True, "from": "identity.birth_date"},
    {"name": "age", "label": "年龄（周岁）", "type": "int", "from": "identity.age"},
    {"name": "bank_account", "label": "收款银行账号", "type": "text", "personal": "bank_account", "required": True,
     "pattern": "[0-9]{12,23}"},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True, "from": "person.phone"},
]
FORM = {"bank_account": "6222000011112222"}


@pytest.fixture(autouse=True)
def _own_pending_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path  # kept scans of this test only


def born(years_ago: int, *, days_later: int = 0) -> date:
    """The birth date of someone who turns ``years_ago`` today (``days_later`` shifts it)."""
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years_ago)
    except ValueError:  # today is 29 February
        day = today.replace(year=today.year - years_ago, day=28)
    return day + timedelta(days=days_later)


def number_born(day: date, seq: str = "123") -> str:
    return id_number(f"440305{day:%Y%m%d}{seq}")


def counts() -> tuple[int, ...]:
    return (Application.objects.count(), Case.objects.count(), Task.objects.count(), Timer.objects.count(),
            Document.objects.count())


@pytest.fixture
def elder(hall: SimpleNamespace) -> SimpleNamespace:
    """An old-age allowance item (as the Nanshan catalogue has it) and applicants of every age."""
    item = ServiceItem.objects.create(
        code="T-MZ-005", name="高龄津贴申领", department=hall.civil, promised_days=3, statutory_days=10,
        mode="simple", form_schema=SCHEMA, eligibility_rules=[RULE],
    )
    ItemMaterial.objects.create(item=item, key="id_card", name="身份证件", doc_type="id_card")
    ItemMaterial.objects.create(item=item, key="hukou", name="户口簿", doc_type="hukou", order=1)
    people = {}
    for key, day, seq in (("young", date(1988, 5, 1), "131"), ("old", date(1941, 3, 2), "151"),
                          ("eighty", born(80), "171"), ("almost", born(80, days_later=1), "191")):
        number = number_born(day, seq)
        person = do_register_person(number, f"申请人{key}", home_place=hall.tree.pingshan, phone="13912345678",
                                    address="南山区桃源街道平山一路8号", actor=SYSTEM)
        do_add_document(person, "id_card", "居民身份证", pdf(), actor=SYSTEM)
        people[key] = SimpleNamespace(person=person, number=number, day=day)
    return SimpleNamespace(item=item, **people)


def submit(hall: SimpleNamespace, number: str, key: str, form: dict[str, str] | None = None, **kw: Any) -> Any:
    intake = Intake(number, ["T-MZ-005"], form=dict(FORM if form is None else form),
                    files=kw.pop("files", {"hukou": pdf()}), **kw)
    return do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)


# ------------------------------------------------------------------------------ pure rules


def test_rules_hold_at_the_boundary_and_fail_below_it() -> None:
    assert unmet([RULE], {"age": 80}) == []
    assert unmet([RULE], {"age": 81}) == []
    [failed] = unmet([RULE], {"age": 79})
    assert failed.field == "age" and failed.actual == 79
    [unknown] = unmet([RULE], {})  # no age known (a travel permit): not eligible, not assumed
    assert unknown.actual is None
    assert unmet([{"field": "sex", "op": "in", "value": ["女"]}], {"sex": "女"}) == []
    assert unmet([{"field": "birth_date", "op": "<=", "value": "1946-12-31"}], {"birth_date": "1946-12-31"}) == []
    assert len(unmet([{"field": "birth_date", "op": "<=", "value": "1946-12-31"}], {"birth_date": "1988-05-01"})) == 1
    assert len(unmet([{"field": "region", "op": "==", "value": "广东省"}], {"region": "北京市"})) == 1


def test_rule_message_in_the_readers_language() -> None:
    assert rule_message(RULE, "zh-hans", 37) == "高龄津贴须年满 80 周岁，申请人现年 37 周岁"
    assert rule_message(RULE, "zh-hant", 37).startswith("高齡津貼須年滿 80 週歲")
    assert rule_message(RULE, "en", 37).endswith("the applicant is 37")
    assert rule_message({**RULE, "message": "须年满 {value} 周岁"}, "en", 37) == "须年满 80 周岁"
    assert rule_message({"field": "age", "op": ">=", "value": 80}, "en", 37) == ""


@pytest.mark.parametrize(("rule", "says"), [
    ({"field": "height", "op": ">=", "value": 1}, "既不是证件信息"),
    ({"field": "age", "op": "≥", "value": 80}, "不受支持"),
    ({"field": "age", "op": ">=", "value": "eighty"}, "应为数字或日期"),
    ({"field": "age", "op": ">="}, "缺少 value"),
    ({"field": "sex", "op": "in", "value": "女"}, "应为列表"),
    ({"field": "age", "op": ">=", "value": 80, "message": {"fr": "non"}}, "按语言"),
    ({"field": "age", "op": ">=", "value": 80, "when": 1}, "未知的键"),
])
def test_bad_rules_are_refused(rule: dict[str, Any], says: str) -> None:
    with pytest.raises(RuleDefinitionError, match=says):
        check_rules([rule], SCHEMA)


def test_schema_sources_are_checked() -> None:
    check_schema(SCHEMA)
    with pytest.raises(SchemaDefinitionError, match="来源"):
        check_schema([{"name": "x", "type": "text", "from": "identity.shoe_size"}])
    with pytest.raises(SchemaDefinitionError, match="只能用于"):
        check_schema([{"name": "birth", "type": "text", "from": "identity.birth_date"}])
    with pytest.raises(SchemaDefinitionError, match="男"):
        check_schema([{"name": "sex", "type": "choice", "choices": ["M", "F"], "from": "identity.sex"}])


def test_derived_values_and_contradictions() -> None:
    facts = {"birth_date": "1941-03-02", "age": 85, "sex": "男", "region": "广东省"}
    derived = derived_values(SCHEMA, facts)
    assert derived == {"birth_date": "1941-03-02", "age": 85}
    assert contradictions(SCHEMA, derived, {"birth_date": "1941-03-02", "age": "085"}) == []
    assert contradictions(SCHEMA, derived, {"birth_date": "1940-01-01"}) == [("birth_date", "出生日期")]
    assert derived_values(SCHEMA, {}) == {}  # a number that says nothing: the field is asked


# --------------------------------------------------------------------------------- intake


def test_applicant_born_1988_is_refused_with_the_rules_message(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    before = counts()
    with pytest.raises(NotEligible) as err:
        submit(hall, elder.young.number, "young-1")
    assert err.value.code == "not_eligible" and err.value.status == 422
    [(field, message)] = err.value.errors
    assert field == "age" and message.startswith("高龄津贴须年满 80 周岁，申请人现年 3")
    assert counts() == before


def test_a_posted_birth_date_cannot_make_anyone_eighty(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    before = counts()
    with pytest.raises(NotEligible):
        submit(hall, elder.young.number, "young-2", {**FORM, "birth_date": "1940-01-01", "age": "86"})
    assert counts() == before
    # An entitled applicant whose form contradicts the number is told so, and nothing is stored.
    with pytest.raises(FormInvalid) as err:
        submit(hall, elder.old.number, "old-lie", {**FORM, "birth_date": "1940-01-01"})
    assert not isinstance(err.value, NotEligible)
    assert [f for f, _m in err.value.errors] == ["birth_date"]
    assert "与申请人的证件号码不符" in err.value.errors[0][1]
    assert counts() == before


def test_eighty_on_the_birthday_not_the_day_before(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    app = submit(hall, elder.eighty.number, "eighty")
    case = app.cases.get()
    assert case.form_data["age"] == 80 and case.form_data["birth_date"] == elder.eighty.day.isoformat()
    with pytest.raises(NotEligible) as err:
        submit(hall, elder.almost.number, "almost")
    assert "现年 79 周岁" in err.value.errors[0][1]


def test_identity_and_record_fill_the_form(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    app = submit(hall, elder.old.number, "old-1", {**FORM, "birth_date": "1941-03-02"})  # agreeing: fine
    case = app.cases.get()
    assert case.form_data["birth_date"] == "1941-03-02"
    assert case.form_data["age"] >= 85
    # The phone was left blank: taken from the person record (sealed, shown masked like any typed one).
    assert "phone" in case.form_sealed and case.form_data["phone"] != "13912345678"
    assert case.form_data["phone"].endswith("5678")


def test_the_message_follows_the_readers_language(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    with translation.override("en"), pytest.raises(NotEligible) as err:
        submit(hall, elder.young.number, "young-en")
    assert "The old-age allowance is for people aged 80 or over" in err.value.errors[0][1]
    with translation.override("zh-hant"), pytest.raises(NotEligible) as err:
        submit(hall, elder.young.number, "young-hant")
    assert "高齡津貼須年滿 80 週歲" in err.value.errors[0][1]
    # A rule without its own message gets the platform's, translated too.
    ServiceItem.objects.filter(pk=elder.item.pk).update(eligibility_rules=[{"field": "age", "op": ">=", "value": 80}])
    from gongzhi.services.routing import clear_intake_cache

    clear_intake_cache()
    with translation.override("en"), pytest.raises(NotEligible) as err:
        submit(hall, elder.young.number, "young-generic")
    assert "does not meet" in err.value.errors[0][1], err.value.errors


def test_travel_permit_holders_cannot_be_judged_by_age(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    do_register_person("H12345678", "陈大文", home_place=hall.tree.pingshan, actor=SYSTEM)
    with pytest.raises(NotEligible) as err:
        submit(hall, "H12345678", "permit", {**FORM, "birth_date": "1930-01-01", "phone": "13800138000"})
    assert "无法从申请人的证件号码确定" in err.value.errors[0][1]


def test_a_wallet_document_of_another_type_is_refused(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    id_card = elder.old.person.documents.get(doc_type="id_card")
    before = counts()
    with pytest.raises(InvalidInput) as err:
        submit(hall, elder.old.number, "wrong-doc", files={}, documents={"hukou": id_card.pk})
    assert err.value.field == "hukou" and err.value.code == "wallet_type"
    assert counts() == before


def test_api_refuses_the_ineligible_with_the_same_message(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    from gongzhi.services.tests.test_api import Api

    before = counts()
    r = Api(hall.clerk).post("/applications", {"applicant_number": elder.young.number, "item_codes": ["T-MZ-005"],
                                               "form": {**FORM, "birth_date": "1930-01-01"}}, key="api-young")
    assert r.status_code == 422, r.content
    detail = r.json()["detail"]
    assert [(d["field"], d["code"]) for d in detail] == [("age", "not_eligible")]
    assert detail[0]["message"].startswith("高龄津贴须年满 80 周岁，申请人现年 3")
    assert counts() == before


# ---------------------------------------------------------------------------------- pages


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c: Client, data: dict[str, Any]) -> Any:
    return c.post(reverse("services:window"), data)


def test_window_form_shows_identity_fields_read_only(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    c = _client(hall.clerk)
    r = _post(c, {"step": "pick", "number": elder.old.number, "items": ["T-MZ-005"]})
    form = r.context["form"]
    assert form["birth_date"].field.disabled and form["birth_date"].value() == "1941-03-02"
    assert form["age"].field.disabled
    assert not form["bank_account"].field.disabled
    html = r.content.decode()
    assert 'name="form-birth_date" value="1941-03-02"' in html and "disabled" in html
    assert elder.old.person.phone_masked in html  # "leave blank to use 139****5678"
    assert "13912345678" not in html  # the full phone is never put on the page


def test_window_ignores_a_posted_birth_date_and_refuses_the_young(hall: SimpleNamespace, elder: SimpleNamespace) -> None:
    before = counts()
    r = _post(_client(hall.clerk), {
        "step": "accept", "number": elder.young.number, "items": ["T-MZ-005"], "idempotency_key": "w-young",
        "form-birth_date": "1930-01-01", "form-age": "96", "form-bank_account": FORM["bank_account"],
        "file-hukou": pdf(),
    })
    assert r.status_code == 200
    html = r.content.decode()
    assert "高龄津贴须年满 80 周岁" in html and 'id="error-summary"' in html and 'role="alert"' in html
    assert 'href="#id_form-age"' in html  # the summary links to the field
    assert counts() == before


def test_wallet_offers_only_documents_of_the_materials_type(hall: SimpleNamespace) -> None:
    do_add_document(hall.person, "other", "2026年收入证明", pdf(), actor=SYSTEM)
    do_add_document(hall.person, "hukou", "户口簿", pdf(), actor=SYSTEM)
    r = _post(_client(hall.clerk), {"step": "pick", "number": hall.number, "items": ["T-SJ-003"]})
    rows = {row.key: row for row in r.context["materials"]}
    assert rows["tenancy"].choices == []  # no tenancy document: the ID card is not offered for it
    r = _post(_client(hall.clerk), {"step": "pick", "number": hall.number, "items": ["T-MZ-001"]})
    rows = {row.key: row for row in r.context["materials"]}
    assert [d.title for d in rows["income"].choices] == ["2026年收入证明"]
    html = r.content.decode()
    select = html[html.index('name="doc-income"'):]
    select = select[:select.index("</select>")]
    assert "居民身份证" not in select and "户口簿" not in select


def test_error_round_trip_keeps_values_choices_and_scans(hall: SimpleNamespace, settings: Any) -> None:
    c = _client(hall.clerk)
    before = counts()
    r = _post(c, {"step": "accept", "number": hall.number, "items": ["T-SJ-003"], "idempotency_key": "rt-1",
                  "form-shop_name": "", "file-tenancy": pdf("租赁合同.pdf")})
    assert r.status_code == 200 and counts() == before
    html = r.content.decode()
    rows = {row.key: row for row in r.context["materials"]}
    token = rows["tenancy"].pending_token
    assert token and f'name="pending-tenancy" value="{token}"' in html and "租赁合同.pdf" in html
    assert "租赁合同" not in token  # the token names a random file only
    assert len([p for p in uploads.pending_dir().iterdir() if p.suffix != ".json"]) == 1
    # Corrected and sent again without choosing the file: the kept scan is used.
    r = _post(c, {"step": "accept", "number": hall.number, "items": ["T-SJ-003"], "idempotency_key": "rt-1",
                  "form-shop_name": "平山小店", "pending-tenancy": token})
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.get(item__code="T-SJ-003")
    doc = case.materials.get(material__key="tenancy").document
    assert doc is not None and doc.filename == "租赁合同.pdf"
    assert not list(uploads.pending_dir().iterdir())  # the copy is gone once the wallet has it


def test_a_kept_scan_is_only_for_its_uploader(hall: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role

    token = uploads.stash(pdf(), user_id=hall.clerk.pk, key="tenancy")
    assert uploads.restore(token, user_id=hall.clerk.pk) is not None
    assert uploads.restore(token, user_id=hall.clerk.pk + 1000) is None
    assert uploads.restore(token + "x", user_id=hall.clerk.pk) is None
    other = make_user(Role.WINDOW_CLERK, hall.tree.pingshan, username="clerk2")
    r = _post(_client(other), {"step": "accept", "number": hall.number, "items": ["T-SJ-003"],
                               "idempotency_key": "steal", "form-shop_name": "店", "pending-tenancy": token})
    assert r.status_code == 200 and "一次性告知" in r.content.decode()  # no scan: still missing
    assert Case.objects.count() == 0


def test_expired_scans_are_cleaned(hall: SimpleNamespace) -> None:
    token = uploads.stash(pdf(), user_id=hall.clerk.pk, key="tenancy")
    old = time.time() - uploads.MAX_AGE - 60
    for path in uploads.pending_dir().iterdir():
        os.utime(path, (old, old))
    fresh = uploads.stash(pdf(), user_id=hall.clerk.pk, key="income")
    assert uploads.clean_expired() == 1
    assert uploads.restore(token, user_id=hall.clerk.pk) is None
    assert uploads.restore(fresh, user_id=hall.clerk.pk) is not None
    assert oct(uploads.pending_dir().stat().st_mode & 0o777) == "0o700"


def test_one_time_notice_carries_the_form_back(hall: SimpleNamespace) -> None:
    """The bundle misses materials: the notice, then 返回补充材料 gives back the filled form."""
    from gongzhi.people.models import Person

    c = _client(hall.clerk)
    before = counts()
    data = {"step": "accept", "number": hall.other_number, "bundle": "T-BUNDLE-1", "idempotency_key": "nt-1",
            "form-shop_name": "文华小店", "form-purpose": "入学", "form-reason": "家中困难",
            "form-household_size": "4", "file-tenancy": pdf("场所.pdf"), "accept_gaps": "on"}
    r = _post(c, data)
    assert r.status_code == 200 and "一次性告知" in r.content.decode()
    assert counts() == before
    carried = dict(r.context["carried"])
    assert carried["form-shop_name"] == "文华小店" and carried["accept_gaps"] == "on"
    assert carried["idempotency_key"] == "nt-1" and "pending-tenancy" in carried
    html = r.content.decode()
    assert 'name="step" value="back"' in html and 'name="form-reason" value="家中困难"' in html
    # 返回补充材料: the notice's own form, as a browser would post it.
    back = {"step": "back", "number": hall.other_number, "bundle": "T-BUNDLE-1", **carried}
    r = _post(c, back)
    assert r.status_code == 200
    form = r.context["form"]
    assert form["shop_name"].value() == "文华小店" and form["household_size"].value() == "4"
    rows = {row.key: row for row in r.context["materials"]}
    assert rows["tenancy"].pending_name == "场所.pdf"
    html = r.content.decode()
    assert 'value="文华小店"' in html and 'id="id_accept_gaps" checked' in html
    # Only the missing ID card is added; everything else comes from the kept form.
    accept = {**back, "step": "accept", "file-id_card": pdf("身份证.pdf")}
    r = _post(c, accept)
    assert r.status_code == 302, r.content.decode()[:3000]
    person = Person.objects.get(pk=hall.other.pk)
    app = Application.objects.get(idempotency_key="nt-1")
    assert app.applicant_person_id == person.pk and app.cases.count() == 3
    assert Case.objects.get(application=app, item__code="T-SJ-003").form_data["shop_name"] == "文华小店"


def test_online_round_trip_keeps_values_and_scans(hall: SimpleNamespace) -> None:
    c = _client(hall.resident_user)
    url = reverse("services:online_apply")
    r = c.post(url, {"items": ["T-SJ-003"], "idempotency_key": "on-1", "form-shop_name": "",
                     "file-tenancy": pdf("lease.pdf")})
    assert r.status_code == 200
    rows = {row.key: row for row in r.context["materials"]}
    assert rows["tenancy"].pending_name == "lease.pdf"
    r = c.post(url, {"items": ["T-SJ-003"], "idempotency_key": "on-1", "form-shop_name": "网上小店",
                     "pending-tenancy": rows["tenancy"].pending_token})
    assert r.status_code == 302
    assert Case.objects.get(item__code="T-SJ-003").materials.get(material__key="tenancy").document is not None


# -------------------------------------------------------------------------------- catalogue


def test_catalogue_data_carries_the_rules(place_tree: SimpleNamespace) -> None:
    from gongzhi.services.demo import load_demo_catalog

    load_demo_catalog(actor=SYSTEM)
    item = ServiceItem.objects.get(code="NS-MZ-005")
    assert item.eligibility_rules[0]["field"] == "age" and item.eligibility_rules[0]["value"] == 80
    assert {s["name"]: s.get("from") for s in item.form_schema}["birth_date"] == "identity.birth_date"


def test_catalogue_import_refuses_a_bad_rule(place_tree: SimpleNamespace) -> None:
    from gongzhi.services.catalog import check_item_consistency

    errors = check_item_consistency({"form_schema": SCHEMA, "eligibility_rules": [{"field": "height", "op": ">="}]})
    assert [f for f, _m in errors] == ["eligibility_rules"]
    assert check_item_consistency({"form_schema": SCHEMA, "eligibility_rules": [RULE]}) == []
