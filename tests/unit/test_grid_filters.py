"""Filter, sort and search parsing of the grid service, and its URL state: the checks that need
no database (what the compiled SQL selects on real Postgres is in tests/integration).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.grid import (
    COLUMNS,
    GridQueryError,
    parse_grid_query,
    query_to_url_params,
    url_params_to_query,
)
from services.grid.search import build_tsquery
from services.grid.sorting import normalize_sort_model, sort_keys
from tests.grid_models import HYPOTHESIS, filter_models


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ({"password_hash": {"filterType": "text", "type": "contains", "filter": "x"}},
         "password_hash"),
        ({"full_name": {"filterType": "text", "type": "regex", "filter": "x"}}, "regex"),
        ({"full_name": {"filterType": "number", "type": "equals", "filter": 1}}, "full_name"),
        ({"full_name": {"filterType": "set", "values": ["a"]}}, "set"),
        ({"years_experience": {"filterType": "number", "type": "equals", "filter": "ten"}},
         "years_experience"),
        ({"years_experience": {"filterType": "number", "type": "equals", "filter": float("nan")}},
         "finite"),
        ({"years_experience": {"filterType": "number", "type": "equals", "filter": True}},
         "years_experience"),
        ({"enriched_at": {"filterType": "date", "type": "equals", "dateFrom": "31/12/2024"}},
         "enriched_at"),
        ({"enriched_at": {"filterType": "date", "type": "today"}}, "today"),
        ({"enriched_at": {"filterType": "date", "type": "equals", "dateFrom": "2024-02-30"}},
         "2024-02-30"),
        ({"full_name": {"filterType": "text", "operator": "XOR", "conditions": []}}, "XOR"),
        ({"full_name": {"filterType": "text", "operator": "OR",
                        "conditions": [{"type": "contains", "filter": "a"}] * 11}}, "10"),
        ({"full_name": {"filterType": "text", "type": "contains", "filter": "a" * 501}}, "500"),
        ({"full_name": "contains"}, "full_name"),
        (["full_name"], "filter model"),
    ],
)  # fmt: skip
def test_refusals_name_the_bad_column_or_operator(model: Any, needle: str) -> None:
    with pytest.raises(GridQueryError) as info:
        parse_grid_query(model, [], "", "", (), None, None)
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("sort", "needle"),
    [
        ([{"colId": "skills", "sort": "asc"}], "skills"),
        ([{"colId": "profile_raw", "sort": "asc"}], "profile_raw"),
        ([{"colId": "full_name", "sort": "up"}], "full_name"),
        ([{"colId": "full_name", "sort": "asc"}, {"colId": "full_name", "sort": "desc"}], "twice"),
        ([{"colId": "full_name", "sort": "asc", "type": "absolute"}], "absolute"),
        ({"colId": "full_name"}, "list"),
    ],
)
def test_sort_refusals(sort: Any, needle: str) -> None:
    with pytest.raises(GridQueryError) as info:
        normalize_sort_model(sort)
    assert needle in info.value.message


def test_sort_keys_end_with_id_in_the_primary_direction() -> None:
    keys = sort_keys([{"colId": "current_company", "sort": "desc"},
                      {"colId": "created_at", "sort": "asc"}])  # fmt: skip
    assert [(k.column.col_id, k.descending) for k in keys] == [
        ("current_company", True), ("created_at", False), ("id", True),
    ]  # fmt: skip
    assert [k.column.col_id for k in sort_keys([])] == ["id"]
    by_id = sort_keys([{"colId": "id", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}])
    assert [k.column.col_id for k in by_id] == ["id"]  # id is unique: nothing after it matters


# ------------------------------------------------------------ search and external filters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Python", "'python':*"),
        ("python ", "'python'"),
        ("Jean-Luc  O'Brien", "'jean' & 'luc' & 'o' & 'brien':*"),
        ("a & b | !c <-> 'd':*", "'a' & 'b' & 'c' & 'd':*"),
        ("  ", None),
        ("&|!():*'\\", None),
        ("Zoë müller", "'zoë' & 'müller':*"),
        ("data_science", "'data' & 'science':*"),
    ],
)
def test_build_tsquery_keeps_only_words(text: str, expected: str | None) -> None:
    assert build_tsquery(text) == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"enriched": "yes"}, {"project_id": -1}, {"project_id": True}, {"seniority": [""]},
     {"location": 5}, {"search": "x" * 201}, {"seniority": ["a"] * 21}],
)  # fmt: skip
def test_external_filter_refusals(kwargs: dict[str, Any]) -> None:
    with pytest.raises(GridQueryError):
        parse_grid_query(**{"filter_model": {}, "sort_model": [], **kwargs})


# ------------------------------------------------------------ URL state


@HYPOTHESIS
@given(
    model=filter_models(),
    sort=st.lists(
        st.sampled_from([c for c, col in COLUMNS.items() if col.sortable]), max_size=3, unique=True
    ),
    desc=st.lists(st.booleans(), min_size=3, max_size=3),
    search=st.text(max_size=30),
    location=st.text(st.characters(exclude_characters="\x00"), max_size=20),
    seniority=st.lists(st.sampled_from(["junior", "senior", "a,b", 'x"y']), max_size=3),
    enriched=st.sampled_from([None, True, False]),
    project_id=st.one_of(st.none(), st.integers(1, 10**12)),
    exact=st.booleans(),
)
def test_url_round_trip(
    model: dict[str, Any], sort: list[str], desc: list[bool], search: str, location: str,
    seniority: list[str], enriched: bool | None, project_id: int | None, exact: bool,
) -> None:  # fmt: skip
    sort_model = [
        {"colId": c, "sort": "desc" if d else "asc"} for c, d in zip(sort, desc, strict=False)
    ]
    query = parse_grid_query(
        model,
        sort_model,
        search,
        location,
        seniority,
        enriched,
        project_id,
        exact and bool(location),
    )
    params = query_to_url_params(query)
    assert all(isinstance(v, str) for v in params.values())
    assert url_params_to_query(params) == query
    assert url_params_to_query({k: [v] for k, v in params.items()}) == query


@pytest.mark.parametrize(
    "params",
    [{"f": "{not json"}, {"f": json.dumps({"nope": {"type": "equals"}})}, {"s": "password_hash"},
     {"enr": "maybe"}, {"proj": "1; DROP"}, {"f": "x" * 5000}],
)  # fmt: skip
def test_tampered_urls_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(GridQueryError):
        url_params_to_query(params)
