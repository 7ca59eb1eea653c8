"""Every write to the administrative tree (DESIGN.md §2: one write path).

Dates are half-open: a place is valid on ``d`` when ``valid_from <= d < valid_to`` (a missing
bound is open). A split, merge or abolition on ``effective`` sets ``valid_to = effective`` on the
old rows and ``valid_from = effective`` on the new ones, so no day belongs to both.

Rows are never re-parented and ``path`` never changes. When a split or merge carries lower-level
units (residents' groups, grids) to a new parent, the old child row is closed and a successor row
is opened under the new parent, linked by a ``PlaceChange`` of kind ``move``. Why: every object
filed against the old child (a 2016 case in 将石's 3rd residents' group) keeps a path under 将石,
so it still reports under 将石 for 2016 and stays in the jurisdiction of whoever held 将石 then;
re-parenting the row would silently move all its history into 将围. The successor is found
through the lineage queries (``queries.successors`` / ``reporting_places``).

Errors are ``PlaceError`` with a user-facing Chinese message; each action runs in one
transaction, so bad input stores nothing (not even an audit event).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import clock
from gongzhi.core.actions import do_arm_timer, do_cancel_timer
from gongzhi.core.actors import Actor, SystemActor
from gongzhi.core.audit import record_event
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.core.i18n import draft_hant_on
from gongzhi.places.enums import OPEN_PLAN_STATUSES, PARENT_KIND, ChangeKind, PlaceKind, PlanKind, PlanStatus
from gongzhi.places.models import Place, PlaceChange, PlaceName, RestructurePlan

CODE_MAX = 40
NAME_MAX = 60
DETAIL_FIELDS = frozenset({"name_zh_hant", "name_en", "area_km2", "lat", "lng", "boundary", "note"})


class PlaceError(ActionError):
    """Bad input to a places action; ``message`` is shown to the user as is."""

    code = "place"


@dataclass(frozen=True)
class SplitTarget:
    """One new place of a split, and which current children of the old place it takes over."""

    code: str
    name: str
    children: Sequence[Place] = field(default_factory=tuple)
    area_km2: Decimal | None = None
    note: str = ""
    name_en: str = ""
    # Another unit of the same level as the old place's parent (another subdistrict of the same
    # district) to open the new place under; None: the old place's parent.
    parent: Place | None = None


# --- validation helpers -----------------------------------------------------------------------


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise PlaceError(_("区划代码不能为空。"), field="code")
    if len(code) > CODE_MAX:
        raise PlaceError(_("区划代码不能超过 %(max)d 个字符。") % {"max": CODE_MAX}, field="code")
    if "/" in code or not code.isprintable() or any(c.isspace() for c in code):
        raise PlaceError(_("区划代码不能包含空格、斜杠或控制字符。"), field="code")
    return code


def _check_code_free(code: str, reserved: set[str]) -> None:
    if code in reserved:
        raise PlaceError(_("区划代码 %(code)s 在本次变更中重复。") % {"code": code}, field="code")
    holder = Place.objects.filter(code=code).first()
    if holder is not None:
        raise PlaceError(
            _("区划代码 %(code)s 已被「%(name)s」使用（区划代码永不复用）。")
            % {"code": code, "name": holder.name},
            field="code",
        )
    reserved.add(code)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise PlaceError(_("名称不能为空。"), field="name")
    if len(name) > NAME_MAX:
        raise PlaceError(_("名称不能超过 %(max)d 个字符。") % {"max": NAME_MAX}, field="name")
    if not name.isprintable():
        raise PlaceError(_("名称不能包含控制字符。"), field="name")
    return name


def _check_open(place: Place, effective: date) -> None:
    """The place must still be in force and ``effective`` must fall after it began."""
    if place.valid_to is not None:
        raise PlaceError(
            _("「%(name)s」已于 %(date)s 撤销或变更，不能再办理区划变更。")
            % {"name": place.name, "date": place.valid_to.isoformat()}
        )
    if place.valid_from is not None and effective <= place.valid_from:
        raise PlaceError(
            _("生效日期 %(date)s 必须晚于「%(name)s」的设立日期 %(start)s。")
            % {"date": effective.isoformat(), "name": place.name, "start": place.valid_from.isoformat()},
            field="effective",
        )


def _check_date(value: Any, label: str = "effective") -> date:
    if not isinstance(value, date):
        raise PlaceError(_("请提供有效的生效日期。"), field=label)
    return value


def _check_sibling_name(parent: Place | None, name: str, *, ignore: Iterable[int] = ()) -> None:
    if parent is None:
        return
    clash = parent.children.filter(name=name, valid_to__isnull=True).exclude(pk__in=list(ignore)).first()
    if clash is not None:
        raise PlaceError(
            _("「%(parent)s」下已有名为「%(name)s」的有效单位（代码 %(code)s）。")
            % {"parent": parent.name, "name": name, "code": clash.code},
            field="name",
        )


def _check_target_parent(place: Place, new_parent: Place) -> None:
    """A new place may hang under another unit of its old parent's level, in the same district."""
    old_parent = place.parent
    if old_parent is None or new_parent.kind != old_parent.kind:
        raise PlaceError(
            _("新单位的上级「%(name)s」层级不符。") % {"name": new_parent.name}, field="targets"
        )
    if new_parent.valid_to is not None:
        raise PlaceError(_("上级「%(name)s」已撤销，不能在其下设立新单位。") % {"name": new_parent.name}, field="targets")
    if _district_of(new_parent) != _district_of(place):
        raise PlaceError(
            _("「%(name)s」不在「%(place)s」所在的区，跨区调整须另行报批。")
            % {"name": new_parent.name, "place": place.name},
            field="targets",
        )


def _district_of(place: Place) -> int | None:
    """The id of the district-level unit above (or at) ``place``: the second id of its path."""
    ids = [int(pk) for pk in place.path.strip("/").split("/") if pk]
    return ids[1] if len(ids) >= 2 else None


