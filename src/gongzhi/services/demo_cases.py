"""A living demo hall: ninety days of 南山区 service cases, replayed through the real actions.

DEMO DATA ONLY. The loader (``load_demo_cases``, after the catalog) does what a district does
in a quarter, in simulated time:

- an officer for every department a demo item routes to (lead, co-processing, each subdistrict
  office), a district window clerk — demo logins, made with the accounts actions;
- a few hundred residents and a few dozen enterprises (people actions; made-up ID numbers and
  credit codes with real check characters; about two thirds of the residents have a portal
  account), their wallet documents filled in from "shared government data" when an item needs
  one (no files);
- ~3,000 cases (a target: "一件事" bundles make it ~15% more) over the past ``DAYS`` days, each submitted with ``do_submit_application``
  (window or online, single items and "一件事" bundles, applicants plausible for the item: the
  old-age allowance goes to people over 80, the newborn bundle to people of parenting age…),
  then claimed, sent back for supplements and answered (or left), approved or rejected,
  delivered at the window, by mail or electronically, reviewed well or badly, rectified,
  appealed, and appeals upheld or dismissed — each step an action at its simulated moment;
- the SLA machinery runs for the simulated time too: at every simulated midnight the demo runs
  the worker's own timer sweep (``claim_due_timers`` + ``run_timer``), so warnings, overdue
  marks, the accountability trace and 超时默认 happen exactly as in production.

The simulated moment reaches the actions through ``core.clock.frozen_at``; nothing is written
past the actions. Everything is chosen by a seeded ``random.Random``: the same seed, size and end
day give the same counts. A second run finds its applications (idempotency keys
``demo:<seed>:…``) and changes nothing.
"""

from __future__ import annotations

import heapq
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from gongzhi.accounts.actions import do_assign_role, do_create_user, do_set_password, do_set_staff
from gongzhi.accounts.demo import demo_password, demo_password_hash, demo_places
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import Department, RoleAssignment, User
from gongzhi.core import clock
from gongzhi.core.actions import claim_due_timers, run_timer
from gongzhi.core.actors import Actor
from gongzhi.core.calendar import work_calendar
from gongzhi.core.errors import ActionError
from gongzhi.people.actions import (
    do_add_agent,
    do_add_document,
    do_link_user_to_person,
    do_register_organisation,
    do_register_person,
)
from gongzhi.people.models import Organisation, Person
from gongzhi.people.numbers import make_id_number, make_uscc
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place
from gongzhi.services.actions import (
    SHANGHAI,
    Intake,
    do_claim_task,
    do_complete_rectification,
    do_decide_appeal,
    do_decide_task,
    do_deliver_result,
    do_file_appeal,
    do_fulfil_supplement,
    do_request_supplement,
    do_review_case,
    do_submit_application,
    owed_material_names,
)
from gongzhi.services.enums import (
    ApplicantType,
    CaseStatus,
    Channel,
    RectificationStatus,
    TaskRole,
    TaskStatus,
)
from gongzhi.services.models import Application, Bundle, Case, ItemCoDepartment, ItemRoute, ServiceItem, Task

Progress = Callable[[str], Any] | None

DAYS = 90
DEFAULT_CASES = 3000
DEFAULT_SEED = 2026
KEY_PREFIX = "demo:"

# ------------------------------------------------------------------------------ names, places

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_M = ["伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "建华", "志强", "国平", "海波", "子豪", "浩然", "宇轩",
           "俊杰", "文博", "志明", "永康", "德华", "家豪", "振宇", "晓东", "立新", "建军", "卫东", "国庆", "嘉俊"]
GIVEN_F = ["芳", "娜", "敏", "静", "丽", "艳", "婷", "雪", "琳", "颖", "秀英", "桂兰", "玉梅", "晓燕", "欣怡", "梓涵", "雨桐",
           "思琪", "佳怡", "慧敏", "美玲", "丽华", "淑珍", "春梅", "海燕", "雅婷", "诗涵", "嘉欣", "晓玲", "凤英"]
# (address code, weight): most demo applicants hold a Nanshan or other Shenzhen hukou.
ADDRESS_CODES = [("440305", 50), ("440303", 6), ("440304", 6), ("440306", 5), ("430102", 5), ("360102", 4),
                 ("450103", 4), ("510104", 4), ("420102", 4), ("410105", 4), ("350203", 3), ("440104", 5)]
ORG_WORDS = ["南科", "前海", "蛇口", "粤海", "西丽", "桃源", "沙河", "华侨城", "科兴", "深湾", "后海", "大冲", "留仙",
             "海岸", "蓝海", "鹏程", "创智", "云帆", "星河", "安联"]
ORG_TRADES = [("智能科技", "enterprise"), ("信息技术", "enterprise"), ("餐饮管理", "enterprise"), ("健康管理", "enterprise"),
              ("物业管理", "enterprise"), ("教育咨询", "enterprise"), ("生物医药", "enterprise"), ("贸易", "enterprise"),
              ("便利店", "individual_business"), ("小吃店", "individual_business"), ("理发店", "individual_business")]
