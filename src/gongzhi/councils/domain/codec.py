"""Events to and from JSON: the shape stored in ``MeetingEvent.payload`` and sent by clients.

``procedure`` keeps its events as frozen dataclasses and knows nothing of JSON, so the councils
app owns the (de)serialisation. Pure Python: no Django import, tested without a database.

A dict looks like ``{"type": "Move", "actor": "12", "at": "2026-03-01T09:00:00+00:00",
"kind": "main", "text": "..."}``. ``type`` is the event class name (``Move``) or its action code
(``move``, ``call_to_order``): clients send the short code, the log stores the class name.
Enums travel as their stable values, tuples as lists, times as ISO 8601 with an offset.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from procedure import EVENT_TYPES, Event

EVENTS_BY_NAME: dict[str, type[Event]] = {cls.__name__: cls for cls in EVENT_TYPES}
EVENTS_BY_ACTION: dict[str, type[Event]] = {cls.action.value: cls for cls in EVENT_TYPES}
# Fields the server fills in; a client dict may not set them (see ``event_from_client``).
SERVER_FIELDS = frozenset({"actor", "at", "expected_version"})


class CodecError(ValueError):
    """A dict that is not a valid event. ``message`` is Chinese, ``field`` names the key at fault."""

    rule = "invalid"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def event_class(type_name: object) -> type[Event]:
    if not isinstance(type_name, str):
        raise CodecError("缺少操作类型（type）。", field="type")
    cls = EVENTS_BY_NAME.get(type_name) or EVENTS_BY_ACTION.get(type_name)
    if cls is None:
        known = "、".join(sorted(EVENTS_BY_ACTION))
        raise CodecError(f"未知的操作类型“{type_name[:40]}”，可用：{known}。", field="type")
    return cls


_HINTS: dict[type[Event], dict[str, Any]] = {}


def _hints(cls: type[Event]) -> dict[str, Any]:
    # get_type_hints resolves the string annotations left by ``from __future__ import annotations``.
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fields(cls: type[Event]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def event_to_dict(event: Event, *, with_version: bool = True) -> dict[str, Any]:
    """Plain JSON-ready dict of ``event`` (``with_version=False`` drops ``expected_version``)."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in _fields(type(event)):
        if f.name == "expected_version" and not with_version:
            continue
        out[f.name] = _encode(getattr(event, f.name))
    return out


def _decode(name: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _decode(name, inner[0], value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise CodecError(f"字段 {name} 应为列表。", field=name)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(name, args[0], v) for v in value)
        if len(value) != len(args):  # a fixed-length tuple, e.g. a ballot slip (choice, weight)
            raise CodecError(f"字段 {name} 应为 {len(args)} 项的列表。", field=name)
        return tuple(_decode(name, a, v) for a, v in zip(args, value, strict=True))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            choices = "、".join(str(m.value) for m in hint)
            raise CodecError(f"字段 {name} 的取值“{str(value)[:40]}”无效，可用：{choices}。", field=name) from None
    if hint is datetime:
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                raise CodecError(f"字段 {name} 应为 ISO 8601 时间。", field=name) from None
        if parsed.tzinfo is None:
            raise CodecError(f"字段 {name} 的时间须带时区。", field=name)
        return parsed
    if hint is bool:
        if not isinstance(value, bool):
            raise CodecError(f"字段 {name} 应为 true 或 false。", field=name)
        return value
    if hint is int:
        # bool is an int in Python; refuse it where a number is meant.
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"字段 {name} 应为整数。", field=name)
        if not -(2**31) <= value < 2**31:
            raise CodecError(f"字段 {name} 超出范围。", field=name)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise CodecError(f"字段 {name} 应为文本。", field=name)
        if "\x00" in value:
            raise CodecError(f"字段 {name} 含有非法字符。", field=name)
        if len(value) > 4000:
            raise CodecError(f"字段 {name} 过长（最多 4000 字）。", field=name)
        return value
    raise CodecError(f"字段 {name} 无法解析。", field=name)  # pragma: no cover - every hint is above


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuild an event from ``event_to_dict``'s output (or a client's dict with actor and at)."""
    if not isinstance(data, Mapping):
        raise CodecError("操作应为 JSON 对象。")
    cls = event_class(data.get("type"))
    hints = _hints(cls)
    fields = {f.name: f for f in _fields(cls)}
    unknown = sorted(set(data) - set(fields) - {"type"})
    if unknown:
        raise CodecError(f"{cls.__name__} 不接受字段：{'、'.join(k[:40] for k in unknown)}。", field=unknown[0])
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CodecError(f"缺少字段 {name}。", field=name)
            continue
        kwargs[name] = _decode(name, hints[name], data[name])
    return cls(**kwargs)


def event_from_client(data: Mapping[str, Any], *, actor: str, at: datetime,
                      expected_version: int | None = None) -> Event:
    """A client's action dict as an event, with the server's actor, clock and version check.

    A client never chooses who acts or when: ``actor`` and ``at`` in its dict are refused rather
    than silently overwritten, so a forged field is noticed in tests and logs.
    """
    if not isinstance(data, Mapping):
        raise CodecError("操作应为 JSON 对象。")
    forged = sorted(SERVER_FIELDS & set(data))
    if forged:
        raise CodecError(f"字段 {forged[0]} 由服务器填写，请勿提交。", field=forged[0])
    full = dict(data)
    full.update(actor=actor, at=at.isoformat(), expected_version=expected_version)
    return event_from_dict(full)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def outcome_to_dict(outcome: Any) -> dict[str, Any]:
    """An engine outcome as JSON: ``{"type": "MotionMade", ...fields}`` (tallies nested)."""
    data = _plain(outcome)
    return {"type": type(outcome).__name__, **data}


def to_jsonable(value: Any) -> Any:
    """Any engine record (minutes, tallies) as plain JSON values."""
    return _plain(value)
