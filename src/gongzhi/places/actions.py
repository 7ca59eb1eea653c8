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
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event
from gongzhi.core.errors import ActionError
from gongzhi.core.i18n import draft_hant_on
from gongzhi.places.enums import PARENT_KIND, ChangeKind, PlaceKind
from gongzhi.places.models import Place, PlaceChange, PlaceName

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
    if effective > timezone.localdate():
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
            _check_sibling_name(parent, name, ignore=[place.pk])

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
                parent=parent,
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
    return new_places


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
    return merged


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
