"""``/api/v1/services``: the service hall for other systems and the resident portal.

Status codes, the same for every operation. Every error body is ``core.errors.error_body``:
``{"detail": [{"loc", "msg", "type", "field", "message", "code"}], **extra}`` — ``field``/
``message`` name the input at fault in Chinese; ``loc``/``msg``/``type`` are the same facts in the
shape ninja's own validation errors use, so a client reads every error of the API one way. The
status is the one the action's error carries:

* **422** — bad input, nothing stored. ``missing`` (beside ``detail``) lists every missing
  material at once (一次性告知) when materials are incomplete.
* **404** — no such object, *or one outside the caller's jurisdiction* (never 403 for that, so
  numbers and ids cannot be probed).
* **403** — the caller can see the object but the step is not theirs to take (applying for
  someone else included), or not allowed in the object's present state.
* **409** — someone else claimed or changed the task (or, with ``expected_version``, the case)
  first; the message says so and the client should reload.

Idempotency: ``POST /applications`` needs an ``Idempotency-Key`` header (or an
``idempotency_key`` field). The first call answers 201; a retry with the same key by the same
caller answers 200 with the same application and never makes a second case.

Figures are read from the 5×100% roll-up as the worker last folded it (every worker tick, about a
second). ``GET /figures`` deliberately does not fold: a GET stays read-only (safe to retry, to
cache and to serve from a read replica) and many dashboards polling at once would otherwise
contend with the worker for the same rows.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Header, Path, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from gongzhi.core.domain.money import format_yuan
from gongzhi.core.errors import ActionError, NotFoundError, error_body
from gongzhi.core.i18n import localized_text
from gongzhi.services import actions, queries, tracking
from gongzhi.services.domain.wording import case_status_text, describe_material
from gongzhi.services.enums import OPEN_CASE_STATUSES, CaseStatus, Channel, DeliveryMethod, ReviewLevel
from gongzhi.services.models import Application, Case, ServiceItem, Task

router = Router(tags=["services"])

MAX_PAGE = 100
DB_INT = 2**31 - 1  # ids and versions beyond this are never ours; bounding them keeps SQLite from overflowing
CODE_PATTERN = r"^[A-Za-z0-9._-]{1,40}$"
NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,24}$"
MATERIAL_KEY_PATTERN = r"^[-A-Za-z0-9_]{1,40}$"  # a material's key (a slug)
# PostgreSQL text cannot hold NUL: query strings refuse it by pattern, JSON bodies by ``_has_nul``
# (so that the 422 names the field in our own words rather than as a pattern mismatch).
TEXT_PATTERN = r"^[^\x00]*$"

DbId = Annotated[int, Field(ge=1, le=DB_INT)]


# ------------------------------------------------------------------------------ schemas


class ErrorItem(Schema):
    """One entry of ``core.errors.error_body``: the same keys for every error of the platform."""

    loc: list[str | int]
    msg: str
    type: str
    field: str = Field("", description="出错的字段")
    message: str = Field("", description="中文说明")
    code: str = Field("", description="机器可读的错误类别")


class ServiceErrorOut(Schema):
    detail: list[ErrorItem]
    missing: list[str] = Field(default_factory=list, description="一次性告知：全部缺少的材料")


class DeniedOut(Schema):
    """403: an action refused (``detail`` as a list, like 422), or — for a browser session without
    a valid CSRF token — ninja's own ``{"detail": "CSRF check Failed"}``."""

    detail: list[ErrorItem] | str
    missing: list[str] = Field(default_factory=list)


class DetailOut(Schema):
    detail: str


_DISPLAY = "请求语言（Accept-Language）下的名称；未翻译的英文名称为中文名称加“(untranslated)”"


class DepartmentRef(Schema):
    code: str
    name: str
    display_name: str = Field("", description=_DISPLAY)


class PlaceRef(Schema):
    id: int
    name: str


class ItemRef(Schema):
    code: str
    name: str
    display_name: str = Field("", description=_DISPLAY)


class MaterialOut(Schema):
    key: str
    name: str
    name_zh_hant: str = ""
    name_en: str = ""
    display_name: str = Field("", description=_DISPLAY)
    kind: str
    kind_display: str
    doc_type: str = Field(description="可从证照库复用的证照类型（空：须提交）")
    commitment_ok: bool
    submit_as: str = Field("", description="original 原件 / copy 复印件 / both 原件核验、复印件留存（空：未注明）")


class CoDepartmentOut(Schema):
    code: str
    name: str
    limit_days: int


class ItemOut(Schema):
    code: str
    name: str
    name_zh_hant: str = ""
    name_en: str
    display_name: str = Field("", description=_DISPLAY)
    description: str
    department: DepartmentRef
    applicant_type: str
    mode: str
    mode_display: str
    statutory_days: int = Field(description="法定时限（工作日）")
    promised_days: int = Field(description="承诺时限（工作日）")
    fee: str = Field(description="收费（元，两位小数）", examples=["0.00"])
    fee_display: str = Field(examples=["¥0.00"])
    fee_note: str
    commitment_allowed: bool
    accept_with_gaps: bool
    conditions: str = Field("", description="办事指南：受理条件")
    legal_basis: str = Field("", description="办事指南：设定依据")
    location: str = Field("", description="办事指南：办理地点")
    materials: list[MaterialOut]
    co_departments: list[CoDepartmentOut]
    form_schema: list[dict[str, Any]]


class ItemSummaryOut(Schema):
    code: str
    name: str
    name_en: str
    department: DepartmentRef
    applicant_type: str
    mode: str
    promised_days: int = Field(description="承诺时限（工作日）")
    guide_url: str = Field(description="办事指南页面")


