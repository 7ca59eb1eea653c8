"""The system actor tests act as when they build data through the actions (granted everything,
like the console); a plain string is no actor (core/actors.py)."""

from __future__ import annotations

from gongzhi.core.actors import EVERYTHING, SystemActor

SYSTEM = SystemActor("test", frozenset({EVERYTHING}))
