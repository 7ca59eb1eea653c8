"""``core`` sits below every app (DESIGN.md §2): nothing under core/ except its tests imports a
feature app; what core needs from one it reaches through the registry or a setting."""

from __future__ import annotations

import ast
from pathlib import Path

import gongzhi.core

CORE = Path(gongzhi.core.__file__).parent
APPS = {"places", "accounts", "people", "services", "councils", "microprojects", "assets", "villages", "dashboard"}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module",
            "import_string",
        }:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def test_core_imports_no_feature_app() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        if "tests" in path.relative_to(CORE).parts:
            continue
        for line, module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            parts = module.split(".")
            if len(parts) > 1 and parts[0] == "gongzhi" and parts[1] in APPS:
                offenders.append(f"{path.relative_to(CORE)}:{line} imports {module}")
    assert not offenders, "\n".join(offenders)