class CatalogSearchOut(Schema):
    query: str
    applicant_type: str
    department: str
    bundles: list[BundleOut] = Field(description="“一件事”（排在前面）")
    items: list[ItemSummaryOut] = Field(description="事项，最匹配的在前")


class BundleOut(Schema):
    code: str
    name: str
    name_zh_hant: str = ""
    name_en: str
    display_name: str = Field("", description=_DISPLAY)
    description: str
    items: list[ItemRef]


class ApplicationIn(Schema):
    applicant_number: str = Field(..., max_length=64, description="身份证/居住证号码或统一社会信用代码")
    item_codes: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    bundle_code: str = Field("", max_length=40, description="“一件事”编码；可同时给 item_codes：另加的事项一并受理，重复的只办一次")
    form: dict[str, Any] = Field(default_factory=dict, description="申请表：字段名 → 值（见事项的 form_schema）")
    documents: dict[str, DbId] = Field(default_factory=dict, description="材料 key → 证照库文件 id")
    commitment: bool = Field(False, description="告知承诺：申请人书面承诺")
    accept_gaps: bool = Field(False, description="容缺受理：承诺限期补交次要材料")
    address: str = Field("", max_length=200)
    idempotency_key: str | None = Field(None, max_length=80, description="也可用 Idempotency-Key 请求头")


class CaseRef(Schema):
    number: str
    item: ItemRef
    department: DepartmentRef
    status: str
    deadline: date
    deadline_provisional: bool


class ApplicationOut(Schema):
    number: str
    channel: str
    submitted_at: datetime
    bundle: str | None
    cases: list[CaseRef]
    receipt_url: str | None = Field(None, description="受理回执（PDF）")


class TrackStep(Schema):
    at: datetime
    label: str


class CaseOut(Schema):
    number: str
    item: ItemRef
    department: DepartmentRef
    place: PlaceRef
    status: str
    status_display: str
    status_text: str = Field(description="状态的通俗说法（给申请人看的，随语言）")
    channel: str
    applicant_name: str
    applicant_masked: str
    address: str
    accepted_at: datetime
    accepted_on: date
    deadline: date
    deadline_provisional: bool
    sla: str
    with_gaps: bool
    gaps_due: date | None
    by_commitment: bool
    instant: bool
    visits: int
    closed_at: datetime | None
    closed_on_time: bool | None
    delivered_at: datetime | None = Field(description="送达时间（未送达为 null）")
    delivery_method: str | None = Field(description="送达方式：electronic · window · mail（未送达为 null）")
    version: int = Field(description="办件版本号：送达时作 expected_version 传回，已变更则 409")


class CasePage(Schema):
    count: int
    items: list[CaseOut]


class CaseMaterialOut(Schema):
    key: str
    name: str
    status: str
    status_display: str
    document_id: int | None


class TaskBrief(Schema):
    id: int
    department: DepartmentRef
    role: str
    status: str
    deadline: date
    deadline_provisional: bool
    sla: str
    version: int


class SupplementOut(Schema):
    id: int
    case_number: str
    items: list[str]
    reason: str
    requested_at: datetime
    due: date
    fulfilled_at: datetime | None


class ReviewOut(Schema):
    case_number: str
    level: int
    level_display: str
    comment: str
    created_at: datetime
    rectification_due: date | None = Field(None, description="差评：整改及回访期限")


class OwedMaterialOut(Schema):
    key: str
    name: str
    due: date | None = Field(description="容缺材料补交期限")


class CaseDetailOut(CaseOut):
    form_data: dict[str, Any] = Field(
        description="申请表。声明为个人号码的字段（证件号码、电话、银行账号）只给脱敏值；完整号码经 /reveal 查看（留痕）"
    )
    result_note: str
    materials: list[CaseMaterialOut]
    owed_materials: list[OwedMaterialOut] = Field(
        description="容缺受理后仍未补交的材料；有未补交材料时同意须说明理由"
    )
    timeline: list[TrackStep] = Field(description="办理环节（与公开进度查询同一时间线）")
    tasks: list[TaskBrief]
    supplements: list[SupplementOut]
    review: ReviewOut | None


class TaskOut(TaskBrief):
    case_number: str
    item: ItemRef
    role_display: str
    status_display: str
    holder: str | None = Field(None, description="认领人")
    held_since: datetime | None
    decided_at: datetime | None
    decision_reason: str


class ClaimIn(Schema):
    expected_version: DbId | None = Field(None, description="列表中看到的版本号；已变更则 409")


class DecideIn(Schema):
    approve: bool
    reason: str = Field("", max_length=2000, description="不予许可时必填；仍有容缺材料未补交而同意时也必填（记入审计）")
    expected_version: DbId | None = None


class SupplementIn(Schema):
    items: list[Annotated[str, Field(max_length=200)]] = Field(
        ..., max_length=50, description="一次性列明全部需补正的材料"
    )
    reason: str = Field("", max_length=2000)
    expected_version: DbId | None = Field(None, description="任务列表中看到的版本号；已变更则 409")


class ReviewIn(Schema):
    level: int = Field(..., description="5 非常满意 · 4 满意 · 3 基本满意 · 2 不满意 · 1 非常不满意")
    comment: str = Field("", max_length=2000)


class DeliverIn(Schema):
    method: DeliveryMethod = Field(
        ..., description="送达方式：electronic 电子送达（证照已在证照库）· window 窗口领取（计一次到场）· mail 邮寄送达"
    )
    address: str = Field("", max_length=200, description="收件地址（邮寄送达时必填）")
    expected_version: DbId | None = Field(None, description="办件详情中的 version；办件已变更则 409")


