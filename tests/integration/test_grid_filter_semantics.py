"""Filter, sort and search compilation of the grid service, checked against real Postgres.

Semantics: every filter type and operator runs on seeded data and must select exactly the ids a
Python model of the documented AG Grid semantics selects. Safety: random and hostile filter models
either raise GridQueryError or compile to SQL whose identifiers are all allow-listed and whose
values are all bind parameters. The checks that need no database are in tests/unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import dict_row

from services.grid import COLUMNS, GridQuery, GridQueryError, parse_grid_query
from services.grid.params import Params
from services.grid.query import where_clause
from services.grid.sorting import after_branches, order_by, sort_keys
from tests.factories import make_project, seed_profiles
from tests.grid_models import (
    DATES,
    HYPOTHESIS,
    SCALAR_OPS,
    TEXT_OPS,
    TEXT_VALUES,
    filter_models,
)

pytestmark = pytest.mark.integration

ROWS = 600
ALLOWED_IDENTIFIERS = {c.sql_name for c in COLUMNS.values()} | {
    "p", "u", "profiles", "search_vector", "location", "seniority", "enrichment_status", "id",
}  # fmt: skip
# The only string literals the compiler itself writes into SQL.
ALLOWED_LITERALS = {"''", "'simple'", "'enriched'"}


@pytest.fixture(scope="module")
def data(migrated: str) -> Iterator[tuple[psycopg.Connection, list[dict[str, Any]]]]:
    """Seeded profiles (shared by this module's read-only tests) and their rows in Python."""
    with psycopg.connect(migrated, autocommit=True) as conn:
        conn.execute("TRUNCATE profiles, projects RESTART IDENTITY CASCADE")
        seed_profiles(conn, ROWS, seed=11)
        make_project(conn, name="Alpha")
        make_project(conn, name="Beta")
        conn.execute(
            "INSERT INTO project_profiles (project_id, profile_id)"
            " SELECT 1, id FROM profiles WHERE id % 7 = 0"
        )
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT * FROM profiles ORDER BY id").fetchall()
        yield conn, rows


def ids_for(conn: psycopg.Connection, query: GridQuery) -> set[int]:
    params = Params()
    stmt = sql.SQL("SELECT p.id FROM profiles p WHERE {}").format(where_clause(query, params))
    return {r[0] for r in conn.execute(stmt, params.values).fetchall()}


def expected_ids(rows: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool]) -> set[int]:
    return {r["id"] for r in rows if pred(r)}


# ------------------------------------------------------------ Python model of the semantics


def cell(row: dict[str, Any], col_id: str) -> Any:
    value = row[col_id]
    return " ".join(value) if col_id == "skills" else value


def text_matches(value: str | None, op: str, f: str = "") -> bool:
    if op == "empty":
        return True
    if op == "blank":
        return value is None or value.strip(" ") == ""
    if op == "notBlank":
        return not text_matches(value, "blank")
    if value is None:
        return op in ("notEqual", "notContains")
    v, f = value.lower(), f.lower()
    return {
        "contains": f in v,
        "notContains": f not in v,
        "equals": v == f,
        "notEqual": v != f,
        "startsWith": v.startswith(f),
        "endsWith": v.endswith(f),
    }[op]


def scalar_matches(value: Any, op: str, a: Any = None, b: Any = None) -> bool:
    if op == "empty":
        return True
    if op == "blank":
        return value is None
    if op == "notBlank":
        return value is not None
    if value is None:
        return False
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    if op == "inRange":
        lo, hi = sorted((a, b))
        return bool(lo <= value <= hi)
    return {
        "equals": value == a,
        "notEqual": value != a,
        "lessThan": value < a,
        "lessThanOrEqual": value <= a,
        "greaterThan": value > a,
        "greaterThanOrEqual": value >= a,
    }[op]


def condition_matches(row: dict[str, Any], col_id: str, cond: dict[str, Any]) -> bool:
    kind = COLUMNS[col_id].kind
    value = cell(row, col_id)
    if kind == "text":
        return text_matches(value, cond["type"], cond.get("filter", ""))
    if kind == "number":
        return scalar_matches(value, cond["type"], cond.get("filter"), cond.get("filterTo"))
    a = date.fromisoformat(cond["dateFrom"][:10]) if cond.get("dateFrom") else None
    b = date.fromisoformat(cond["dateTo"][:10]) if cond.get("dateTo") else None
    return scalar_matches(value, cond["type"], a, b)


