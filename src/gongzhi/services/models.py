"""One-window service hall: catalog (事项清单), cases (办件), department tasks (协办), SLA,
accountability (问责倒查), reviews (好差评) and the 5×100% roll-up.

Tables stay thin; the rules live in ``services/domain`` and every write in ``services/actions.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.services.enums import (
    AppealStatus,
    ApplicantType,
    CaseMaterialStatus,
    CaseStatus,
    Channel,
    DeliveryMethod,
    HandlingMode,
    MaterialForm,
    MaterialKind,
    RectificationStatus,
    SlaState,
    TaskRole,
    TaskStatus,
)


class ServiceItem(models.Model):
    """A catalog item (事项). ``form_schema`` defines the application form as data."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=120)
    # 繁體 and English forms of the names (core/i18n.py picks one per reader); "opencc" marks a
    # 繁體 text drafted by OpenCC and not yet reviewed by a person.
    name_zh_hant = models.CharField(max_length=120, blank=True)
    name_en = models.CharField(max_length=160, blank=True)
    zh_hant_source = models.CharField(max_length=12, blank=True)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="items")
    applicant_type = models.CharField(max_length=12, choices=ApplicantType.choices, default=ApplicantType.PERSON)
    mode = models.CharField(max_length=10, choices=HandlingMode.choices, default=HandlingMode.COMPLEX)
    form_schema = models.JSONField(default=list, blank=True)
    instant_rules = models.JSONField(default=list, blank=True, help_text=_("即办规则：字段条件列表"))
    # Who may apply (services/domain/eligibility.py), checked at intake for every channel.
    eligibility_rules = models.JSONField(_("申请条件"), default=list, blank=True,
                                         help_text=_("申请条件：证件信息或表单字段的条件列表"))
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"), default=20)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), default=10)
    fee = models.DecimalField(_("收费（元）"), max_digits=12, decimal_places=2, default=0)
    fee_note = models.CharField(max_length=120, blank=True)
    commitment_allowed = models.BooleanField(_("可告知承诺"), default=False)
    accept_with_gaps = models.BooleanField(_("可容缺受理"), default=True)
    co_timeout_default = models.BooleanField(_("协办超时默认同意"), default=False)
    warning_share = models.DecimalField(max_digits=3, decimal_places=2, default=0.8)
    result_doc_type = models.CharField(max_length=24, blank=True, help_text=_("办结后放入证照库的电子证照类型"))
    description = models.TextField(blank=True)
    description_zh_hant = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    # 办事指南 (the public guide page): who may apply, on what legal basis, where to go. The
    # routed department comes from ``routes``; ``location`` says where its window is.
    conditions = models.TextField(_("受理条件"), blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    location = models.CharField(_("办理地点"), max_length=200, blank=True)
    active = models.BooleanField(default=True)
    # Low-assurance items (certificates of one's own records, appointments…) may be applied for by
    # a self-registered account not yet verified at the window (services.policy.may_apply_for).
    low_assurance = models.BooleanField(_("未实名核验账户可申请"), default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_days__lte=models.F("statutory_days")), name="item_promised_le_statutory"
            )
        ]
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ItemCoDepartment(models.Model):
    """A co-processing department of an item, with its own limit (并联审批)."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="co_departments")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    limit_days = models.PositiveSmallIntegerField(default=5)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "department"], name="item_codept_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} ↔ {self.department}"


class ItemMaterial(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    name_zh_hant = models.CharField(max_length=120, blank=True)
    name_en = models.CharField(max_length=200, blank=True)
    zh_hant_source = models.CharField(max_length=12, blank=True)  # "opencc": machine draft (core/i18n.py)
    kind = models.CharField(max_length=10, choices=MaterialKind.choices, default=MaterialKind.MANDATORY)
    doc_type = models.CharField(max_length=24, blank=True, help_text=_("可从证照库复用的证照类型"))
    commitment_ok = models.BooleanField(default=False, help_text=_("告知承诺制下可免提交"))
    submit_as = models.CharField(max_length=10, choices=MaterialForm.choices, blank=True)  # 原件/复印件
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "key"], name="item_material_key_unique")]

    def __str__(self) -> str:
        return self.name


class ItemRoute(models.Model):
    """Routing by item × place (FixMyStreet's body/category): the most specific place wins."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="routes")
    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "place"], name="item_route_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} @ {self.place} → {self.department}"


