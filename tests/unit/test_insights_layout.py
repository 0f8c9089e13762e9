"""The insights filter controls keep a shared link's choices while the dropdown lists load."""

from __future__ import annotations

import datetime as dt

from layouts import insights as page
from services.insights.filters import InsightsFilter


def _dropdown(row: object, component_id: str) -> object:
    found = [c for c in _walk(row) if getattr(c, "id", None) == component_id]
    assert len(found) == 1
    return found[0]


def _walk(node: object) -> list[object]:
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    kids = children if isinstance(children, list) else [children]
    return [node, *[c for kid in kids for c in _walk(kid)]]


def test_a_chosen_project_and_recruiter_are_options_from_the_start() -> None:
    f = InsightsFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30), project_id=7, user_id=3)
    row = page.controls(f)
    project = _dropdown(row, page.PROJECT)
    user = _dropdown(row, page.USER)
    # A value missing from a dcc.Dropdown's options is dropped when it re-checks them.
    assert project.value == 7 and [o["value"] for o in project.options] == [7]  # type: ignore[attr-defined]
    assert user.value == 3 and [o["value"] for o in user.options] == [3]  # type: ignore[attr-defined]


def test_no_choice_means_no_placeholder_option() -> None:
    row = page.controls(InsightsFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert _dropdown(row, page.PROJECT).options == []  # type: ignore[attr-defined]
    assert _dropdown(row, page.USER).options == []  # type: ignore[attr-defined]
