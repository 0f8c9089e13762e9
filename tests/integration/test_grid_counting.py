"""The profiles page's count at scale: exact within a budget, else Postgres's estimate at once
(shown as "about N profiles") and the exact number from a task, against real Postgres and Redis.

The view is made slow for a tiny budget by data, not by pg_sleep: ROWS generated profiles, whose
count takes tens of milliseconds, against a 1 ms budget.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from celery_app import celery
from layouts import profiles as page
from services.core.cache import bump_data_version, data_version
from services.core.db import unit_of_work
from services.core.settings import get_settings
from services.grid import (
    boundaries,
    count_rows,
    counting,
    fetch_block,
    jumpmap,
    pages,
    parse_grid_query,
)
from services.grid.query import GridQuery
from tasks.grid import grid_exact_count
from tests.helpers import (
    celery_worker,
    create_user,
    dash_post,
    free_port,
    login,
    output_key,
    wait_for,
)
from tests.integration.test_grid_pages import reference_count

pytestmark = pytest.mark.integration
ROWS = 60_000
QUEUE = "sourcingx"  # celery_app's task_default_queue: a Redis list on the broker
# Every generated name contains an "a": a broad filter, evaluated on every row.
BROAD: dict[str, Any] = {"full_name": {"filterType": "text", "type": "contains", "filter": "a"}}
COUNT_OUTPUTS = [
    {"id": page.COUNT, "property": "children"},
    {"id": page.COUNT_TOTAL, "property": "data"},
]


def two_figures(n: int) -> int:
    """The label's rounding, spelled out: two significant figures."""
    if n < 100:
        return n
    scale = 10 ** (len(str(n)) - 2)
    return (n + scale // 2) // scale * scale


def broad(sort: list[dict[str, str]] | None = None) -> GridQuery:
    return parse_grid_query(BROAD, sort or [], "", "", (), None, None)


@pytest.fixture(scope="module")
def big(migrated: str) -> Iterator[psycopg.Connection]:
    """ROWS profiles (straight from SQL, much faster than COPY from Python) and one recruiter,
    shared by every test of this module, none of which writes profiles."""
    with psycopg.connect(migrated, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        ).fetchall()
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t[0]) for t in tables)
            )
        )
        conn.execute(
            "INSERT INTO profiles (linkedin_url, full_name, headline, seniority, created_at)"
            " SELECT 'https://www.linkedin.com/in/c-' || g, 'Name ' || g,"
            " (ARRAY['Python dev', 'Data', NULL, 'Recruiter'])[g %% 4 + 1],"
            " (ARRAY['junior', 'mid', 'senior', NULL])[g %% 4 + 1], now()"
            " FROM generate_series(1, %s) g",
            (ROWS,),
        )
        conn.execute("VACUUM ANALYZE profiles")  # exact reltuples: the estimates below rely on it
        create_user(conn, "rita@example.com", "recruiter")
        yield conn


@pytest.fixture()
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Set GRID_EXACT_COUNT_BUDGET_MS for this process's settings; restored afterwards."""

    def set_budget(ms: int) -> None:
        monkeypatch.setenv("GRID_EXACT_COUNT_BUDGET_MS", str(ms))
        get_settings.cache_clear()

    yield set_budget
    monkeypatch.delenv("GRID_EXACT_COUNT_BUDGET_MS", raising=False)
    get_settings.cache_clear()


def queued(rds: redis_lib.Redis) -> list[list[Any]]:
    """The args of the count tasks waiting on the broker, oldest first (blocks may queue jump
    maps on the same list: those are not this module's business)."""
    out = []
    for raw in reversed(rds.lrange(QUEUE, 0, -1)):  # kombu LPUSHes, workers BRPOP
        message = json.loads(raw)
        if message["headers"]["task"] == counting.TASK_NAME:
            out.append(json.loads(base64.b64decode(message["body"]))[0])
    return out


def test_the_budget_setting_defaults_to_400_ms(budget: Callable[[int], None]) -> None:
    get_settings.cache_clear()
    assert get_settings().grid_exact_count_budget_ms == 400
    budget(25)
    assert get_settings().grid_exact_count_budget_ms == 25


