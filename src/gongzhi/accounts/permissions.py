"""Which role may do what to which kind of object — declared once (DESIGN.md §3, issue #10).

Three tables, read by the queries, the views, the API, the sockets and the authorization-matrix
test (``core/tests/test_authorization_matrix.py``), so a page and an endpoint cannot disagree:

* ``PERMISSIONS`` — a named permission → the roles that hold it *over a place* (their
  jurisdiction). ``has_permission(user, perm, path)`` is true when the user holds one of those
  roles over a place whose path covers ``path`` (superusers: always).
* ``RELATIONS`` — a relation a user has to one object (the applicant of a case, the person
  themself, an agent of an organisation, a member of a council…) → the permissions that relation
  gives on that object alone, wherever it lies. Public users act only through relations.
* ``ROUTES`` — every URL name and API operation id → the permission it needs, whether it is
  public, login-only, role-gated or scoped to the place of the object in its path, and whether
  it writes. The matrix test fails on any URL that has no entry here.

Minimum necessary (PIPL Art. 6): council members and moderators run meetings, asset managers
run collective companies; none of them needs case files or the resident register, so no
``case.*`` or ``person.*`` permission names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gongzhi.accounts.enums import (
    COUNTER_ROLES,
    ORG_READ_ROLES,
    ORG_WRITE_ROLES,
    PERSON_READ_ROLES,
    PERSON_WRITE_ROLES,
    PUBLIC_ROLES,
    SUPERVISOR_ROLES,
    Role,
)

R = Role
# Every role held over a place on the staff side (the public roles act for themselves).
STAFF_ROLES = frozenset(set(Role) - PUBLIC_ROLES)

# The Django permission that, on top of a ``*.reveal`` permission, lets staff see a full number
# (each reveal is audited: people.actions.do_reveal_number).
REVEAL_DJANGO_PERMISSION = "accounts.reveal_personal_number"


def may_reveal_numbers(user: Any) -> bool:
    """May ``user`` see full personal numbers other than their own (with a reason, audited)?

    The one rule for the register, the case forms, the pages and the API: the Django
    permission, held by a few named officers (each reveal is an audit event)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(REVEAL_DJANGO_PERMISSION))

# Roles that work on cases of their jurisdiction: they take them in, process them, check them.
_CASE_WORK_ROLES = frozenset(
    {
        R.WINDOW_CLERK,  # takes applications in at the window and hands results out
        R.DEPARTMENT_OFFICER,  # decides them (also cases routed to their department from elsewhere)
        R.COMMUNITY_WORKER,  # helps residents of the community with their applications
    }
)
_CHECKING_ROLES = SUPERVISOR_ROLES | {R.AUDITOR}  # they check the work, they do not do it

