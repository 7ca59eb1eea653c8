"""The authorization matrix (issue #10): every URL and API operation × every role × an object
inside and outside the role's place scope, checked against ``accounts.permissions``.

For each role (one test each) every page and operation is requested — GET for reads; the writes
the route table marks are sent too, each inside a savepoint that is rolled back, so one request
never changes what the next one sees. A cell fails when:

* the answer is 2xx and the table does not allow it (``accounts.permissions.may``);
* the answer is a 5xx (every URL answers bad input with 4xx);
* the body — HTML, JSON, PDF text, Word, Excel — holds a full personal number (a valid GB 11643
  ID, a phone or bank account of the world) that is not the user's own, for a user without
  the reveal permission (nobody in this world holds it);
* the body holds a marker (an address, a form answer) of an object the user may not read.

Three channels, one table:

* **session** — pages and API operations with the browser login (``Client.force_login``);
* **token** — every API operation again with the user's API bearer token and no cookie
  (``anonymous``: a revoked token). Where a token counts is the table's to say
  (``RouteRule.token``); on top, a token cell fails when it gets a 2xx, a number or a marker
  that the same cell did not give the session;
* **socket** — ``test_meeting_socket_matrix``: the live meeting room (``gongzhi.asgi``: origin
  check, session, auth, routing) for every meeting, finished and in session, inside and outside
  the role's place, with the session cookie and with the bearer token. Opening must succeed
  exactly when the table lets the role follow the meeting (``ws:meeting``); an action for
  oneself (``ws:meeting.act``) and one recorded for another member (``ws:meeting.record``) may
  be acknowledged only when the table allows; every frame is scanned like a body.

``test_every_route_is_in_the_table`` fails when a page or operation has no entry in ``ROUTES``,
so a new page cannot escape the matrix.

The world is built once per module (through the actions) inside a transaction rolled back at
the end; each role's test runs in a savepoint of it.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from gongzhi.accounts.enums import Role
from gongzhi.accounts.permissions import (
    OWNER_KIND_PERMISSIONS,
    PERMISSIONS,
    RELATIONS,
    REVEAL_PERMISSIONS,
    ROUTES,
    Access,
    Relation,
    RouteRule,
    has_permission,
    may,
    route_rule,
)
from gongzhi.core.tests.authz_world import (
    ANONYMOUS,
    MATRIX_ROLES,
    Obj,
    World,
    build_world,
    id_number,
    make_user,
)
from gongzhi.core.tests.pii_scan import id_numbers_in, known_numbers_in, pdf_text, response_text

API_PREFIX = "/api/v1"
SHELL_API_NAMES = {"api-v1:openapi-json", "api-v1:openapi-view", "api-v1:api-root"}
NOT_HTTP = {name for name in ROUTES if name.startswith("ws:")}
# GONGZHI_AUTHZ_DUMP=<file>: write every cell (role, route, object, status, verdict) to a file,
# to see the whole matrix rather than its failures.
DUMP = os.environ.get("GONGZHI_AUTHZ_DUMP", "")


# List operations that also find one object by its full number: (object kind, query parameter,
# object parameter, the permission that lets a user find any object so).
LOOKUPS = {
    "gongzhi_people_api_list_persons": [("person", "number", "_number", "person.lookup_by_number")],
    "gongzhi_people_api_list_organisations": [("org", "uscc", "_uscc", "org.lookup_by_uscc")],
}

# An operation whose body changes the rule (ROUTES "<operation>.<variant>"): the variant's
# entry → its body, sent as well, to the same objects.
API_VARIANTS: dict[str, dict[str, Any]] = {
    "gongzhi_councils_api_meeting_action": {
        "gongzhi_councils_api_meeting_action.record":
            lambda obj: {"action": {"type": "arrive"}, "on_behalf_of": obj.params["_member"]},
    },
}

# The window desk's lookup (POST, so the number stays out of URLs): same rule as above.
PAGE_LOOKUPS = {
    "services:window": [("person", "number", "_number", "person.lookup_by_number"),
                        ("org", "number", "_uscc", "org.lookup_by_uscc")],
}


# ------------------------------------------------------------------------------ the world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    from gongzhi.accounts.auth import forget_roles
    from gongzhi.core.calendar import invalidate_calendar_cache
    from gongzhi.services.routing import clear_intake_cache

    media = tmp_path_factory.mktemp("authz-media")
    with django_db_blocker.unblock(), override_settings(
        MEDIA_ROOT=media, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            built.ns.media = media
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            forget_roles()
            invalidate_calendar_cache()
            clear_intake_cache()


# ------------------------------------------------------------------------------ the routes


def _walk(patterns: list[Any], prefix: str = "", ns: str | None = None) -> Iterator[tuple[str, str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif p.name:
            yield (f"{ns}:{p.name}" if ns else p.name), prefix + str(p.pattern), p


def page_routes() -> list[tuple[str, URLPattern]]:
    return [(name, p) for name, _route, p in _walk(get_resolver().url_patterns)
            if not (name.startswith("api-v1:") and name not in SHELL_API_NAMES)]


def api_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every operation of ``/api/v1/``."""
    from gongzhi.api import api

    schema = api.get_openapi_schema()
    return [(op["operationId"], method.upper(), path)
            for path, methods in schema["paths"].items() for method, op in methods.items()]


