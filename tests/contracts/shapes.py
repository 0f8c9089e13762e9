"""Load the contract fixtures and compare a real answer's shape with a documented one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def contract(provider: str) -> dict[str, Any]:
    """One provider's documented examples; each must say where it comes from."""
    doc: dict[str, Any] = json.loads((HERE / f"{provider}.json").read_text())
    for name, example in doc.items():
        if isinstance(example, dict):
            assert example.get("_source"), f"{provider}.{name} has no _source"
    return doc


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def mismatches(documented: Any, actual: Any, example: dict[str, Any], path: str = "$") -> list[str]:
    """Where `actual` departs from the documented shape: a missing key (unless `_optional`), a
    different JSON type (null only where documented null or `_nullable`), a list element of
    another shape. Keys the documentation does not show are allowed (answers grow)."""
    optional = set(example.get("_optional", ()))
    nullable = set(example.get("_nullable", ()))
    key = path.rsplit(".", 1)[-1].split("[")[0]
    if documented is None:
        return []
    if actual is None:
        return [] if key in nullable else [f"{path}: null, documented {_kind(documented)}"]
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {_kind(actual)}, documented object"]
        out: list[str] = []
        for name, value in documented.items():
            if name.startswith("_"):
                continue
            if name not in actual:
                if name not in optional:
                    out.append(f"{path}.{name}: missing")
                continue
            out += mismatches(value, actual[name], example, f"{path}.{name}")
        return out
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{path}: {_kind(actual)}, documented array"]
        if not documented:
            return []
        return [
            m
            for i, item in enumerate(actual)
            for m in mismatches(documented[0], item, example, f"{path}[{i}]")
        ]
    if _kind(documented) != _kind(actual):
        return [f"{path}: {_kind(actual)}, documented {_kind(documented)}"]
    return []
