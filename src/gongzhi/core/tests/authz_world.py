"""A small realistic world for the authorization matrix, built through the actions.

Two communities in two subdistricts of one district: A (平山社区, 桃源街道) and B (南头城社区,
南头街道). One user per role scoped to A (supervisors at A's subdistrict / district, as their
role requires); in each community a resident with a case (form fields holding a spouse's ID
number, a phone and a bank account), an organisation with a legal representative whose ID scan
is in their wallet, the documents, a council with a finished meeting and draft minutes, and a
second meeting of that council in session (in-person mode, nobody signed in yet) for the live
room's socket and the action operation. Every matrix user has an API token.

``Obj`` describes one object a URL can address: where it lies (its place path), the values of
the URL parameters that address it, and the relations (``accounts.permissions.Relation``) each
matrix user has to it. The test asks ``accounts.permissions.may`` what each user may do.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.enums import PUBLIC_ROLES, Role
from gongzhi.accounts.permissions import Relation
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

SYSTEM = TEST_SYSTEM
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANONYMOUS = "anonymous"
MATRIX_ROLES = [ANONYMOUS, *[str(r) for r in Role]]


def id_number(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def uscc(body17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + alphabet[(31 - total % 31) % 31]


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class Obj:
    kind: str
    side: str  # "A" (in the matrix users' scope) or "B" (outside it)
    label: str
    path: str
    params: dict[str, Any]
    relations: dict[str, set[str]] = field(default_factory=dict)  # matrix role → relations
    owner_kind: str | None = None  # person / org (documents)
    instance: Any = None
    published: bool = False  # meetings: minutes approved and public


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, list[Obj]]
    secrets: dict[str, str]  # full personal number → what it is
    own_numbers: dict[str, set[str]]  # matrix role → numbers that are that user's own
    markers: list[tuple[str, Obj, str]]  # (text only a reader of obj may see, obj, permission)
    ns: SimpleNamespace
    # matrix role → the secret of an API token of that role's user (issued through the accounts
    # actions). "anonymous" holds a *revoked* token of the administrator: it must get nothing more
    # than no token at all.
    tokens: dict[str, str] = field(default_factory=dict)


_seq = itertools.count(1)


def make_user(role: str | None, place: Any = None, department: Any = None, *, username: str | None = None) -> Any:
    """Same contract as ``src/conftest.make_user`` (usable outside a function-scoped fixture).

    Staff get ``is_staff`` as the demo loader gives them (they may open the admin site)."""
    from gongzhi.accounts.actions import do_assign_role, do_create_department, do_create_user

    n = next(_seq)
    user = do_create_user(username or f"mx_{role or 'user'}{n}", f"矩阵用户{n}", None, actor=SYSTEM, validate=False)
    if role is not None:
        if role == Role.DEPARTMENT_OFFICER and department is None:
            department = do_create_department(f"MXD{n}", f"矩阵部门{n}", place, actor=SYSTEM)
        do_assign_role(user, role, place, department, actor=SYSTEM)
        if role not in PUBLIC_ROLES:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.refresh_from_db()
    return user


def _tree() -> SimpleNamespace:
    from gongzhi.places.actions import do_create_place

    def mk(kind: str, code: str, name: str, parent: Any) -> Any:
        return do_create_place(kind, code, name, parent, actor=SYSTEM)

    city = mk("city", "M440300", "深圳市", None)
    nanshan = mk("district", "M440305", "南山区", city)
    taoyuan = mk("subdistrict", "M440305007", "桃源街道", nanshan)
    pingshan = mk("community", "M440305007001", "平山社区", taoyuan)
    nantou = mk("subdistrict", "M440305001", "南头街道", nanshan)
    nantoucheng = mk("community", "M440305001001", "南头城社区", nantou)
    return SimpleNamespace(city=city, nanshan=nanshan, taoyuan=taoyuan, pingshan=pingshan, nantou=nantou,
                           nantoucheng=nantoucheng, wenhua=pingshan)


FORM_SCHEMA = [
    {"name": "reason", "label": "申请事由", "type": "text", "required": True, "max_length": 50},
    {"name": "spouse_id", "label": "配偶身份证号码", "type": "text", "max_length": 18},
    {"name": "contact_phone", "label": "联系电话", "type": "phone"},
    {"name": "bank_account", "label": "收款银行账号", "type": "text", "max_length": 30},
]


def build_world() -> World:
    from datetime import timedelta

    from django.utils import timezone

    from gongzhi.accounts.actions import do_create_department, do_issue_api_token, do_revoke_api_token
    from gongzhi.councils import actions as council_actions
    from gongzhi.councils.tests.helpers import build_council, run_meeting
    from gongzhi.people.actions import (
        do_add_agent,
        do_add_document,
        do_link_user_to_person,
        do_register_organisation,
        do_register_person,
    )
    from gongzhi.places.actions import PlanDraft, do_draft_place_plan
    from gongzhi.services.actions import Intake, do_submit_application
    from gongzhi.services.models import ItemMaterial, ServiceItem

    t = _tree()
    dept_a = do_create_department("MX-MZ", "民政局", t.nanshan, actor=SYSTEM)
    dept_b = do_create_department("MX-RS", "人力资源和社会保障局", t.nanshan, actor=SYSTEM)
    secrets: dict[str, str] = {}
    users: dict[str, Any] = {}
    objects: dict[str, list[Obj]] = {}
    markers: list[tuple[str, Obj, str]] = []

    def add(obj: Obj) -> Obj:
        objects.setdefault(obj.kind, []).append(obj)
        return obj

    # --- councils: the member, moderator and secretary of A's meeting are the matrix users ------
    councils = {}
    for side, place in (("A", t.pingshan), ("B", t.nantoucheng)):
        ns = build_council(t, make_user, n=5, place=place, key=f"mx{side}")
        run_meeting(ns, ayes=2, noes=3)
        minutes = council_actions.do_generate_minutes(ns.meeting, actor=ns.chair_user)
        if side == "B":
            # B's minutes are approved (public to everyone); A's stay a draft (scoped).
            minutes = council_actions.do_approve_minutes(minutes, actor=ns.chair_user, as_role="chair")
            council_actions.do_approve_minutes(minutes, actor=ns.secretary, as_role="secretary")
        # A second meeting, in session, in-person (the chair or secretary may record for a member).
        ns.live = council_actions.do_schedule_meeting(
            ns.council, "第二次议事会", timezone.now() + timedelta(hours=1), actor=SYSTEM, moderator=ns.mod,
            secretary=ns.secretary, in_person=True, location="党群服务中心")
        council_actions.do_start_meeting(ns.live, actor=ns.chair_user)
        ns.live.refresh_from_db()
        councils[side] = ns
    users[Role.COUNCIL_MEMBER] = councils["A"].users[0]
    users[Role.COUNCIL_MODERATOR] = councils["A"].mod_user
    users[Role.COMMUNITY_WORKER] = councils["A"].secretary

    a = t.pingshan
    users[Role.WINDOW_CLERK] = make_user(Role.WINDOW_CLERK, a)
    users[Role.DEPARTMENT_OFFICER] = make_user(Role.DEPARTMENT_OFFICER, a, dept_a)
    users[Role.ASSET_MANAGER] = make_user(Role.ASSET_MANAGER, a)
    users[Role.COMMUNITY_SUPERVISOR] = make_user(Role.COMMUNITY_SUPERVISOR, a)
    users[Role.SUBDISTRICT_SUPERVISOR] = make_user(Role.SUBDISTRICT_SUPERVISOR, t.taoyuan)
    users[Role.DISTRICT_SUPERVISOR] = make_user(Role.DISTRICT_SUPERVISOR, t.nanshan)
    users[Role.AUDITOR] = make_user(Role.AUDITOR, a)
    users[Role.ADMINISTRATOR] = make_user(Role.ADMINISTRATOR, a)
    users[Role.ENTERPRISE_AGENT] = make_user(Role.ENTERPRISE_AGENT, a)

    # --- catalog: one item per side, led by a different department --------------------------------
    items = {}
    for side, dept in (("A", dept_a), ("B", dept_b)):
        item = ServiceItem.objects.create(
            code=f"MX-{side}-001", name=f"临时救助申请{side}", department=dept, promised_days=5, statutory_days=20,
            form_schema=FORM_SCHEMA, co_timeout_default=False,
        )
        ItemMaterial.objects.create(item=item, key="id_card", name="身份证件", doc_type="id_card", kind="mandatory")
        items[side] = item

    own_numbers: dict[str, set[str]] = {}
    sides = {"A": (t.pingshan, "44030519850101123", "13812340001", "44030519700303456", "13912340002",
                   "44030519880808771", "13712340003", "6222021234567890123", "9144030000000001A"),
             "B": (t.nantoucheng, "44030519860606234", "13812340011", "44030519710707567", "13912340012",
                   "44030519890909882", "13712340013", "6222021234567890456", "9144030000000002B")}
    for side, (place, body, phone, rep_body, rep_phone, spouse_body, form_phone, bank, org_body) in sides.items():
        number, rep_number, spouse = id_number(body), id_number(rep_body), id_number(spouse_body)
        secrets.update({number: f"ID of resident {side}", phone: f"phone of resident {side}",
                        rep_number: f"ID of legal representative {side}", rep_phone: f"phone of legal rep {side}",
                        spouse: f"form field spouse_id of case {side}", form_phone: f"form field phone of case {side}",
                        bank: f"form field bank_account of case {side}"})
        resident = make_user(None)
        person = do_register_person(number, f"赵{side}民", home_place=place, phone=phone,
                                    address=f"住址标记P{side}", actor=SYSTEM)
        do_link_user_to_person(resident, person, actor=SYSTEM)
        doc = do_add_document(person, "id_card", "居民身份证", _pdf("id.pdf"), actor=SYSTEM)
        rep = do_register_person(rep_number, f"钱{side}法", home_place=place, phone=rep_phone,
                                 address=f"住址标记L{side}", actor=SYSTEM)
        rep_doc = do_add_document(rep, "id_card", "法定代表人身份证扫描件", _pdf("rep-id.pdf"), actor=SYSTEM)
        org = do_register_organisation(uscc(org_body[:17]), f"平安物业{side}有限公司", "enterprise", place,
                                       legal_representative=rep, address=f"单位地址标记O{side}", actor=SYSTEM)
        agent = users[Role.ENTERPRISE_AGENT] if side == "A" else make_user(Role.ENTERPRISE_AGENT, place)
        do_add_agent(org, agent, actor=SYSTEM)
        org_doc = do_add_document(org, "business_license", "营业执照", _pdf("licence.pdf"), actor=SYSTEM)
        app = do_submit_application(
            Intake(applicant_number=number, item_codes=[items[side].code], documents={"id_card": doc.pk},
                   form={"reason": f"事由标记C{side}", "spouse_id": spouse, "contact_phone": form_phone,
                         "bank_account": bank},
                   address=f"办件地址标记C{side}"),
            actor=resident, channel="online", idempotency_key=f"mx-{side}",
        )
        case = app.cases.get()
        task = case.tasks.get(role="lead")
        token, _secret = do_issue_api_token(resident, f"对接系统{side}", actor=SYSTEM)
        if side == "A":
            users[Role.RESIDENT] = resident
            own_numbers[str(Role.RESIDENT)] = {number, phone}

        def rel(*, _side: str = side, **by_role: set[str]) -> dict[str, set[str]]:
            # Relations hold only on A's objects: B's belong to users outside the matrix.
            return {str(k): v for k, v in by_role.items()} if _side == "A" else {}

        officer_rel: set[str] = {Relation.DEPARTMENT_TASK}
        path = place.path
        person_obj = add(Obj("person", side, f"person {side} (resident)", path, {"person_id": person.pk, "_number": number},
                             rel(resident={Relation.SELF}), "person", person))
        rep_obj = add(Obj("person", side, f"person {side} (legal representative)", path, {"person_id": rep.pk, "_number": rep_number},
                          rel(enterprise_agent={Relation.REPRESENTED}), "person", rep))
        add(Obj("document", side, f"ID scan of resident {side}", path, {"document_id": doc.pk},
                rel(resident={Relation.SELF}), "person", doc))
        add(Obj("document", side, f"ID scan of legal representative {side}", path, {"document_id": rep_doc.pk},
                rel(enterprise_agent={Relation.REPRESENTED}), "person", rep_doc))
        add(Obj("document", side, f"business licence of org {side}", path, {"document_id": org_doc.pk},
                rel(enterprise_agent={Relation.AGENT}), "org", org_doc))
        org_obj = add(Obj("org", side, f"org {side}", path, {"org_id": org.pk, "_uscc": org.uscc},
                          rel(enterprise_agent={Relation.AGENT}), "org", org))
        case_obj = add(Obj("case", side, f"case {side}", path, {"number": case.number, "fmt": "json"},
                           rel(resident={Relation.APPLICANT, Relation.SUBMITTER}, department_officer=officer_rel),
                           "person", case))
        add(Obj("application", side, f"application {side}", path, {"number": app.number},
                rel(resident={Relation.APPLICANT, Relation.SUBMITTER}, department_officer=officer_rel),
                "person", app))
        add(Obj("task", side, f"lead task of case {side}", path, {"task_id": task.pk}, rel(department_officer=officer_rel),
                "person", task))
        ns = councils[side]
        meeting_rel = rel(council_member={Relation.MEMBER}, council_moderator={Relation.CHAIR},
                          community_worker={Relation.SECRETARY})
        # "_member": another member of the council, for whom the chair or secretary records.
        add(Obj("meeting", side, f"meeting {side}", path, {"meeting_id": ns.meeting.pk, "_member": ns.ids[1]},
                meeting_rel, None, ns.meeting, published=side == "B"))
        add(Obj("meeting", side, f"live meeting {side}", path, {"meeting_id": ns.live.pk, "_member": ns.ids[1]},
                meeting_rel, None, ns.live))
        add(Obj("place", side, f"community {side}", path, {"code": place.code}, {}, None, place))
        # A restructuring plan (a rename a month ahead) drafted by the system, awaiting approval.
        plan = do_draft_place_plan(PlanDraft("rename", [place.code], timezone.localdate() + timedelta(days=30),
                                             name=f"{place.name[:-2]}新社区"), actor=SYSTEM)
        add(Obj("plan", side, f"restructuring plan of community {side}", path, {"plan_id": plan.pk}, {}, None, plan))
        add(Obj("item", side, f"item {side}", path, {"code": items[side].code, "fmt": "json"}, {}, None, items[side]))
        add(Obj("token", side, f"API token of resident {side}", path, {"token_id": token.pk}, {}, None, token))
        add(Obj("user", side, f"user resident {side}", path, {"user_id": resident.pk}, {}, None, resident))
        # villages: a project with a progress photo; the village's published ranking and order
        from gongzhi.villages.tests.helpers import matrix_objects

        vg = matrix_objects(place, side)
        add(Obj("project", side, f"renovation project {side}", path,
                {"project_id": vg["project"].pk, "photo_id": vg["photo"].pk}, {}, None, vg["project"]))
        add(Obj("village", side, f"village {side}", path,
                {"village_id": vg["village"].pk, "round_id": vg["talent_round"].pk}, {}, None, vg["village"]))
        markers += [
            (f"事由标记C{side}", case_obj, "case.read"),
            (f"办件地址标记C{side}", case_obj, "case.read"),
            (f"住址标记P{side}", person_obj, "person.read"),
            (f"住址标记L{side}", rep_obj, "person.read"),
            (f"单位地址标记O{side}", org_obj, "org.read"),
        ]
    markers += _assets_world(t, add, secrets)
    tokens = {str(role): do_issue_api_token(user, "矩阵对接令牌", actor=SYSTEM)[1] for role, user in users.items()}
    revoked, tokens[ANONYMOUS] = do_issue_api_token(users[Role.ADMINISTRATOR], "已吊销的令牌", actor=SYSTEM)
    do_revoke_api_token(revoked, actor=SYSTEM)
    return World(users={str(k): v for k, v in users.items()}, objects=objects, secrets=secrets,
                 own_numbers=own_numbers, markers=markers,
                 ns=SimpleNamespace(tree=t, councils=councils, items=items, dept_a=dept_a, dept_b=dept_b),
                 tokens=tokens)


def _assets_world(t: SimpleNamespace, add: Any, secrets: dict[str, str]) -> list[tuple[str, Obj, str]]:
    """Collective assets (issue 13): per side a company with a building and a unit, a lease to a
    person (their ID number a secret), a refused off-platform lease (an open alert) and a deal —
    A's still in its notice period, B's finished with a public result notice."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from gongzhi.assets import actions as assets

    markers: list[tuple[str, Obj, str]] = []
    sides = {"A": (t.pingshan, "N2440305MA5F0000", "44030519750505321", "44030519760606432"),
             "B": (t.nantoucheng, "N2440305MA5F0009", "44030519770707543", "44030519780808654")}
    for side, (place, body, tenant_body, bidder_body) in sides.items():
        tenant, bidder = id_number(tenant_body), id_number(bidder_body)
        secrets.update({tenant: f"ID of lease counterparty {side}", bidder: f"ID of bidder {side}"})
        company = assets.do_register_company(uscc(body + "1"), f"矩阵股份合作公司{side}", place, actor=SYSTEM)
        building = assets.do_register_asset(company, "building", f"MX{side}-B", "矩阵楼栋", "industrial", "9000",
                                            actor=SYSTEM)
        unit = assets.do_register_asset(company, "unit", f"MX{side}-U", "矩阵单元", "industrial", "500",
                                        actor=SYSTEM, parent=building)
        assets.do_register_lease(company, unit, counterparty_kind="person", counterparty_number=tenant,
                                 counterparty_name=f"承租方标记L{side}", area="100", monthly_rent="3000",
                                 signed_on=date(2026, 1, 1), starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31),
                                 contract_no=f"MX{side}-1", actor=SYSTEM)
        try:
            assets.do_register_lease(company, building, counterparty_kind="person", counterparty_number=tenant,
                                     counterparty_name=f"承租方标记L{side}", area="5000", monthly_rent="50000",
                                     signed_on=date(2026, 2, 1), starts_on=date(2026, 2, 1),
                                     ends_on=date(2027, 12, 31), contract_no=f"MX{side}-2", actor=SYSTEM)
        except assets.MustTradeOnPlatform:
            pass  # refused and recorded: the alert below
        alert = company.alerts.get()
        deal = assets.do_open_deal(company, building, f"矩阵楼栋招租{side}", "5000", 36, decision_ref="股东大会决议",
                                   decided_on=date(2026, 3, 2), actor=SYSTEM)
        appraisal = assets.do_record_appraisal(building, date(2026, 3, 3), "100000", "评估公司", actor=SYSTEM)
        assets.do_attach_appraisal(deal, appraisal, actor=SYSTEM)
        assets.do_set_reserve(deal, "100000", "10000", actor=SYSTEM)
        assets.do_list_deal(deal, date(2026, 3, 9), actor=SYSTEM)
        reg = assets.do_register_bidder(deal, counterparty_kind="person", counterparty_number=bidder,
                                        counterparty_name=f"竞买人{side}", deposit_paid="10000", actor=SYSTEM,
                                        at=datetime(2026, 3, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
        assets.do_place_bid(deal, reg, "100000", idempotency_key=f"mx-{side}", actor=SYSTEM,
                            at=datetime(2026, 3, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
        if side == "B":
            assets.do_award_deal(deal, actor=SYSTEM, today=date(2026, 3, 20))
            assets.do_publish_result(deal, actor=SYSTEM)
        path = place.path
        company_obj = add(Obj("company", side, f"company {side}", path, {"company_id": company.pk}, {}, None, company))
        add(Obj("deal", side, f"deal {side}", path, {"deal_id": deal.pk}, {}, None, deal))
        add(Obj("alert", side, f"alert {side}", path, {"alert_id": alert.pk}, {}, None, alert))
        markers.append((f"承租方标记L{side}", company_obj, "asset.read"))
    return markers