class TrackCaseOut(Schema):
    number: str
    item: ItemRef
    department: DepartmentRef
    status: str
    status_text: str = Field(description="状态的通俗说法")
    closed: bool
    accepted_on: date
    deadline: date
    delivered_at: datetime | None
    delivery_method: str | None
    steps: list[TrackStep]


class TrackOut(Schema):
    number: str
    item: ItemRef
    department: DepartmentRef
    applicant_masked: str
    status: str
    status_display: str
    status_text: str = Field(description="状态的通俗说法")
    application_number: str = Field(description="申请编号（一次申请可含多个办件）")
    cases: list[TrackCaseOut] = Field(
        description="查到的每个办件：按办件编号查询为该办件，按申请编号查询为该申请的全部办件"
    )
    closed: bool
    accepted_on: date
    deadline: date
    deadline_provisional: bool
    closed_at: datetime | None
    delivered_at: datetime | None = Field(description="送达时间（未送达为 null）")
    delivery_method: str | None = Field(description="送达方式：electronic · window · mail（未送达为 null）")
    steps: list[TrackStep]


class FiguresOut(Schema):
    cases: int
    one_number: float | None = Field(description="一号办 %")
    window: float | None = Field(description="一窗办 %（窗口受理占比）")
    online: float | None = Field(description="一网办 %（网上及系统对接占比）")
    zero_visit: float | None = Field(description="一次办：零跑动 %")
    max_one_visit: float | None = Field(description="一次办：最多跑一次 %")
    on_time: float | None = Field(description="阳光办：按时办结 %")
    closed: int
    overdue_open: int
    as_of: datetime


# ------------------------------------------------------------------------------ helpers


def _item_ref(item: ServiceItem) -> ItemRef:
    return ItemRef(code=item.code, name=item.name, display_name=localized_text(item))


def _dept(dept: Any) -> DepartmentRef:
    return DepartmentRef(code=dept.code, name=dept.name, display_name=localized_text(dept))


def _refused(exc: ActionError, where: str = "body") -> Any:
    """An action's refusal, in the platform's one error shape (``core.errors.error_body``) with
    the status the error carries: 422 bad input, 403 not allowed, 409 conflict."""
    return Status(exc.status, error_body(exc, where))


def _bad(field: str, message: str, where: str = "body") -> Any:
    """Bad input found here, before any action: a 422 in the same shape as an action's."""
    return _refused(ActionError(message, field=field), where)


def _nul_error(payload: Schema) -> Any | None:
    """A 422 naming the first body field that holds a NUL character, or None."""
    for name, value in payload.dict().items():
        if _has_nul(value):
            return _bad(name, _("含有不允许的空字符（NUL）"))
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def item_out(item: ServiceItem) -> ItemOut:
    return ItemOut(
        code=item.code, name=item.name, name_zh_hant=item.name_zh_hant, name_en=item.name_en,
        display_name=localized_text(item), description=item.description,
        department=_dept(item.department), applicant_type=item.applicant_type, mode=item.mode,
        mode_display=str(item.get_mode_display()), statutory_days=item.statutory_days,
        promised_days=item.promised_days, fee=f"{item.fee:.2f}", fee_display=format_yuan(item.fee),
        fee_note=item.fee_note, commitment_allowed=item.commitment_allowed,
        accept_with_gaps=item.accept_with_gaps,
        conditions=item.conditions, legal_basis=item.legal_basis, location=item.location,
        materials=[
            MaterialOut(key=m.key, name=m.name, name_zh_hant=m.name_zh_hant, name_en=m.name_en,
                        display_name=localized_text(m), kind=m.kind, kind_display=str(m.get_kind_display()),
                        doc_type=m.doc_type, commitment_ok=m.commitment_ok, submit_as=m.submit_as)
            for m in item.materials.all()
        ],
        co_departments=[
            CoDepartmentOut(code=c.department.code, name=c.department.name, limit_days=c.limit_days)
            for c in item.co_departments.all()
        ],
        form_schema=list(item.form_schema or []),
    )


def _case_fields(case: Case) -> dict[str, Any]:
    return {
        "number": case.number, "item": _item_ref(case.item), "department": _dept(case.department),
        "place": PlaceRef(id=case.place.pk, name=case.place.name), "status": case.status,
        "status_display": str(case.get_status_display()), "status_text": case_status_text(case.status),
        "channel": case.channel,
        "applicant_name": case.applicant_name, "applicant_masked": case.applicant_masked,
        "address": case.address, "accepted_at": case.accepted_at, "accepted_on": case.accepted_on,
        "deadline": case.deadline, "deadline_provisional": case.deadline_provisional, "sla": case.sla,
        "with_gaps": case.with_gaps, "gaps_due": case.gaps_due, "by_commitment": case.by_commitment,
        "instant": case.instant, "visits": case.visits, "closed_at": case.closed_at,
        "closed_on_time": case.closed_on_time, "delivered_at": case.delivered_at,
        "delivery_method": case.delivery_method or None, "version": case.version,
    }


def _supplement_out(s: Any, number: str) -> SupplementOut:
    return SupplementOut(id=s.pk, case_number=number, items=[str(i) for i in s.items], reason=s.reason,
                         requested_at=s.requested_at, due=s.due, fulfilled_at=s.fulfilled_at)


def _review_out(review: Any, number: str) -> ReviewOut:
    rect = getattr(review, "rectification", None) if hasattr(review, "rectification") else None
    return ReviewOut(case_number=number, level=review.level, level_display=str(ReviewLevel(review.level).label),
                     comment=review.comment, created_at=review.created_at,
                     rectification_due=rect.due if rect is not None else None)