SCHOOLS = ["南山实验教育集团", "南山外国语学校", "深圳湾学校", "桃源中学", "蛇口育才教育集团", "前海小学", "南头城小学"]
UNIVERSITIES = ["深圳大学", "南方科技大学", "哈尔滨工业大学（深圳）", "清华大学深圳国际研究生院", "中山大学", "武汉大学", "湖南大学"]
HOSPITALS = ["南山区人民医院", "南山区妇幼保健院", "深圳市第六人民医院", "香港大学深圳医院", "北京大学深圳医院"]
CITIES = ["湖南省长沙市", "广西壮族自治区南宁市", "江西省南昌市", "四川省成都市", "湖北省武汉市", "广东省广州市"]
SENTENCES = ["家庭主要劳动力患病，收入明显减少，申请救助。", "按规定提交相关材料，请予审核。", "因工作变动需要办理。",
             "社区居民反映强烈，拟申请改善。", "情况属实，社区已走访核实。", "本人承诺所填信息真实有效。"]
REJECT_REASONS = ["经核查，家庭收入超过规定标准，不符合申请条件", "申请材料与核查情况不符", "申请人已享受同类待遇，不能重复享受",
                  "经营场所不符合规定要求", "补正后材料仍不符合法定形式"]
REVIEW_GOOD = ["办事很快，一次就办好了", "窗口工作人员态度很好", "网上申请方便，不用跑腿", "", "", "流程清楚，材料提示明确"]
REVIEW_BAD = ["等了很久没有消息", "要求补的材料前后说法不一致", "电话一直打不通", "窗口排队太久", "办理结果没有说明理由"]

# Who plausibly applies for what (age at the time of applying); other items: 18–75.
AGE_RANGES: dict[str, tuple[int, int]] = {
    "NS-MZ-005": (80, 99),  # 高龄津贴
    "NS-JD-004": (60, 95),  # 老年人优待证
    "NS-RS-005": (55, 62), "NS-YB-002": (55, 62), "NS-GJJ-001": (55, 62), "NS-YJS-003": (60, 63),  # 退休
    "NS-WJ-001": (22, 42), "NS-WJ-005": (22, 42), "NS-WJ-006": (22, 42), "NS-HZ-004": (22, 42),
    "NS-YB-001": (22, 42), "NS-YJS-002": (22, 42), "NS-WJ-002": (28, 50),  # 生育、新生儿
    "NS-JY-001": (28, 48), "NS-JY-002": (32, 52), "NS-JY-004": (28, 52),  # 学位
    "NS-RS-004": (21, 32), "NS-HZ-003": (21, 40), "NS-ZJ-002": (22, 40), "NS-YJS-004": (21, 32),  # 人才
    "NS-RS-002": (18, 59), "NS-RS-003": (18, 59), "NS-RS-007": (18, 59), "NS-RS-006": (18, 59),
}
# A few items are much more common than others in a real hall.
ITEM_WEIGHTS = {"NS-RS-001": 10, "NS-GZ-001": 8, "NS-HZ-001": 8, "NS-HZ-002": 6, "NS-RS-008": 5, "NS-YB-003": 5,
                "NS-JD-001": 5, "NS-JD-004": 4, "NS-MZ-005": 3, "NS-HZ-005": 4, "NS-SJ-001": 4}
BUNDLE_SHARE = 0.08

DOC_TITLES = {
    "id_card": ("身份证件（正反面）", "深圳市公安局"), "hukou": ("居民户口簿", "深圳市公安局"),
    "residence_permit": ("深圳经济特区居住证", "深圳市公安局"), "marriage": ("结婚证", "南山区民政局"),
    "birth": ("出生医学证明", "南山区妇幼保健院"), "business_license": ("营业执照", "深圳市市场监督管理局"),
    "tenancy": ("房屋租赁凭证", "南山区住房和建设局"), "property": ("不动产权证书", "深圳市规划和自然资源局"),
    "social_insurance": ("社保缴纳证明", "深圳市社会保险基金管理局"), "degree": ("学历学位证书", "教育部学信网"),
    "photo": ("证件照", ""), "licence": ("相关资格证书", "南山区"), "other": ("其他证明材料", "社区工作站"),
}


@dataclass
class Applicant:
    """One demo applicant: a person (with age) or an organisation, and the user who applies online."""

    number: str  # the full ID number / credit code: kept in memory only, never logged or printed
    person: Person | None = None
    org: Organisation | None = None
    user: User | None = None
    birth: date | None = None
    phone: str = ""
    place: Place | None = None
    docs: set[str] = field(default_factory=set)

    @property
    def owner(self) -> Person | Organisation:
        owner = self.person or self.org
        assert owner is not None
        return owner

    def age_on(self, day: date) -> int:
        if self.birth is None:
            return 40
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))


# ---------------------------------------------------------------------------------- officers


def _routed_departments() -> list[Department]:
    """Every department an active demo item can route a task to (lead, route, co-processor)."""
    ids = set(ServiceItem.objects.filter(active=True).values_list("department_id", flat=True))
    ids |= set(ItemRoute.objects.filter(item__active=True).values_list("department_id", flat=True))
    ids |= set(ItemCoDepartment.objects.filter(item__active=True).values_list("department_id", flat=True))
    return list(Department.objects.filter(pk__in=ids).order_by("code"))