def test_every_route_is_in_the_table() -> None:
    missing = [name for name, _p in page_routes() if route_rule(name) is None]
    missing += [op for op, _m, _path in api_operations() if route_rule(op) is None]
    assert not missing, f"pages/operations without an entry in accounts.permissions.ROUTES: {missing}"
    known = {name for name, _p in page_routes()} | {op for op, _m, _p in api_operations()}
    known |= {variant for variants in API_VARIANTS.values() for variant in variants}
    stale = [k for k in ROUTES if k not in known and k not in NOT_HTTP and not k.startswith("admin:")]
    assert not stale, f"ROUTES entries naming no page or operation: {stale}"
    # Every socket the ASGI process serves is in the table and exercised by the socket matrix.
    from gongzhi.core.registry import REGISTRY

    served = {str(p.pattern) for p in getattr(REGISTRY, "websocket_routes", [])}
    assert served == set(SOCKETS), f"websocket routes not in the socket matrix: {served ^ set(SOCKETS)}"
    assert NOT_HTTP == {*SOCKETS.values(), *SOCKET_FRAMES.values()}, NOT_HTTP


def test_scanner_finds_numbers_in_a_receipt_style_pdf() -> None:
    # The matrix is only as good as its scanner: a number set in the project's CID font, in a
    # compressed page, must be found (and a masked one must not).
    from io import BytesIO

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    full = id_number("44030519850101123")
    buffer = BytesIO()
    canvas = Canvas(buffer, pageCompression=1)
    canvas.setFont("STSong-Light", 10)
    canvas.drawString(10, 10, f"申请人：赵某（{full}）电话 13812340001")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(10, 30, "4403**********1239")
    canvas.save()
    text = pdf_text(buffer.getvalue())
    assert id_numbers_in(text) == {full}
    assert known_numbers_in(text, ["13812340001", "13812340002"]) == {"13812340001"}


# ------------------------------------------------------------------------------ the table itself


def test_every_permission_named_is_declared() -> None:
    named = {r.perm for r in ROUTES.values() if r.perm} | {p for perms in RELATIONS.values() for p in perms}
    named |= set(OWNER_KIND_PERMISSIONS.values()) | REVEAL_PERMISSIONS
    assert named <= set(PERMISSIONS), named - set(PERMISSIONS)


def test_minimum_necessary() -> None:
    # PIPL Art. 6: running a meeting or a collective company needs no case file and no register.
    outsiders = {Role.COUNCIL_MEMBER, Role.COUNCIL_MODERATOR, Role.ASSET_MANAGER}
    for perm, roles in PERMISSIONS.items():
        if perm.startswith(("case.", "person.", "document.", "task.", "window.")):
            assert not (roles & outsiders), f"{perm} names {roles & outsiders}"