def _locked(place: Place) -> Place:
    # Re-read under a row lock so two clerks cannot split the same community at once
    # (on SQLite the IMMEDIATE transaction already serialises writers). Actions refresh the
    # caller's instance after commit so it does not keep showing the place as open.
    return Place.objects.select_for_update().get(pk=place.pk)


def _snapshot(place: Place) -> dict[str, Any]:
    return {
        "code": place.code,
        "name": place.name,
        "kind": place.kind,
        "parent": place.parent.code if place.parent_id and place.parent else None,
        "valid_from": place.valid_from.isoformat() if place.valid_from else None,
        "valid_to": place.valid_to.isoformat() if place.valid_to else None,
    }


# --- low-level writes (only called from the actions below) ------------------------------------


def _insert(
    *, kind: str, code: str, name: str, parent: Place | None, valid_from: date | None, **details: Any
) -> Place:
    place = Place(kind=kind, code=code, name=name, parent=parent, valid_from=valid_from, path="", **details)
    # 繁體 name: the one given, else OpenCC's draft marked for review (core/i18n.py).
    draft_hant_on(place, supplied=["name_zh_hant"] if details.get("name_zh_hant") else [])
    place.save(force_insert=True)
    # The path needs the primary key, which exists only after the insert.
    place.path = f"{parent.path}{place.pk}/" if parent is not None else f"/{place.pk}/"
    place.save(update_fields=["path"])
    PlaceName.objects.create(place=place, name=name, valid_from=valid_from)
    return place


def _close(place: Place, effective: date) -> None:
    place.valid_to = effective
    place.save(update_fields=["valid_to"])
    place.names.filter(valid_to__isnull=True).update(valid_to=effective)


def _change(
    kind: str, effective: date, sources: Sequence[Place], targets: Sequence[Place], **extra: Any
) -> PlaceChange:
    change = PlaceChange.objects.create(kind=kind, effective=effective, **extra)
    change.sources.set(sources)
    change.targets.set(targets)
    return change


def _successor_code(child: Place, old_parent: Place, new_parent: Place) -> str:
    # Platform child codes are "<parent code><suffix>" (440311006-01-G1); keep the suffix.
    if child.code.startswith(old_parent.code):
        return new_parent.code + child.code[len(old_parent.code) :]
    return f"{new_parent.code}-{child.code}"


def _move_subtree(child: Place, new_parent: Place, effective: date, moved: dict[str, str]) -> Place:
    """Close ``child`` and open a successor (and successors of its open descendants) under ``new_parent``."""
    old_parent = child.parent
    assert old_parent is not None
    code = _successor_code(child, old_parent, new_parent)
    if len(code) > CODE_MAX or Place.objects.filter(code=code).exists():
        fallback = f"{new_parent.code}-{child.code}"
        if len(fallback) > CODE_MAX or Place.objects.filter(code=fallback).exists():
            raise PlaceError(
                _("无法为下级单位「%(name)s」生成新代码（%(code)s 已被占用），请先调整其代码。")
                % {"name": child.name, "code": code}
            )
        code = fallback
    successor = _insert(
        kind=child.kind,
        code=code,
        name=child.name,
        parent=new_parent,
        valid_from=effective,
        name_zh_hant=child.name_zh_hant,
        name_en=child.name_en,
        area_km2=child.area_km2,
        lat=child.lat,
        lng=child.lng,
        boundary=child.boundary,
        note=child.note,
    )
    grandchildren = list(child.children.filter(valid_to__isnull=True).order_by("code"))
    _close(child, effective)
    _change(
        ChangeKind.MOVE,
        effective,
        [child],
        [successor],
        note=_("随「%(old)s」变更调整至「%(new)s」") % {"old": old_parent.name, "new": new_parent.name},
    )
    moved[child.code] = successor.code
    for grandchild in grandchildren:
        _move_subtree(grandchild, successor, effective, moved)
    return successor


# --- actions ----------------------------------------------------------------------------------


def do_create_place(
    kind: str,
    code: str,
    name: str,
    parent: Place | None,
    valid_from: date | None = None,
    *,
    actor: Actor,
    name_en: str = "",
    name_zh_hant: str = "",
    area_km2: Decimal | None = None,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    note: str = "",
) -> Place:
    """Create a place under ``parent``. Side effects: a PlaceName row, audit ``place.create``."""
    if kind not in PlaceKind.values:
        raise PlaceError(_("未知的区划层级：%(kind)s。") % {"kind": kind}, field="kind")
    code = _clean_code(code)
    name = _clean_name(name)
    if valid_from is not None:
        _check_date(valid_from, "valid_from")
    expected = PARENT_KIND.get(PlaceKind(kind))
    if expected is None and parent is not None:
        raise PlaceError(
            _("「%(kind)s」是根节点，不能有上级。") % {"kind": PlaceKind(kind).label}, field="parent"
        )
    if expected is not None:
        if parent is None:
            raise PlaceError(
                _("「%(kind)s」必须隶属于一个「%(parent)s」。")
                % {"kind": PlaceKind(kind).label, "parent": expected.label},
                field="parent",
            )
        if parent.kind != expected:
            raise PlaceError(
                _("「%(kind)s」只能设在「%(expected)s」之下，「%(parent)s」是「%(actual)s」。")
                % {
                    "kind": PlaceKind(kind).label,
                    "expected": expected.label,
                    "parent": parent.name,
                    "actual": PlaceKind(parent.kind).label,
                },
                field="parent",
            )
    with transaction.atomic():
        if parent is not None:
            parent = _locked(parent)
            if parent.valid_to is not None:
                raise PlaceError(
                    _("上级「%(name)s」已于 %(date)s 撤销或变更，不能再设立下级单位。")
                    % {"name": parent.name, "date": parent.valid_to.isoformat()},
                    field="parent",
                )
            if parent.valid_from is not None and (valid_from is None or valid_from < parent.valid_from):
                raise PlaceError(
                    _("设立日期不能早于上级「%(name)s」的设立日期 %(date)s。")
                    % {"name": parent.name, "date": parent.valid_from.isoformat()},
                    field="valid_from",
                )
            _check_sibling_name(parent, name)
        _check_code_free(code, set())
        place = _insert(
            kind=kind,
            code=code,
            name=name,
            parent=parent,
            valid_from=valid_from,
            name_en=name_en,
            name_zh_hant=name_zh_hant,
            area_km2=area_km2,
            lat=lat,
            lng=lng,
            note=note,
        )
        record_event("place.create", actor=actor, obj=place, place_path=place.path, after=_snapshot(place))
    return place


