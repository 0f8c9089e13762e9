"""Each of these tables is written by one domain module: every SQL statement that inserts,
updates or deletes its rows lives in its owner, so the rules about its rows (which status follows
which, what happens in which transaction) are read in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ("app.py", "manage.py", "celery_app.py", "gunicorn.conf.py")
APP_FOLDERS = ("callbacks", "layouts", "services", "tasks", "web", "sandbox")
OWNERS = {"searches": "services/searches/store.py", "jobs": "services/jobs/"}
# The demo seeder writes months of history with past timestamps straight into the tables (the
# owners' use cases stamp now()); it is the one other writer allowed. Any other module that
# writes an owned table fails the test.
KNOWN_OTHER_WRITERS = {
    "searches": {"services/demo/sourcing.py"},
    "jobs": {"services/demo/sourcing.py", "services/demo/work.py"},
}


def _write_pattern(table: str) -> re.Pattern[str]:
    verbs = r"(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO|COPY)"
    return re.compile(rf"\b{verbs}\s+(?:ONLY\s+)?{table}\b", re.IGNORECASE)


def _app_modules() -> list[Path]:
    files = [ROOT / name for name in APP if (ROOT / name).is_file()]
    for folder in APP_FOLDERS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def _strings(path: Path) -> list[str]:
    """The module's string literals (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _writers(table: str) -> set[str]:
    pattern = _write_pattern(table)
    return {
        str(path.relative_to(ROOT))
        for path in _app_modules()
        if any(pattern.search(text) for text in _strings(path))
    }


def _owned_by(path: str, owner: str) -> bool:
    return path.startswith(owner) if owner.endswith("/") else path == owner


def test_owned_tables_are_written_only_by_their_owner() -> None:
    offenders = {
        table: sorted(
            path
            for path in _writers(table)
            if not _owned_by(path, owner) and path not in KNOWN_OTHER_WRITERS.get(table, set())
        )
        for table, owner in OWNERS.items()
    }
    assert {table: paths for table, paths in offenders.items() if paths} == {}


def test_the_owner_is_found_writing_its_table() -> None:
    """Guards the scan itself: a pattern that matched nothing would pass the test above."""
    for table, owner in OWNERS.items():
        assert any(_owned_by(path, owner) for path in _writers(table)), table
