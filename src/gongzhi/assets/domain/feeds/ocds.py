"""OCDS 1.1 schemas from the package's own files, validation, and compiling releases.

Nothing here touches the network: the schemas are read from ``data/ocds-1.1`` (see the README
there) and registered under their canonical ids, so every ``$ref`` resolves locally; a ``$ref``
to anything else fails instead of being fetched. The lease extension (``data/lease-extension``)
is a JSON Merge Patch (RFC 7386) over the release schema, applied here.

Compiling (merging a contracting process's releases into its current state) uses ``ocdsmerge``,
the Open Contracting Partnership's reference implementation, given the local schema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import ocdsmerge
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from ocdsmerge.exceptions import OCDSMergeError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = [
    "LEASE_EXTENSION_NAME",
    "SchemaError",
    "compile_releases",
    "duplicate_items",
    "lease_extension_metadata",
    "release_package_validator",
    "release_schema",
    "schema_errors",
    "validate_release_package",
]

SCHEMA_BASE = "https://standard.open-contracting.org/schema/1__1__5/"
LEASE_EXTENSION_NAME = "lease-extension"


class SchemaError(ValueError):
    pass


def _data_file(*parts: str) -> Any:
    path = resources.files(__package__) / "data"
    for part in parts:
        path = path / part
    return json.loads(path.read_text(encoding="utf-8"))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch (returns a new value)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@cache
def _release_schema(with_lease: bool) -> dict[str, Any]:
    schema: dict[str, Any] = _data_file("ocds-1.1", "release-schema.json")
    if with_lease:
        schema = merge_patch(schema, _data_file(LEASE_EXTENSION_NAME, "release-schema.json"))
    return schema


def release_schema(*, with_lease: bool = True) -> dict[str, Any]:
    """The OCDS 1.1 release schema (with the lease extension unless told otherwise); a copy."""
    return copy.deepcopy(_release_schema(with_lease))


def lease_extension_metadata() -> dict[str, Any]:
    """The lease extension's ``extension.json`` (name, description, compatibility)."""
    data: dict[str, Any] = _data_file(LEASE_EXTENSION_NAME, "extension.json")
    return data


@cache
def _registry(with_lease: bool) -> Registry[Any]:
    release = _release_schema(with_lease)
    resources_ = [
        (SCHEMA_BASE + "release-schema.json", Resource.from_contents(release, default_specification=DRAFT4)),
    ]
    for name in ("release-package-schema.json", "record-package-schema.json"):
        resources_.append((SCHEMA_BASE + name, Resource.from_contents(_data_file("ocds-1.1", name), DRAFT4)))
    # Registry() retrieves nothing: an unknown $ref is an error, never a download.
    registry: Registry[Any] = Registry()
    return registry.with_resources(resources_)


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        moment = datetime.fromisoformat(value)
        return moment.tzinfo is not None and "T" in value

    @checker.checks("uri")
    def is_uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in {"urn", "mailto"})

    return checker


@cache
def _validator(kind: str, with_lease: bool) -> Draft4Validator:
    schema = _data_file("ocds-1.1", f"{kind}-package-schema.json")
    # ``uniqueItems`` on the releases/records array compares every pair of items (quadratic in
    # jsonschema: 10,000 releases took over a minute); :func:`duplicate_items` checks the same
    # in one pass and names the duplicate.
    schema["properties"][f"{kind}s"].pop("uniqueItems", None)
    return Draft4Validator(schema, registry=_registry(with_lease), format_checker=_format_checker())


def duplicate_items(items: Any) -> dict[int, int]:
    """Index of each item equal to an earlier one → index of the first (JSON equality)."""
    if not isinstance(items, list):
        return {}
    first: dict[str, int] = {}
    duplicates: dict[int, int] = {}
    for i, item in enumerate(items):
        key = json.dumps(item, sort_keys=True, default=str, ensure_ascii=False)
        if key in first:
            duplicates[i] = first[key]
        else:
            first[key] = i
    return duplicates


def release_package_validator(*, with_lease: bool = True) -> Draft4Validator:
    return _validator("release", with_lease)


def record_package_validator(*, with_lease: bool = True) -> Draft4Validator:
    return _validator("record", with_lease)


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    path: tuple[str | int, ...]  # where in the document, e.g. ("releases", 2, "tender", "value")
    reason: str  # in Chinese; names the field, never repeats the value


def schema_errors(validator: Draft4Validator, document: Any) -> Iterator[SchemaProblem]:
    """Every schema violation as a path and a Chinese reason, in document order."""
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        yield SchemaProblem(tuple(error.absolute_path), _reason(error))


def validate_release_package(package: Any, *, with_lease: bool = True) -> list[str]:
    """Reasons (Chinese, with the path) why ``package`` is not a valid OCDS 1.1 release package."""
    reasons = [p.reason for p in schema_errors(release_package_validator(with_lease=with_lease), package)]
    releases = package.get("releases") if isinstance(package, dict) else None
    reasons += [f"releases[{i}]与releases[{j}]完全相同" for i, j in duplicate_items(releases).items()]
    return reasons


def _path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: ValidationError) -> str:
    field = _path_text(tuple(error.absolute_path)) or "文档"
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
        return f"{field}缺少必填字段{missing}"
    if kind == "type":
        return f"{field}的类型不对（应为{_types(error.validator_value)}）"
    if kind == "enum":
        return f"{field}的取值不在代码表中"
    if kind == "format":
        return f"{field}的格式不对（应为{error.validator_value}）"
    if kind == "pattern":
        return f"{field}的格式不对"
    if kind in {"minItems", "minLength"}:
        return f"{field}不能为空"
    if kind == "uniqueItems":
        return f"{field}中有重复的项"
    if kind == "minimum":
        return f"{field}不能小于{error.validator_value}"
    if kind in {"oneOf", "anyOf"}:
        return f"{field}不符合任何一种允许的形式"
    return f"{field}不符合OCDS 1.1模式（{kind}）"


def _types(value: Any) -> str:
    names = {"string": "文字", "number": "数字", "integer": "整数", "object": "对象", "array": "数组", "null": "空", "boolean": "布尔值"}
    items = value if isinstance(value, list) else [value]
    return "或".join(names.get(str(v), str(v)) for v in items)


@cache
def _merger(with_lease: bool) -> ocdsmerge.Merger:
    return ocdsmerge.Merger(schema=release_schema(with_lease=with_lease))


def compile_releases(releases: list[dict[str, Any]], *, with_lease: bool = True) -> dict[str, Any]:
    """The compiled release (current state) of one contracting process's releases.

    Raises :class:`SchemaError` (reason in Chinese) when ocdsmerge refuses the releases.
    """
    try:
        compiled: dict[str, Any] = _merger(with_lease).create_compiled_release(releases)
    except OCDSMergeError as exc:
        raise SchemaError(f"无法合并该采购过程的发布：{exc.__class__.__name__}") from exc
    return compiled
