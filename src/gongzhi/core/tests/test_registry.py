"""Start-up warm-ups: registered by apps, run once by the web process (gongzhi/wsgi.py)."""

from __future__ import annotations

import importlib

from gongzhi.core import registry


def test_warm_ups_registered_by_apps_run_when_the_web_application_loads(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert "services.search_dictionary" in registry.REGISTRY.warm_ups  # jieba's dictionary
    import gongzhi.wsgi

    ran: list[str] = []
    monkeypatch.setitem(registry.REGISTRY.warm_ups, "test.marker", lambda: ran.append("warm"))
    importlib.reload(gongzhi.wsgi)  # what a web server's import of the module does
    assert ran == ["warm"]
    assert callable(gongzhi.wsgi.application)