def model_matches(row: dict[str, Any], model: dict[str, Any]) -> bool:
    for col_id, spec in model.items():
        if "conditions" in spec:
            results = [condition_matches(row, col_id, c) for c in spec["conditions"]]
            ok = all(results) if spec.get("operator", "AND") == "AND" else any(results)
        else:
            ok = condition_matches(row, col_id, spec)
        if not ok:
            return False
    return True


def model_ids(rows: list[dict[str, Any]], model: dict[str, Any]) -> set[int]:
    return expected_ids(rows, lambda r: model_matches(r, model))


# ------------------------------------------------------------ every operator, on real data

TEXT_COLUMNS = [c for c, col in COLUMNS.items() if col.kind == "text"]


@pytest.mark.parametrize("col_id", TEXT_COLUMNS)
@pytest.mark.parametrize("op", TEXT_OPS)
def test_text_operators_match_the_model(data: Any, col_id: str, op: str) -> None:
    conn, rows = data
    for value in TEXT_VALUES:
        model = {col_id: {"filterType": "text", "type": op, "filter": value}}
        query = parse_grid_query(model, [], "", "", (), None, None)
        assert ids_for(conn, query) == model_ids(rows, model), (op, value)


@pytest.mark.parametrize("col_id", [*TEXT_COLUMNS, "years_experience", "enriched_at", "id"])
@pytest.mark.parametrize("op", ["blank", "notBlank", "empty"])
def test_blank_and_not_blank(data: Any, col_id: str, op: str) -> None:
    conn, rows = data
    model = {col_id: {"filterType": COLUMNS[col_id].kind, "type": op}}
    query = parse_grid_query(model, [], "", "", (), None, None)
    got = ids_for(conn, query)
    assert got == expected_ids(rows, lambda r: model_matches(r, query.filter_model))
    if op == "blank" and col_id in ("headline", "years_experience", "enriched_at"):
        assert got  # the seed has blanks there: the check is not vacuous


@pytest.mark.parametrize("col_id", ["years_experience", "id"])
@pytest.mark.parametrize("op", [*SCALAR_OPS, "inRange"])
def test_number_operators_match_the_model(data: Any, col_id: str, op: str) -> None:
    conn, rows = data
    for a, b in [(5, 20), (20, 5), (0, 0), (12.5, 30), (-1, 1000)]:
        cond: dict[str, Any] = {"filterType": "number", "type": op, "filter": a}
        if op == "inRange":
            cond["filterTo"] = b
        query = parse_grid_query({col_id: cond}, [], "", "", (), None, None)
        assert ids_for(conn, query) == model_ids(rows, {col_id: cond}), (op, a, b)


@pytest.mark.parametrize("col_id", ["enriched_at", "created_at"])
@pytest.mark.parametrize("op", [*SCALAR_OPS, "inRange"])
def test_date_operators_use_whole_utc_days(data: Any, col_id: str, op: str) -> None:
    conn, rows = data
    for a, b in zip(DATES, DATES[1:] + DATES[:1], strict=True):
        cond: dict[str, Any] = {"filterType": "date", "type": op, "dateFrom": a, "dateTo": None}
        if op == "inRange":
            cond["dateTo"] = b
        query = parse_grid_query({col_id: cond}, [], "", "", (), None, None)
        assert ids_for(conn, query) == model_ids(rows, {col_id: cond}), (op, a, b)


def test_date_equals_includes_midnight_and_excludes_next_midnight(data: Any) -> None:
    conn, rows = data
    midnight = next(
        r for r in rows if r["enriched_at"] and r["enriched_at"].astimezone(UTC).hour == 0
    )
    day = midnight["enriched_at"].astimezone(UTC).date()
    model = {"enriched_at": {"filterType": "date", "type": "equals", "dateFrom": f"{day} 00:00:00"}}
    got = ids_for(conn, parse_grid_query(model, [], "", "", (), None, None))
    assert midnight["id"] in got


