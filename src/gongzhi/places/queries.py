"""Reads of the administrative tree.

The tree is public data, so most reads take no user; ``places_for_user`` is the scoped list for
staff screens. Validity is half-open: a place is valid on ``d`` when
``valid_from <= d < valid_to`` (missing bounds are open).

Lineage follows ``PlaceChange`` rows of kind split, merge and move (a rename keeps the row, so it
is history, not lineage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import in_scope, is_administrator, path_in_scope, scope_q
from gongzhi.core.errors import NotAllowedError, NotFoundError
from gongzhi.places.enums import ChangeKind, PlaceKind, PlanStatus
from gongzhi.places.models import Place, PlaceChange, PlaceName, RestructurePlan

LINEAGE_KINDS = (ChangeKind.SPLIT, ChangeKind.MERGE, ChangeKind.MOVE)


def valid_q(as_of: date, prefix: str = "") -> Q:
    """Q for rows valid on ``as_of``; ``prefix`` such as ``"place__"`` for related lookups."""
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": as_of})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": as_of})
    )


def valid_on(place: Place, on: date) -> bool:
    return (place.valid_from is None or place.valid_from <= on) and (
        place.valid_to is None or place.valid_to > on
    )


def get_by_code(code: str) -> Place | None:
    # A NUL byte cannot even be sent to PostgreSQL; no stored code contains one or is that long.
    if not code or "\x00" in code or len(code) > 40:
        return None
    return Place.objects.select_related("parent").filter(code=code).first()


def places_on(as_of: date | None = None) -> QuerySet[Place]:
    """Every place valid on ``as_of`` (today by default), in tree order."""
    return Place.objects.filter(valid_q(as_of or timezone.localdate()))


def list_places(
    *, kind: str | None = None, parent: Place | None = None, as_of: date | None = None, search: str = ""
) -> QuerySet[Place]:
    """Filtered flat list for the API. ``as_of=None`` means every row, historic ones included."""
    qs = Place.objects.select_related("parent")
    if as_of is not None:
        qs = qs.filter(valid_q(as_of))
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent=parent)
    search = search.replace("\x00", "")
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(code__startswith=search))
    # Codes are hierarchical (440311 → 440311006 → 440311006-C01); paths of pks sort as text.
    return qs.order_by("code")


def children(place: Place, as_of: date | None = None) -> list[Place]:
    return list(place.children.filter(valid_q(as_of or timezone.localdate())).order_by("code"))


@dataclass
class TreeNode:
    place: Place
    children: list[TreeNode] = field(default_factory=list)


def place_tree(as_of: date | None = None, *, max_depth: int | None = None) -> list[TreeNode]:
    """The tree as it stood on ``as_of``: root nodes with nested children, siblings by code."""
    rows = list(places_on(as_of).order_by("code"))
    if max_depth is not None:
        rows = [p for p in rows if p.depth <= max_depth]
    nodes = {p.pk: TreeNode(p) for p in rows}
    roots: list[TreeNode] = []
    for p in rows:
        parent_node = nodes.get(p.parent_id) if p.parent_id else None
        (parent_node.children if parent_node else roots).append(nodes[p.pk])
    return roots


def ancestors(place: Place) -> list[Place]:
    """From the root down to the parent (the place itself excluded)."""
    pks = [int(pk) for pk in place.path.strip("/").split("/") if pk][:-1]
    by_pk = Place.objects.in_bulk(pks)
    return [by_pk[pk] for pk in pks if pk in by_pk]


def name_history(place: Place) -> list[PlaceName]:
    # NULL (since always) first on both databases; PostgreSQL would otherwise put it last.
    return list(place.names.order_by(F("valid_from").asc(nulls_first=True), "id"))


def name_on(place: Place, on: date) -> str:
    """The name the place bore on ``on``: before its first name, the first; after closing, the last."""
    history = name_history(place)
    if not history:
        return place.name
    chosen = history[0]
    for entry in history:
        if entry.valid_from is None or entry.valid_from <= on:
            chosen = entry
    return chosen.name


def changes_for(place: Place) -> list[PlaceChange]:
    """Every recorded change the place took part in, oldest first."""
    qs = PlaceChange.objects.filter(Q(sources=place) | Q(targets=place)).distinct()
    return list(qs.prefetch_related("sources", "targets").order_by("effective", "id"))


def _step(ids: set[int], *, forward: bool) -> set[int]:
    if forward:
        rows = PlaceChange.objects.filter(kind__in=LINEAGE_KINDS, sources__in=ids).values_list(
            "targets", flat=True
        )
    else:
        rows = PlaceChange.objects.filter(kind__in=LINEAGE_KINDS, targets__in=ids).values_list(
            "sources", flat=True
        )
    return {pk for pk in rows if pk is not None}


def _walk(place: Place, *, forward: bool, stop_on: date | None = None) -> list[Place]:
    """Breadth-first through lineage, nearest generation first.

    With ``stop_on``, collect the first places on each branch that were valid that day.
    """
    seen = {place.pk}
    frontier = {place.pk}
    found: list[Place] = []
    while frontier:
        nxt = _step(frontier, forward=forward) - seen
        seen |= nxt
        frontier = set()
        generation = sorted(
            Place.objects.filter(pk__in=nxt), key=lambda p: (p.valid_from or date.min, p.code)
        )
        for p in generation:
            if stop_on is None:
                found.append(p)
                frontier.add(p.pk)
            elif valid_on(p, stop_on):
                found.append(p)
            else:
                frontier.add(p.pk)
    return found


def successors(place: Place) -> list[Place]:
    """Every place that descends from ``place`` through splits, merges and moves (all generations)."""
    return _walk(place, forward=True)


def predecessors(place: Place) -> list[Place]:
    """Every place ``place`` descends from (all generations)."""
    return _walk(place, forward=False)


def reporting_places(place: Place, on: date) -> list[Place]:
    """Where an object filed against ``place`` is counted for a report dated ``on``.

    The place itself if it was valid that day (a 2016 case in 将石 reports under 将石 for 2016);
    after it closed, its nearest successors valid that day (将石 in 2024 → 将围、新庄、石家、石围);
    before it opened, its nearest predecessors valid that day.
    """
    if valid_on(place, on):
        return [place]
    if place.valid_from is not None and on < place.valid_from:
        return _walk(place, forward=False, stop_on=on)
    return _walk(place, forward=True, stop_on=on)


def reporting_place(place: Place, on: date) -> Place | None:
    """The single place to report under on ``on``, or None when a split makes it ambiguous."""
    found = reporting_places(place, on)
    return found[0] if len(found) == 1 else None


def current_places_for(place: Place) -> list[Place]:
    """The places valid today that ``place`` became ("where is 将石 now")."""
    return reporting_places(place, timezone.localdate())


def places_for_user(user: Any, as_of: date | None = None) -> QuerySet[Place]:
    """Places inside the user's jurisdiction (administrators see all), optionally valid on a date."""
    qs = Place.objects.all() if is_administrator(user) else in_scope(Place.objects.all(), user, field="path")
    if as_of is not None:
        qs = qs.filter(valid_q(as_of))
    return qs.order_by("code")