def do_update_place_details(place: Place, *, actor: Actor, **changes: Any) -> Place:
    """Change descriptive fields (English name, area, centre, boundary, note) — not identity.

    Kind, code, parent and dates change only through split / merge / rename / abolish.
    """
    unknown = set(changes) - DETAIL_FIELDS
    if unknown:
        raise PlaceError(_("这些字段不能直接修改：%(fields)s。") % {"fields": "、".join(sorted(unknown))})
    for coord, bound in (("lat", 90), ("lng", 180)):
        value = changes.get(coord)
        if value is not None and not (-bound <= Decimal(value) <= bound):
            raise PlaceError(_("坐标超出范围。"), field=coord)
    if not changes:
        return place
    original = place
    with transaction.atomic():
        place = _locked(place)
        before = {k: getattr(place, k) for k in changes}
        for key, value in changes.items():
            setattr(place, key, value)
        fields = list(changes)
        if "name_zh_hant" in changes:
            draft_hant_on(place, supplied=["name_zh_hant"])
            fields += ["name_zh_hant", "zh_hant_source"]
        place.save(update_fields=list(dict.fromkeys(fields)))
        record_event(
            "place.update", actor=actor, obj=place, place_path=place.path, before=before, after=dict(changes)
        )
    original.refresh_from_db()
    return place


def do_rename_place(place: Place, new_name: str, effective: date, *, actor: Actor, note: str = "") -> Place:
    """Rename in place: same row, same code, same objects; the old name stays in the history.

    Side effects: closes the current PlaceName, opens a new one, records a ``rename`` change and
    audit ``place.rename``. Future-dated renames are refused because ``Place.name`` is the name
    in force today.
    """
    original = place
    new_name = _clean_name(new_name)
    effective = _check_date(effective)
    # A rename planned ahead waits in a RestructurePlan until its day (the plan's timer).
    if effective > clock.localdate():
        raise PlaceError(_("更名生效日期不能晚于今天。"), field="effective")
    with transaction.atomic():
        place = _locked(place)
        _check_open(place, effective)
        if new_name == place.name:
            raise PlaceError(_("新名称与现名称相同。"), field="name")
        current = (
            place.names.filter(valid_to__isnull=True).order_by(F("valid_from").desc(nulls_last=True)).first()
        )
        if current is not None and current.valid_from is not None and effective <= current.valid_from:
            raise PlaceError(
                _("生效日期必须晚于现名称的启用日期 %(date)s。") % {"date": current.valid_from.isoformat()},
                field="effective",
            )
        _check_sibling_name(place.parent, new_name, ignore=[place.pk])
        old_name = place.name
        if current is None:  # a row created outside the actions: give it its history first
            PlaceName.objects.create(
                place=place, name=old_name, valid_from=place.valid_from, valid_to=effective
            )
        else:
            current.valid_to = effective
            current.save(update_fields=["valid_to"])
        PlaceName.objects.create(place=place, name=new_name, valid_from=effective)
        place.name = new_name
        # The 繁體 name followed the old name: draft it again from the new one, for review.
        place.name_zh_hant = ""
        draft_hant_on(place)
        place.save(update_fields=["name", "name_zh_hant", "zh_hant_source"])
        _change(ChangeKind.RENAME, effective, [place], [place], note=note or f"{old_name} → {new_name}")
        record_event(
            "place.rename",
            actor=actor,
            obj=place,
            place_path=place.path,
            before={"name": old_name},
            after={"name": new_name, "effective": effective.isoformat()},
        )
    original.refresh_from_db()
    return place


def _as_target(item: SplitTarget | Sequence[Any]) -> SplitTarget:
    if isinstance(item, SplitTarget):
        return item
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return SplitTarget(item[0], item[1], tuple(item[2]) if len(item) == 3 else ())
    raise PlaceError(_("拆分目标格式应为（代码, 名称[, 划入的下级单位]）。"))


def do_split_place(
    place: Place,
    effective: date,
    targets: Sequence[SplitTarget | Sequence[Any]],
    *,
    actor: Actor,
    note: str = "",
    document_ref: str = "",
) -> list[Place]:
    """See :func:`_split_place`; returns the new places."""
    return _split_place(place, effective, targets, actor=actor, note=note, document_ref=document_ref)[0]