@pytest.mark.parametrize("operator", ["AND", "OR"])
def test_combined_conditions_and_the_legacy_shape(data: Any, operator: str) -> None:
    conn, rows = data
    first = {"filterType": "text", "type": "contains", "filter": "an"}
    second = {"filterType": "text", "type": "endsWith", "filter": "h"}
    new = {"full_name": {"filterType": "text", "operator": operator, "conditions": [first, second]}}
    old = {"full_name": {"filterType": "text", "operator": operator, "condition1": first,
                         "condition2": second}}  # fmt: skip
    expected = expected_ids(rows, lambda r: model_matches(r, new))
    assert 0 < len(expected) < len(rows)
    q_new = parse_grid_query(new, [], "", "", (), None, None)
    q_old = parse_grid_query(old, [], "", "", (), None, None)
    assert q_new == q_old  # the same canonical model (and cache key)
    assert ids_for(conn, q_new) == expected


def test_filters_on_several_columns_are_anded(data: Any) -> None:
    conn, rows = data
    model = {
        "years_experience": {"filterType": "number", "type": "inRange", "filter": 3, "filterTo": 25},
        "seniority": {"filterType": "text", "type": "notEqual", "filter": "SENIOR"},
        "created_at": {"filterType": "date", "type": "lessThan", "dateFrom": "2024-01-05"},
        "skills": {"filterType": "text", "operator": "OR", "conditions": [
            {"filterType": "text", "type": "contains", "filter": "python"},
            {"filterType": "text", "type": "blank"}]},
    }  # fmt: skip
    expected = expected_ids(rows, lambda r: model_matches(r, model))
    assert expected
    assert ids_for(conn, parse_grid_query(model, [], "", "", (), None, None)) == expected


# ------------------------------------------------------------ random valid models vs the model
@HYPOTHESIS
@given(model=filter_models())
def test_random_filter_models_select_what_the_model_says(data: Any, model: dict[str, Any]) -> None:
    conn, rows = data
    query = parse_grid_query(model, [], "", "", (), None, None)
    assert ids_for(conn, query) == expected_ids(rows, lambda r: model_matches(r, model))


# ------------------------------------------------------------ safety: allow-list and parameters

HOSTILE = [
    "full_name; DROP TABLE profiles; --", '"full_name"', "p.id", "id) OR (1=1", "search_vector",
    "profile_raw", "__proto__", "FULL_NAME", " full_name", "skills[1]", "ﬁlter", "",
]  # fmt: skip
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.sampled_from(["' OR 1=1 --", "%", "_", "\\", "'; DROP TABLE profiles;--", "a\x00b"]),
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
any_col = st.one_of(
    st.sampled_from(sorted(COLUMNS)), st.sampled_from(HOSTILE), st.text(max_size=20)
)
any_type = st.one_of(
    st.sampled_from([*TEXT_OPS, *SCALAR_OPS, "inRange", "blank", "notBlank", "empty", "set"]),
    st.text(max_size=12),
)
hostile_cond = st.fixed_dictionaries(
    {"type": any_type},
    optional={
        "filterType": st.sampled_from(["text", "number", "date", "set", "multi", "'x'"]),
        "filter": json_values, "filterTo": json_values, "dateFrom": json_values,
        "dateTo": json_values,
    },
)  # fmt: skip
hostile_spec = st.one_of(
    hostile_cond,
    st.fixed_dictionaries(
        {
            "operator": st.sampled_from(["AND", "OR", "XOR", "AND 1=1"]),
            "conditions": st.lists(hostile_cond, max_size=3),
        }
    ),
    json_values,
)
hostile_models = st.dictionaries(any_col, hostile_spec, max_size=3)


def composed_parts(node: sql.Composable) -> Iterator[sql.Composable]:
    if isinstance(node, sql.Composed):
        for child in node:
            yield from composed_parts(child)
    else:
        yield node


def assert_safe(conn: psycopg.Connection, stmt: sql.Composed, params: Params) -> None:
    """Only allow-listed identifiers, no literal values, and every value a bound parameter."""
    for part in composed_parts(stmt):
        assert not isinstance(part, sql.Literal)
        if isinstance(part, sql.Identifier):
            assert set(part._obj) <= ALLOWED_IDENTIFIERS
    text = stmt.as_string(conn)
    for ident in re.findall(r'"((?:[^"]|"")*)"', text):
        assert ident in ALLOWED_IDENTIFIERS
    for literal in re.findall(r"'(?:[^']|'')*'", text):
        assert literal in ALLOWED_LITERALS
    assert set(re.findall(r"%\((\w+)\)s", text)) == set(params.values)


@HYPOTHESIS
@given(model=hostile_models, sort=st.lists(st.fixed_dictionaries(
    {"colId": any_col, "sort": st.sampled_from(["asc", "desc", "ASC", "sideways", None])}), max_size=3))  # fmt: skip
