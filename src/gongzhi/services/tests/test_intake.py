"""Intake at the window and online: one number, wallet reuse, one-time notice, idempotency."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core.models import AuditEvent, Timer
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.enums import CaseStatus, TaskRole
from gongzhi.services.errors import (
    ApplicantError,
    FormInvalid,
    IdempotencyConflict,
    MaterialsMissing,
    NotAllowed,
    UnknownItem,
)
from gongzhi.services.models import Application, Case, Task
from gongzhi.services.tests.conftest import pdf

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return Application.objects.count(), Case.objects.count(), Task.objects.count(), Timer.objects.count()


def test_window_intake_reuses_wallet_and_routes_tasks(hall: SimpleNamespace) -> None:
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "家中突发困难", "household_size": "3"},
                    files={"income": pdf()})
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="k1")
    (case,) = app.cases.all()
    assert case.status == CaseStatus.ACCEPTED and case.visits == 1
    mats = {m.material.key: m.status for m in case.materials.select_related("material")}
    assert mats == {"id_card": "wallet", "income": "scanned"}
    roles = sorted((t.role, t.department.code) for t in case.tasks.select_related("department"))
    assert roles == [("co", "T-RS"), ("co", "T-ZJ"), ("lead", "T-MZ")]
    assert Timer.objects.filter(key__startswith="task-").count() == 6
    assert AuditEvent.objects.filter(verb="case.accept", object_id=str(case.pk)).exists()
    assert case.applicant_tail == hall.number[-4:]


def test_retry_with_same_key_never_duplicates(hall: SimpleNamespace) -> None:
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    a = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="same")
    before = _counts()
    b = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="same")
    assert a.pk == b.pk and _counts() == before
    with pytest.raises(IdempotencyConflict):
        do_submit_application(intake, actor=hall.officers["T-MZ"], channel="api", idempotency_key="same")


def test_retry_gets_the_stored_answer_even_if_validation_would_now_refuse(hall: SimpleNamespace) -> None:
    from gongzhi.services.models import ServiceItem
    from gongzhi.services.routing import clear_intake_cache

    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    a = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="late-retry")
    ServiceItem.objects.filter(code="T-MZ-001").update(active=False)  # withdrawn after the first answer
    clear_intake_cache()
    before = _counts()
    b = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="late-retry")
    assert b.pk == a.pk and _counts() == before
    with pytest.raises(UnknownItem):  # a new key is refused as it should be
        do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="late-new")
    with pytest.raises(IdempotencyConflict):  # and another submitter still cannot take the key
        do_submit_application(intake, actor=hall.officers["T-MZ"], channel="api", idempotency_key="late-retry")


def test_missing_materials_listed_all_at_once_and_nothing_stored(hall: SimpleNamespace) -> None:
    from gongzhi.people.models import Document

    docs = Document.objects.count()
    before = _counts()
    with pytest.raises(MaterialsMissing) as err:
        do_submit_application(
            Intake(hall.other_number, ["T-MZ-001", "T-SJ-003"], form={"reason": "x", "shop_name": "小店"}),
            actor=hall.clerk, channel="window", idempotency_key="k-missing",
        )
    missing = err.value.missing
    assert any("身份证件" in m for m in missing) and any("收入证明" in m for m in missing)
    assert any("经营场所证明" in m for m in missing)
    assert _counts() == before and Document.objects.count() == docs


def test_accept_with_gaps_for_secondary_material(hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="gap")
    case = app.cases.get()
    assert case.with_gaps and case.gaps_due is not None


def test_bad_credit_cannot_use_gaps(hall: SimpleNamespace) -> None:
    from gongzhi.people.models import Person

    Person.objects.filter(pk=hall.person.pk).update(bad_credit=True)
    with pytest.raises(MaterialsMissing) as err:
        do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                              actor=hall.clerk, channel="window", idempotency_key="credit")
    assert "失信" in str(err.value)


def test_form_errors_name_each_field(hall: SimpleNamespace) -> None:
    before = _counts()
    with pytest.raises(FormInvalid) as err:
        do_submit_application(
            Intake(hall.number, ["T-MZ-001"], form={"household_size": "30", "colour": "red"}, accept_gaps=True),
            actor=hall.clerk, channel="window", idempotency_key="form",
        )
    fields = {f for f, _m in err.value.errors}
    assert fields == {"reason", "household_size", "colour"}
    assert "申请事由" in str(err.value) and "不能大于 20" in str(err.value)
    assert _counts() == before


def test_unknown_item_and_bad_number(hall: SimpleNamespace) -> None:
    with pytest.raises(UnknownItem) as err:
        do_submit_application(Intake(hall.number, ["NOPE"]), actor=hall.clerk, channel="window", idempotency_key="u")
    assert "NOPE" in str(err.value)
    bad = hall.number[:-1] + ("0" if hall.number[-1] != "0" else "1")
    with pytest.raises(ApplicantError) as err2:
        do_submit_application(Intake(bad, ["T-MZ-001"]), actor=hall.clerk, channel="window", idempotency_key="b")
    assert "校验" in str(err2.value)
    assert Application.objects.count() == 0


def test_wrong_file_type_refused_before_anything(hall: SimpleNamespace) -> None:
    exe = SimpleUploadedFile("x.pdf", b"MZ\x90\x00binary", content_type="application/pdf")
    with pytest.raises(Exception) as err:
        do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "x"}, files={"income": exe}),
                              actor=hall.clerk, channel="window", idempotency_key="exe")
    assert "PDF" in str(err.value)
    assert Application.objects.count() == 0


def test_online_only_for_oneself(hall: SimpleNamespace) -> None:
    with pytest.raises(NotAllowed):
        do_submit_application(Intake(hall.other_number, ["T-MZ-001"], form={"reason": "x"}, accept_gaps=True),
                              actor=hall.resident_user, channel="online", idempotency_key="o1")
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "x"}, accept_gaps=True),
                                actor=hall.resident_user, channel="online", idempotency_key="o2")
    assert app.cases.get().visits == 0


def test_resident_cannot_use_window_channel(hall: SimpleNamespace) -> None:
    with pytest.raises(NotAllowed):
        do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "x"}, accept_gaps=True),
                              actor=hall.resident_user, channel="window", idempotency_key="w")


def test_instant_item_decided_on_the_spot_and_licence_in_wallet(hall: SimpleNamespace) -> None:
    from gongzhi.people.queries import wallet_for

    app = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "购房"}),
                                actor=hall.resident_user, channel="online", idempotency_key="inst")
    case = app.cases.get()
    assert case.status == CaseStatus.APPROVED and case.instant and case.closed_on_time
    assert case.visits == 0
    assert wallet_for(hall.person).filter(doc_type="social_insurance").exists()
    assert not Timer.objects.filter(key=f"task-overdue:{case.tasks.get().pk}").exists()


def test_bundle_asks_shared_material_once(hall: SimpleNamespace) -> None:
    tenancy = pdf("lease.pdf")
    app = do_submit_application(
        Intake(hall.number, bundle_code="T-BUNDLE-1",
               form={"shop_name": "张记小店", "purpose": "其他", "reason": "开店周转"},
               files={"tenancy": tenancy}, accept_gaps=True),
        actor=hall.clerk, channel="window", idempotency_key="bundle",
    )
    cases = list(app.cases.order_by("number"))
    assert len(cases) == 3
    depts = {t.department.code for c in cases for t in c.tasks.all() if t.role == TaskRole.LEAD}
    assert depts == {"T-SJ", "T-RS", "T-MZ"}
    # The ID card came from the wallet for all three items — one document, asked once.
    id_docs = {m.document_id for c in cases for m in c.materials.all() if m.material.key == "id_card"}
    assert len(id_docs) == 1


def test_application_number_taken_the_same_day_is_drawn_again(hall: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 random digits a day collide at scale: intake draws a new number instead of failing."""
    from gongzhi.services.actions import intake as intake_module

    first = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                  actor=hall.clerk, channel="window", idempotency_key="n1")
    drawn = iter([first.number, "GZ99999999999999"])
    monkeypatch.setattr(intake_module, "_new_number", lambda prefix="GZ": next(drawn))
    second = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                   actor=hall.clerk, channel="window", idempotency_key="n2")
    assert second.number == "GZ99999999999999" and second.pk != first.pk
    assert Application.objects.filter(idempotency_key="n2").count() == 1