PERMISSIONS: Mapping[str, frozenset[Role]] = {
    # --- case files (办件): applicant, form answers, materials, receipts -----------------------
    # Case handlers, the supervisors and auditors who check them, and administrators. Council
    # members/moderators and asset managers are out: a meeting or a company needs no case file.
    "case.read": _CASE_WORK_ROLES | _CHECKING_ROLES | {R.ADMINISTRATOR},
    # Full personal numbers inside a case (applicant, form fields): only those who act on the
    # case, and only with REVEAL_DJANGO_PERMISSION (audited). Supervisors and auditors check
    # timeliness and outcomes: masked numbers are enough for that.
    "case.reveal": frozenset({R.WINDOW_CLERK, R.DEPARTMENT_OFFICER}),
    # 一窗办: the window desk takes applications in (intake, refusal notices).
    "window.serve": frozenset({R.WINDOW_CLERK}),
    # 统一出件 at the window: the clerk of the case's jurisdiction hands the result out.
    "window.deliver": frozenset({R.WINDOW_CLERK}),
    # 送达: the lead department's officer or the window of the case's jurisdiction (services.policy).
    "case.deliver": frozenset({R.WINDOW_CLERK, R.DEPARTMENT_OFFICER}),
    # Back-office steps on a task (claim, decide, ask for a supplement): the department's officers.
    "task.work": frozenset({R.DEPARTMENT_OFFICER}),
    # 一网办: the online hall is for applicants (residents for themselves, agents for their firm).
    "portal.apply": PUBLIC_ROLES,
    # Submitting an application for someone else: the counters, for whoever walks in (一窗办: the
    # window serves applicants from anywhere). The public submit for themselves or their firm
    # (RELATIONS), never in another person's name (services.policy.may_apply_for).
    "case.submit": COUNTER_ROLES,
    # The online hall's "my case" pages, answering a supplement request and reviewing a case
    # are the applicant's alone (RELATIONS): staff read a case through their own pages.
    "case.own": frozenset(),
    "case.supplement": frozenset(),
    "case.review": frozenset(),
    # --- the register (一号办) ----------------------------------------------------------------
    # accounts.enums.PERSON_READ_ROLES: staff who serve or check residents of their jurisdiction.
    "person.read": PERSON_READ_ROLES,
    # Supervisors and auditors only read: they check the work, they do not do it.
    "person.write": PERSON_WRITE_ROLES,
    # Seeing a full number also needs REVEAL_DJANGO_PERMISSION and leaves an audit event.
    "person.reveal": PERSON_READ_ROLES,
    # The counters find any applicant by the full number the applicant hands over
    # (people.queries.find_person_by_number): a window serves whoever walks in.
    "person.lookup_by_number": COUNTER_ROLES,
    # The same for a firm by its USCC (people.queries.find_organisation_by_uscc).
    "org.lookup_by_uscc": COUNTER_ROLES,
    # Documents (证照) are read with their owner: a person's with person.read, a firm's with org.read.
    "document.read": PERSON_READ_ROLES,
    # Organisations are public registration data; asset managers look after collective companies.
    "org.read": ORG_READ_ROLES,
    "org.write": ORG_WRITE_ROLES,
    # A firm's own documents (licence, lease) are registration papers, read with the firm. A
    # legal representative's ID scan is the *person's* document: document.read.
    "org.documents": ORG_READ_ROLES,
    # --- councils (居民议事会) ------------------------------------------------------------------
    # Meetings are open sessions of the community: every staff role of the place may follow one
    # (councils.queries.STAFF_READ_ROLES); the roster holds names and roles, no numbers.
    "meeting.read": STAFF_ROLES,
    # Acting in a meeting (arrive, move, vote) is for its members only (a relation, not a role).
    "meeting.attend": frozenset(),
    # Running the room is for the presiding moderator and the secretary of that meeting only
    # (councils.consumers.runs_meeting) — a relation, never a place-wide role.
    "meeting.moderate": frozenset(),
    # Draft minutes: whoever may follow the meeting (councils.queries.access_minutes); approved
    # minutes are public.
    "minutes.read_draft": STAFF_ROLES,
    # Council, member and moderator registers are kept by community workers and administrators.
    "council.manage": frozenset({R.COMMUNITY_WORKER, R.ADMINISTRATOR}),
    # --- collective assets (集体资产监管, issue 13) ---------------------------------------------
    # The register, leases, deals and alerts of the companies under the user's places: the
    # companies' managers, the supervisors and auditors who check them, administrators.
    "asset.read": frozenset({R.ASSET_MANAGER}) | _CHECKING_ROLES | {R.ADMINISTRATOR},
    # Registering companies, assets, leases and running a deal: the companies' managers (and
    # administrators). Supervisors check; they do not trade.
    "asset.write": frozenset({R.ASSET_MANAGER, R.ADMINISTRATOR}),
    # The district's trading rule and area benchmarks, recomputing alerts: supervisors, admins.
    "asset.supervise": SUPERVISOR_ROLES | {R.ADMINISTRATOR},
    # A counterparty's full ID number: the company's managers and administrators, with
    # REVEAL_DJANGO_PERMISSION, each reveal audited (assets.actions.do_reveal_counterparty_number).
    "asset.reveal": frozenset({R.ASSET_MANAGER, R.ADMINISTRATOR}),
    # An alert is closed with a note by its owner's side (the company) or by a supervisor.
    "alert.close": frozenset({R.ASSET_MANAGER, R.ADMINISTRATOR}) | SUPERVISOR_ROLES,
    # --- livelihood micro-projects (民生微实事) --------------------------------------------------
    # The community office screens proposals, puts them to the council, funds the year's list
    # and records delivery and acceptance. Proposals, outcomes and spending are public pages.
    "microproject.manage": frozenset({R.COMMUNITY_WORKER, R.ADMINISTRATOR}),
    # --- urban villages (城中村) -----------------------------------------------------------------
    # The renovation portfolio (projects, plans, progress) is public-works data: every staff role.
    "village.read": STAFF_ROLES,
    # Projects, plans and weekly progress: the community workers and department officers who run
    # them, and administrators.
    "village.manage": frozenset({R.COMMUNITY_WORKER, R.DEPARTMENT_OFFICER, R.ADMINISTRATOR}),
    # Talent apartments and resettlement (applicants and households are residents).
    "housing.manage": frozenset({R.COMMUNITY_WORKER, R.ADMINISTRATOR}),
    # Access credentials, consents and deny-list entries are kept by the community workers ...
    "access.manage": frozenset({R.COMMUNITY_WORKER, R.ADMINISTRATOR}),
    # ... each entry is approved (and a contest decided) by a supervisor of the place ...
    "access.approve": SUPERVISOR_ROLES,
    # ... and the person at the gate who confirms a refusal is a community worker on duty.
    "access.gate": frozenset({R.COMMUNITY_WORKER}),
    # Property management of a renovated village: buildings, repairs, fees.
    "property.manage": frozenset({R.COMMUNITY_WORKER, R.ADMINISTRATOR}),
    # --- oversight (阳光办) ---------------------------------------------------------------------
    # The 5×100% figures are aggregates; the on-time rates are even published.
    "figures.read": STAFF_ROLES,
    # The accountability trace names officers and overdue cases: supervisors, auditors, admins.
    "accountability.read": _CHECKING_ROLES | {R.ADMINISTRATOR},
    # 一次办: the counter that served an applicant records their visit (the published visit
    # count must not be raised by anyone else: services.actions.do_record_visit).
    "visit.record": COUNTER_ROLES,
    # 好差评: the department's officers rectify bad reviews and may appeal them ...
    "review.rectify": frozenset({R.DEPARTMENT_OFFICER}),
    # ... and the supervisors of the case's place decide the appeals.
    "appeal.decide": SUPERVISOR_ROLES,
    # The audit chain holds before/after snapshots (masked): auditors and administrators.
    "audit.read": frozenset({R.AUDITOR, R.ADMINISTRATOR}),
    # --- configuration --------------------------------------------------------------------------
    # Users, roles and API tokens of the administrator's own jurisdiction.
    "accounts.manage": frozenset({R.ADMINISTRATOR}),
    # The service catalog (事项清单) of the departments an administrator's places cover.
    "catalog.edit": frozenset({R.ADMINISTRATOR}),
    # The administrative tree (split, merge, rename) — administrators only.
    "places.edit": frozenset({R.ADMINISTRATOR}),
    # Community restructuring plans (split / merge / rename on an effective date): drafted,
    # edited and withdrawn by subdistrict and district supervisors and administrators ...
    "places.plan": frozenset({R.SUBDISTRICT_SUPERVISOR, R.DISTRICT_SUPERVISOR, R.ADMINISTRATOR}),
    # ... and approved (or applied once due) only by a district supervisor of the district.
    "places.approve_plan": frozenset({R.DISTRICT_SUPERVISOR}),
}