def test_hostile_models_are_refused_or_bound_as_data(
    data: Any, model: dict[str, Any], sort: list[dict[str, Any]]
) -> None:
    conn, _rows = data
    try:
        query = parse_grid_query(model, sort, "", "", (), None, None)
    except GridQueryError as exc:
        assert exc.message and len(exc.message) < 200
        return
    for col_id in query.filter_model:
        assert col_id in COLUMNS
    params = Params()
    stmt = sql.SQL("SELECT p.id FROM profiles p WHERE {} {} LIMIT 1").format(
        where_clause(query, params), order_by(sort_keys(query.sort_model), "p")
    )
    assert_safe(conn, stmt, params)
    conn.execute(stmt, params.values).fetchall()  # and it is valid SQL with these values


@HYPOTHESIS
@given(search=st.text(max_size=60), location=st.text(max_size=40),
       seniority=st.lists(st.text(min_size=1, max_size=10), max_size=3))  # fmt: skip
def test_search_and_external_filter_text_only_reaches_sql_as_parameters(
    data: Any, search: str, location: str, seniority: list[str]
) -> None:
    conn, _rows = data
    try:
        query = parse_grid_query({}, [], search, location, seniority, True, 1)
    except GridQueryError:
        return
    params = Params()
    stmt = sql.SQL("SELECT p.id FROM profiles p WHERE {}").format(where_clause(query, params))
    assert_safe(conn, stmt, params)
    conn.execute(stmt, params.values).fetchall()


def test_keyset_branches_only_bind_boundary_values(data: Any) -> None:
    conn, _rows = data
    keys = sort_keys([{"colId": "headline", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}])
    params = Params()
    branches = after_branches(keys, [None, "x' OR 1=1 --", 5], params, "p")
    stmt = sql.SQL("SELECT p.id FROM profiles p WHERE {}").format(sql.SQL(" OR ").join(branches))
    assert_safe(conn, stmt, params)
    assert "x' OR 1=1 --" in params.values.values()


# ------------------------------------------------------------ search and external filters


def search_words(row: dict[str, Any]) -> list[str]:
    parts = [row["full_name"], row["headline"], row["current_title"], row["current_company"],
             " ".join(row["skills"])]  # fmt: skip
    return re.findall(r"[^\W_]+", " ".join(p or "" for p in parts).lower())


@pytest.mark.parametrize("text", ["pyth", "python", "engineer ", "acme sen", "o'hara", "zz", "100"])
def test_search_matches_all_words_with_prefix_on_the_last(data: Any, text: str) -> None:
    conn, rows = data
    words = re.findall(r"[^\W_]+", text.lower())
    prefix_last = not text.endswith(" ")

    def hit(row: dict[str, Any]) -> bool:
        doc = search_words(row)
        for i, w in enumerate(words):
            last = i == len(words) - 1
            if not any(d == w or (last and prefix_last and d.startswith(w)) for d in doc):
                return False
        return True

    query = parse_grid_query({}, [], text, "", (), None, None)
    assert ids_for(conn, query) == expected_ids(rows, hit)


def test_external_filters(data: Any) -> None:
    conn, rows = data
    cases: list[tuple[GridQuery, Callable[[dict[str, Any]], bool]]] = [
        (parse_grid_query({}, [], "", "BERLIN", (), None, None),
         lambda r: "berlin" in (r["location"] or "").lower()),
        (parse_grid_query({}, [], "", "berlin", (), None, None, location_exact=True),
         lambda r: (r["location"] or "").lower() == "berlin"),
        (parse_grid_query({}, [], "", "", ("senior", "lead"), None, None),
         lambda r: r["seniority"] in ("senior", "lead")),
        (parse_grid_query({}, [], "", "", (), True, None),
         lambda r: r["enrichment_status"] == "enriched"),
        (parse_grid_query({}, [], "", "", (), False, None),
         lambda r: r["enrichment_status"] != "enriched"),
        (parse_grid_query({}, [], "", "", (), None, 1), lambda r: r["id"] % 7 == 0),
        (parse_grid_query({}, [], "", "", (), None, 2), lambda r: False),
        (parse_grid_query({}, [], "", "%", (), None, None),
         lambda r: "%" in (r["location"] or "")),
    ]  # fmt: skip
    for query, pred in cases:
        assert ids_for(conn, query) == expected_ids(rows, pred), query
