"""The engine finds each action's check and effect in one explicit table (``HANDLERS``)."""

from __future__ import annotations

import inspect

from procedure.enums import ActionKind
from procedure.meeting import HANDLERS, Meeting


def test_every_action_has_its_check_and_effect_in_the_table() -> None:
    assert set(HANDLERS) == set(ActionKind)
    for kind, handler in HANDLERS.items():
        # The table pairs each action with the methods written for it, and nothing else.
        assert handler.check.__name__ == f"_check_{kind.value}", kind
        assert handler.apply.__name__ == f"_do_{kind.value}", kind


def test_push_and_check_read_the_table_not_method_names() -> None:
    source = inspect.getsource(Meeting.push) + inspect.getsource(Meeting.check)
    assert "getattr" not in source and "HANDLERS" in source
