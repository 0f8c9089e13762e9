"""`unit_of_work`: nested blocks share one transaction, and after-commit hooks run only once the
outermost block has committed (never for work that rolled back)."""

from __future__ import annotations

import psycopg
import pytest

from services.core.db import after_commit, unit_of_work
from tests.factories import make_project


def _project_names(db: psycopg.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM projects ORDER BY id").fetchall()]


def test_nested_unit_joins_the_outer_one_and_hooks_wait_for_its_commit(
    db: psycopg.Connection,
) -> None:
    seen: list[list[str]] = []
    with unit_of_work() as outer:
        make_project(outer, name="outer")
        with unit_of_work() as inner:
            assert inner is outer
            make_project(inner, name="inner")
            after_commit(lambda: seen.append(_project_names(db)))
        assert _project_names(db) == []  # the inner block committed nothing on its own
        assert seen == []
    assert seen == [["outer", "inner"]]


def test_rolled_back_unit_runs_no_hook_and_keeps_no_row(db: psycopg.Connection) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), unit_of_work() as conn:
        make_project(conn, name="lost")
        after_commit(lambda: seen.append("ran"))
        raise RuntimeError("use case failed")
    assert seen == []
    assert _project_names(db) == []


def test_hook_outside_a_unit_runs_at_once_and_a_failing_hook_keeps_the_commit(
    db: psycopg.Connection,
) -> None:
    seen: list[str] = []
    after_commit(lambda: seen.append("now"))
    assert seen == ["now"]

    def broken() -> None:
        raise OSError("broker away")

    with unit_of_work() as conn:
        make_project(conn, name="kept")
        after_commit(broken)
        after_commit(lambda: seen.append("later"))
    assert _project_names(db) == ["kept"]
    assert seen == ["now", "later"]