# Permissions that, besides the role, need REVEAL_DJANGO_PERMISSION (and are audited when used).
REVEAL_PERMISSIONS = frozenset({"case.reveal", "person.reveal", "asset.reveal"})


class Relation(StrEnum):
    """How a user is tied to one object, independent of any place."""

    SELF = "self"  # the person record is the user's own
    APPLICANT = "applicant"  # the user applied (for themself, or as an agent for their firm)
    SUBMITTER = "submitter"  # the user submitted the application (a window clerk's own intake)
    AGENT = "agent"  # the user acts for the organisation (企业经办人)
    REPRESENTED = "represented"  # the person is the legal representative of a firm the user acts for
    DEPARTMENT_TASK = "department_task"  # the user's department holds a task on the case
    MEMBER = "member"  # a member of the meeting's council
    CHAIR = "chair"  # the meeting's presiding moderator
    SECRETARY = "secretary"  # the meeting's secretary (记录员)


RELATIONS: Mapping[Relation, frozenset[str]] = {
    # Own record and wallet; one's own full number after an audited reveal.
    Relation.SELF: frozenset({"person.read", "person.write", "person.reveal", "document.read", "portal.apply",
                              "case.submit"}),
    # An applicant follows their own case, answers supplement requests and reviews it (好差评).
    # They may also see in full the numbers they typed into their own form (audited).
    Relation.APPLICANT: frozenset({"case.read", "case.own", "case.supplement", "case.review", "case.reveal"}),
    # Whoever took an application in may print its receipt (the applicant may live elsewhere).
    Relation.SUBMITTER: frozenset({"case.read"}),
    # An agent manages the firm and its wallet and applies for it.
    Relation.AGENT: frozenset({"org.read", "org.write", "org.documents", "portal.apply", "case.submit"}),
    # An agent sees who the legal representative is (name, masked numbers) — not their wallet
    # (their ID scan) and not their full numbers.
    Relation.REPRESENTED: frozenset({"person.read"}),
    # 前台受理 后台协办: the back office works on cases from anywhere in the district.
    Relation.DEPARTMENT_TASK: frozenset({"case.read", "task.work", "case.deliver"}),
    Relation.MEMBER: frozenset({"meeting.read", "meeting.attend", "minutes.read_draft"}),
    Relation.CHAIR: frozenset({"meeting.read", "meeting.attend", "meeting.moderate", "minutes.read_draft"}),
    Relation.SECRETARY: frozenset({"meeting.read", "meeting.moderate", "minutes.read_draft"}),
}