def _split_place(
    place: Place,
    effective: date,
    targets: Sequence[SplitTarget | Sequence[Any]],
    *,
    actor: Actor,
    note: str = "",
    document_ref: str = "",
) -> tuple[list[Place], dict[str, str]]:
    """Split ``place`` into new places under the same parent, effective ``effective``.

    Every current child of ``place`` must be assigned to exactly one target; it is carried over
    as a successor row (see the module docstring). Side effects: closes ``place`` and its
    current name; a ``split`` change; a ``move`` change per carried-over child; audit
    ``place.create`` per new row and ``place.split``.
    """
    original = place
    effective = _check_date(effective)
    plan = [_as_target(t) for t in targets]
    if len(plan) < 2:
        raise PlaceError(
            _("拆分至少需要两个新单位（收到 %(n)d 个）；只改名称请用更名。") % {"n": len(plan)},
            field="targets",
        )
    with transaction.atomic():
        place = _locked(place)
        _check_open(place, effective)
        parent = place.parent
        if parent is not None and parent.valid_to is not None:
            raise PlaceError(_("上级「%(name)s」已撤销，不能在其下设立新单位。") % {"name": parent.name})
        reserved: set[str] = set()
        names: set[str] = set()
        for target in plan:
            code = _clean_code(target.code)
            _check_code_free(code, reserved)
            name = _clean_name(target.name)
            if name in names:
                raise PlaceError(_("新单位名称「%(name)s」重复。") % {"name": name}, field="name")
            names.add(name)
            if target.parent is not None:
                _check_target_parent(place, target.parent)
            _check_sibling_name(target.parent or parent, name, ignore=[place.pk])

        open_children = {c.pk: c for c in place.children.filter(valid_to__isnull=True)}
        assigned: dict[int, int] = {}
        for index, target in enumerate(plan):
            for child in target.children:
                if child.pk not in open_children:
                    raise PlaceError(
                        _("「%(child)s」不是「%(place)s」现有的下级单位。")
                        % {"child": child.name, "place": place.name},
                        field="targets",
                    )
                if child.pk in assigned:
                    raise PlaceError(
                        _("「%(child)s」被分配到多个新单位。") % {"child": child.name}, field="targets"
                    )
                assigned[child.pk] = index
        missing = [c.name for pk, c in sorted(open_children.items()) if pk not in assigned]
        if missing:
            raise PlaceError(
                _("以下下级单位未指定拆分后的去向：%(names)s。") % {"names": "、".join(missing)},
                field="targets",
            )

        new_places = [
            _insert(
                kind=place.kind,
                code=target.code.strip(),
                name=target.name.strip(),
                parent=target.parent or parent,
                valid_from=effective,
                area_km2=target.area_km2,
                note=target.note,
                name_en=target.name_en,
            )
            for target in plan
        ]
        _close(place, effective)
        _change(ChangeKind.SPLIT, effective, [place], new_places, note=note, document_ref=document_ref)
        moved: dict[str, str] = {}
        for pk, index in sorted(assigned.items()):
            _move_subtree(open_children[pk], new_places[index], effective, moved)
        for new in new_places:
            record_event("place.create", actor=actor, obj=new, place_path=new.path, after=_snapshot(new))
        record_event(
            "place.split",
            actor=actor,
            obj=place,
            place_path=place.path,
            before={"valid_to": None},
            after={
                "valid_to": effective.isoformat(),
                "targets": [p.code for p in new_places],
                "moved": moved,
                "document_ref": document_ref,
            },
        )
    original.refresh_from_db()
    return new_places, moved


def do_merge_places(
    places: Sequence[Place],
    effective: date,
    code: str,
    name: str,
    *,
    actor: Actor,
    note: str = "",
    document_ref: str = "",
) -> Place:
    """See :func:`_merge_places`; returns the new place."""
    return _merge_places(places, effective, code, name, actor=actor, note=note, document_ref=document_ref)[0]


def _merge_places(
    places: Sequence[Place],
    effective: date,
    code: str,
    name: str,
    *,
    actor: Actor,
    note: str = "",
    document_ref: str = "",
) -> tuple[Place, dict[str, str]]:
    """Merge places of one kind under one parent into a new place; all their current children move.

    Cross-parent merges are refused: the new place would need a parent chosen by a separate
    decision (re-drawing a subdistrict boundary), which should be its own change.
    Side effects: closes the sources; a ``merge`` change; ``move`` changes; audit events.
    """
    effective = _check_date(effective)
    code = _clean_code(code)
    name = _clean_name(name)
    pks = sorted({p.pk for p in places})
    if len(pks) < 2:
        raise PlaceError(_("合并至少需要两个不同的单位。"), field="places")
    with transaction.atomic():
        sources = list(Place.objects.select_for_update().filter(pk__in=pks).order_by("code"))
        for source in sources:
            _check_open(source, effective)
        if len({s.kind for s in sources}) > 1:
            raise PlaceError(_("只能合并同一层级的单位。"), field="places")
        if len({s.parent_id for s in sources}) > 1:
            raise PlaceError(_("只能合并同一上级下的单位。"), field="places")
        parent = sources[0].parent
        if parent is not None and parent.valid_to is not None:
            raise PlaceError(_("上级「%(name)s」已撤销，不能在其下设立新单位。") % {"name": parent.name})
        _check_code_free(code, set())
        _check_sibling_name(parent, name, ignore=pks)
        children = [c for s in sources for c in s.children.filter(valid_to__isnull=True).order_by("code")]
        merged = _insert(kind=sources[0].kind, code=code, name=name, parent=parent, valid_from=effective)
        for source in sources:
            _close(source, effective)
        _change(ChangeKind.MERGE, effective, sources, [merged], note=note, document_ref=document_ref)
        moved: dict[str, str] = {}
        for child in children:
            _move_subtree(child, merged, effective, moved)
        record_event("place.create", actor=actor, obj=merged, place_path=merged.path, after=_snapshot(merged))
        record_event(
            "place.merge",
            actor=actor,
            obj=merged,
            place_path=merged.path,
            before={"sources": [s.code for s in sources]},
            after={"code": merged.code, "effective": effective.isoformat(), "moved": moved},
        )
    for original in places:
        original.refresh_from_db()
    return merged, moved


def do_abolish_place(
    place: Place, effective: date, *, actor: Actor, note: str = "", document_ref: str = ""
) -> Place:
    """Abolish a place with no current children (move or abolish those first)."""
    original = place
    effective = _check_date(effective)
    with transaction.atomic():
        place = _locked(place)
        _check_open(place, effective)
        children = list(
            place.children.filter(valid_to__isnull=True).order_by("code").values_list("name", flat=True)
        )
        if children:
            raise PlaceError(
                _("「%(name)s」下还有有效的下级单位（%(children)s），请先拆分、合并或撤销它们。")
                % {"name": place.name, "children": "、".join(children)}
            )
        _close(place, effective)
        _change(ChangeKind.ABOLISH, effective, [place], [], note=note, document_ref=document_ref)
        record_event(
            "place.abolish",
            actor=actor,
            obj=place,
            place_path=place.path,
            before={"valid_to": None},
            after={"valid_to": effective.isoformat()},
        )
    original.refresh_from_db()
    return place


