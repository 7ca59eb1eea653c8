"""The feature registry: how apps tell ``core`` (and the dashboard) what they offer.

Apps call these functions from ``AppConfig.ready()``. There is no dashboard yet; figures per place and
year are registered (``register_figures``) for it to read; map layers are registered by places. Nothing here imports a feature app, so
feature apps never import each other's internals (DESIGN.md §2, Decidim's manifests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TimerHandler = Callable[[Any], None]  # receives the claimed core.Timer row


@dataclass(frozen=True)
class MapLayer:
    key: str
    label: str
    features: Callable[[Any], dict[str, Any]]  # user -> GeoJSON FeatureCollection


@dataclass(frozen=True)
class DemoLoader:
    """Loads one app's share of the Shenzhen demo data. ``load(actor, progress)`` must be
    idempotent and return login rows ``(username, password, role label, place)`` if it makes users."""

    order: int
    key: str
    load: Callable[..., Any]


@dataclass(frozen=True)
class FrontDoorPanel:
    """A section of the public home page (the front door), shown to everyone, logged in or not:
    ``template`` is included with ``panel`` = ``context(request)``. Panels show in ``order``."""

    order: int
    key: str
    template: str
    context: Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class PlaceMove:
    """How one app takes part in a community restructuring (places.RestructurePlan).

    ``count(place_ids)`` → how many of the app's rows a plan would move away from those places
    (the console's preview); ``move(moves, effective)`` carries them over when the plan is applied,
    inside the plan's transaction, and returns how many it moved. ``moves`` maps each closed
    place's id to ``(successor id, successor path)``. Only *current* rows move (a resident's home,
    an open case, a company's land); history (closed cases, past figures, old events) stays where
    it was, so reports for a past period keep the old boundaries. Register it in
    ``AppConfig.ready()`` with :func:`register_place_move`; nothing here imports the app.
    """

    key: str
    label: Any  # lazy text shown in the preview, e.g. _("在办办件")
    count: Callable[[list[int]], int]
    move: Callable[[dict[int, tuple[int, str]], Any], int]
    order: int = 100


@dataclass(frozen=True)
class FigureSource:
    """Figures an app offers the dashboard: ``figures(place, year)`` → a dict of named numbers
    (aggregates only, public)."""

    key: str
    label: Any
    figures: Callable[[Any, int], dict[str, Any]]


@dataclass(frozen=True)
class Resolution:
    """A meeting's resolution as another app may rely on it (a company decision held as a
    shareholders' meeting, issue 13): registered by ``councils`` with
    :func:`register_resolution_lookup`, read with :func:`resolution_of`."""

    meeting_id: int
    title: str
    place_path: str
    council_kind: str  # "shareholders", "residents", …
    weighted: bool  # votes counted by shares
    minutes_approved: bool
    adopted: tuple[dict[str, Any], ...]  # adopted main motions: {"text", "ayes", "noes", "ayes_weight", "noes_weight"}
    minutes_url: str


@dataclass
class _Registry:
    timer_handlers: dict[str, TimerHandler] = field(default_factory=dict)
    periodic: dict[str, Callable[[], Any]] = field(default_factory=dict)
    map_layers: dict[str, MapLayer] = field(default_factory=dict)
    calendar_listeners: list[Callable[[], Any]] = field(default_factory=list)
    landing_links: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    demo_loaders: list[DemoLoader] = field(default_factory=list)
    demo_notes: dict[str, Callable[[list[tuple[str, str, str, str]]], str]] = field(default_factory=dict)
    websocket_routes: list[Any] = field(default_factory=list)
    warm_ups: dict[str, Callable[[], Any]] = field(default_factory=dict)
    front_door: list[FrontDoorPanel] = field(default_factory=list)
    place_moves: dict[str, PlaceMove] = field(default_factory=dict)
    figures: dict[str, FigureSource] = field(default_factory=dict)
    resolution_lookup: Callable[[int], Resolution | None] | None = None


REGISTRY = _Registry()


def register_timer(kind: str, handler: TimerHandler) -> None:
    """Durable timers of ``kind`` are handed to ``handler`` by the worker once due."""
    if kind in REGISTRY.timer_handlers and REGISTRY.timer_handlers[kind] is not handler:
        raise ValueError(f"timer kind {kind!r} registered twice")
    REGISTRY.timer_handlers[kind] = handler


def register_periodic(key: str, job: Callable[[], Any]) -> None:
    """A job the worker loop runs on every tick (must be cheap when there is nothing to do)."""
    REGISTRY.periodic[key] = job


def register_map_layer(layer: MapLayer) -> None:
    REGISTRY.map_layers[layer.key] = layer


def on_calendar_changed(listener: Callable[[], Any]) -> None:
    """Called after the working-day calendar changes (e.g. ``gongzhi calendar load``)."""
    if listener not in REGISTRY.calendar_listeners:
        REGISTRY.calendar_listeners.append(listener)


def register_landing_link(role: str, url_name: str, label: Any) -> None:
    """A link shown on the landing page of ``role`` (role value from accounts.enums.Role)."""
    links = REGISTRY.landing_links.setdefault(role, [])
    if (url_name, label) not in links:
        links.append((url_name, label))


def register_front_door(order: int, key: str, template: str, context: Callable[[Any], dict[str, Any]]) -> None:
    """A panel of the public home page (core:index); public data only — it is shown logged out."""
    REGISTRY.front_door[:] = [p for p in REGISTRY.front_door if p.key != key]
    REGISTRY.front_door.append(FrontDoorPanel(order, key, template, context))
    REGISTRY.front_door.sort(key=lambda p: p.order)


def register_place_move(
    key: str,
    label: Any,
    count: Callable[[list[int]], int],
    move: Callable[[dict[int, tuple[int, str]], Any], int],
    *,
    order: int = 100,
) -> None:
    """An app's rows that follow a community split/merge to the successor places (see PlaceMove).

    Example (in an app's ``AppConfig.ready()``)::

        register_place_move("assets.land", _("集体土地"), count_land, move_land)

    where ``count_land(place_ids)`` counts the parcels held at those places and
    ``move_land({old_id: (new_id, new_path)}, effective)`` re-points them and returns how many.
    """
    REGISTRY.place_moves[key] = PlaceMove(key, label, count, move, order)


def place_moves() -> list[PlaceMove]:
    """The registered place-move hooks, in ``order`` then key."""
    return sorted(REGISTRY.place_moves.values(), key=lambda m: (m.order, m.key))


def register_figures(key: str, label: Any, figures: Callable[[Any, int], dict[str, Any]]) -> None:
    """Per-place, per-year figures for the dashboard (e.g. micro-projects' adoption rate)."""
    REGISTRY.figures[key] = FigureSource(key, label, figures)


def register_demo_loader(order: int, key: str, load: Callable[..., Any]) -> None:
    """Demo loaders run in ``order`` inside one transaction (interrupting leaves nothing half-written)."""
    REGISTRY.demo_loaders[:] = [d for d in REGISTRY.demo_loaders if d.key != key]
    REGISTRY.demo_loaders.append(DemoLoader(order, key, load))
    REGISTRY.demo_loaders.sort(key=lambda d: d.order)


def register_demo_note(key: str, note: Callable[[list[tuple[str, str, str, str]]], str]) -> None:
    """Lines printed under the demo logins (``note(logins)``), e.g. how to pass a second factor."""
    REGISTRY.demo_notes[key] = note


def register_websocket_route(route: Any) -> None:
    """A Channels URL route (``path("ws/...", Consumer.as_asgi())``) served by the ASGI process."""
    REGISTRY.websocket_routes.append(route)


def register_warm_up(key: str, job: Callable[[], Any]) -> None:
    """Work a server process does once at start instead of inside its first requests (e.g. loading
    a dictionary): run by ``gongzhi.wsgi`` when a web server loads the application."""
    REGISTRY.warm_ups[key] = job


def warm_up() -> None:
    for job in REGISTRY.warm_ups.values():
        job()


def register_resolution_lookup(lookup: Callable[[int], Resolution | None]) -> None:
    """How a meeting's resolution is read (``councils``): meeting id → :class:`Resolution` or None."""
    REGISTRY.resolution_lookup = lookup


def resolution_of(meeting_id: int) -> Resolution | None:
    """The resolution of meeting ``meeting_id``, or None (no such meeting, or no councils app)."""
    lookup = REGISTRY.resolution_lookup
    return lookup(meeting_id) if lookup is not None else None