def test_a_count_over_budget_is_cancelled_estimated_then_counted_exactly_by_the_task(
    big: psycopg.Connection, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    query = broad()
    total = reference_count(big, query)
    assert total == ROWS
    # Really cancelled, not just fast: the same statement with room answers, with 1 ms it is
    # cancelled (None comes only from QueryCanceled) and the pooled session keeps its timeout.
    assert counting.count_within(query, 60_000) == total
    assert counting.count_within(query, 1) is None
    with unit_of_work() as conn:
        row = conn.execute("SHOW statement_timeout").fetchone()
    assert row == ("15s",)  # DB_STATEMENT_TIMEOUT_MS's default, back after SET LOCAL

    budget(1)
    version = data_version("profiles")
    first = counting.view_count(query)
    assert first.exact is False
    assert first.value > 0 and first.value == counting.estimate_rows(query)
    assert pages.cached_count(query, version) is None  # nothing exact was cached
    assert fetch_block(query, 100, 200, count="cached").row_count is None  # the grid waits

    messages = queued(redis_conn)
    assert messages == [[counting.view_args(query), version]]
    map_flag = jumpmap.FLAG_PREFIX + boundaries.boundary_key(query, version)
    assert not redis_conn.exists(map_flag)
    assert grid_exact_count(*messages[0]) == total  # the task, in-process, with the message's args
    assert redis_conn.exists(map_flag)  # 60,000 rows: large, so its jump map was asked for too

    again = counting.view_count(query)
    assert again == counting.ViewCount(total, True)
    assert pages.cached_count(query, version) == total  # the entry count_rows reads
    assert fetch_block(query, 100, 200, count="cached").row_count == total
    assert len(queued(redis_conn)) == 1  # an exact answer asks no worker


def test_the_estimate_is_the_planners_for_that_where_clause(
    big: psycopg.Connection, redis_conn: redis_lib.Redis
) -> None:
    everyone = parse_grid_query({}, [], "", "", (), None, None)
    assert abs(counting.estimate_rows(everyone) - ROWS) <= ROWS // 100  # after VACUUM ANALYZE
    seniors = parse_grid_query({}, [], "", "", ("senior",), None, None)
    estimate = counting.estimate_rows(seniors)
    assert abs(estimate - reference_count(big, seniors)) < ROWS // 20
    assert estimate < ROWS // 2  # the filter's estimate, not the table's size


def test_a_normal_budget_counts_exactly_at_once_and_asks_no_worker(
    big: psycopg.Connection, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(60_000)  # room enough on any machine, however busy
    query = broad([{"colId": "full_name", "sort": "desc"}])
    assert counting.view_count(query) == counting.ViewCount(ROWS, True)
    assert count_rows(query) == ROWS and pages.cached_count(query, data_version("profiles"))
    assert queued(redis_conn) == []


def test_a_zero_budget_never_counts_in_the_request(
    big: psycopg.Connection, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(0)  # statement_timeout 0 would mean "no limit": 0 means "estimate first" instead
    narrow = parse_grid_query(
        {"id": {"filterType": "number", "type": "lessThan", "filter": 11}},
        [], "", "", (), None, None,
    )  # fmt: skip
    assert counting.count_within(narrow, 0) is None
    counted = counting.view_count(narrow)
    assert counted.exact is False and counted.value > 0
    # A poll never tries the exact count either, whatever the budget.
    budget(60_000)
    assert counting.view_count(narrow, try_exact=False).exact is False
    assert counting.view_count(narrow) == counting.ViewCount(10, True)


def test_one_task_per_row_set_and_data_version(
    big: psycopg.Connection, redis_conn: redis_lib.Redis
) -> None:
    version = data_version("profiles")
    assert counting.request_exact_count(broad(), version)
    assert not counting.request_exact_count(broad(), version)  # already asked this version
    # Another order of the same rows has the same count: no second task.
    assert not counting.request_exact_count(broad([{"colId": "id", "sort": "desc"}]), version)
    other = parse_grid_query({}, [], "", "", ("mid",), None, None)
    assert counting.request_exact_count(other, version)  # another row set
    bump_data_version("profiles")
    assert counting.request_exact_count(broad(), data_version("profiles"))  # a new version
    assert len(queued(redis_conn)) == 3


def test_the_task_counts_nothing_for_a_stale_version_and_refuses_a_bad_view(
    big: psycopg.Connection, redis_conn: redis_lib.Redis
) -> None:
    query = broad()
    old = data_version("profiles")
    bump_data_version("profiles")
    assert grid_exact_count(counting.view_args(query), old) is None
    assert pages.cached_count(query, old) is None and pages.cached_count(query, old + 1) is None
    assert grid_exact_count({"f": "{not json"}, data_version("profiles")) is None
    assert grid_exact_count({"f": '{"nope": {}}'}, data_version("profiles")) is None


def test_a_broker_outage_leaves_the_page_its_estimate(
    big: psycopg.Connection, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(0)
    working = celery.conf.broker_url
    celery.close()
    celery.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    celery._after_fork()
    try:
        counted = counting.view_count(broad())
    finally:
        celery.close()
        celery.conf.broker_url = working
        celery._after_fork()
    assert counted.exact is False and counted.value > 0
    assert queued(redis_conn) == []
    # The lost request did not keep the flag: the page's next poll asks again, and is heard.
    assert counting.view_count(broad(), try_exact=False).exact is False
    assert queued(redis_conn) == [[counting.view_args(broad()), data_version("profiles")]]


def test_a_real_worker_delivers_the_exact_count(
    big: psycopg.Connection, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(0)
    query = broad([{"colId": "created_at", "sort": "asc"}])
    version = data_version("profiles")
    with celery_worker():
        assert counting.view_count(query).exact is False
        wait_for(lambda: pages.cached_count(query, version) is not None, timeout_s=60)
    assert counting.view_count(query, try_exact=False) == counting.ViewCount(ROWS, True)


# The page: the count callback over HTTP, the way the renderer posts it.


def test_an_estimate_is_shown_to_two_significant_figures() -> None:
    from callbacks.profiles import _about_label

    assert _about_label(2_437_112) == "about 2,400,000 profiles"
    assert _about_label(59_406) == "about 59,000 profiles"
    assert _about_label(2_450_000) == "about 2,500,000 profiles"
    assert _about_label(99_600) == "about 100,000 profiles"
    assert _about_label(150) == "about 150 profiles"
    assert _about_label(37) == "about 37 profiles"
    assert _about_label(1) == "about 1 profile"
    assert two_figures(2_437_112) == 2_400_000 and two_figures(59_406) == 59_000


@pytest.fixture()
def client(big: psycopg.Connection, redis_conn: redis_lib.Redis) -> Any:
    from app import server

    c = server.test_client()
    login(c, "rita@example.com")
    return c


def _first_block(client: Any) -> dict[str, Any]:
    key = output_key(client, "profiles-grid.getRowsResponse")
    outputs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in key.strip(".").split("...")
    ]
    request = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": BROAD}
    values = {
        page.SEARCH: "", page.LOCATION: "", page.SENIORITY: [], page.ENRICHED: "any",
        page.PROJECT: None,
    }  # fmt: skip
    state = [{"id": k, "property": "value", "value": v} for k, v in values.items()]
    state += [
        {"id": page.LOCATION_EXACT, "property": "data", "value": None},
        {"id": "url", "property": "search", "value": ""},
        {"id": page.TAGS, "property": "value", "value": []},
    ]
    inputs = [{"id": page.GRID, "property": "getRowsRequest", "value": request}]
    resp = dash_post(client, key, outputs, inputs, state)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return dict(resp.get_json()["response"])


def _count(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    """count_view's answer: {"response": outputs set, "sideUpdate": the poll's props, if any}."""
    key = output_key(client, "profiles-count.children@")
    inputs = [{"id": page.COUNT_REQUEST, "property": "data", "value": request}]
    resp = dash_post(client, key, COUNT_OUTPUTS, inputs)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return dict(resp.get_json())


def test_the_page_shows_about_then_the_exact_count_and_only_then_the_grids_length(
    client: Any, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(0)
    first = _first_block(client)
    assert first[page.GRID]["getRowsResponse"]["rowCount"] is None
    request = first[page.COUNT_REQUEST]["data"]
    estimate = counting.estimate_rows(broad())

    asked = _count(client, request)
    about = f"about {two_figures(estimate):,} profiles"
    assert asked["response"][page.COUNT]["children"] == about
    assert page.COUNT_TOTAL not in asked["response"]  # an estimate is never the grid's length
    assert asked["sideUpdate"] == {page.COUNT_POLL: {"disabled": False, "n_intervals": 0}}

    polled = _count(client, {"view": request["view"], "poll": 1})  # the worker is not done
    assert polled["response"][page.COUNT]["children"] == about
    assert page.COUNT_TOTAL not in polled["response"] and "sideUpdate" not in polled

    [args] = queued(redis_conn)
    assert grid_exact_count(*args) == ROWS
    done = _count(client, {"view": request["view"], "poll": 2})
    assert done["response"][page.COUNT]["children"] == f"{ROWS:,} profiles"
    assert done["response"][page.COUNT_TOTAL]["data"] == {"view": request["view"], "total": ROWS}
    assert done["sideUpdate"] == {page.COUNT_POLL: {"disabled": True}}
    assert _first_block(client)[page.COUNT]["children"] == f"{ROWS:,} profiles"  # cached now


def test_the_poll_gives_up_with_a_clear_label(
    client: Any, redis_conn: redis_lib.Redis, budget: Callable[[int], None]
) -> None:
    budget(0)
    view = _first_block(client)[page.COUNT_REQUEST]["data"]["view"]
    estimate = counting.estimate_rows(broad())
    last = _count(client, {"view": view, "poll": page.COUNT_POLL_TRIES})
    assert last["response"][page.COUNT]["children"] == (
        f"about {two_figures(estimate):,} profiles (exact count unavailable)"
    )
    assert page.COUNT_TOTAL not in last["response"]
    assert last["sideUpdate"] == {page.COUNT_POLL: {"disabled": True}}


def test_the_poll_is_wired_in_the_browser_and_off_until_an_estimate(client: Any) -> None:
    deps = client.get("/_dash-dependencies").get_json()
    polls = [
        d
        for d in deps
        if any(i["id"] == page.COUNT_POLL for i in d["inputs"])
        and f"{page.COUNT_REQUEST}.data" in d["output"]
    ]
    assert len(polls) == 1 and polls[0]["clientside_function"]  # no server round trip per tick
    assert [s["id"] for s in polls[0]["state"]] == [page.VIEW]  # it carries the view, no more
    found = [c for c in _walk(page.layout()) if getattr(c, "id", None) == page.COUNT_POLL]
    assert len(found) == 1
    assert found[0].disabled is True and found[0].max_intervals == page.COUNT_POLL_TRIES


def _walk(component: Any) -> Iterator[Any]:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            yield from _walk(child)