def _ensure_user(username: str, display: str, role: str, place: Place, department: Department | None,
                 *, actor: Actor) -> tuple[User, bool]:
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        user = do_create_user(username, display, None, actor=actor)
        do_set_password(user, demo_password_hash(), actor=actor, hashed=True)
        do_set_staff(user, True, actor=actor)
    if not RoleAssignment.objects.filter(user=user, role=role, place=place, department=department).exists():
        do_assign_role(user, role, place, department, actor=actor)
    return User.objects.get(pk=user.pk), created


def ensure_officers(*, actor: Actor) -> tuple[dict[int, User], list[tuple[str, str, str, str]]]:
    """An officer for every routed department that has none (``officer_<code>``); returns the
    officer who acts for each department in the demo and the new demo logins."""
    officers: dict[int, User] = {}
    logins: list[tuple[str, str, str, str]] = []
    for dept in _routed_departments():
        username = "officer_" + dept.code.lower().replace("-", "_")
        existing = (RoleAssignment.objects.filter(role=Role.DEPARTMENT_OFFICER, department=dept)
                    .select_related("user").order_by("id").first())
        if existing is not None and existing.user.username != username:
            officers[dept.pk] = existing.user
            continue
        user, _created = _ensure_user(username, f"{dept.name}审批员", Role.DEPARTMENT_OFFICER, dept.place, dept,
                                      actor=actor)
        officers[dept.pk] = user
        logins.append((username, demo_password(), str(Role.DEPARTMENT_OFFICER), dept.place.name))
    return officers, logins


# ---------------------------------------------------------------------------------- applicants


def _nanshan_homes(district: Place) -> list[Place]:
    """Where demo applicants live: every current subdistrict and community of the district."""
    path = district.path
    return list(Place.objects.filter(path__startswith=path, valid_to__isnull=True,
                                     kind__in=[PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY]).order_by("path"))


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _w in pairs], weights=[w for _p, w in pairs])[0]


def _birth_for(rng: random.Random, today: date) -> date:
    bucket = rng.random()
    age = (rng.randint(80, 96) if bucket < 0.08 else rng.randint(60, 79) if bucket < 0.22 else
           rng.randint(50, 59) if bucket < 0.36 else rng.randint(22, 49) if bucket < 0.92 else rng.randint(18, 21))
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def make_applicants(rng: random.Random, count: int, orgs: int, today: date, *, seed: int, actor: Actor,
                    progress: Progress = None) -> tuple[list[Applicant], list[Applicant]]:
    """Register ``count`` residents (two thirds with a portal account) and ``orgs`` enterprises."""
    places = demo_places()
    homes = _nanshan_homes(places["nanshan"])
    persons: list[Applicant] = []
    used: set[str] = set()
    for i in range(count):
        male = rng.random() < 0.5
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_M if male else GIVEN_F)
        birth = _birth_for(rng, today)
        code = _weighted(rng, ADDRESS_CODES)
        seq = 300 + (i * 2 % 690) + (1 if male else 0)
        number = make_id_number(code, birth, seq)
        while number in used:
            seq = (seq + 2) % 1000
            number = make_id_number(code, birth, seq)
        used.add(number)
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        home = rng.choice(homes)
        person = do_register_person(number, name, phone=phone, home_place=home,
                                    address=f"{home.name}{rng.randint(1, 60)}栋{rng.randint(1, 30)}0{rng.randint(1, 8)}",
                                    actor=actor)
        user = None
        if i % 3 != 2 and person.user_id is None:
            username = f"resident_{i + 1:04d}" if seed == DEFAULT_SEED else f"resident_{seed}_{i + 1:04d}"
            user = User.objects.filter(username=username).first() or do_create_user(username, name, None, actor=actor)
            do_link_user_to_person(user, person, actor=actor)
        elif person.user_id is not None:
            user = User.objects.get(pk=person.user_id)
        persons.append(Applicant(number, person=person, user=user, birth=birth, phone=phone, place=home))
    if progress:
        progress(f"{len(persons)} 位居民（{sum(1 for a in persons if a.user)} 位有网上账号）")
    companies: list[Applicant] = []
    reps = [a for a in persons if a.user is not None and 25 <= a.age_on(today) <= 60]
    for i in range(orgs):
        word, (trade, kind) = ORG_WORDS[i % len(ORG_WORDS)], ORG_TRADES[(i * 7) % len(ORG_TRADES)]
        suffix = "（个体工商户）" if kind == "individual_business" else "有限公司"
        name = f"深圳市{word}{trade}{suffix}" if i < len(ORG_WORDS) else f"深圳市{word}{trade}{i + 1}号{suffix}"
        uscc = make_uscc("9", "1" if kind == "enterprise" else "2", "440305", f"MA5{seed % 100:02d}{i + 1:04d}")
        rep = reps[(i * 5) % len(reps)]
        home = rep.place or places["nanshan"]
        org = do_register_organisation(uscc, name, kind, home, legal_representative=rep.person, actor=actor)
        assert rep.user is not None
        do_add_agent(org, rep.user, actor=actor)
        companies.append(Applicant(uscc, org=org, user=rep.user, phone=rep.phone, place=home))
    if progress:
        progress(f"{len(companies)} 家企业")
    return persons, companies