# --- restructuring plans (issue 15): one reviewed plan, applied on its effective date ---------
#
# A plan is drafted (split / merge / rename of communities, with every residents' group and grid
# assigned), approved by a district supervisor of the district who did not draft it, and applied
# on its effective date by the durable timer ``places.apply_plan`` (or by ``do_apply_place_plan``
# once that date has come). Until then it may be edited (back to draft) or cancelled.
# Applying it runs the split / merge / rename above and then every app's place-move hook
# (``core.registry.register_place_move``): residents' homes, open cases, collective companies…
# move to the successor places; history (closed cases, past figures) stays where it was.
#
# ``spec`` by kind (place codes, never ids, so a plan reads the same in the audit log):
#   split:  {"targets": [{"code", "name", "name_en", "parent": subdistrict code or "",
#                         "children": [codes of groups/grids], "rest": bool}]}
#           ("rest": the target that takes what hangs on the community itself — exactly one)
#   merge:  {"code", "name", "name_en"}
#   rename: {"name"}

PLAN_TIMER = "places.apply_plan"
PLAN_PERMISSION = "places.plan"
APPROVE_PERMISSION = "places.approve_plan"


@dataclass
class PlanDraft:
    """What a plan says, as the console and the API send it (codes and names, not rows)."""

    kind: str
    source_codes: Sequence[str]
    effective: date
    targets: Sequence[dict[str, Any]] = ()
    code: str = ""
    name: str = ""
    name_en: str = ""
    note: str = ""
    document_ref: str = ""


def _allowed(actor: Actor, permission: str, path: str) -> bool:
    from gongzhi.accounts.permissions import has_permission

    if isinstance(actor, SystemActor):
        return actor.may(permission)
    return has_permission(actor, permission, path)


def _user_of(actor: Actor) -> Any:
    return None if isinstance(actor, SystemActor) else actor


def _plan_timer_key(plan: RestructurePlan) -> str:
    return f"places.plan:{plan.pk}:v{plan.version}"


def _effective_start(effective: date) -> datetime:
    """Midnight opening the effective day, Asia/Shanghai (the timer's due time)."""
    return datetime.combine(effective, time(0, 0), tzinfo=timezone.get_default_timezone())


def _sources(codes: Sequence[str]) -> list[Place]:
    found: list[Place] = []
    for code in dict.fromkeys(c.strip() for c in codes if c and c.strip()):
        place = Place.objects.filter(code=code[:CODE_MAX]).first() if "\x00" not in code else None
        if place is None:
            raise PlaceError(_("区划代码 %(code)s 不存在。") % {"code": code[:40]}, field="sources")
        found.append(place)
    if not found:
        raise PlaceError(_("请指定要调整的社区。"), field="sources")
    return found


def _validate_plan(
    draft: PlanDraft, *, actor: Actor, today: date, ignore_plan: int | None = None, applying: bool = False
) -> tuple[list[Place], Place, dict[str, Any], str]:
    """Check a plan against today's tree; return (sources, district, spec, title). Stores nothing."""
    if draft.kind not in PlanKind.values:
        raise PlaceError(_("未知的调整类型：%(kind)s。") % {"kind": draft.kind}, field="kind")
    effective = _check_date(draft.effective)
    if not applying and effective < today:
        raise PlaceError(
            _("生效日期 %(date)s 已过；调整方案只能在今天或以后生效。") % {"date": effective.isoformat()},
            field="effective",
        )
    sources = _sources(draft.source_codes)
    for source in sources:
        if source.kind != PlaceKind.COMMUNITY:
            raise PlaceError(_("「%(name)s」不是社区；调整方案只调整社区。") % {"name": source.name}, field="sources")
        if not applying:
            _check_open(source, effective)
        if not _allowed(actor, PLAN_PERMISSION, source.path):
            raise PlaceError(_("「%(name)s」不在您的辖区内。") % {"name": source.name}, field="sources")
        clash = (
            RestructurePlan.objects.filter(sources=source, status__in=OPEN_PLAN_STATUSES)
            .exclude(pk=ignore_plan or 0)
            .first()
        )
        if clash is not None:
            raise PlaceError(
                _("「%(name)s」已在调整方案「%(plan)s」中，请先撤回或修改该方案。")
                % {"name": source.name, "plan": clash.title},
                field="sources",
            )
    district_id = _district_of(sources[0])
    district = Place.objects.filter(pk=district_id).first() if district_id else None
    if district is None or district.kind != PlaceKind.DISTRICT:
        raise PlaceError(_("找不到「%(name)s」所在的区。") % {"name": sources[0].name}, field="sources")
    kind = PlanKind(draft.kind)
    if kind == PlanKind.RENAME:
        if len(sources) != 1:
            raise PlaceError(_("更名只能针对一个社区。"), field="sources")
        name = _clean_name(draft.name)
        if name == sources[0].name:
            raise PlaceError(_("新名称与现名称相同。"), field="name")
        _check_sibling_name(sources[0].parent, name, ignore=[sources[0].pk])
        spec: dict[str, Any] = {"name": name}
        title = _("「%(old)s」更名为「%(new)s」") % {"old": sources[0].name, "new": name}
    elif kind == PlanKind.MERGE:
        if len(sources) < 2:
            raise PlaceError(_("合并至少需要两个不同的社区。"), field="sources")
        if len({s.parent_id for s in sources}) > 1:
            raise PlaceError(_("只能合并同一街道下的社区。"), field="sources")
        code, name = _clean_code(draft.code), _clean_name(draft.name)
        if not applying:
            _check_code_free(code, set())
        _check_sibling_name(sources[0].parent, name, ignore=[s.pk for s in sources])
        spec = {"code": code, "name": name, "name_en": draft.name_en.strip()[:80]}
        title = _("%(sources)s 合并为「%(name)s」") % {"sources": "、".join(s.name for s in sources), "name": name}
    else:
        spec, title = _validate_split(draft, sources, district, applying=applying)
    if not applying:
        _reserve_codes(spec, kind, ignore_plan)
    return sources, district, spec, title


