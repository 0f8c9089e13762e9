"""The import graph reads web → services (domain) → core with no arrow back: infrastructure in
`services/core` imports no domain package, and no service imports the web tier."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_TIER = ("app", "web", "layouts", "callbacks")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_core_imports_no_domain_package() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imports(path)
            if name.startswith("services.") and not name.startswith("services.core")
        )
        for path in _modules("services/core")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_services_and_tasks_import_no_web_tier_module() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if name.split(".")[0] in WEB_TIER
        )
        for path in _modules("services") + _modules("tasks")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_layouts_import_no_service_io() -> None:
    """Layouts are pure: they may use services' types and constants, never the database."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imports(path)
            if name.startswith(("services.core.db", "services.core.redis_client", "callbacks"))
        )
        for path in _modules("layouts")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