def test_a_token_counts_on_api_operations_only(place_tree: Any) -> None:
    # Declared in the table (RouteRule.token), not special-cased in the matrix: a bearer token
    # stands in for the session on API operations; pages and the socket read the cookie only.
    assert all(rule.token for name, rule in ROUTES.items() if name.startswith("gongzhi_"))
    assert not any(rule.token for name, rule in ROUTES.items() if not name.startswith("gongzhi_"))
    clerk = make_user(Role.WINDOW_CLERK, place_tree.community_a)
    a = place_tree.community_a.path
    assert may(clerk, ROUTES["gongzhi_services_api_get_case"], path=a, via_token=True)
    assert may(clerk, ROUTES["services:application"], path=a)
    assert not may(clerk, ROUTES["services:application"], path=a, via_token=True)
    assert may(clerk, ROUTES["core:index"], via_token=True)  # public stays public


def test_has_permission_follows_the_place(place_tree: Any) -> None:
    a, b = place_tree.community_a, place_tree.community_b
    clerk, resident = make_user(Role.WINDOW_CLERK, a), make_user(Role.RESIDENT, a)
    assert has_permission(clerk, "case.read")
    assert has_permission(clerk, "case.read", a.path)
    assert not has_permission(clerk, "case.read", b.path)
    assert not has_permission(clerk, "accounts.manage", a.path)
    # A public role has no jurisdiction: it acts on its own things (RELATIONS), never on a place.
    assert has_permission(resident, "portal.apply")
    assert not has_permission(resident, "portal.apply", a.path)
    assert not has_permission(None, "portal.apply")


def test_reveal_needs_the_django_permission(place_tree: Any) -> None:
    from django.contrib.auth.models import Permission

    from gongzhi.accounts.models import User

    a = place_tree.community_a
    plain = make_user(Role.WINDOW_CLERK, a)
    allowed = make_user(Role.WINDOW_CLERK, a)
    allowed.user_permissions.add(Permission.objects.get(codename="reveal_personal_number"))
    allowed = User.objects.get(pk=allowed.pk)  # has_perm caches the permissions on the instance
    assert has_permission(plain, "person.read", a.path)
    assert not has_permission(plain, "person.reveal", a.path)
    assert has_permission(allowed, "person.reveal", a.path)
    assert not has_permission(allowed, "person.reveal", place_tree.community_b.path)
    boss = make_user(None)
    User.objects.filter(pk=boss.pk).update(is_superuser=True)
    assert has_permission(User.objects.get(pk=boss.pk), "person.reveal", place_tree.community_d.path)


def test_may_reads_relations_and_publication(place_tree: Any) -> None:
    a, b = place_tree.community_a.path, place_tree.community_b.path
    resident = make_user(Role.RESIDENT, place_tree.community_a)
    member = make_user(Role.COUNCIL_MEMBER, place_tree.community_a)
    manager = make_user(Role.ASSET_MANAGER, place_tree.community_a)
    own_case = ROUTES["services:my_case"]
    assert may(resident, own_case, path=b, relations={Relation.APPLICANT})
    assert not may(resident, own_case, path=b)
    assert not may(make_user(Role.ADMINISTRATOR, place_tree.community_a), own_case, path=a)
    minutes = ROUTES["councils:minutes_pdf"]
    assert not may(member, minutes, path=b)
    assert may(member, minutes, path=b, published=True)
    assert may(None, minutes, path=b, published=True)
    # A firm's document is read with the firm; a person's only with the register permission.
    download = ROUTES["people:document_download"]
    assert may(manager, download, path=a, owner_kind="org")
    assert not may(manager, download, path=a, owner_kind="person")


# ------------------------------------------------------------------------------ requests


def _url(name: str, pattern: URLPattern, obj: Obj | None) -> str:
    from django.urls import NoReverseMatch, reverse

    keys = list(pattern.pattern.regex.groupindex)
    if name.startswith("admin:"):
        kwargs = {k: ("people" if k == "app_label" else "1") for k in keys}
    else:
        params = obj.params if obj is not None else {}
        kwargs = {k: params.get(k, "json" if k == "fmt" else "1") for k in keys}
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return reverse(name, kwargs={k: "1" for k in keys})