def _spec_codes(spec: dict[str, Any], kind: str) -> list[str]:
    if kind == PlanKind.MERGE:
        return [spec["code"]]
    if kind == PlanKind.SPLIT:
        return [t["code"] for t in spec["targets"]]
    return []


def _reserve_codes(spec: dict[str, Any], kind: str, ignore_plan: int | None) -> None:
    """A new code may not be promised by two open plans at once."""
    wanted = set(_spec_codes(spec, kind))
    if not wanted:
        return
    for other in RestructurePlan.objects.filter(status__in=OPEN_PLAN_STATUSES).exclude(pk=ignore_plan or 0):
        taken = wanted & set(_spec_codes(other.spec, other.kind))
        if taken:
            raise PlaceError(
                _("区划代码 %(code)s 已由调整方案「%(plan)s」预留。") % {"code": sorted(taken)[0], "plan": other.title},
                field="targets",
            )


def _validate_split(
    draft: PlanDraft, sources: list[Place], district: Place, *, applying: bool
) -> tuple[dict[str, Any], str]:
    if len(sources) != 1:
        raise PlaceError(_("拆分只能针对一个社区。"), field="sources")
    source = sources[0]
    if len(draft.targets) < 2:
        raise PlaceError(
            _("拆分至少需要两个新社区（收到 %(n)d 个）；只改名称请用更名。") % {"n": len(draft.targets)},
            field="targets",
        )
    open_children = {c.code: c for c in source.children.filter(valid_to__isnull=True)}
    assigned: dict[str, str] = {}
    reserved: set[str] = set()
    names: set[str] = set()
    targets: list[dict[str, Any]] = []
    rest = 0
    for raw in draft.targets:
        code = _clean_code(str(raw.get("code", "")))
        if applying:
            if code in reserved:
                raise PlaceError(_("区划代码 %(code)s 在本次变更中重复。") % {"code": code}, field="targets")
            reserved.add(code)
        else:
            _check_code_free(code, reserved)
        name = _clean_name(str(raw.get("name", "")))
        if name in names:
            raise PlaceError(_("新单位名称「%(name)s」重复。") % {"name": name}, field="targets")
        names.add(name)
        parent_code = str(raw.get("parent") or "").strip()
        parent = source.parent
        if parent_code:
            parent = Place.objects.filter(code=parent_code[:CODE_MAX]).first()
            if parent is None:
                raise PlaceError(_("上级区划代码 %(code)s 不存在。") % {"code": parent_code[:40]}, field="targets")
            if parent != source.parent:
                _check_target_parent(source, parent)
        _check_sibling_name(parent, name, ignore=[source.pk])
        children = [str(c).strip() for c in raw.get("children", []) if str(c).strip()]
        for child in children:
            if child not in open_children:
                raise PlaceError(
                    _("「%(child)s」不是「%(place)s」现有的居民小组或网格。") % {"child": child[:40], "place": source.name},
                    field="targets",
                )
            if child in assigned:
                raise PlaceError(
                    _("「%(child)s」被同时分配给「%(a)s」和「%(b)s」。")
                    % {"child": open_children[child].name, "a": assigned[child], "b": name},
                    field="targets",
                )
            assigned[child] = name
        rest += 1 if raw.get("rest") else 0
        targets.append(
            {
                "code": code,
                "name": name,
                "name_en": str(raw.get("name_en", "")).strip()[:80],
                "parent": parent.code if parent is not None and parent != source.parent else "",
                "children": children,
                "rest": bool(raw.get("rest")),
                "note": str(raw.get("note", "")).strip()[:500],
            }
        )
    missing = [c.name for code, c in sorted(open_children.items()) if code not in assigned]
    if missing:
        raise PlaceError(
            _("以下居民小组或网格未指定去向：%(names)s。") % {"names": "、".join(missing)}, field="targets"
        )
    if rest == 0:
        targets[0]["rest"] = True
    elif rest > 1:
        raise PlaceError(_("只能指定一个新社区承接原社区本级的居民和事项。"), field="targets")
    title = _("「%(source)s」拆分为 %(names)s") % {
        "source": source.name,
        "names": "、".join(t["name"] for t in targets),
    }
    return {"targets": targets}, title


def plan_moves(plan: RestructurePlan) -> dict[int, list[int]]:
    """For the preview: target index → ids of the places whose rows would move there."""
    sources = list(plan.sources.order_by("code"))
    if plan.kind == PlanKind.RENAME:
        return {}
    if plan.kind == PlanKind.MERGE:
        ids: list[int] = []
        for s in sources:
            ids += list(Place.objects.filter(path__startswith=s.path, valid_to__isnull=True).values_list("pk", flat=True))
        return {0: ids}
    source = sources[0]
    out: dict[int, list[int]] = {}
    for index, target in enumerate(plan.spec.get("targets", [])):
        ids = [source.pk] if target.get("rest") else []
        for child in Place.objects.filter(code__in=target.get("children", []), valid_to__isnull=True):
            ids += list(Place.objects.filter(path__startswith=child.path, valid_to__isnull=True).values_list("pk", flat=True))
        out[index] = ids
    return out


