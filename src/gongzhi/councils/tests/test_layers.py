"""Issue #10: the councils app imports in layer order only (DESIGN.md §2), with no cycle.

``enums`` → ``models`` → ``domain/`` → ``engine``/``broadcast`` → ``actions`` → ``queries`` →
``room`` (the live room's state and hub) → interfaces (``consumers``, ``views``, ``api``,
``admin``…). Lazy imports inside functions count too: a cycle hidden in a function is still one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gongzhi.councils"

RANK = {
    "enums": 0, "converters": 0, "labels": 0, "models": 1, "domain": 2, "engine": 3, "broadcast": 3, "actions": 4,
    "queries": 5, "minutes": 5, "room": 6, "consumers": 7, "routing": 8, "views": 8, "api": 8, "admin": 8,
    "urls": 9, "demo": 9, "management": 9, "apps": 10,
}


def _modules() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "tests" not in p.relative_to(ROOT).parts and "migrations"
            not in p.relative_to(ROOT).parts and p.name != "__init__.py"]


def _layer(dotted: str) -> str:
    return dotted.removeprefix(PACKAGE + ".").split(".")[0]


def _imports(path: Path) -> set[str]:
    """Every ``gongzhi.councils.<module>`` the file imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                out.update(f"{PACKAGE}.{a.name}" for a in node.names)
            elif node.module.startswith(PACKAGE + "."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers_only(path: Path) -> None:
    own = path.relative_to(ROOT).parts[0].removesuffix(".py")
    assert own in RANK, f"{own}: give the new module a layer in RANK"
    for target in _imports(path):
        layer = _layer(target)
        assert layer in RANK, target
        if layer == own:
            continue
        assert RANK[layer] < RANK[own], f"{own} imports {target}: against the layer order"


# Pairs the layer order alone would allow but the design does not: reads never call the write
# module (its errors live in core.errors), and no page or endpoint reaches into the socket code
# (the room's state and hub are in ``room``).
FORBIDDEN = {("queries", "actions"), ("views", "consumers"), ("api", "consumers"), ("admin", "consumers")}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_forbidden_imports(path: Path) -> None:
    own = path.relative_to(ROOT).parts[0].removesuffix(".py")
    for target in _imports(path):
        assert (own, _layer(target)) not in FORBIDDEN, f"{own} imports {target}"


def test_domain_is_pure() -> None:
    for path in (ROOT / "domain").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import django" not in text and "from django" not in text, path.name
        assert not {t for t in _imports(path) if _layer(t) != "domain"}, path.name