def case_detail_out(case: Case) -> CaseDetailOut:
    review = getattr(case, "review", None) if hasattr(case, "review") else None
    return CaseDetailOut(
        **_case_fields(case),
        form_data=case.form_data or {},
        result_note=case.result_note,
        materials=[
            CaseMaterialOut(key=m.material.key, name=m.material.name, status=m.status,
                            status_display=describe_material(m, case.channel), document_id=m.document_id)
            for m in case.materials.select_related("material", "document").order_by("material__order", "pk")
        ],
        owed_materials=[OwedMaterialOut(key=m.material.key, name=m.material.name, due=case.gaps_due)
                        for m in queries.owed_materials(case)],
        timeline=[TrackStep(at=s.at, label=s.label) for s in tracking.track_steps(case)],
        tasks=[_task_brief(t) for t in case.tasks.select_related("department").order_by("role", "pk")],
        supplements=[_supplement_out(s, case.number) for s in case.supplements.all()],
        review=_review_out(review, case.number) if review is not None else None,
    )


def _task_brief(t: Task) -> TaskBrief:
    return TaskBrief(id=t.pk, department=_dept(t.department), role=t.role, status=t.status, deadline=t.deadline,
                     deadline_provisional=t.deadline_provisional, sla=t.sla, version=t.version)


def task_out(t: Task) -> TaskOut:
    holder = t.holder
    return TaskOut(
        **_task_brief(t).dict(), case_number=t.case.number, item=_item_ref(t.case.item),
        role_display=str(t.get_role_display()), status_display=str(t.get_status_display()),
        holder=(holder.display_name or holder.username) if holder is not None else None,
        held_since=t.held_since, decided_at=t.decided_at, decision_reason=t.decision_reason,
    )


def _via_token(request: HttpRequest) -> bool:
    """Was this request authenticated by an API token (a system) rather than a browser session?"""
    return getattr(request, "api_token", None) is not None


def _receipt_url(number: str) -> str | None:
    # Every submission answers with this link: reverse() once per URL prefix, not per call.
    template = _receipt_template(get_script_prefix(), get_urlconf())
    if template is None or not number.isalnum():
        return template and reverse("services:receipt_pdf", args=[number])
    return template.replace(_NUMBER_MARK, number)


_NUMBER_MARK = "0NUMBER0"


@lru_cache(maxsize=8)
def _receipt_template(prefix: str, urlconf: str | None) -> str | None:
    try:
        return reverse("services:receipt_pdf", args=[_NUMBER_MARK])
    except NoReverseMatch:  # the page view is optional; the API works without it
        return None


def application_out(app: Application, cases: Any = None) -> dict[str, Any]:
    """The ``ApplicationOut`` answer as plain data: ninja validates it once against the response
    schema (building the nested schema objects here first made pydantic validate every case
    twice, on the busiest endpoint — bench/intake.py). ``cases``: the ones the reader may see."""
    receipt = _receipt_url(app.number)
    # A fresh submission carries the cases it just made; a retry reads them back.
    if cases is None:
        cases = getattr(app, "created_cases", None) or app.cases.select_related("item", "department").order_by("number")
    return {
        "number": app.number, "channel": app.channel, "submitted_at": app.submitted_at,
        "bundle": app.bundle.code if app.bundle_id else None,  # type: ignore[union-attr]
        "cases": [
            {"number": c.number, "item": {"code": c.item.code, "name": c.item.name},
             "department": {"code": c.department.code, "name": c.department.name}, "status": c.status,
             "deadline": c.deadline, "deadline_provisional": c.deadline_provisional}
            for c in cases
        ],
        "receipt_url": receipt,
    }


# ------------------------------------------------------------------------------ catalog


@router.get("/catalog", response=list[ItemOut], auth=None, summary="事项清单（公开）")
def list_catalog(
    request: HttpRequest,
    applicant_type: str | None = Query(None, pattern=r"^(person|enterprise)$"),
) -> list[ItemOut]:
    qs = queries.catalog(applicant_type=applicant_type).prefetch_related("co_departments__department")
    return [item_out(i) for i in qs]


@router.get("/catalog/search", response=CatalogSearchOut, auth=None, summary="搜索事项清单（公开）")
def search_catalog(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="名称中的词、事项编码或拼音首字母（如 zdsh）"),
    applicant_type: str = Query("", pattern=r"^(|person|enterprise)$"),
    department: str = Query("", max_length=40, description="部门编码"),
) -> CatalogSearchOut:
    """The same search as the public catalogue page and the window's item picker
    (``queries.search_catalog``): bundles first, then items, best match first."""
    found = queries.search_catalog(q.replace("\x00", ""), applicant_type=applicant_type,
                                   department=department.replace("\x00", ""))
    return CatalogSearchOut(
        query=found.query, applicant_type=found.applicant_type, department=found.department,
        bundles=[_bundle_out(b) for b in found.bundles],
        items=[ItemSummaryOut(code=i.code, name=i.name, name_en=i.name_en, department=_dept(i.department),
                              applicant_type=i.applicant_type, mode=i.mode, promised_days=i.promised_days,
                              guide_url=reverse("services:guide", args=[i.code]))
               for i in found.items],
    )


@router.get("/catalog/{code}", response={200: ItemOut, 404: DetailOut}, auth=None, summary="一个事项（公开）")
def get_catalog_item(request: HttpRequest, code: str = Path(..., pattern=CODE_PATTERN)) -> Any:
    item = queries.catalog().prefetch_related("co_departments__department").filter(code=code).first()
    if item is None:
        raise NotFoundError(_("没有该事项"), field="code")
    return item_out(item)


@router.get("/bundles", response=list[BundleOut], auth=None, summary="“一件事”清单（公开）")
def list_bundles(request: HttpRequest) -> list[BundleOut]:
    return [_bundle_out(b) for b in queries.bundles()]