class Bundle(models.Model):
    """一件事: several items of several departments in one form with shared materials."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    name_zh_hant = models.CharField(max_length=120, blank=True)
    name_en = models.CharField(max_length=160, blank=True)
    zh_hant_source = models.CharField(max_length=12, blank=True)  # "opencc": machine draft (core/i18n.py)
    items = models.ManyToManyField(ServiceItem, related_name="bundles")
    description = models.TextField(blank=True)
    description_zh_hant = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return self.name


class Application(models.Model):
    """One submission (at the window, online or by API): one item or a bundle → one or more cases.

    ``idempotency_key`` makes retries safe: the same key returns the same application.
    """

    number = models.CharField(max_length=24, unique=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # No indexes on these links: an application is only ever found by its number or key (its
    # cases carry the applicant, place and item for every list), and each index is one more
    # B-tree written inside SQLite's single write lock on every submission (bench/intake.py).
    # The price: deleting a person, place, user or bundle scans this table for the PROTECT check.
    bundle = models.ForeignKey(Bundle, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    applicant_person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    applicant_org = models.ForeignKey(
        "people.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+", db_index=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    submitted_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.number


class Case(models.Model):
    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="cases")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    applicant_person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    applicant_org = models.ForeignKey("people.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    applicant_name = models.CharField(max_length=120)
    applicant_masked = models.CharField(max_length=24)  # masked number; its last 4 unlock public tracking
    applicant_tail = models.CharField(max_length=4)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="cases")
    place_path = models.CharField(max_length=200, db_index=True)  # denormalised for jurisdiction filters
    # Where the case was accepted, once a community split or merge has moved it on (the path of
    # the place it had then; empty: it never moved, ``place_path`` is where it was accepted).
    # Reports of a period count a case here (queries.board_cases): past boundaries stay.
    accepted_path = models.CharField(max_length=200, blank=True, default="")
    # No index of its own: case_dept_status_idx (department, status) serves department lookups,
    # and every index is one more page written per submission (bench/intake.py).
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="lead_cases", db_index=False
    )
    address = models.CharField(max_length=200, blank=True)
    # The application form as shown: personal numbers (fields declared personal in the item's
    # form_schema) only masked. Their ciphertext and blind index live in ``form_sealed``
    # ({name: {"kind", "cipher", "bidx"}}), read only by the audited reveal (services/personal.py).
    form_data = models.JSONField(default=dict, blank=True)
    form_sealed = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.ACCEPTED, db_index=True)
    accepted_at = models.DateTimeField(db_index=True)
    accepted_by = models.ForeignKey(  # read only through the case (receipts); no list by clerk: no index
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    accepted_on = models.DateField()  # local (Asia/Shanghai) date of acceptance: day 0 of the limit
    limit_days = models.PositiveSmallIntegerField()
    paused_days = models.PositiveSmallIntegerField(default=0)
    paused_since = models.DateField(null=True, blank=True)
    deadline = models.DateField(db_index=True)
    deadline_provisional = models.BooleanField(default=False)
    sla = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK)
    with_gaps = models.BooleanField(default=False, help_text=_("容缺受理"))
    gaps_due = models.DateField(null=True, blank=True)
    by_commitment = models.BooleanField(default=False, help_text=_("告知承诺"))
    instant = models.BooleanField(default=False)
    visits = models.PositiveSmallIntegerField(default=0, help_text=_("申请人到现场次数"))
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_on_time = models.BooleanField(null=True)
    result_note = models.TextField(blank=True)
    # 送达: when and how the approved result reached the applicant (set once by do_deliver_result).
    # The postal address of 邮寄送达 is personal data and stays in the audit event only.
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    delivery_method = models.CharField(_("送达方式"), max_length=10, choices=DeliveryMethod.choices, blank=True)
    search_text = models.TextField(blank=True)  # jieba tokens, space-joined (FIELD-NOTES: Chinese search)
    # 5×100% roll-up: writers only flip ``stats_dirty``; the worker folds the case into
    # ``MonthlyFigure`` and remembers what it added in ``stats_snapshot`` (no hot counter rows).
    stats_dirty = models.BooleanField(default=True)
    stats_snapshot = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["department", "status"], name="case_dept_status_idx"),
            models.Index(fields=["id"], name="case_stats_dirty_idx", condition=models.Q(stats_dirty=True)),
        ]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")

    def __str__(self) -> str:
        return self.number


class CaseMaterial(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(ItemMaterial, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=CaseMaterialStatus.choices)
    document = models.ForeignKey("people.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.case_id}:{self.material_id}"


class Task(models.Model):
    """A department's share of a case: the lead task or a co-processing task (并联), each with its
    own limit. ``version`` guards against two officers acting on the same task at once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(  # indexed by task_dept_status_idx (department, status)
        "accounts.Department", on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    role = models.CharField(max_length=4, choices=TaskRole.choices)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    limit_days = models.PositiveSmallIntegerField()
    paused_days = models.PositiveSmallIntegerField(default=0)
    deadline = models.DateField()
    deadline_provisional = models.BooleanField(default=False)
    sla = models.CharField(max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    held_since = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["department", "status"], name="task_dept_status_idx")]

    def __str__(self) -> str:
        return f"{self.case.number}/{self.get_role_display()}/{self.department}"