def plan_preview(plan: RestructurePlan) -> list[dict[str, Any]]:
    """Per target: its name and, per registered app, how many rows would move there."""
    from gongzhi.core.registry import place_moves

    hooks = place_moves()
    names = (
        [t["name"] for t in plan.spec.get("targets", [])]
        if plan.kind == PlanKind.SPLIT
        else [plan.spec.get("name", "")]
    )
    rows = []
    for index, ids in sorted(plan_moves(plan).items()):
        rows.append(
            {
                "target": names[index] if index < len(names) else "",
                "counts": [{"key": h.key, "label": str(h.label), "count": h.count(ids) if ids else 0} for h in hooks],
            }
        )
    return rows


def _preview_totals(plan: RestructurePlan) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in plan_preview(plan):
        for c in row["counts"]:
            totals[c["key"]] = totals.get(c["key"], 0) + int(c["count"])
    return totals


def _plan_snapshot(plan: RestructurePlan) -> dict[str, Any]:
    return {
        "kind": plan.kind,
        "status": plan.status,
        "effective": plan.effective.isoformat(),
        "sources": [p.code for p in plan.sources.order_by("code")],
        "spec": plan.spec,
        "version": plan.version,
    }


def do_draft_place_plan(draft: PlanDraft, *, actor: Actor) -> RestructurePlan:
    """Record a draft plan after checking it against today's tree. Audit ``place.plan_draft``."""
    today = clock.localdate()
    with transaction.atomic():
        sources, district, spec, title = _validate_plan(draft, actor=actor, today=today)
        plan = RestructurePlan.objects.create(
            kind=draft.kind,
            effective=draft.effective,
            district=district,
            place_path=sources[0].path,
            spec=spec,
            title=title[:200],
            note=draft.note.strip()[:2000],
            document_ref=draft.document_ref.strip()[:120],
            drafted_by=_user_of(actor),
            drafted_at=clock.now(),
        )
        plan.sources.set(sources)
        plan.preview = _preview_totals(plan)
        plan.save(update_fields=["preview"])
        record_event("place.plan_draft", actor=actor, obj=plan, place_path=plan.place_path, after=_plan_snapshot(plan))
    return plan


def _locked_plan(plan: RestructurePlan) -> RestructurePlan:
    return RestructurePlan.objects.select_for_update().get(pk=plan.pk)


def _check_plan_open(plan: RestructurePlan, today: date) -> None:
    if not plan.is_open:
        raise ConflictError(
            _("方案「%(title)s」%(status)s，不能再修改。") % {"title": plan.title, "status": plan.get_status_display()},
        )


def do_update_place_plan(
    plan: RestructurePlan, draft: PlanDraft, *, actor: Actor, expected_version: int | None = None
) -> RestructurePlan:
    """Edit a plan before it takes effect. An approved plan goes back to draft (approve again)."""
    today = clock.localdate()
    with transaction.atomic():
        plan = _locked_plan(plan)
        _check_plan_open(plan, today)
        if expected_version is not None and expected_version != plan.version:
            raise ConflictError(_("方案已被他人修改，请刷新后再改。"), field="version")
        if not _allowed(actor, PLAN_PERMISSION, plan.place_path):
            raise NotAllowedError(_("您不能修改这个方案。"))
        if draft.kind != plan.kind:
            raise PlaceError(_("不能改变方案的调整类型；请撤回后另拟。"), field="kind")
        before = _plan_snapshot(plan)
        sources, district, spec, title = _validate_plan(draft, actor=actor, today=today, ignore_plan=plan.pk)
        do_cancel_timer(_plan_timer_key(plan))
        plan.effective = draft.effective
        plan.district = district
        plan.place_path = sources[0].path
        plan.spec = spec
        plan.title = title[:200]
        plan.note = draft.note.strip()[:2000]
        plan.document_ref = draft.document_ref.strip()[:120]
        plan.status = PlanStatus.DRAFT
        plan.approved_by = None
        plan.approved_at = None
        plan.version += 1
        plan.save()
        plan.sources.set(sources)
        plan.preview = _preview_totals(plan)
        plan.save(update_fields=["preview"])
        record_event("place.plan_update", actor=actor, obj=plan, place_path=plan.place_path, before=before,
                     after=_plan_snapshot(plan))
    return plan


def _plan_draft_of(plan: RestructurePlan) -> PlanDraft:
    spec = plan.spec
    return PlanDraft(
        kind=plan.kind,
        source_codes=[p.code for p in plan.sources.order_by("code")],
        effective=plan.effective,
        targets=spec.get("targets", []),
        code=spec.get("code", ""),
        name=spec.get("name", ""),
        name_en=spec.get("name_en", ""),
        note=plan.note,
        document_ref=plan.document_ref,
    )


def do_approve_place_plan(
    plan: RestructurePlan, *, actor: Actor, expected_version: int | None = None
) -> RestructurePlan:
    """A district supervisor of the plan's district (not its drafter) approves it; the timer is set.

    The plan is checked again against today's tree (a group created since the draft must be
    assigned). A plan effective today is applied at once.
    """
    today = clock.localdate()
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status != PlanStatus.DRAFT:
            raise ConflictError(
                _("方案「%(title)s」%(status)s，不能审批。") % {"title": plan.title, "status": plan.get_status_display()},
            )
        if expected_version is not None and expected_version != plan.version:
            raise ConflictError(_("方案已被修改，请查看最新内容后再审批。"), field="version")
        if not _allowed(actor, APPROVE_PERMISSION, plan.district.path):
            raise NotAllowedError(_("只有本区的区级督导可以批准区划调整方案。"))
        user = _user_of(actor)
        if user is not None and plan.drafted_by_id == user.pk:
            raise NotAllowedError(_("拟定人不能批准自己拟定的方案，请由另一位区级督导审批。"))
        _validate_plan(_plan_draft_of(plan), actor=_APPROVER, today=today, ignore_plan=plan.pk)
        plan.status = PlanStatus.APPROVED
        plan.approved_by = user
        plan.approved_at = clock.now()
        plan.preview = _preview_totals(plan)
        plan.last_error = ""
        plan.save(update_fields=["status", "approved_by", "approved_at", "preview", "last_error"])
        do_arm_timer(PLAN_TIMER, _plan_timer_key(plan), _effective_start(plan.effective), {"plan": plan.pk})
        record_event("place.plan_approve", actor=actor, obj=plan, place_path=plan.place_path,
                     after=_plan_snapshot(plan))
    if plan.effective <= today:
        plan = do_apply_place_plan(plan, actor=actor)
    return plan