def _bundle_out(b: Any) -> BundleOut:
    return BundleOut(code=b.code, name=b.name, name_zh_hant=b.name_zh_hant, name_en=b.name_en,
                     display_name=localized_text(b), description=b.description,
                     items=[_item_ref(i) for i in b.items.all() if i.active])


# --------------------------------------------------------------------------- applications


@router.post(
    "/applications",
    response={200: ApplicationOut, 201: ApplicationOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="提交申请（201 新建；同一幂等键重试 200 返回原申请）",
)
def submit_application(
    request: HttpRequest,
    payload: ApplicationIn,
    idempotency_header: str | None = Header(None, alias="Idempotency-Key", max_length=80),
) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    if _has_nul(idempotency_header):
        return _bad("idempotency_key", _("含有不允许的空字符（NUL）"), "header")
    key = (idempotency_header or payload.idempotency_key or "").strip()
    if not key:
        return _bad("idempotency_key", _("缺少幂等键：请在 Idempotency-Key 请求头或 idempotency_key 字段中提供"), "header")
    intake = actions.Intake(
        applicant_number=payload.applicant_number, item_codes=list(payload.item_codes),
        bundle_code=payload.bundle_code, form=dict(payload.form), documents=dict(payload.documents),
        commitment=payload.commitment, accept_gaps=payload.accept_gaps, address=payload.address,
    )
    # A system's token → channel "api"; a resident's own browser session → "online" (一网办).
    channel = Channel.API if _via_token(request) else Channel.ONLINE
    started = timezone.now()
    try:
        try:
            app = actions.do_submit_application(intake, actor=request.user, channel=channel, idempotency_key=key)
        except IntegrityError:
            # Two retries raced on the same key and the other one committed first; asking again
            # now finds that application (or names the real conflict).
            app = actions.do_submit_application(intake, actor=request.user, channel=channel, idempotency_key=key)
    except ActionError as exc:
        return _refused(exc)
    status = 201 if app.submitted_at >= started else 200
    return Status(status, application_out(app))


@router.get(
    "/applications/{number}",
    response={200: ApplicationOut, 404: DetailOut},
    summary="一个申请及其办件（申请编号或其中任一办件编号均可；只列出可见的办件）",
)
def get_application(request: HttpRequest, number: str = Path(..., pattern=NUMBER_PATTERN)) -> Any:
    cases = queries.cases_of_application(request.user, number)
    return application_out(cases[0].application, cases)


# --------------------------------------------------------------------------------- cases


@router.get("/cases", response={200: CasePage, 422: ServiceErrorOut}, summary="办件列表（按辖区）")
def list_cases(
    request: HttpRequest,
    status: str | None = Query(None, description="状态，如 accepted / in_progress"),
    department: str | None = Query(None, pattern=CODE_PATTERN, description="主办部门编码"),
    q: str | None = Query(None, max_length=100, pattern=TEXT_PATTERN, description="办件编号、申请人、地址、事项"),
    open_only: bool = Query(False),
    limit: int = Query(20, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=DB_INT),
) -> Any:
    if status is not None and status not in CaseStatus.values:
        return _bad("status", _("未知的办件状态：%(status)s（可选：%(allowed)s）") % {"status": status, "allowed": "、".join(CaseStatus.values)}, "query")
    qs = queries.search_cases(request.user, q) if q and q.strip() else queries.cases_for_user(request.user)
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_CASE_STATUSES)
    if department:
        qs = qs.filter(department__code=department)
    qs = qs.order_by("-accepted_at", "-pk")
    return CasePage(count=qs.count(), items=[CaseOut(**_case_fields(c)) for c in qs[offset : offset + limit]])


@router.get("/cases/{number}", response=CaseDetailOut, summary="办件详情（辖区外 404）")
def get_case(request: HttpRequest, number: str = Path(..., pattern=NUMBER_PATTERN)) -> CaseDetailOut:
    return case_detail_out(queries.access_case_by_number(request.user, number))