def test_refused_and_accepted_intakes_both_log_the_lookup(hall: SimpleNamespace) -> None:
    """The applicant's lookup is written inside intake's transaction, and still written when the
    submission is refused or its transaction rolls back (quota and audit see every lookup)."""
    from gongzhi.people.models import NumberLookup

    before = NumberLookup.objects.filter(user_id=hall.clerk.pk).count()
    with pytest.raises(MaterialsMissing):
        do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}),
                              actor=hall.clerk, channel="window", idempotency_key="r1")
    assert NumberLookup.objects.filter(user_id=hall.clerk.pk).count() == before + 1
    do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                          actor=hall.clerk, channel="window", idempotency_key="r2")
    assert NumberLookup.objects.filter(user_id=hall.clerk.pk).count() == before + 2


def test_lookup_survives_a_rolled_back_intake_transaction(hall: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongzhi.people.models import NumberLookup
    from gongzhi.services.actions import intake as intake_module

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(intake_module, "_write_case", boom)
    before = NumberLookup.objects.filter(user_id=hall.clerk.pk).count(), _counts()
    with pytest.raises(RuntimeError):
        do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                              actor=hall.clerk, channel="window", idempotency_key="rb")
    assert NumberLookup.objects.filter(user_id=hall.clerk.pk).count() == before[0] + 1
    assert _counts() == before[1]