class Hold(models.Model):
    """Who held a task from when to when — the record 问责倒查 traces."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="holds")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.step}"


class SupplementRequest(models.Model):
    """补正: pauses the clock from ``requested_at`` until ``fulfilled_at``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplements")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="supplements")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    requested_on = models.DateField()
    items = models.JSONField(default=list)  # every missing thing, listed once (一次性告知)
    reason = models.TextField(blank=True)
    due = models.DateField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"补正 {self.case_id} {self.requested_on}"


class Accountability(models.Model):
    """问责倒查: one row per overrun, naming who held the task, when, and which step overran."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="accountability")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="accountability")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    held_from = models.DateTimeField(null=True, blank=True)
    held_to = models.DateTimeField(null=True, blank=True)
    step = models.CharField(max_length=40)
    deadline = models.DateField()
    detected_at = models.DateTimeField()
    trace = models.JSONField(default=list)  # every hold of the task, in order
    resolution = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task"], name="accountability_one_per_task")]

    def __str__(self) -> str:
        return f"问责 {self.case_id}/{self.task_id}"


class Review(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="review")
    level = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"评价 {self.case_id}: {self.level}"


class Rectification(models.Model):
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="rectification")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    status = models.CharField(max_length=8, choices=RectificationStatus.choices, default=RectificationStatus.OPEN)
    action_note = models.TextField(blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    callback_note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"整改 {self.review_id}"


class Appeal(models.Model):
    """A department's appeal against a malicious review."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="appeal")
    reason = models.TextField()
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision_note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"申诉 {self.review_id}"


class Notification(models.Model):
    """Outbox: written in the action's transaction, sent by the pluggable backend after commit."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.CharField(max_length=120)
    channel = models.CharField(max_length=10, default="console")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.subject


class MonthlyFigure(models.Model):
    """5×100% roll-up per month × department × place.

    Monthly, not daily: the number of roll-up rows is bounded by months × departments × places,
    so reading the figures costs the same at ten thousand cases as at a million (bench/intake.py).
    """

    month = models.DateField(help_text=_("该月第一天"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, related_name="+")
    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, related_name="+")
    place_path = models.CharField(max_length=200)
    cases = models.IntegerField(default=0)
    one_number = models.IntegerField(default=0)
    window = models.IntegerField(default=0)
    online = models.IntegerField(default=0)
    zero_visit = models.IntegerField(default=0)
    max_one_visit = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    overdue_open = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "department", "place"], name="monthly_figure_unique")]
        indexes = [models.Index(fields=["place_path", "month"], name="monthly_figure_path_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id}@{self.place_id}"