@router.post(
    "/cases/{number}/supplement",
    response={200: CaseDetailOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="提交补正（恢复计时；本接口不收文件，材料请先放入证照库）",
)
def fulfil_supplement(request: HttpRequest, number: str = Path(..., pattern=NUMBER_PATTERN)) -> Any:
    case = queries.access_case_by_number(request.user, number)
    try:
        case = actions.do_fulfil_supplement(case, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return case_detail_out(queries.access_case_by_number(request.user, number))


@router.post(
    "/cases/{number}/materials/{key}/hand-in",
    response={200: CaseDetailOut, 403: DeniedOut, 404: DetailOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="补交容缺材料（申请人本人或窗口；文件存入申请人证照库）",
    description=(
        "受理时承诺补交（容缺）的材料，以 multipart/form-data 的 file 字段上传（PDF、JPEG 或 PNG）。"
        "文件存入申请人证照库（以后不再重复提交），该材料记为已收到；逾期补交照收，审计记录注明逾期。"
        "403：无权补交，或办件已办结；404：无此办件、不在辖区内，或该办件没有这项材料；"
        "422：未选文件、文件类型或大小不符，或该材料不是待补交的容缺材料。"
    ),
)
def hand_in_owed_material(
    request: HttpRequest,
    number: str = Path(..., pattern=NUMBER_PATTERN),
    key: str = Path(..., pattern=MATERIAL_KEY_PATTERN),
    file: UploadedFile = File(..., description="补交的材料文件"),  # noqa: B008 — ninja declares parameters so
) -> Any:
    case = queries.access_case_by_number(request.user, number)
    owed = case.materials.filter(material__key=key).values_list("pk", flat=True).first()
    if owed is None:
        return Status(404, DetailOut(detail=_("该办件没有这项材料")))
    try:
        actions.do_hand_in_owed_material(case, owed, file, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return case_detail_out(queries.access_case_by_number(request.user, number))


@router.post(
    "/cases/{number}/review",
    response={201: ReviewOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="好差评（申请人本人，办结后一次）",
)
def review_case(request: HttpRequest, payload: ReviewIn, number: str = Path(..., pattern=NUMBER_PATTERN)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    case = queries.access_case_by_number(request.user, number)
    try:
        review = actions.do_review_case(case, payload.level, payload.comment, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return Status(201, _review_out(review, case.number))


@router.post(
    "/cases/{number}/deliver",
    response={200: CaseDetailOut, 400: DetailOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="送达办理结果（主办部门或本辖区窗口；仅准予许可的办件，一次）",
    description=(
        "电子送达：证照已存入申请人证照库；窗口领取：计申请人到场一次；邮寄送达：须填写收件地址（记入审计）。"
        "送达后办件状态为 delivered，并通知申请人。400：请求体不是合法的 JSON；"
        "403：无权送达、办件未准予许可或已送达；404：无此办件或不在辖区内；"
        "409：expected_version 与办件当前版本不符；422：送达方式或地址有误。"
    ),
)
def deliver_result(request: HttpRequest, payload: DeliverIn, number: str = Path(..., pattern=NUMBER_PATTERN)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    case = queries.access_case_by_number(request.user, number)
    try:
        actions.do_deliver_result(case, actor=request.user, method=payload.method, address=payload.address,
                                  expected_version=payload.expected_version)
    except ActionError as exc:
        return _refused(exc)
    return case_detail_out(queries.access_case_by_number(request.user, number))


class RevealIn(Schema):
    field: str = Field(..., max_length=40, pattern=r"^[a-z][a-z0-9_]{0,39}$", description="申请表中个人号码字段的名称")
    reason: str = Field("", max_length=200, description="查看原因（申请人本人查看时可不填；记入审计日志）")


class RevealOut(Schema):
    field: str
    value: str = Field(description="完整号码（本次查看已记入审计日志）")


@router.post(
    "/cases/{number}/reveal",
    response={200: RevealOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="查看申请表中的完整个人号码（申请人本人，或有查看权限者说明原因；留痕）",
)
def reveal_form_value(
    request: HttpRequest, response: HttpResponse, payload: RevealIn, number: str = Path(..., pattern=NUMBER_PATTERN)
) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    case = queries.access_case_by_number(request.user, number)
    response["Cache-Control"] = "no-store, private"  # a full number: never in any cache
    try:
        value = actions.do_reveal_form_value(case, payload.field, actor=request.user, reason=payload.reason)
    except ActionError as exc:
        return _refused(exc)
    return RevealOut(field=payload.field, value=value)


class VisitIn(Schema):
    purpose: str = Field("", max_length=200, description="来办何事（记入审计）")


@router.post(
    "/cases/{number}/visits",
    response={200: CaseDetailOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="登记申请人到场（综合窗口或部门人员；计入“一次办”）",
)
def record_visit(request: HttpRequest, payload: VisitIn, number: str = Path(..., pattern=NUMBER_PATTERN)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    case = queries.access_case_by_number(request.user, number)
    try:
        actions.do_record_visit(case, actor=request.user, purpose=payload.purpose)
    except ActionError as exc:
        return _refused(exc)
    return case_detail_out(queries.access_case_by_number(request.user, number))


# ------------------------------------------------------------------------ reviews (好差评)


class RectificationOut(Schema):
    id: int
    review_id: int = Field(description="差评编号：申诉时使用")
    case_number: str
    item: ItemRef
    level: int
    comment: str
    due: date
    status: str
    status_display: str
    action_note: str
    callback_note: str
    callback_at: datetime | None
    appealed: bool


class RectifyIn(Schema):
    action_note: str = Field(..., max_length=2000, description="整改措施")
    callback_note: str = Field(..., max_length=2000, description="回访情况")


class AppealIn(Schema):
    reason: str = Field(..., max_length=2000, description="申诉理由")


class AppealOut(Schema):
    id: int
    case_number: str
    item: ItemRef
    department: DepartmentRef
    review_level: int
    review_comment: str
    reason: str
    filed_at: datetime
    status: str
    status_display: str
    decision_note: str


class AppealDecisionIn(Schema):
    upheld: bool = Field(..., description="申诉成立（撤销未完成的整改）或不成立")
    note: str = Field("", max_length=2000)


def _rectification_out(rect: Any) -> RectificationOut:
    review = rect.review
    return RectificationOut(
        id=rect.pk, review_id=review.pk, case_number=review.case.number, item=_item_ref(review.case.item),
        level=review.level, comment=review.comment, due=rect.due, status=rect.status,
        status_display=str(rect.get_status_display()), action_note=rect.action_note,
        callback_note=rect.callback_note, callback_at=rect.callback_at, appealed=hasattr(review, "appeal"),
    )


def _appeal_out(appeal: Any) -> AppealOut:
    case = appeal.review.case
    return AppealOut(
        id=appeal.pk, case_number=case.number, item=_item_ref(case.item), department=_dept(case.department),
        review_level=appeal.review.level, review_comment=appeal.review.comment, reason=appeal.reason,
        filed_at=appeal.filed_at, status=appeal.status, status_display=str(appeal.get_status_display()),
        decision_note=appeal.decision_note,
    )


@router.get("/rectifications", response=list[RectificationOut], summary="本部门的差评整改（部门人员）")
def list_rectifications(request: HttpRequest, limit: int = Query(50, ge=1, le=MAX_PAGE),
                        offset: int = Query(0, ge=0, le=DB_INT)) -> list[RectificationOut]:
    qs = queries.rectifications_for_user(request.user).select_related("review__appeal")
    return [_rectification_out(r) for r in qs[offset : offset + limit]]


@router.post(
    "/rectifications/{rect_id}/complete",
    response={200: RectificationOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="完成整改并记录回访（本部门人员）",
)
def complete_rectification(request: HttpRequest, payload: RectifyIn,
                           rect_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    rect = queries.access_rectification(request.user, rect_id)
    try:
        actions.do_complete_rectification(rect, action_note=payload.action_note,
                                          callback_note=payload.callback_note, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return _rectification_out(queries.access_rectification(request.user, rect_id))


@router.post(
    "/reviews/{review_id}/appeal",
    response={201: AppealOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="对恶意差评提出申诉（主办部门人员，一次）",
)
def file_appeal(request: HttpRequest, payload: AppealIn, review_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    review = queries.access_review_for_appeal(request.user, review_id)
    try:
        appeal = actions.do_file_appeal(review, payload.reason, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return Status(201, _appeal_out(appeal))


@router.get("/appeals", response=list[AppealOut], summary="待审核的差评申诉（辖区督导）")
def list_appeals(request: HttpRequest, limit: int = Query(50, ge=1, le=MAX_PAGE),
                 offset: int = Query(0, ge=0, le=DB_INT)) -> list[AppealOut]:
    return [_appeal_out(a) for a in queries.appeals_for_user(request.user)[offset : offset + limit]]


@router.post(
    "/appeals/{appeal_id}/decide",
    response={200: AppealOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="审核差评申诉（辖区督导）",
)
def decide_appeal(request: HttpRequest, payload: AppealDecisionIn,
                  appeal_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    appeal = queries.access_appeal(request.user, appeal_id)
    try:
        actions.do_decide_appeal(appeal, upheld=payload.upheld, note=payload.note, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    return _appeal_out(queries.access_appeal(request.user, appeal_id))


# --------------------------------------------------------------------------------- tasks


@router.get("/tasks", response=list[TaskOut], summary="本部门待办任务（协办/主办）")
def list_tasks(
    request: HttpRequest,
    include_closed: bool = Query(False, description="包括已办结的任务"),
    queue: Literal["open", "deliver", "done"] | None = Query(
        None, description="open 未办结 · deliver 待送达（已准予、未送达的主办任务）· done 已办结"
    ),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=DB_INT),
) -> list[TaskOut]:
    if queue is not None:
        qs = queries.task_queue(request.user, queue)
    else:
        qs = queries.tasks_for_user(request.user, open_only=not include_closed)
    return [task_out(t) for t in qs[offset : offset + limit]]


@router.post(
    "/tasks/{task_id}/claim",
    response={200: TaskOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="认领任务（已被他人认领：409）",
)
def claim_task(request: HttpRequest, payload: ClaimIn, task_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    task = queries.access_task(request.user, task_id)
    try:
        task = actions.do_claim_task(task, actor=request.user, expected_version=payload.expected_version)
    except ActionError as exc:
        return _refused(exc)
    return task_out(queries.access_task(request.user, task.pk))


@router.post(
    "/tasks/{task_id}/decide",
    response={200: TaskOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="作出决定（同意 / 不同意并说明理由）",
)
def decide_task(request: HttpRequest, payload: DecideIn, task_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    task = queries.access_task(request.user, task_id)
    try:
        task = actions.do_decide_task(task, approve=payload.approve, reason=payload.reason, actor=request.user,
                                      expected_version=payload.expected_version)
    except ActionError as exc:
        return _refused(exc)
    return task_out(queries.access_task(request.user, task.pk))


@router.post(
    "/tasks/{task_id}/supplement",
    response={201: SupplementOut, 403: DeniedOut, 409: ServiceErrorOut, 422: ServiceErrorOut},
    summary="要求补正（一次性告知全部材料；暂停计时）",
)
def request_supplement(request: HttpRequest, payload: SupplementIn, task_id: int = Path(..., ge=1, le=DB_INT)) -> Any:
    if (refused := _nul_error(payload)) is not None:
        return refused
    task = queries.access_task(request.user, task_id)
    try:
        supplement = actions.do_request_supplement(task, list(payload.items), reason=payload.reason,
                                                   actor=request.user, expected_version=payload.expected_version)
    except ActionError as exc:
        return _refused(exc)
    return Status(201, _supplement_out(supplement, task.case.number))


# ------------------------------------------------------------------------ public tracking

@router.get("/track", response={200: TrackOut, 404: DetailOut, 429: DetailOut}, auth=None,
            summary="公开进度查询（办件编号 + 证件号后四位，无须登录）")
def track(
    request: HttpRequest,
    number: str = Query(..., max_length=40, pattern=TEXT_PATTERN),
    tail: str = Query(..., max_length=8, pattern=TEXT_PATTERN),
) -> Any:
    # The page and this endpoint are one lookup (services/tracking.py): one budget per client
    # address, one answer for a wrong number and a wrong tail, one timeline. ``number`` is a case
    # number or the application number; the top-level fields describe the case looked up (for
    # an application number: its first case) and ``cases`` lists every case found.
    found = tracking.lookup_progress(number, tail, client=request.META.get("REMOTE_ADDR", ""))
    case = found.case
    if case is None:
        # Rendered by the API's one error handler, in the platform's one shape (404 or 429).
        refusal = NotFoundError(found.error, field="number") if found.status == 404 else ActionError(
            found.error, field="number", code="throttled"
        )
        refusal.status = found.status
        raise refusal
    return TrackOut(
        number=case.number, item=_item_ref(case.item), department=_dept(case.department),
        applicant_masked=case.applicant_masked, status=case.status, status_display=str(case.get_status_display()),
        status_text=found.cases[0].status_text, application_number=found.application_number,
        closed=case.status not in OPEN_CASE_STATUSES, accepted_on=case.accepted_on, deadline=case.deadline,
        deadline_provisional=case.deadline_provisional, closed_at=case.closed_at,
        delivered_at=case.delivered_at, delivery_method=case.delivery_method or None,
        steps=[TrackStep(at=s.at, label=s.label) for s in found.steps],
        cases=[
            TrackCaseOut(
                number=p.case.number, item=_item_ref(p.case.item), department=_dept(p.case.department),
                status=p.case.status, status_text=p.status_text, closed=p.case.status not in OPEN_CASE_STATUSES,
                accepted_on=p.case.accepted_on, deadline=p.case.deadline, delivered_at=p.case.delivered_at,
                delivery_method=p.case.delivery_method or None,
                steps=[TrackStep(at=s.at, label=s.label) for s in p.steps],
            )
            for p in found.cases
        ],
    )


# ------------------------------------------------------------------------------- figures


@router.get("/figures", response={200: FiguresOut, 422: ServiceErrorOut}, summary="5个100%（本辖区，来自汇总表）")
def figures(
    request: HttpRequest,
    department: str | None = Query(None, pattern=CODE_PATTERN, description="部门编码"),
    place_id: int | None = Query(None, ge=1, le=DB_INT, description="只看该区域及其下级"),
) -> Any:
    from gongzhi.accounts.models import Department
    from gongzhi.places.models import Place

    dept_id = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            return _bad("department", _("没有编码为 %(code)s 的部门") % {"code": department}, "query")
        dept_id = dept.pk
    path = None
    if place_id is not None:
        place = Place.objects.filter(pk=place_id).first()
        if place is None:
            return _bad("place_id", _("所选区域不存在"), "query")
        path = place.path
    result = queries.figures_for_user(request.user, department_id=dept_id, place_path=path)
    return FiguresOut(**result.as_dict(), as_of=timezone.now())


# ------------------------------------------------------------------------- the board (5个100%)


class MeasureOut(Schema):
    key: str = Field(description="one_number 一号办 · one_window 一窗办 · online 一网办 · one_visit 一次办 · "
                                 "sunshine 阳光办 · on_time 按时办结率")
    label: str
    definition: str = Field(description="指标定义（与页面、导出相同）")
    basis: str = Field(description="cases：本时段受理的办件；items：本区域在办事项")
    five: bool = Field(description="是否为五个100%之一（按时办结率不是）")
    numerator: int
    denominator: int
    share: float | None = Field(description="numerator / denominator，百分比，一位小数；分母为 0 时为空")


class BoardOut(Schema):
    place: str = Field(description="区域编码（含下级区域）")
    place_name: str
    since: date
    until: date
    measures: list[MeasureOut]


class BoardCaseOut(Schema):
    number: str
    item: str
    department: str
    place: str
    channel: str
    status: str
    accepted_at: datetime
    visits: int
    closed_at: datetime | None
    closed_on_time: bool | None


def _board_scope(request: HttpRequest, place: str | None, since: date | None, until: date | None) -> Any:
    """(place, period) or an error answer: the board's role, then the one scope rule of the page."""
    from gongzhi.accounts.permissions import has_permission
    from gongzhi.core.errors import NotAllowedError

    if not has_permission(request.user, "accountability.read"):
        return _refused(NotAllowedError(_("只有督导、审计和管理员可以查看阳光办指标。")), "query")
    try:
        return queries.resolve_board_scope(request.user, place, since, until)
    except ActionError as exc:
        return _refused(exc, "query")


@router.get("/board", response={200: BoardOut, 403: DeniedOut, 422: ServiceErrorOut},
            summary="阳光办：五个100%及按时办结率（所选区域和时段，含定义）")
def board(
    request: HttpRequest,
    place: str | None = Query(None, pattern=CODE_PATTERN, description="区域编码（默认：本辖区）"),
    since: Annotated[date | None, Query(alias="from", description="起始日期（默认：近30天）")] = None,
    until: Annotated[date | None, Query(alias="to", description="结束日期（含）")] = None,
) -> Any:
    scope = _board_scope(request, place, since, until)
    if not isinstance(scope, tuple):
        return scope
    where, period = scope
    return BoardOut(
        place=where.code, place_name=where.name, since=period.since, until=period.until,
        measures=[
            MeasureOut(key=m.key, label=str(m.spec.label), definition=str(m.spec.definition), basis=m.basis,
                       five=m.spec.five, numerator=m.numerator, denominator=m.denominator, share=m.share)
            for m in queries.board_measures(request.user, where, period)
        ],
    )


@router.get("/board/cases", response={200: list[BoardCaseOut], 403: DeniedOut, 422: ServiceErrorOut},
            summary="阳光办：某项指标分子或分母的办件")
def board_cases(
    request: HttpRequest,
    measure: str = Query(..., pattern=r"^[a-z_]{1,20}$", description="指标（见 /board 的 key）"),
    part: str = Query("numerator", pattern=r"^(numerator|denominator)$"),
    place: str | None = Query(None, pattern=CODE_PATTERN),
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=DB_INT),
) -> Any:
    scope = _board_scope(request, place, since, until)
    if not isinstance(scope, tuple):
        return scope
    if measure not in queries.MEASURES:
        return _bad("measure", _("没有这一项指标。"), "query")
    where, period = scope
    cases = queries.measure_cases(request.user, measure, where, period, part)[offset : offset + limit]
    return [
        BoardCaseOut(number=c.number, item=c.item.code, department=c.department.code, place=c.place.code,
                     channel=c.channel, status=c.status, accepted_at=c.accepted_at, visits=c.visits,
                     closed_at=c.closed_at, closed_on_time=c.closed_on_time)
        for c in cases
    ]