class Access(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    LOGIN = "login"  # any signed-in user; the page lists only what the user may see
    ROLE = "role"  # the permission over any place (a desk or board of the role)
    OBJECT = "object"  # the permission over the place of the object in the path, or a relation to it
    OWN = "own"  # only through a relation to the object in the path (the applicant's own case)
    STAFF_SITE = "staff_site"  # Django admin: is_staff; model pages also need Django model permissions


@dataclass(frozen=True)
class RouteRule:
    access: Access
    perm: str | None = None
    # Kind of object the path addresses (its place decides OBJECT access): case, application,
    # task, person, document, org, place, item, meeting, token, user.
    obj: str | None = None
    write: bool = False  # changes stored state (the matrix sends it, inside a rolled-back savepoint)
    methods: tuple[str, ...] = ("GET",)
    # STAFF_SITE only: the page is a model page of the admin (Django model permissions decide).
    model_page: bool = False
    # Meeting minutes: once approved and published they are open to everyone (居民议事 is open
    # government); until then the rule's permission applies.
    public_when_published: bool = False
    # Does an API bearer token stand in for the session here, under this same rule? None: as the
    # route's kind — API operations yes (``accounts.auth.TokenAuth``: a token never gets more
    # than its user's session), pages and sockets no (they read the session cookie only, so a
    # request that brings just a token is anonymous there). Filled in below for every route.
    token: bool | None = None


def _r(access: Access, perm: str | None = None, obj: str | None = None, *, write: bool = False,
       methods: tuple[str, ...] = ("GET",)) -> RouteRule:
    if write and methods == ("GET",):
        methods = ("POST",)
    return RouteRule(access, perm, obj, write, methods)


P, L, RO, OB, OW = Access.PUBLIC, Access.LOGIN, Access.ROLE, Access.OBJECT, Access.OWN
_ADMIN_SITE = RouteRule(Access.STAFF_SITE)
_ADMIN_MODEL = RouteRule(Access.STAFF_SITE, model_page=True)
_ADMIN_ACCOUNTS = RouteRule(Access.STAFF_SITE, "accounts.manage", model_page=True)
_MINUTES = RouteRule(OB, "minutes.read_draft", "meeting", public_when_published=True)

# Every page (URL name) and API operation (OpenAPI operationId). "admin:*" covers the model
# pages Django's admin generates for each registered model (guarded by model permissions).
ROUTES: Mapping[str, RouteRule] = {
    # core: the public shell
    "core:index": _r(P),
    "core:large_text": RouteRule(P, methods=("POST",)),  # a cookie, nothing stored
    "core:identifier_check": _r(P),
    "core:deadline": _r(P),
    "set_language": RouteRule(P, methods=("POST",)),
    # accounts
    "accounts:login": _r(P),
    "accounts:logout": RouteRule(L, methods=("POST",)),
    "accounts:home": _r(L),
    # the second step of a login (the session holds the half-done login, nothing else)
    "accounts:login_verify": RouteRule(P, methods=("GET", "POST")),
    "accounts:two_factor": _r(L),  # bind one's own authenticator
    "accounts:password_change": _r(L),  # one's own password
    # reset by a one-time code to the phone on record: same answer whether the account exists
    "accounts:password_reset": _r(P),
    "accounts:password_reset_confirm": _r(P),
    # people
    "people:profile": _r(L),  # the user's own record only
    # Self-registration (issue 11): anyone not logged in; answers never tell whether a number is on file.
    "people:signup": _r(P),
    "people:signup_confirm": _r(P),
    # 实名核验 at the window: a clerk confirms a self-registered account (audited).
    "people:verify_account": _r(RO, "window.serve", write=True),
    "people:wallet": _r(L),  # the user's own wallet only
    "people:person_detail": _r(OB, "person.read", "person"),
    "people:reveal": _r(OB, "person.reveal", "person", write=True),  # audited
    "people:document_download": _r(OB, "document.read", "document"),
    # places: the administrative tree is public data
    "places:tree": _r(P),
    "places:detail": _r(P, obj="place"),
    "places:merge": RouteRule(RO, "places.edit", methods=("GET", "POST"), write=True),
    "places:abolish": RouteRule(OB, "places.edit", "place", True, ("GET", "POST")),
    # community restructuring plans (issue 15): the supervisors' console
    "places:plans": _r(RO, "places.plan"),  # lists only the plans of the user's jurisdiction
    "places:plan_new": RouteRule(RO, "places.plan", methods=("GET", "POST"), write=True),
    "places:plan_detail": _r(OB, "places.plan", "plan"),
    "places:plan_edit": RouteRule(OB, "places.plan", "plan", True, ("GET", "POST")),
    "places:plan_cancel": _r(OB, "places.plan", "plan", write=True),
    "places:plan_approve": _r(OB, "places.approve_plan", "plan", write=True),
    "places:plan_apply": _r(OB, "places.approve_plan", "plan", write=True),
    # services: window desk
    "services:window": RouteRule(RO, "window.serve", methods=("GET", "POST")),  # POST: lookup → intake
    "services:window_pickup": _r(OB, "window.deliver", "case", write=True),
    "services:window_visit": _r(OB, "visit.record", "case", write=True),
    "services:case_reveal": _r(OB, "case.reveal", "case", write=True),  # audited, with a reason
    "services:notice_pdf": RouteRule(RO, "window.serve", methods=("POST",)),  # rebuilt from a signed token
    "services:application": _r(OB, "case.read", "application"),
    "services:receipt_pdf": _r(OB, "case.read", "application"),
    # services: online hall (applicants only)
    "services:online": _r(RO, "portal.apply"),
    "services:online_apply": _r(RO, "portal.apply"),
    "services:my_cases": _r(RO, "portal.apply"),
    "services:my_case": _r(OW, "case.own", "case"),
    "services:my_case_supplement": _r(OW, "case.supplement", "case", write=True),
    "services:my_case_review": _r(OW, "case.review", "case", write=True),
    # a material promised under 容缺, handed in by the applicant (the supplement permission)
    "services:my_case_hand_in": _r(OW, "case.supplement", "case", write=True),
    # services: back office
    "services:tasks": _r(RO, "task.work"),
    "services:task": _r(OB, "task.work", "task"),
    "services:task_claim": _r(OB, "task.work", "task", write=True),
    "services:task_decide": _r(OB, "task.work", "task", write=True),
    "services:task_supplement": _r(OB, "task.work", "task", write=True),
    "services:task_deliver": _r(OB, "task.work", "task", write=True),
    # services: 阳光办
    "services:board": _r(RO, "accountability.read"),
    "services:board_cases": _r(RO, "accountability.read"),  # scoped by cases_for_user
    # The export writes only its audit event; the matrix sends it as a read (GET, no state).
    "services:board_export": _r(RO, "accountability.read"),
    # 好差评: the department's rectifications and appeals, the supervisors' decisions
    "services:reviews": _r(RO, "review.rectify"),
    "services:review_appeal": _r(RO, "review.rectify", write=True),
    "services:rectification_complete": _r(RO, "review.rectify", write=True),
    "services:appeals": _r(RO, "appeal.decide"),
    "services:appeal_decide": _r(RO, "appeal.decide", write=True),
    "services:track": _r(P),  # number + last four of the applicant's number, rate-limited
    "services:ontime": _r(P),
    # the public catalogue (事项清单) and its guide pages (办事指南): published information
    "services:catalog": _r(P),
    "services:guide": _r(P, obj="item"),
    "services:bundle_guide": _r(P),
    # Open311 GeoReport v2: public fields only (no name, number or address)
    "open311-services": _r(P),
    "open311-service": _r(P, obj="item"),
    "open311-requests": _r(P),
    "open311-request": _r(P, obj="case"),
    # councils
    "councils:meeting_list": _r(L),  # lists only meetings the user may follow
    "councils:meeting_room": _r(OB, "meeting.read", "meeting"),
    "councils:moderator_console": _r(OW, "meeting.moderate", "meeting"),
    "councils:projector": _r(OB, "meeting.read", "meeting"),
    "councils:minutes_detail": _MINUTES,
    "councils:minutes_pdf": _MINUTES,
    "councils:minutes_docx": _MINUTES,
    "councils:public_minutes": _r(P, obj="meeting"),  # approved minutes only; drafts 404
    "councils:minutes_index": _r(P),  # the list of published minutes: public
    # the live meeting room's socket (councils.routing, councils.consumers): opening it (and
    # every state frame) needs what following the meeting needs; a bearer token opens nothing
    # (the socket reads the session cookie only).
    "ws:meeting": RouteRule(OB, "meeting.read", "meeting", token=False),
    # an action frame for oneself (arrive, move, vote): the members and the chair
    "ws:meeting.act": RouteRule(OW, "meeting.attend", "meeting", True, ("WS",), token=False),
    # an action frame recorded for a member in the room (``on_behalf_of``, in-person mode): the
    # chair and the secretary (councils.actions.do_apply_meeting_action, runs_meeting)
    "ws:meeting.record": RouteRule(OW, "meeting.moderate", "meeting", True, ("WS",), token=False),
    # API shell
    "api-v1:openapi-json": _r(P),
    "api-v1:openapi-view": _r(P),
    "api-v1:api-root": _r(P),
    # API: core and places (public)
    "gongzhi_core_api_health": _r(P),
    "gongzhi_core_api_identifiers_check": _r(P),
    "gongzhi_core_api_calendar_deadline": _r(P),
    "gongzhi_places_api_list_places": _r(P),
    "gongzhi_places_api_place_detail": _r(P, obj="place"),
    "gongzhi_places_api_place_lineage": _r(P, obj="place"),
    "gongzhi_places_api_merge_places": _r(RO, "places.edit", write=True),
    "gongzhi_places_api_abolish_place": _r(OB, "places.edit", "place", write=True),
    "gongzhi_places_api_list_plans": _r(RO, "places.plan"),
    "gongzhi_places_api_draft_plan": _r(RO, "places.plan", write=True),
    "gongzhi_places_api_get_plan": _r(OB, "places.plan", "plan"),
    "gongzhi_places_api_approve_plan": _r(OB, "places.approve_plan", "plan", write=True),
    "gongzhi_places_api_cancel_plan": _r(OB, "places.plan", "plan", write=True),
    # API: accounts
    "gongzhi_accounts_api_me": _r(L),
    "gongzhi_accounts_api_list_tokens": _r(RO, "accounts.manage"),
    "gongzhi_accounts_api_issue_token": _r(OB, "accounts.manage", "user", write=True),
    "gongzhi_accounts_api_revoke_token": RouteRule(OB, "accounts.manage", "token", True, ("DELETE",)),
    # API: people
    "gongzhi_people_api_list_persons": _r(L),  # scoped list; by full number for the counters
    "gongzhi_people_api_register_person": _r(OB, "person.write", "place", write=True),
    "gongzhi_people_api_get_person": _r(OB, "person.read", "person"),
    # whoever may see the person gets the list, holding only the papers they may read
    # (people.policy.document_q: an agent sees the representative, not his ID scan)
    "gongzhi_people_api_person_documents": _r(OB, "person.read", "person"),
    "gongzhi_people_api_list_organisations": _r(L),
    "gongzhi_people_api_get_organisation": _r(OB, "org.read", "org"),
    "gongzhi_people_api_organisation_documents": _r(OB, "org.documents", "org"),
    # API: services
    "gongzhi_services_api_list_catalog": _r(P),
    "gongzhi_services_api_get_catalog_item": _r(P, obj="item"),
    "gongzhi_services_api_search_catalog": _r(P),
    "gongzhi_services_api_list_bundles": _r(P),
    # for oneself or one's firm (RELATIONS), or at a counter for whoever walks in (一窗办)
    "gongzhi_services_api_submit_application": _r(RO, "case.submit", "person", write=True),
    "gongzhi_services_api_list_cases": _r(L),  # scoped list
    # one application by either number: the cases the reader may see (the page's one read rule)
    "gongzhi_services_api_get_application": _r(OB, "case.read", "application"),
    "gongzhi_services_api_get_case": _r(OB, "case.read", "case"),
    "gongzhi_services_api_fulfil_supplement": _r(OW, "case.supplement", "case", write=True),
    # a material promised under 容缺, handed in (the supplement permission, as on the case page)
    "gongzhi_services_api_hand_in_owed_material": _r(OW, "case.supplement", "case", write=True),
    "gongzhi_services_api_review_case": _r(OW, "case.review", "case", write=True),
    "gongzhi_services_api_deliver_result": _r(OB, "case.deliver", "case", write=True),
    "gongzhi_services_api_list_tasks": _r(L),  # the caller's department's tasks
    "gongzhi_services_api_claim_task": _r(OB, "task.work", "task", write=True),
    "gongzhi_services_api_decide_task": _r(OB, "task.work", "task", write=True),
    "gongzhi_services_api_request_supplement": _r(OB, "task.work", "task", write=True),
    "gongzhi_services_api_track": _r(P),
    "gongzhi_services_api_reveal_form_value": _r(OB, "case.reveal", "case", write=True),
    "gongzhi_services_api_record_visit": _r(OB, "visit.record", "case", write=True),
    "gongzhi_services_api_list_rectifications": _r(L),  # the caller's departments' only (empty for others)
    "gongzhi_services_api_complete_rectification": _r(RO, "review.rectify", write=True),
    "gongzhi_services_api_file_appeal": _r(RO, "review.rectify", write=True),
    "gongzhi_services_api_list_appeals": _r(L),  # appeals in the caller's supervisor jurisdiction only
    "gongzhi_services_api_decide_appeal": _r(RO, "appeal.decide", write=True),
    "gongzhi_services_api_figures": _r(L),  # aggregates of the caller's jurisdiction
    "gongzhi_services_api_board": _r(RO, "accountability.read"),  # as the board page
    "gongzhi_services_api_board_cases": _r(RO, "accountability.read"),  # scoped by cases_for_user
    # API: councils
    "gongzhi_councils_api_list_councils": _r(L),
    "gongzhi_councils_api_list_meetings": _r(L),
    "gongzhi_councils_api_meeting_state": _r(OB, "meeting.read", "meeting"),
    "gongzhi_councils_api_meeting_action": _r(OW, "meeting.attend", "meeting", write=True),
    # <operation>.<variant>: the same operation with a body that needs another rule — here an
    # action recorded for a member in the room (``on_behalf_of``): the chair and the secretary.
    "gongzhi_councils_api_meeting_action.record": _r(OW, "meeting.moderate", "meeting", write=True),
    "gongzhi_councils_api_meeting_events": _r(OB, "meeting.read", "meeting"),
    # why a greyed-out button of the caller's is not live (councils.room.why_not): a read
    "gongzhi_councils_api_meeting_why_not": _r(OB, "meeting.read", "meeting"),
    "gongzhi_councils_api_meeting_minutes": _MINUTES,
    "gongzhi_councils_api_meeting_minutes_pdf": _MINUTES,
    "gongzhi_councils_api_meeting_minutes_docx": _MINUTES,
    "gongzhi_councils_api_list_public_minutes": _r(P),
    # assets (集体资产监管): the console is scoped by the user's places; listings and result
    # notices of the platform's deals are public (阳光交易), with counterparties' numbers masked.
    "assets:console": _r(RO, "asset.read"),
    "assets:company": _r(OB, "asset.read", "company"),
    "assets:lease_new": RouteRule(OB, "asset.write", "company", True, ("GET", "POST")),
    "assets:deal_new": RouteRule(OB, "asset.write", "company", True, ("GET", "POST")),
    "assets:lease_reveal": _r(OB, "asset.reveal", "company", write=True),  # audited, with a reason
    "assets:deal": _r(OB, "asset.read", "deal"),
    "assets:deal_step": _r(OB, "asset.write", "deal", write=True),
    "assets:alerts": _r(RO, "asset.read"),
    "assets:alert_close": _r(OB, "alert.close", "alert", write=True),
    # Feeds from other systems: supervisors import and read the runs (district-wide systems).
    "assets:feeds": RouteRule(RO, "asset.supervise", None, True, ("GET", "POST")),
    "assets:feed_run": _r(RO, "asset.supervise"),
    "assets:public_deals": _r(P),
    "assets:public_deal": _r(P, obj="deal"),
    # API: assets
    "gongzhi_assets_api_list_companies": _r(L),  # scoped list
    "gongzhi_assets_api_get_company": _r(OB, "asset.read", "company"),
    "gongzhi_assets_api_register_lease": _r(OB, "asset.write", "company", write=True),
    "gongzhi_assets_api_list_leases": _r(L),  # scoped list
    "gongzhi_assets_api_list_deals": _r(L),  # scoped list
    "gongzhi_assets_api_get_deal": _r(OB, "asset.read", "deal"),
    "gongzhi_assets_api_place_bid": _r(OB, "asset.write", "deal", write=True),
    "gongzhi_assets_api_list_alerts": _r(L),  # scoped list
    "gongzhi_assets_api_close_alert": _r(OB, "alert.close", "alert", write=True),
    "gongzhi_assets_api_recompute_alerts": _r(RO, "asset.supervise", write=True),
    # aggregates of the caller's jurisdiction compared with the district (no counterparty data)
    "gongzhi_assets_api_rent_trend": _r(L),
    "gongzhi_assets_api_list_feed_runs": _r(L),  # supervisors only; others get an empty list
    "gongzhi_assets_api_get_feed_run": _r(RO, "asset.supervise"),
    "gongzhi_assets_api_import_feed": _r(RO, "asset.supervise", write=True),
    "gongzhi_assets_api_pull_feed": _r(RO, "asset.supervise", write=True),
    # OCDS export of the platform's own deals: what the public listing and result pages show.
    "gongzhi_assets_api_ocds_releases": _r(P),
    "gongzhi_assets_api_ocds_extension": _r(P),
    "gongzhi_assets_api_public_deals": _r(P),
    "gongzhi_assets_api_public_deal": _r(P, obj="deal"),
    # microprojects (民生微实事): the project, community and index pages are public (open
    # government); residents act on their own community's projects (checked in the actions);
    # the community office's console is for microproject.manage over the place.
    "microprojects:index": _r(P),
    "microprojects:community": _r(P, obj="place"),
    "microprojects:detail": _r(P),
    "microprojects:photo": _r(P),
    "microprojects:propose": RouteRule(L, methods=("GET", "POST"), write=True),
    "microprojects:support": _r(L, write=True),
    "microprojects:comment": _r(L, write=True),
    "microprojects:rate": _r(L, write=True),
    "microprojects:office": _r(RO, "microproject.manage"),
    "microprojects:office_place": _r(OB, "microproject.manage", "place"),
    "microprojects:office_fund": _r(OB, "microproject.manage", "place", write=True),
    "microprojects:office_action": _r(RO, "microproject.manage", write=True),
    "gongzhi_microprojects_api_list_proposals": _r(P, obj="place"),
    "gongzhi_microprojects_api_community_figures": _r(P, obj="place"),
    "gongzhi_microprojects_api_proposal_detail": _r(P),
    "gongzhi_microprojects_api_propose": _r(L, write=True),
    "gongzhi_microprojects_api_support": _r(L, write=True),
    "gongzhi_microprojects_api_screen": _r(RO, "microproject.manage", write=True),
    # villages: the portfolio lists only projects of the user's jurisdiction
    "villages:portfolio": _r(L),
    "villages:project": _r(OB, "village.read", "project"),
    "villages:gantt": _r(OB, "village.read", "project"),
    "villages:progress": _r(OB, "village.manage", "project", write=True),
    "villages:photo": _r(OB, "village.read", "project"),
    # published rankings and selection orders are public (names masked, no numbers)
    "villages:talent_ranking": _r(P, obj="village"),
    "villages:resettlement_order": _r(P, obj="village"),
    # API: villages
    "gongzhi_villages_api_list_projects": _r(L),
    "gongzhi_villages_api_project_schedule": _r(OB, "village.read", "project"),
    "gongzhi_villages_api_talent_ranking": _r(P, obj="village"),
    # Django admin: the site's own pages need is_staff; model pages need model permissions too.
    "admin:login": _r(P),
    "admin:logout": RouteRule(Access.STAFF_SITE, methods=("POST",)),
    "admin:index": _ADMIN_SITE,
    "admin:app_list": _ADMIN_SITE,
    "admin:password_change": _ADMIN_SITE,
    "admin:password_change_done": _ADMIN_SITE,
    "admin:jsi18n": _ADMIN_SITE,
    "admin:view_on_site": _ADMIN_MODEL,
    "admin:autocomplete": _ADMIN_MODEL,
    # Users, roles, departments and tokens: administrators manage them in the admin too (within
    # their jurisdiction, which the accounts actions enforce).
    "admin:accounts_*": _ADMIN_ACCOUNTS,
    "admin:auth_user_password_change": _ADMIN_ACCOUNTS,
    "admin:*": _ADMIN_MODEL,
}


_API_OPERATION = re.compile(r"^gongzhi_[a-z]+_api_\w+(\.\w+)?$")  # an operation id, or one of its variants
ROUTES = {name: rule if rule.token is not None else replace(rule, token=bool(_API_OPERATION.match(name)))
          for name, rule in ROUTES.items()}


# A permission that, on an object owned by an organisation, is read as another one.
OWNER_KIND_PERMISSIONS: Mapping[tuple[str, str], str] = {
    ("document.read", "org"): "org.documents",  # a firm's document is read with the firm
}


def perm_for(perm: str, owner_kind: str | None) -> str:
    """``perm`` as it applies to an object owned by a ``person`` or an ``org``."""
    return OWNER_KIND_PERMISSIONS.get((perm, owner_kind or ""), perm)


def route_rule(name: str) -> RouteRule | None:
    """The rule of a URL name or operation id (admin model pages fall under ``admin:*``)."""
    rule = ROUTES.get(name)
    if rule is None:
        # "admin:accounts_*" before "admin:*": the longest matching prefix wins.
        prefixes = sorted((k for k in ROUTES if k.endswith("*") and name.startswith(k[:-1])), key=len, reverse=True)
        rule = ROUTES[prefixes[0]] if prefixes else None
    return rule


def roles_with(perm: str) -> frozenset[Role]:
    """The roles that hold ``perm`` over their places (KeyError for an undeclared permission)."""
    return PERMISSIONS[perm]


def role_names(perm: str) -> set[str]:
    """``roles_with`` as the plain strings ``accounts.scope`` takes (``scope_q(user, roles=…)``)."""
    return {str(r) for r in roles_with(perm)}


def relations_with(perm: str) -> frozenset[Relation]:
    return frozenset(rel for rel, perms in RELATIONS.items() if perm in perms)


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def has_permission(user: Any, perm: str, path: str | None = None) -> bool:
    """Does ``user`` hold ``perm`` through a role — over a place covering ``path`` if given?

    Public roles (resident, enterprise agent) have no jurisdiction: with a ``path`` only staff
    roles count, as in ``accounts.scope``. Reveal permissions also need the Django permission.
    Superusers hold everything.
    """
    from gongzhi.accounts.scope import active_assignments

    roles = roles_with(perm)
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    if perm in REVEAL_PERMISSIONS and not user.has_perm(REVEAL_DJANGO_PERMISSION):
        return False
    for ra in active_assignments(user):
        if ra.role not in roles:
            continue
        if path is None:
            return True
        if ra.role not in PUBLIC_ROLES and path.startswith(ra.place.path):
            return True
    return False


def may(user: Any, rule: RouteRule, *, path: str | None = None, relations: Iterable[str] = (),
        owner_kind: str | None = None, published: bool = False, via_token: bool = False) -> bool:
    """May ``user`` get a success answer from a route with ``rule`` on an object at ``path``
    to which the user has ``relations`` (owned by a ``person`` or an ``org``)? The matrix
    test's oracle; views may use it too. ``via_token``: the user is known only by an API bearer
    token, which counts for nothing on a route that takes none (``RouteRule.token``)."""
    if via_token and not rule.token:
        user = None
    if rule.access == Access.PUBLIC or (rule.public_when_published and published):
        return True
    if not _authenticated(user):
        return False
    if rule.access == Access.LOGIN:
        return True
    if rule.access == Access.STAFF_SITE:
        # Model pages are decided by Django model permissions, which no role grants — except
        # where the rule names a permission of the table (the accounts pages: accounts.manage).
        if not user.is_staff:
            return False
        if not rule.model_page or user.is_superuser:
            return True
        return rule.perm is not None and has_permission(user, rule.perm)
    assert rule.perm is not None
    perm = perm_for(rule.perm, owner_kind)
    if any(perm in RELATIONS.get(Relation(rel), frozenset()) for rel in relations):
        return True
    if rule.access == Access.OWN:
        return bool(user.is_superuser)
    if rule.access == Access.ROLE:
        return has_permission(user, perm)
    return has_permission(user, perm, path)
