"""No Chinese user message outside gettext in the service hall's code (issue 11).

An AST scan of ``services/**/*.py`` (not tests, migrations, the demo loader or commands): a
string literal holding Chinese characters fails the test when it is part of a *user message* —
the arguments of a raised error or an error constructor, of ``messages.*``, of the error lists
the catalogue and intake build (``errors`` / ``problems`` / ``messages`` ``.append``,
``self.err``), or a value of a ``render`` context — and is not inside a gettext call. Comments,
docstrings, log keys, audit verbs and stored data values (a hold's step, a document's source)
are not messages and are not looked at.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
GETTEXT = {"_", "_t", "gettext", "gettext_lazy", "ngettext", "pgettext", "gettext_noop", "ngettext_lazy"}
ERROR_CALL = re.compile(r"(Error|Exception|Conflict|NotAllowed|Invalid\w*|Late|Missing|ErrorKey)$")
MESSAGE_CALLS = {"_Bad", "_bad", "FieldError", "RowError", "_in_column"}
MESSAGE_LISTS = {"errors", "problems", "messages", "form_errors"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error", "add_message"}
SKIP_KEYWORDS = {"field", "code", "where", "status"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _chinese_literals(node: ast.AST) -> list[ast.AST]:
    """Chinese literals in an expression, not looking inside calls (a gettext call, or any other
    call: its own arguments are not this message)."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) and CJK.search(node.value) else []
    if isinstance(node, ast.Call):
        return []
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        found += _chinese_literals(child)
    return found


def _message_arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(k.value for k in call.keywords if k.arg not in SKIP_KEYWORDS)]


def _carriers(tree: ast.AST) -> list[ast.expr]:
    """Expressions that become a message a user reads."""
    out: list[ast.expr] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, name = node.func, _name(node.func)
        if ERROR_CALL.search(name) or name in MESSAGE_CALLS:
            out += _message_arguments(node)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages" \
                and name in MESSAGE_LEVELS:
            out += node.args[1:]
        elif name == "append" and isinstance(func, ast.Attribute) and _name(func.value) in MESSAGE_LISTS:
            out += node.args
        elif name == "err" and isinstance(func, ast.Attribute):
            out += node.args
        elif name == "render" and len(node.args) >= 3 and isinstance(node.args[2], ast.Dict):
            out += [v for v in node.args[2].values if v is not None]
    return out


def _modules() -> list[Path]:
    skip = {"tests", "migrations", "management"}
    return sorted(p for p in SERVICES.rglob("*.py") if not skip & set(p.relative_to(SERVICES).parts)
                  and p.name != "demo.py")


def untranslated(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    return sorted({(lit.lineno, lit.value) for expr in _carriers(tree)  # type: ignore[attr-defined]
                   for lit in _chinese_literals(expr)})


def test_scanner_finds_what_it_should_and_nothing_else() -> None:
    bad = '''
def f(x):
    raise ActionError("不能为空", field="name")
def g(x):
    raise InvalidInput(f"“{x}”格式不正确", field="x")
def h(errors, request):
    errors.append(("code", f"编码“{x}”重复"))
    messages.error(request, "出错了")
'''
    assert {text for _line, text in untranslated(bad)} == {"不能为空", "”格式不正确", "编码“", "”重复", "出错了"}
    good = '''
"""模块说明（文档字符串不是消息）。"""
def f(x):
    """函数说明。"""
    # 注释也不是
    raise ActionError(_("不能为空"), field="name")
def g(x):
    raise InvalidInput(_("“%(x)s”格式不正确") % {"x": x}, field="x")
def h(errors):
    errors.append(("code", _t("编码重复")))
    Hold.objects.create(step="办理")
    record_event("case.close", reason="本人查看")
    logger.info("办件 %s", x)
'''
    assert untranslated(good) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SERVICES)))
def test_no_chinese_message_outside_gettext(path: Path) -> None:
    found = untranslated(path.read_text(encoding="utf-8"))
    assert not found, "Chinese user messages outside gettext (wrap them in _()):\n" + "\n".join(
        f"  {path.name}:{line}: {text!r}" for line, text in found
    )