def _page_body(name: str, obj: Obj | None) -> dict[str, Any]:
    inst = obj.instance if obj is not None else None
    version = getattr(inst, "version", 1)
    case_version = getattr(getattr(inst, "case", inst), "version", 1)
    bodies: dict[str, dict[str, Any]] = {
        "core:large_text": {"next": "/"},
        "set_language": {"language": "en", "next": "/"},
        "people:reveal": {"field": "number", "reason": "核对身份"},
        "services:window_pickup": {"method": "window", "version": case_version, "number": ""},
        "services:notice_pdf": {"token": "forged"},
        "services:my_case_review": {"level": "5"},
        "services:task_claim": {"version": version},
        "services:task_decide": {"decision": "approve", "reason": "", "version": version},
        "services:task_supplement": {"items": "补充收入证明", "reason": "材料不清晰", "version": version},
        "services:task_deliver": {"method": "electronic", "address": "", "version": case_version},
        "villages:progress": {"task": "survey", "percent": "60"},
    }
    return bodies.get(name, {})


def _api_body(op: str, obj: Obj | None, world: World) -> dict[str, Any] | None:
    inst = obj.instance if obj is not None else None
    params = obj.params if obj is not None else {}
    side = obj.side if obj is not None else "A"
    bodies: dict[str, Any] = {
        "gongzhi_accounts_api_issue_token": {"user_id": params.get("user_id"), "name": "矩阵对接系统"},
        "gongzhi_people_api_register_person": {
            "number": id_number("44030519920202" + ("123" if side == "A" else "456")), "name": "孙新登",
            "home_place_id": getattr(inst, "pk", None),
        },
        "gongzhi_services_api_submit_application": {
            "applicant_number": params.get("_number", ""), "item_codes": [world.ns.items[side].code],
            "form": {"reason": "矩阵测试"}, "idempotency_key": f"mx-api-{side}-{params.get('person_id')}",
        },
        "gongzhi_services_api_review_case": {"level": 5},
        "gongzhi_services_api_deliver_result": {"method": "electronic", "expected_version": getattr(inst, "version", 1)},
        "gongzhi_services_api_claim_task": {},
        "gongzhi_services_api_decide_task": {"approve": True},
        "gongzhi_services_api_request_supplement": {"items": ["补充收入证明"]},
        "gongzhi_councils_api_meeting_action": {"action": {"type": "arrive"}},
    }
    return bodies.get(op)