def _ensure_docs(applicant: Applicant, doc_types: set[str], *, actor: Actor) -> None:
    """Fill the wallet from "shared government data" (no file) with what an item needs."""
    for doc_type in sorted(doc_types - applicant.docs):
        title, issuer = DOC_TITLES.get(doc_type, DOC_TITLES["other"])
        issued = date(2019, 1, 1) + timedelta(days=(sum(map(ord, applicant.number)) * 37) % 1500)
        do_add_document(applicant.owner, doc_type, title, None, issued_on=issued, issuer=issuer,
                        source="政务数据共享", actor=actor)
        applicant.docs.add(doc_type)


# ------------------------------------------------------------------------------------ forms


def _form_value(rng: random.Random, spec: dict[str, Any], who: Applicant, day: date, orgs: list[Applicant],
                rules: dict[str, dict[str, Any]]) -> Any:
    name, kind, label = spec["name"], spec.get("type", "text"), str(spec.get("label", ""))
    lo, hi = spec.get("min"), spec.get("max")
    rule = rules.get(name)
    if kind == "phone":
        return who.phone or f"1380000{rng.randint(0, 9999):04d}"
    if kind == "bool":
        return rng.random() < 0.4
    if kind == "choice":
        choices = [str(c) for c in spec.get("choices", [])]
        if rule and rule.get("op") in {"eq", "in"} and rng.random() < 0.85:
            wanted = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
            choices = [c for c in choices if c in [str(w) for w in wanted]] or choices
        return rng.choice(choices)
    if kind == "date":
        if name == "birth_date":
            return (who.birth or day).isoformat()
        if name == "retire_date" and who.birth:
            return date(who.birth.year + 60, who.birth.month, min(who.birth.day, 28)).isoformat()
        if "birth" in name:
            back = rng.randint(3, 40) if "baby" in name else rng.randint(6 * 365, 12 * 365)
            return (day - timedelta(days=back)).isoformat()
        if name in {"appointment_date", "start_date", "expected_date", "start_month", "period_end"}:
            return (day + timedelta(days=rng.randint(3, 45))).isoformat()
        return (day - timedelta(days=rng.randint(5, 400))).isoformat()
    if kind in {"int", "decimal"}:
        if name == "age":
            return who.age_on(day)
        if rule and rule.get("op") == "lte":
            return rng.randint(int(lo or 0), int(rule["value"]))
        if "income" in name:
            return f"{rng.randint(1500, 9000)}.00"
        low = int(lo) if lo is not None else (1 if "size" in name or "count" in name else 0)
        high = int(hi) if hi is not None else low + (5 if "size" in name or "members" in name else 300)
        number = rng.randint(low, min(high, low + (5 if "size" in name else 300)))
        return number if kind == "int" else f"{number}.00"
    if kind == "textarea":
        return rng.choice(SENTENCES)[: int(spec.get("max_length", 2000))]
    # text
    pattern = str(spec.get("pattern", ""))
    if pattern.startswith("[0-9]{12"):  # a bank account number (sealed by the form's "personal")
        return "6222" + "".join(str(rng.randint(0, 9)) for _ in range(15))
    if spec.get("personal") == "id_number":  # another person's ID number (sealed too)
        return make_id_number("440305", date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28)),
                              rng.randint(100, 999))
    if "uscc" in name:
        return rng.choice(orgs).number if orgs else ""
    value: str
    if "school" in name:
        value = rng.choice(UNIVERSITIES if "graduate" in name else SCHOOLS)
    elif name in {"hospital", "clinic"}:
        value = rng.choice(HOSPITALS)
    elif name == "destination":
        value = rng.choice(CITIES)
    elif "address" in name:
        value = f"深圳市南山区{who.place.name if who.place else ''}{rng.randint(1, 200)}号"
    elif "姓名" in label or (name.endswith("_name") and ("child" in name or "baby" in name or "spouse" in name
                                                        or "partner" in name or "holder" in name or "agent" in name)):
        value = rng.choice(SURNAMES) + rng.choice(GIVEN_M + GIVEN_F)
    elif name.endswith("name") or name in {"sign_text", "last_employer", "employer"}:
        value = f"{rng.choice(ORG_WORDS)}{rng.choice(ORG_TRADES)[0]}"
    else:
        value = f"{label or name}（演示）"
    return value[: int(spec.get("max_length", 200))]