def may_change_tree(user: Any) -> bool:
    """Whether the user administers some part of the tree (may merge and abolish places there)."""
    return bool(getattr(user, "is_authenticated", False)) and is_administrator(user)


def ensure_may_change_tree(user: Any) -> None:
    if not may_change_tree(user):
        raise NotAllowedError(_("只有系统管理员可以合并或撤销行政区划。"))


def access_place_to_change(user: Any, code: str, *, field: str = "code") -> Place:
    """A place the user administers, by code — for merging and abolishing.

    A place outside the user's jurisdiction answers exactly like one that does not exist (404),
    so a guesser learns nothing. Superusers administer the whole tree.
    """
    ensure_may_change_tree(user)
    place = get_by_code(code)
    if place is None or not (
        getattr(user, "is_superuser", False) or path_in_scope(user, place.path, {Role.ADMINISTRATOR})
    ):
        raise NotFoundError(_("区划代码 %(code)s 不存在") % {"code": (code or "")[:40]}, field=field)
    return place


def district_centres_geojson(user: Any = None) -> dict[str, Any]:
    """Map layer: a point per current district with a known centre (public data, ``user`` unused).

    Boundaries are not drawn here: public maps need shapes from an officially reviewed map (审图号).
    """
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(p.lng), float(p.lat)]},
            "properties": {"code": p.code, "name": p.name, "kind": p.kind},
        }
        for p in places_on()
        .filter(kind=PlaceKind.DISTRICT, lat__isnull=False, lng__isnull=False)
        .order_by("code")
        if p.lat is not None and p.lng is not None
    ]
    return {"type": "FeatureCollection", "features": features}


# --- restructuring plans ------------------------------------------------------------------------


def plans_for_user(user: Any) -> QuerySet[RestructurePlan]:
    """Plans of the user's jurisdiction for those who may draft or approve them."""
    from gongzhi.accounts.permissions import role_names

    roles = role_names("places.plan") | role_names("places.approve_plan")
    if getattr(user, "is_superuser", False):
        qs = RestructurePlan.objects.all()
    else:
        qs = RestructurePlan.objects.filter(scope_q(user, field="place_path", roles=roles))
    return qs.select_related("district").prefetch_related("sources").order_by("-effective", "-id")


def access_plan(user: Any, plan_id: int) -> RestructurePlan:
    """One plan the user may see; outside the jurisdiction it answers like a missing one (404)."""
    plan = plans_for_user(user).filter(pk=plan_id).first() if 0 < plan_id < 2**31 else None
    if plan is None:
        raise NotFoundError(_("调整方案不存在。"), field="plan")
    return plan


def may_approve_plan(user: Any, plan: RestructurePlan) -> bool:
    from gongzhi.accounts.permissions import has_permission

    return has_permission(user, "places.approve_plan", plan.district.path)


def may_draft_plans(user: Any) -> bool:
    from gongzhi.accounts.permissions import has_permission

    return has_permission(user, "places.plan")


def plans_for_place(place: Place) -> list[RestructurePlan]:
    """Approved and applied plans naming ``place`` as a source (public: the tree shows what is
    coming once it is decided; drafts stay on the supervisors' console)."""
    return list(
        RestructurePlan.objects.filter(sources=place, status__in=[PlanStatus.APPROVED, PlanStatus.APPLIED])
        .order_by("-effective")
    )


def recent_changes(as_of: date | None = None, limit: int = 10) -> list[PlaceChange]:
    """The latest splits, merges and renames in force by ``as_of`` (not the moves of groups they
    carried), newest first: the tree page's lineage."""
    qs = PlaceChange.objects.exclude(kind=ChangeKind.MOVE).filter(effective__lte=as_of or timezone.localdate())
    qs = qs.prefetch_related("sources", "targets")
    return list(qs.order_by("-effective", "-id")[:limit])


def moved_rows(plan: RestructurePlan) -> list[tuple[str, int]]:
    """What an applied plan moved, labelled by the registered hooks (a key no longer registered
    shows as itself)."""
    from gongzhi.core.registry import REGISTRY

    hooks = REGISTRY.place_moves
    return [(str(hooks[k].label) if k in hooks else k, int(n)) for k, n in plan.moved.items()]