def _body_bytes(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
        # Closing a response sends request_finished, whose close_old_connections would drop the
        # connection holding the world's open transaction (Django's test client unhooks it too).
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        return data
    return bytes(response.content)


class Matrix:
    """Requests one role's cells over one channel and collects every failing one.

    ``channel`` is "session" (a browser's login cookie) or "token" (an API bearer token of the
    same user, issued through the accounts actions; no cookie). A token cell is checked against
    the same table (``may(..., via_token=True)``) and, when ``baseline`` (the session's cells)
    is given, against what the session got: a token must never get a 2xx the session did not,
    nor see a number or a marker the session did not see.
    """

    def __init__(self, world: World, role: str, channel: str = "session",
                 baseline: dict[tuple[str, ...], tuple[bool, frozenset[str]]] | None = None) -> None:
        from gongzhi.accounts.models import User

        self.world = world
        self.role = role
        self.channel = channel
        self.via_token = channel == "token"
        self.user = None if role == ANONYMOUS else User.objects.get(pk=world.users[role].pk)
        if self.via_token:
            self.client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {world.tokens[role]}")
        else:
            self.client = Client(raise_request_exception=False)
            if self.user is not None:
                self.client.force_login(self.user)
        self.own = world.own_numbers.get(role, set())
        self.failures: list[str] = []
        self.requests = 0
        self.counts: dict[str, int] = {}  # "pages" / "api" / "socket" → requests (frames) sent
        self.family = "pages"  # what is being walked (run_pages / run_api / run_socket)
        self.baseline = baseline
        # (route, object, method, url) → (2xx?, numbers and markers the body showed)
        self.cells: dict[tuple[str, ...], tuple[bool, frozenset[str]]] = {}

    def allowed(self, rule: RouteRule, obj: Obj | None) -> bool:
        if obj is None:
            return may(self.user, rule, via_token=self.via_token)
        return may(self.user, rule, path=obj.path, relations=obj.relations.get(self.role, set()),
                   owner_kind=obj.owner_kind, published=obj.published, via_token=self.via_token)

    def request(self, key: str, method: str, url: str, rule: RouteRule, obj: Obj | None, *,
                data: Any = None, as_json: bool = False, lookup: tuple[Obj, str] | None = None) -> None:
        cookies = copy.deepcopy(self.client.cookies)  # a logout or language switch must not stick
        with transaction.atomic():
            call = getattr(self.client, method.lower())
            if as_json:
                response = call(url, data=json.dumps(data or {}), content_type="application/json")
            elif method == "GET":
                response = call(url)
            else:
                response = call(url, data=data or {})
            body = _body_bytes(response)
            transaction.set_rollback(True)
        self.client.cookies = cookies
        self.requests += 1
        self.counts[self.family] = self.counts.get(self.family, 0) + 1
        where = f"{self.channel}: {key} [{obj.label if obj else '-'}] {method} {url}"
        status = response.status_code
        if DUMP:
            with open(DUMP, "a", encoding="utf-8") as out:
                verdict = "allowed" if self.allowed(rule, obj) else "denied"
                out.write(f"{self.role}\t{self.channel}\t{where}\t{status}\t{verdict}\n")
        success = 200 <= status < 300
        if success and not self.allowed(rule, obj):
            self.failures.append(f"{where} → {status}: 2xx not allowed by ROUTES/PERMISSIONS ({rule.perm})")
        if status >= 500:
            self.failures.append(f"{where} → {status}: server error")
        # A number the user sent in this very request (the window keeps the typed number in the
        # form) is not disclosed to them by the answer.
        sent = url + json.dumps(data, ensure_ascii=False, default=str)
        shown = self.scan(where, status, response.get("Content-Type", ""), body, lookup, sent)
        self.compare((key, obj.label if obj else "-", method, url, lookup[0].label if lookup else ""),
                     where, status, success, shown)

    def compare(self, cell: tuple[str, ...], where: str, status: int, success: bool, shown: frozenset[str]) -> None:
        self.cells[cell] = (success, shown)
        if self.baseline is None or cell not in self.baseline:
            return
        session_success, session_shown = self.baseline[cell]
        if success and not session_success:
            self.failures.append(f"{where} → {status}: a token got a 2xx the session did not")
        for extra in sorted(shown - session_shown):
            self.failures.append(f"{where} → {status}: a token saw {extra!r}, the session did not")

    def scan(self, where: str, status: int, content_type: str, body: bytes,
             lookup: tuple[Obj, str] | None = None, sent: str = "") -> frozenset[str]:
        """Fail on what ``body`` shows that the user may not see; return every personal number
        and marker it shows (allowed or not), for the token/session comparison."""
        if not body:
            return frozenset()
        text = response_text(content_type, body)
        numbers = id_numbers_in(text) | known_numbers_in(text, self.world.secrets)
        shown = {f"number {n[:4]}…{n[-4:]}" for n in numbers}
        found = numbers - self.own
        found = {n for n in found if n not in sent.upper()}
        for number in sorted(found):
            what = self.world.secrets.get(number, "an ID number")
            self.failures.append(f"{where} → {status}: unmasked {what} ({number[:4]}…{number[-4:]})")
        for marker, obj, perm in self.world.markers:
            if marker not in text:
                continue
            shown.add(marker)
            if self.allowed(RouteRule(Access.OBJECT, perm, obj.kind, token=True), obj):
                continue
            # A lookup by the full number finds the one object it names, for those who may look up.
            if lookup is not None and lookup[0] is obj and has_permission(self.user, lookup[1]):
                continue
            self.failures.append(f"{where} → {status}: shows {perm} data of {obj.label} ({marker})")
        return frozenset(shown)


def _objects(world: World, rule: RouteRule) -> list[Obj | None]:
    if rule.obj is None:
        return [None]
    return list(world.objects[rule.obj])


def run_pages(m: Matrix) -> None:
    m.family = "pages"
    for name, pattern in page_routes():
        rule = route_rule(name)
        assert rule is not None
        for obj in _objects(m.world, rule):
            url = _url(name, pattern, obj)
            for method in rule.methods:
                data = _page_body(name, obj) if method != "GET" else None
                m.request(name, method, url, rule, obj, data=data)
        for kind, field_name, param, perm in PAGE_LOOKUPS.get(name, []):
            for target in m.world.objects[kind]:
                data = {"step": "lookup", field_name: target.params[param]}
                m.request(name, "POST", _url(name, pattern, None), rule, None, data=data, lookup=(target, perm))


def _api_url(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda g: str(params.get(g.group(1), "1")), path)


def run_api(m: Matrix) -> None:
    m.family = "api"
    for op, method, path in api_operations():
        rule = route_rule(op)
        assert rule is not None
        for obj in _objects(m.world, rule):
            url = _api_url(path, obj.params if obj is not None else {})
            if method == "GET":
                m.request(op, method, url, rule, obj)
                for kind, query, param, perm in LOOKUPS.get(op, []):
                    for target in m.world.objects[kind]:
                        m.request(op, method, f"{url}?{urlencode({query: target.params[param]})}", rule, obj,
                                  lookup=(target, perm))
            else:
                m.request(op, method, url, rule, obj, data=_api_body(op, obj, m.world), as_json=True)
            for variant, body in API_VARIANTS.get(op, {}).items():
                m.request(variant, method, url, ROUTES[variant], obj, data=body(obj), as_json=True)


# ------------------------------------------------------------------------------ the live room's socket

# websocket route (as registered) → its entry in ROUTES; frames the matrix sends → theirs
SOCKETS = {"ws/meetings/<council_pk:meeting_id>/": "ws:meeting"}
SOCKET_FRAMES = {"act": "ws:meeting.act", "record": "ws:meeting.record"}
SOCKET_TIMEOUT = 60  # seconds to wait for a frame before calling the socket stuck (not a speed check)


def _socket_headers(m: Matrix) -> list[tuple[bytes, bytes]]:
    # A page of our own site opens the socket (gongzhi.asgi checks the Origin against ALLOWED_HOSTS).
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if m.via_token:
        headers.append((b"authorization", f"Bearer {m.world.tokens[m.role]}".encode()))
    elif "sessionid" in m.client.cookies:
        headers.append((b"cookie", f"sessionid={m.client.cookies['sessionid'].value}".encode()))
    return headers


async def _socket_session(path: str, headers: list[tuple[bytes, bytes]],
                          frames: list[tuple[str, dict[str, Any]]]) -> tuple[bool, int | None, list[str], dict[str, Any]]:
    """Open the socket through the whole ASGI stack (origin check, session, auth, routing), read
    the first state, send ``frames`` (ref, frame) one at a time and read each answer, then ask
    for a resync so that every update pushed meanwhile has been read. Returns (connected, close
    code, every frame received, ref → answer)."""
    from channels.testing import WebsocketCommunicator

    from gongzhi.asgi import application

    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=SOCKET_TIMEOUT)
    received: list[str] = []
    answers: dict[str, Any] = {}
    if not connected:
        return False, code, received, answers

    async def until(ref: str, kinds: tuple[str, ...]) -> dict[str, Any]:
        while True:
            raw = await comm.receive_from(timeout=SOCKET_TIMEOUT)
            received.append(raw)
            message = json.loads(raw)
            if message.get("type") in kinds and (ref == "" or message.get("id") == ref):
                return message  # type: ignore[no-any-return]

    try:
        await until("", ("state",))
        for ref, frame in frames:
            await comm.send_to(text_data=json.dumps({"id": ref, **frame}))
            answers[ref] = await until(ref, ("ack", "refused", "resync"))
        await comm.send_to(text_data=json.dumps({"type": "resync", "id": "last"}))
        await until("last", ("resync",))
    finally:
        await comm.disconnect()
    return True, None, received, answers