def _make_form(rng: random.Random, items: list[ServiceItem], who: Applicant, day: date,
               orgs: list[Applicant]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for item in items:
        rules = {r["field"]: r for r in (item.instant_rules or [])}
        for spec in item.form_schema:
            if spec["name"] in form or (not spec.get("required") and rng.random() < 0.4):
                continue
            value = _form_value(rng, spec, who, day, orgs, rules)
            if value not in ("", None):
                form[spec["name"]] = value
    return form


# ------------------------------------------------------------------------------- simulation


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@dataclass
class Plan:
    """How one case goes (drawn once at intake)."""

    lead_claim: int  # working days after acceptance; -1: nobody claims it in time
    supplement: bool
    fulfils: bool
    decide_after: int  # working days after the lead claim (or the supplement answer)
    approve: bool
    deliver: str  # "" (not yet), "window", "mail", "electronic"
    review: int  # 0: no review, else the level 1–5
    rectify: bool
    appeal: str  # "", "pending", "upheld", "dismissed"


class Simulation:
    """An event queue over simulated time; each event is one action by one user."""

    def __init__(self, rng: random.Random, start: datetime, end: datetime, officers: dict[int, User],
                 clerks: tuple[User, User, str], supervisor: User, actor: Actor) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.officers, self.supervisor, self.actor = officers, supervisor, actor
        # The 桃源街道 window serves its own residents; the district centre's window everyone else.
        self.local_clerk, self.district_clerk, self.local_path = clerks
        self.queue: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = 0
        self.swept_to = timezone.localtime(start, SHANGHAI).date()
        self.cal = work_calendar()
        self.now = start
        self.refused: Counter[str] = Counter()
        self.events = 0
        self.progress: Progress = None
        self.samples: dict[str, str] = {}
        self.plans: dict[int, Plan] = {}
        self.applicant_of: dict[int, Applicant] = {}

    # -- time
    def workday(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` = 0: ``day`` itself if a working day)."""
        if n <= 0:
            while not self.cal.is_workday(day):
                day += timedelta(days=1)
            return day
        return self.cal.add_working_days(day, n).deadline

    def office_time(self, day: date) -> datetime:
        return _at(day, self.rng.choice([9, 9, 10, 10, 11, 14, 15, 16]), self.rng.randint(0, 59))

    def schedule(self, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        """Queue ``fn(*args)`` at ``when`` (never before the moment being simulated: time only
        runs forward); anything after ``end`` has not happened yet and is left undone."""
        when = max(when, self.now + timedelta(minutes=self.rng.randint(5, 40)))
        if when <= self.end:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, fn, args))

    # -- the worker, for simulated time
    def sweep(self, until: datetime) -> None:
        """Run the worker's timer sweep at every simulated midnight up to ``until``."""
        last = timezone.localtime(until, SHANGHAI).date()
        while self.swept_to < last:
            self.swept_to += timedelta(days=1)
            self._fire(_at(self.swept_to, 0, 5))
            if self.progress and self.swept_to.day in (1, 15):
                self.progress(f"模拟至 {self.swept_to:%Y-%m-%d}：已执行 {self.events} 个办件操作")

    def _fire(self, moment: datetime) -> None:
        with clock.frozen_at(moment):
            while True:
                timers = claim_due_timers(now=moment, limit=500)
                if not timers:
                    return
                for timer in timers:
                    run_timer(timer)

    def run(self) -> None:
        while self.queue:
            when, _seq, fn, args = heapq.heappop(self.queue)
            self.sweep(when)
            self.now = when
            self.events += 1
            with clock.frozen_at(when):
                try:
                    fn(*args)
                except ActionError as exc:
                    # An action refused what the plan asked (e.g. the applicant answered a supplement
                    # too late): that is the hall working, recorded and left as it is.
                    self.refused[type(exc).__name__] += 1
                    self.samples.setdefault(type(exc).__name__, str(exc)[:160])
        self.sweep(self.end)
        self._fire(self.end)  # timers due between the last midnight and now

    # -- the case's life
    def accepted(self, case: Case, who: Applicant) -> None:
        rng = self.rng
        self.applicant_of[case.pk] = who
        bad_luck, limit = rng.random(), case.limit_days
        # Most officers claim within the first third of the limit and decide before the deadline;
        # a few claim after it, and a few cases nobody claims at all (both become overdue).
        claim = -1 if bad_luck < 0.03 else (limit + rng.randint(1, 3) if bad_luck < 0.07 else
                                            rng.randint(0, max(0, min(2, limit // 3))))
        plan = Plan(
            lead_claim=claim,
            supplement=rng.random() < 0.14 and not case.instant,
            fulfils=rng.random() < 0.85,
            decide_after=min(rng.randint(0, max(0, limit - max(claim, 0) - 1)), rng.randint(1, 5)),
            approve=rng.random() < 0.87,
            deliver="" if rng.random() < 0.08 else rng.choice(["window", "window", "mail", "electronic"]),
            review=0, rectify=rng.random() < 0.7, appeal="",
        )
        if who.user is not None and rng.random() < 0.6:
            plan.review = rng.choices([5, 4, 3, 2, 1], weights=[55, 22, 9, 7, 7])[0]
        if plan.review and plan.review <= 2:
            plan.appeal = rng.choices(["", "pending", "upheld", "dismissed"], weights=[50, 10, 15, 25])[0]
        self.plans[case.pk] = plan
        accepted_on = case.accepted_on
        if case.status == CaseStatus.APPROVED:  # 即办: decided at intake
            self.after_close(case, accepted_on)
            return
        for task in case.tasks.filter(role=TaskRole.CO):
            officer = self.officers[task.department_id]
            if rng.random() < (0.2 if case.item.co_timeout_default else 0.04):
                # The co department misses its limit: 超时默认 where the item says so, else it
                # answers late and the overdue sweep traces who held it.
                if case.item.co_timeout_default:
                    continue
                late = self.workday(accepted_on, task.limit_days + rng.randint(1, 3))
                self.schedule(self.office_time(late), self.claim, task.pk, officer)
                self.schedule(self.office_time(late) + timedelta(hours=2), self.decide_co, task.pk, officer)
                continue
            day = self.workday(accepted_on, rng.randint(0, 1))
            self.schedule(self.office_time(day), self.claim, task.pk, officer)
            decided = self.workday(day, rng.randint(0, max(0, min(2, task.limit_days - 2))))
            self.schedule(self.office_time(decided) + timedelta(minutes=90), self.decide_co, task.pk, officer)
        lead = case.tasks.get(role=TaskRole.LEAD)
        if plan.lead_claim < 0:
            if rng.random() < 0.5:  # claimed long after its deadline, then decided
                late = self.workday(case.deadline, rng.randint(2, 6))
                self.schedule(self.office_time(late), self.claim_lead, lead.pk, late)
            return
        claim_day = self.workday(accepted_on, plan.lead_claim)
        self.schedule(self.office_time(claim_day), self.claim_lead, lead.pk, claim_day)

    def claim(self, task_id: int, officer: User) -> None:
        do_claim_task(Task.objects.get(pk=task_id), actor=officer)

    def decide_co(self, task_id: int, officer: User) -> None:
        task = Task.objects.get(pk=task_id)
        if task.status != TaskStatus.CLAIMED:
            return
        approve = self.rng.random() < 0.96
        do_decide_task(task, approve=approve, reason="" if approve else "经核查，协办事项不符合条件", actor=officer)

    def claim_lead(self, task_id: int, day: date) -> None:
        task = Task.objects.select_related("case").get(pk=task_id)
        officer = self.officers[task.department_id]
        do_claim_task(task, actor=officer)
        plan = self.plans[task.case_id]
        if plan.supplement:
            ask = self.workday(day, min(1, plan.decide_after))
            self.schedule(self.office_time(ask), self.ask_supplement, task_id)
        else:
            self.schedule(self.office_time(self.workday(day, plan.decide_after)), self.decide_lead, task_id, 0)

    def ask_supplement(self, task_id: int) -> None:
        task = Task.objects.select_related("case__item").get(pk=task_id)
        names = [m.name for m in task.case.item.materials.all()] or ["申请材料"]
        items = self.rng.sample(names, k=min(len(names), self.rng.randint(1, 2)))
        request = do_request_supplement(task, [f"{n}（请提供清晰完整的版本）" for n in items],
                                        reason="材料不清晰或不完整", actor=self.officers[task.department_id])
        plan = self.plans[task.case_id]
        if plan.fulfils:
            answer = self.workday(request.requested_on, self.rng.randint(1, 4))
            self.schedule(_at(answer, self.rng.randint(8, 20), self.rng.randint(0, 59)), self.fulfil, task_id)
        elif self.rng.random() < 0.3:  # answers too late: refused (补正期限届满)
            late = self.workday(request.due, 2)
            self.schedule(_at(late, 10, 30), self.fulfil, task_id)

    def fulfil(self, task_id: int) -> None:
        task = Task.objects.select_related("case").get(pk=task_id)
        who = self.applicant_of[task.case_id]
        actor = who.user if who.user is not None else self.clerk_for(task.case.place_path)
        do_fulfil_supplement(task.case, actor=actor)
        self.schedule(self.office_time(self.workday(clock.localdate(), self.rng.randint(0, 1))), self.decide_lead, task_id, 0)

    def decide_lead(self, task_id: int, tries: int) -> None:
        task = Task.objects.select_related("case").get(pk=task_id)
        if task.status != TaskStatus.CLAIMED:
            return
        if task.case.tasks.filter(role=TaskRole.CO, status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED]).exists():
            if tries < 12:  # the lead waits for the co-processors (决定在最后)
                day = self.workday(clock.localdate(), 1)
                self.schedule(self.office_time(day), self.decide_lead, task_id, tries + 1)
            return
        plan = self.plans[task.case_id]
        reason = "" if plan.approve else self.rng.choice(REJECT_REASONS)
        if plan.approve and owed_material_names(task.case):
            # Approving past a 容缺 material still owed needs a stated reason (audited).
            reason = self.rng.choice(OWED_REASONS)
        do_decide_task(task, approve=plan.approve, reason=reason, actor=self.officers[task.department_id])
        case = Case.objects.get(pk=task.case_id)
        self.after_close(case, clock.localdate())

    def after_close(self, case: Case, day: date) -> None:
        plan = self.plans[case.pk]
        closed = day
        if case.status == CaseStatus.APPROVED and plan.deliver:
            method = plan.deliver
            if method == "electronic" and not case.item.result_doc_type:
                method = "window"
            closed = self.workday(day, self.rng.randint(0, 3) if method != "electronic" else 0)
            when = self.office_time(closed) if method != "electronic" else clock.now() + timedelta(minutes=5)
            self.schedule(max(when, clock.now() + timedelta(minutes=1)), self.deliver, case.pk, method)
        if plan.review:
            review_day = closed + timedelta(days=self.rng.randint(0, 4))
            self.schedule(_at(review_day, self.rng.randint(18, 22), self.rng.randint(0, 59)), self.review, case.pk)

    def deliver(self, case_id: int, method: str) -> None:
        case = Case.objects.select_related("item").get(pk=case_id)
        actor = self.clerk_for(case.place_path) if method == "window" else self.officers[case.department_id]
        who = self.applicant_of[case_id]
        address = f"深圳市南山区{who.place.name if who.place else ''}{self.rng.randint(1, 99)}号" if method == "mail" else ""
        do_deliver_result(case, actor=actor, method=method, address=address)

    def review(self, case_id: int) -> None:
        case = Case.objects.get(pk=case_id)
        plan, who = self.plans[case_id], self.applicant_of[case_id]
        assert who.user is not None
        comment = self.rng.choice(REVIEW_GOOD if plan.review >= 3 else REVIEW_BAD)
        review = do_review_case(case, plan.review, comment, actor=who.user)
        if plan.review > 2:
            return
        today = clock.localdate()
        officer = self.officers[case.department_id]
        if plan.appeal:
            self.schedule(self.office_time(self.workday(today, self.rng.randint(1, 2))), self.appeal, review.pk, officer)
        if plan.rectify:
            day = self.workday(today, self.rng.randint(2, 8) + (4 if plan.appeal else 0))
            self.schedule(self.office_time(day), self.rectify, review.pk, officer)

    def rectify(self, review_id: int, officer: User) -> None:
        from gongzhi.services.models import Rectification

        rect = Rectification.objects.filter(review_id=review_id).first()
        if rect is None or rect.status != RectificationStatus.OPEN:
            return
        do_complete_rectification(rect, action_note="已约谈经办人，优化办理流程并加强首问负责",
                                  callback_note="已电话回访申请人，对整改情况表示认可", actor=officer)

    def appeal(self, review_id: int, officer: User) -> None:
        from gongzhi.services.models import Review

        review = Review.objects.select_related("case").get(pk=review_id)
        appeal = do_file_appeal(review, "申请人的差评与办理事实不符：办件按时办结，理由已书面告知", actor=officer)
        outcome = self.plans[review.case_id].appeal
        if outcome in {"upheld", "dismissed"}:
            day = self.workday(clock.localdate(), self.rng.randint(2, 5))
            self.schedule(self.office_time(day), self.decide_appeal, appeal.pk, outcome == "upheld")

    def decide_appeal(self, appeal_id: int, upheld: bool) -> None:
        from gongzhi.services.models import Appeal

        note = "经调阅办件记录，申诉理由成立，该差评不计入考核" if upheld else "经核查，申诉理由不成立，维持评价"
        do_decide_appeal(Appeal.objects.get(pk=appeal_id), upheld=upheld, note=note, actor=self.supervisor)

    def clerk_for(self, place_path: str) -> User:
        return self.local_clerk if place_path.startswith(self.local_path) else self.district_clerk


# ------------------------------------------------------------------------------- the loader


OWED_REASONS = [
    "容缺材料已通过部门数据共享核验，先行办结",
    "申请人已书面承诺补交，核心材料齐全，先行办结",
    "补交材料不影响审批结论，先行办结并跟踪补交",
]


def _case_target() -> int:
    raw = os.environ.get("GONGZHI_DEMO_CASES", "")
    return int(raw) if raw.isdigit() else int(getattr(settings, "GONGZHI_DEMO_CASES", DEFAULT_CASES))


def load_demo_cases(*, actor: Actor, progress: Progress = None, cases: int | None = None, seed: int = DEFAULT_SEED,
                    end: datetime | None = None) -> list[tuple[str, str, str, str]]:
    """Officers for every routed department, then ``cases`` (default ~3,000, or
    ``GONGZHI_DEMO_CASES``) cases over the ``DAYS`` days up to ``end`` (default now); returns
    the new demo logins. Idempotent: a second run with the same seed finds its applications."""
    target = _case_target() if cases is None else cases
    officers, logins = ensure_officers(actor=actor)
    places = demo_places()
    clerk_user, _new = _ensure_user("clerk_nanshan", "南山区政务服务中心综合窗口", Role.WINDOW_CLERK, places["nanshan"], None,
                                    actor=actor)
    logins.append(("clerk_nanshan", demo_password(), str(Role.WINDOW_CLERK), places["nanshan"].name))
    if progress:
        progress(f"{len(officers)} 个承办部门均有审批人员")
    prefix = f"{KEY_PREFIX}{seed}:"
    if target <= 0 or Application.objects.filter(idempotency_key__startswith=prefix).exists():
        return logins
    end = end or timezone.now()
    start = end - timedelta(days=DAYS)
    rng = random.Random(seed)
    today = timezone.localtime(end, SHANGHAI).date()
    persons, orgs = make_applicants(rng, max(40, target // 8), max(6, target // 100), today, seed=seed,
                                    actor=actor, progress=progress)
    for extra in _demo_logins_as_applicants():
        (orgs if extra.org is not None else persons).append(extra)
    clerk = User.objects.get(username="clerk")
    supervisor = User.objects.get(username="sup_district")
    sim = Simulation(rng, start, end, officers, (clerk, clerk_user, places["taoyuan"].path), supervisor, actor)
    _schedule_submissions(sim, rng, target, persons, orgs, prefix)
    sim.progress = progress
    sim.run()
    from gongzhi.services.stats import fold_dirty_cases

    fold_dirty_cases()  # the worker's roll-up of the 5×100% figures, so the board has them at once
    if progress:
        counts = Counter(Case.objects.filter(application__idempotency_key__startswith=prefix)
                         .values_list("status", flat=True))
        progress("办件：" + "，".join(f"{CaseStatus(s).label} {n}" for s, n in sorted(counts.items())))
        if sim.refused:
            progress("被业务规则拒绝的模拟操作：" + "；".join(f"{k} ×{v}（如：{sim.samples[k]}）"
                                                      for k, v in sorted(sim.refused.items())))
    return logins


def _demo_logins_as_applicants() -> list[Applicant]:
    """The people demo's ``resident`` (张伟) and ``agent`` (for 桃源智造) apply too, so the
    printed demo logins have cases of their own."""
    from gongzhi.people.demo import DEMO_ORGANISATIONS, DEMO_RESIDENTS

    out: list[Applicant] = []
    name, code, born, seq, _place, phone = DEMO_RESIDENTS[2]
    person = Person.objects.filter(user__username="resident").select_related("home_place", "user").first()
    if person is not None and person.name == name:
        out.append(Applicant(make_id_number(code, born, seq), person=person, user=person.user, birth=born, phone=phone,
                             place=person.home_place))
    authority, entity, region, org_code, org_name, _kind, _p, _rep = DEMO_ORGANISATIONS[1]
    org = Organisation.objects.filter(name=org_name, agents__username="agent").select_related("place").first()
    if org is not None:
        out.append(Applicant(make_uscc(authority, entity, region, org_code), org=org,
                             user=org.agents.get(username="agent"), phone="13800001003", place=org.place))
    return out


def _schedule_submissions(sim: Simulation, rng: random.Random, target: int, persons: list[Applicant],
                          orgs: list[Applicant], prefix: str) -> None:
    """Spread ``target`` cases over the simulated days: weekdays at the window and online,
    weekends online only; each submission is one event."""
    # Materials prefetched: each submission asks which wallet documents its items need.
    items = list(ServiceItem.objects.filter(active=True).order_by("code").prefetch_related("materials"))
    bundles = list(Bundle.objects.filter(active=True).order_by("code").prefetch_related("items__materials"))
    person_items = [i for i in items if i.applicant_type != ApplicantType.ENTERPRISE]
    org_items = [i for i in items if i.applicant_type != ApplicantType.PERSON]
    days = [sim.start.date() + timedelta(days=n) for n in range(1, DAYS + 1)]
    weights = [5.0 if sim.cal.is_workday(d) else 1.0 for d in days]
    per_weight = target / sum(weights) / 1.08  # bundles add a few cases each
    serial = 0
    for day, weight in zip(days, weights, strict=True):
        count = int(weight * per_weight + rng.random())
        for _n in range(count):
            serial += 1
            workday = sim.cal.is_workday(day)
            window = workday and rng.random() < 0.55
            when = _at(day, rng.randint(9, 16), rng.randint(0, 59)) if window else _at(day, rng.randint(7, 22), rng.randint(0, 59))
            if rng.random() < BUNDLE_SHARE:
                bundle = rng.choice(bundles)
                chosen: list[ServiceItem] = list(bundle.items.all())
                code = bundle.code
            elif rng.random() < 0.15:
                chosen, code = [rng.choices(org_items, weights=[ITEM_WEIGHTS.get(i.code, 2) for i in org_items])[0]], ""
            else:
                chosen, code = [rng.choices(person_items, weights=[ITEM_WEIGHTS.get(i.code, 2) for i in person_items])[0]], ""
            needs_org = any(i.applicant_type == ApplicantType.ENTERPRISE for i in chosen) or (
                all(i.applicant_type == ApplicantType.BOTH for i in chosen) and rng.random() < 0.6)
            key_item = code or chosen[0].code
            lo, hi = AGE_RANGES.get(key_item, (18, 75))
            if needs_org:
                who = rng.choice(orgs)
            else:
                fits = [a for a in persons if lo <= a.age_on(day) <= hi]
                who = rng.choice(fits or persons)
            if not window and who.user is None:
                window = workday  # no portal account: they come to the window (or wait for Monday)
                if not window:
                    continue
            sim.schedule(when, _submit, sim, who, chosen, code, window, f"{prefix}{serial:05d}", orgs)


def _submit(sim: Simulation, who: Applicant, items: list[ServiceItem], bundle: str, window: bool, key: str,
            orgs: list[Applicant]) -> None:
    rng = sim.rng
    day = clock.localdate()
    needed = {m.doc_type for item in items for m in item.materials.all()
              if m.doc_type and (m.kind != "secondary" or rng.random() < 0.8)}
    _ensure_docs(who, needed, actor=sim.actor)
    form = _make_form(rng, items, who, day, orgs)
    intake = Intake(applicant_number=who.number, bundle_code=bundle, item_codes=[] if bundle else [items[0].code],
                    form=form, commitment=rng.random() < 0.3, accept_gaps=True,
                    address=f"深圳市南山区{who.place.name if who.place else ''}")
    if window:
        actor: Actor = sim.clerk_for(who.place.path if who.place else "")
    else:
        assert who.user is not None, "online applicants were chosen among those with a portal account"
        actor = who.user
    app = do_submit_application(intake, actor=actor, channel=Channel.WINDOW if window else Channel.ONLINE,
                                idempotency_key=key)
    for case in app.cases.select_related("item").order_by("id"):
        sim.accepted(case, who)