def do_cancel_place_plan(plan: RestructurePlan, *, actor: Actor, reason: str = "") -> RestructurePlan:
    """Withdraw a plan that has not taken effect; its timer is cancelled. Audit ``place.plan_cancel``."""
    with transaction.atomic():
        plan = _locked_plan(plan)
        _check_plan_open(plan, clock.localdate())
        if not (_allowed(actor, PLAN_PERMISSION, plan.place_path) or _allowed(actor, APPROVE_PERMISSION, plan.district.path)):
            raise NotAllowedError(_("您不能撤回这个方案。"))
        do_cancel_timer(_plan_timer_key(plan))
        plan.status = PlanStatus.CANCELLED
        plan.closed_by = _user_of(actor)
        plan.closed_at = clock.now()
        plan.last_error = reason.strip()[:500]
        plan.save(update_fields=["status", "closed_by", "closed_at", "last_error"])
        record_event("place.plan_cancel", actor=actor, obj=plan, place_path=plan.place_path,
                     after={"status": plan.status, "reason": reason.strip()[:500]})
    return plan


def _place_moves(moved_codes: dict[str, str], extra: dict[Place, Place]) -> dict[int, tuple[int, str]]:
    moves = {old.pk: (new.pk, new.path) for old, new in extra.items()}
    if moved_codes:
        by_code = {p.code: p for p in Place.objects.filter(code__in=[*moved_codes, *moved_codes.values()])}
        for old_code, new_code in moved_codes.items():
            moves[by_code[old_code].pk] = (by_code[new_code].pk, by_code[new_code].path)
    return moves


def do_apply_place_plan(plan: RestructurePlan, *, actor: Actor) -> RestructurePlan:
    """Carry out an approved plan whose effective date has come (the timer, or by hand).

    Runs the split / merge / rename with ``effective`` as its date, then every registered app's
    place-move hook with the old → new place map. Idempotent: an applied plan is left alone.
    """
    from gongzhi.core.registry import place_moves

    today = clock.localdate()
    with transaction.atomic():
        plan = _locked_plan(plan)
        if plan.status == PlanStatus.APPLIED:
            return plan
        if plan.status != PlanStatus.APPROVED:
            raise ConflictError(_("方案尚未批准，不能实施。"))
        if plan.effective > today:
            raise ConflictError(
                _("方案 %(date)s 才生效，届时由系统自动实施。") % {"date": plan.effective.isoformat()},
                field="effective",
            )
        if not _allowed(actor, APPROVE_PERMISSION, plan.district.path):
            raise NotAllowedError(_("只有本区的区级督导可以实施区划调整方案。"))
        sources = list(plan.sources.order_by("code"))
        spec = plan.spec
        if plan.kind == PlanKind.RENAME:
            do_rename_place(sources[0], spec["name"], plan.effective, actor=actor, note=plan.note)
            moves: dict[int, tuple[int, str]] = {}
        elif plan.kind == PlanKind.MERGE:
            merged, moved = _merge_places(sources, plan.effective, spec["code"], spec["name"], actor=actor,
                                          note=plan.note or plan.title, document_ref=plan.document_ref)
            if spec.get("name_en"):
                Place.objects.filter(pk=merged.pk).update(name_en=spec["name_en"])
            moves = _place_moves(moved, dict.fromkeys(sources, merged))
        else:
            source = sources[0]
            targets = [
                SplitTarget(
                    code=t["code"],
                    name=t["name"],
                    name_en=t.get("name_en", ""),
                    note=t.get("note", ""),
                    children=list(Place.objects.filter(code__in=t["children"])),
                    parent=Place.objects.get(code=t["parent"]) if t.get("parent") else None,
                )
                for t in spec["targets"]
            ]
            new_places, moved = _split_place(source, plan.effective, targets, actor=actor,
                                             note=plan.note or plan.title, document_ref=plan.document_ref)
            rest = next(i for i, t in enumerate(spec["targets"]) if t.get("rest"))
            moves = _place_moves(moved, {source: new_places[rest]})
        counts = {hook.key: hook.move(moves, plan.effective) for hook in place_moves()} if moves else {}
        do_cancel_timer(_plan_timer_key(plan))  # applied by hand: the timer has nothing left to do
        change = (
            PlaceChange.objects.filter(sources__in=[s.pk for s in sources], effective=plan.effective)
            .exclude(kind=ChangeKind.MOVE)
            .order_by("-id")
            .first()
        )
        plan.status = PlanStatus.APPLIED
        plan.change = change
        plan.moved = counts
        plan.closed_at = clock.now()
        plan.last_error = ""
        plan.save(update_fields=["status", "change", "moved", "closed_at", "last_error"])
        record_event("place.plan_apply", actor=actor, obj=plan, place_path=plan.place_path,
                     after={"status": plan.status, "moved": counts})
    return plan


# The worker applies approved plans on their date (granted exactly the two plan permissions).
_APPROVER = SystemActor("places.plan", frozenset({PLAN_PERMISSION, APPROVE_PERMISSION}))


def handle_plan_timer(timer: Any) -> None:
    """Timer ``places.apply_plan``: apply the plan; a plan no longer valid keeps its error for the console."""
    plan = RestructurePlan.objects.filter(pk=timer.payload.get("plan")).first()
    if plan is None or plan.status != PlanStatus.APPROVED:
        return
    try:
        with transaction.atomic():
            do_apply_place_plan(plan, actor=_APPROVER)
    except ActionError as exc:
        RestructurePlan.objects.filter(pk=plan.pk).update(last_error=exc.message[:2000])