def run_socket(m: Matrix) -> None:
    """Every meeting (finished and in session, inside and outside the role's place): open the
    room's socket, act for oneself (arrive), record for another member (arrive on their behalf),
    each in a savepoint rolled back. Opening must succeed exactly when the table lets the role
    follow the meeting; an ``ack`` must be allowed by the table; every frame is scanned."""
    from asgiref.sync import async_to_sync
    from channels.layers import channel_layers

    headers = _socket_headers(m)
    rules = {name: ROUTES[name] for name in ("ws:meeting", *SOCKET_FRAMES.values())}
    for obj in m.world.objects["meeting"]:
        path = f"/ws/meetings/{obj.params['meeting_id']}/"
        frames = [("act", {"action": {"type": "arrive"}}),
                  ("record", {"action": {"type": "arrive"}, "on_behalf_of": obj.params["_member"]})]
        # The in-memory layer's queues belong to the event loop that first used them.
        channel_layers.backends.clear()
        with transaction.atomic():
            connected, code, received, answers = async_to_sync(_socket_session)(path, headers, frames)
            transaction.set_rollback(True)
        channel_layers.backends.clear()
        m.requests += 1 + (len(frames) + 1 if connected else 0)
        m.counts["socket"] = m.counts.get("socket", 0) + 1 + (len(frames) + 1 if connected else 0)
        where = f"{m.channel}: ws:meeting [{obj.label}] {path}"
        may_follow = m.allowed(rules["ws:meeting"], obj)
        if DUMP:
            with open(DUMP, "a", encoding="utf-8") as out:
                out.write(f"{m.role}\t{m.channel}\t{where}\t{'open' if connected else code}\t"
                          f"{'allowed' if may_follow else 'denied'}\n")
        if connected and not may_follow:
            m.failures.append(f"{where}: opened, not allowed by ROUTES/PERMISSIONS (meeting.read)")
        if not connected and may_follow:
            m.failures.append(f"{where}: refused ({code}), though the table lets the role follow the meeting")
        if not connected and code not in (4401, 4404):
            m.failures.append(f"{where}: refused with {code} (4401 signed out, 4404 not found expected)")
        for ref, route in SOCKET_FRAMES.items():
            answer = answers.get(ref)
            if answer is None:
                continue
            if DUMP:
                with open(DUMP, "a", encoding="utf-8") as out:
                    verdict = "allowed" if m.allowed(rules[route], obj) else "denied"
                    out.write(f"{m.role}\t{m.channel}\t{route} [{obj.label}]\t{answer['type']}:"
                              f"{answer.get('rule', '')}\t{verdict}\n")
            if answer["type"] == "ack" and not m.allowed(rules[route], obj):
                m.failures.append(f"{where} {route}: acknowledged, not allowed by ROUTES/PERMISSIONS "
                                  f"({rules[route].perm})")
            if answer.get("rule") == "error":
                m.failures.append(f"{where} {route}: server error ({answer.get('message')})")
        for raw in received:
            m.scan(f"{where} (frame)", 101, "application/json", raw.encode())


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_authorization_matrix(world: World, role: str, db: None, settings: Any) -> None:
    settings.MEDIA_ROOT = world.ns.media  # the documents' files live in the world's folder
    m = Matrix(world, role)
    run_pages(m)
    run_api(m)
    assert m.requests > 100  # every page and operation was asked (a broken walk must not pass)
    # The same operations with the user's API bearer token (no cookie): the same table, and never
    # more than the session got.
    t = Matrix(world, role, "token", baseline=m.cells)
    run_api(t)
    assert t.counts["api"] == m.counts["api"] > 100
    failures = m.failures + t.failures
    assert not failures, f"{role}: {len(failures)} failing cells of {m.requests + t.requests}:\n" + "\n".join(failures)


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_meeting_socket_matrix(world: World, role: str, db: None, settings: Any, monkeypatch: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Channels closes "old" connections around every database call of a consumer; the room's
    # background tasks make some outside the communicator's own patch, and on PostgreSQL that
    # dropped the connection holding the world's open transaction (Django's test client unhooks
    # the same cleanup from its request signals).
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    m = Matrix(world, role)
    run_socket(m)
    t = Matrix(world, role, "token")  # a bearer token opens no socket (ROUTES: token=False)
    run_socket(t)
    meetings = len(world.objects["meeting"])
    assert m.counts["socket"] >= meetings and t.counts["socket"] >= meetings
    failures = m.failures + t.failures
    assert not failures, f"{role}: {len(failures)} failing socket cells:\n" + "\n".join(failures)
