"""Grid blocks, counts, export and detail against real Postgres and Redis.

Every block the service returns (first page, keyset continuation from a remembered boundary,
deferred join after a jump) must equal a plain `ORDER BY ... OFFSET ... LIMIT` over the same data,
for random filters and multi-column mixed-direction sorts over columns with NULLs and ties.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from typing import Any

import psutil
import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from services.core.cache import bump_data_version, data_version
from services.grid import (
    COLUMNS,
    ROW_KEYS,
    GridQuery,
    boundaries,
    count_rows,
    export_csv,
    fetch_block,
    jumpmap,
    pages,
    parse_grid_query,
    profile_detail,
)
from services.grid.params import Params
from services.grid.query import where_clause
from services.grid.sorting import sort_keys
from tests.factories import make_project, seed_profiles
from tests.helpers import celery_worker, wait_for

pytestmark = pytest.mark.integration
ROWS = 3000
SORTABLE = [c for c, col in COLUMNS.items() if col.sortable]
FILTERS: list[dict[str, Any]] = [
    {},
    {"seniority": {"filterType": "text", "type": "notBlank"}},
    {"years_experience": {"filterType": "number", "type": "inRange", "filter": 5, "filterTo": 20}},
    {"full_name": {"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "contains", "filter": "an"},
        {"filterType": "text", "type": "startsWith", "filter": "z"}]}},
    {"enriched_at": {"filterType": "date", "type": "greaterThan", "dateFrom": "2024-01-20"},
     "headline": {"filterType": "text", "type": "notContains", "filter": "python"}},
    {"skills": {"filterType": "text", "type": "contains", "filter": "sql"}},
]  # fmt: skip


def reference_ids(conn: psycopg.Connection, query: GridQuery, start: int, end: int) -> list[int]:
    """The plain OFFSET query the service must agree with, with its order written out here."""
    terms = []
    for item in query.sort_model:
        terms.append(f'p."{item["colId"]}" {item["sort"].upper()}')
        if item["colId"] == "id":
            break
    else:
        first = query.sort_model[0]["sort"].upper() if query.sort_model else "ASC"
        terms.append(f"p.id {first}")
    params = Params()
    stmt = sql.SQL("SELECT p.id FROM profiles p WHERE {} ORDER BY {} OFFSET {} LIMIT {}").format(
        where_clause(query, params),
        sql.SQL(", ".join(terms)),
        params.add(start),
        params.add(end - start),
    )
    return [r[0] for r in conn.execute(stmt, params.values).fetchall()]


def reference_count(conn: psycopg.Connection, query: GridQuery) -> int:
    params = Params()
    stmt = sql.SQL("SELECT count(*) FROM profiles p WHERE {}").format(where_clause(query, params))
    row = conn.execute(stmt, params.values).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def seeded(migrated: str) -> Iterator[psycopg.Connection]:
    """ROWS profiles shared by the read-only tests of this module, and an empty Redis db."""
    with psycopg.connect(migrated, autocommit=True) as conn:
        conn.execute("TRUNCATE profiles, projects RESTART IDENTITY CASCADE")
        seed_profiles(conn, ROWS, seed=23)
        conn.execute("VACUUM ANALYZE profiles")
        yield conn


@pytest.fixture()
def clean_redis(redis_conn: redis_lib.Redis) -> redis_lib.Redis:
    return redis_conn


def random_sort(rng: random.Random) -> list[dict[str, str]]:
    cols = rng.sample(SORTABLE, rng.choice([0, 1, 1, 2, 2, 3]))
    return [{"colId": c, "sort": rng.choice(["asc", "desc"])} for c in cols]


@pytest.mark.parametrize("seed", range(24))
def test_blocks_equal_the_offset_reference(
    seeded: psycopg.Connection,
    clean_redis: redis_lib.Redis,
    seed: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On 3,000 rows every jump would land within the default skip window of some boundary.
    monkeypatch.setattr(pages, "MAX_KEYSET_SKIP", 50)
    rng = random.Random(seed)
    query = parse_grid_query(rng.choice(FILTERS), random_sort(rng), "", "", (), None, None)
    total = reference_count(seeded, query)
    size = rng.choice([100, 100, 37, 250])

    def check(start: int, end: int, strategies: tuple[str, ...]) -> None:
        block = fetch_block(query, start, end)
        assert [r["id"] for r in block.rows] == reference_ids(seeded, query, start, end), (
            query, start, end, block.strategy,
        )  # fmt: skip
        assert block.strategy in strategies, (start, block.strategy)
        assert block.row_count == total

    # A sequential walk from the top: the first block, then keyset from remembered boundaries.
    for n in range(min(6, total // size + 1)):
        check(n * size, (n + 1) * size, ("first",) if n == 0 else ("keyset",))
    # Jump to the tail (where ASC sorts keep their NULLs) and walk to the end by keyset.
    tail = max(size * 6 + 51, total - 4 * size + rng.randrange(size))
    check(tail, tail + size, ("deferred",))
    for start in range(tail + size, total, size):
        check(start, start + size, ("keyset",))
    # Random jumps: deferred join, or keyset plus a short skip when a boundary lies just before.
    for _ in range(5):
        start = rng.randrange(1, max(2, total + 20))
        check(start, start + rng.choice([1, size, 100]), ("deferred", "keyset"))


def test_keyset_walk_through_every_block_with_nulls_first_and_last(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis
) -> None:
    """Tiny blocks make many boundaries fall inside NULL runs and runs of equal values."""
    sorts = [
        [{"colId": "headline", "sort": "desc"}, {"colId": "years_experience", "sort": "asc"}],
        [{"colId": "seniority", "sort": "asc"}, {"colId": "enriched_at", "sort": "desc"},
         {"colId": "current_title", "sort": "asc"}],
    ]  # fmt: skip
    for sort in sorts:
        query = parse_grid_query({}, sort, "", "", (), None, None)
        expected = reference_ids(seeded, query, 0, ROWS)
        got: list[int] = []
        start = 0
        while start < ROWS:
            block = fetch_block(query, start, start + 61)
            assert block.strategy == ("first" if start == 0 else "keyset")
            got.extend(r["id"] for r in block.rows)
            start += 61
        assert got == expected


def test_first_block_of_multi_column_sorts_from_the_leading_group(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis
) -> None:
    """Leading groups that are NULL (headline DESC: NULLs first), large (seniority), or smaller
    than the block (full_name: the general statement takes over) all give the OFFSET rows."""
    sorts = [
        [{"colId": "headline", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}],
        [{"colId": "seniority", "sort": "asc"}, {"colId": "full_name", "sort": "desc"}],
        [{"colId": "seniority", "sort": "desc"}, {"colId": "years_experience", "sort": "asc"}],
        [{"colId": "full_name", "sort": "asc"}, {"colId": "years_experience", "sort": "desc"}],
    ]
    model = {"years_experience": {"filterType": "number", "type": "greaterThan", "filter": 3}}
    for sort in sorts:
        for filters in ({}, model):
            query = parse_grid_query(filters, sort, "", "", (), None, None)
            for size in (1, 50, 200):
                block = fetch_block(query, 0, size)
                assert [r["id"] for r in block.rows] == reference_ids(seeded, query, 0, size)


@pytest.mark.parametrize(
    ("col_id", "flt", "direction"),
    [
        ("full_name", {"filterType": "text", "type": "contains", "filter": "an"}, "asc"),
        ("headline", {"filterType": "text", "type": "contains", "filter": "e"}, "desc"),
        ("years_experience", {"filterType": "number", "type": "greaterThan", "filter": 4}, "asc"),
    ],
)
def test_a_filter_on_the_sort_column_finds_ids_first_with_offset_results(
    seeded: psycopg.Connection,
    clean_redis: redis_lib.Redis,
    col_id: str,
    flt: dict[str, Any],
    direction: str,
) -> None:
    query = parse_grid_query({col_id: flt}, [{"colId": col_id, "sort": direction}])
    assert pages._filters_only_sort_column(query, sort_keys(query.sort_model))
    total = reference_count(seeded, query)
    assert 300 < total < ROWS  # a real filter, several blocks long
    for start in range(0, total + 100, 100):  # first, then keyset blocks to the end
        block = fetch_block(query, start, start + 100)
        assert block.strategy == ("first" if start == 0 else "keyset")
        assert [r["id"] for r in block.rows] == reference_ids(seeded, query, start, start + 100)
    other = parse_grid_query({col_id: flt, "seniority": {"filterType": "text", "type": "equals",
                              "filter": "senior"}}, [{"colId": col_id, "sort": direction}])  # fmt: skip
    assert not pages._filters_only_sort_column(other, sort_keys(other.sort_model))


def test_rows_have_the_grid_columns_only(seeded: psycopg.Connection, clean_redis: Any) -> None:
    block = fetch_block(parse_grid_query({}, [], "", "", (), None, None), 0, 5)
    assert block.strategy == "first" and len(block.rows) == 5
    for row in block.rows:
        assert tuple(row) == ROW_KEYS
        assert isinstance(row["skills"], list)
        assert isinstance(row["created_at"], str) and row["created_at"].startswith("20")


def test_search_and_external_filters_page_and_count(
    seeded: psycopg.Connection, clean_redis: Any
) -> None:
    query = parse_grid_query({}, [{"colId": "full_name", "sort": "asc"}], "eng", "berlin",
                             ("senior", "mid", "lead"), None, None)  # fmt: skip
    total = reference_count(seeded, query)
    assert 0 < total < ROWS
    assert count_rows(query) == total
    for start in (0, 20, 40):
        block = fetch_block(query, start, start + 20)
        assert [r["id"] for r in block.rows] == reference_ids(seeded, query, start, start + 20)


def test_short_last_block_gives_the_exact_count_without_a_count_query(
    seeded: psycopg.Connection, clean_redis: Any
) -> None:
    query = parse_grid_query({}, [], "", "", (), None, None)
    block = fetch_block(query, ROWS - 10, ROWS + 90, count="skip")
    assert len(block.rows) == 10 and block.row_count == ROWS
    assert fetch_block(query, 100, 200, count="skip").row_count is None
    assert fetch_block(query, ROWS + 500, ROWS + 600).rows == []


def test_cached_count_mode_never_counts_but_uses_a_paid_count(
    seeded: psycopg.Connection, clean_redis: Any
) -> None:
    query = parse_grid_query(
        {"full_name": {"filterType": "text", "type": "contains", "filter": "a"}},
        [], "", "", (), None, None,
    )  # fmt: skip
    assert fetch_block(query, 0, 10, count="cached").row_count is None  # nobody counted yet
    total = count_rows(query)
    assert total == reference_count(seeded, query) > 10
    assert fetch_block(query, 0, 10, count="cached").row_count == total
    assert fetch_block(query, 10, 20, count="cached").row_count == total


def test_jump_map_makes_every_later_jump_a_keyset_page_with_offset_results(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis
) -> None:
    rng = random.Random(7)
    views = [
        parse_grid_query({}, [], "", "", (), None, None),
        parse_grid_query({}, [{"colId": "current_company", "sort": "desc"}], "", "", (), None, None),
        parse_grid_query({}, [{"colId": "years_experience", "sort": "asc"},
                              {"colId": "full_name", "sort": "desc"}], "", "", (), None, None),
    ]  # fmt: skip
    for query in views:
        version = data_version("profiles")
        stored = jumpmap.build_map(jumpmap.query_args(query), version)
        assert stored == ROWS // jumpmap.stride_for(ROWS) == 30  # one per block of 100
        for start in [rng.randrange(100, ROWS - 100) for _ in range(8)]:
            block = fetch_block(query, start, start + 100)
            assert block.strategy == "keyset"
            assert [r["id"] for r in block.rows] == reference_ids(seeded, query, start, start + 100)


def test_a_deep_jump_asks_a_worker_for_the_map_once_per_view_and_version(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis
) -> None:
    query = parse_grid_query({}, [{"colId": "full_name", "sort": "asc"}], "", "", (), None, None)
    bkey = boundaries.boundary_key(query, data_version("profiles"))
    with celery_worker():
        assert fetch_block(query, 2500, 2600).strategy == "deferred"  # cold: asks for the map
        wait_for(lambda: clean_redis.zcard(bkey) >= 30, timeout_s=60)
        assert fetch_block(query, 1234, 1334).strategy == "keyset"  # never served, yet mapped
    assert not jumpmap.request_map(query, data_version("profiles"))  # already asked this version
    bump_data_version("profiles")
    assert jumpmap.request_map(query, data_version("profiles"))  # a new version maps again


def test_a_large_view_is_mapped_ahead_of_its_first_deep_jump(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jumpmap, "AHEAD_MIN_ROWS", ROWS - 1)  # 3,000 rows count as "large" here
    query = parse_grid_query({}, [{"colId": "headline", "sort": "desc"}], "", "", (), None, None)
    version = data_version("profiles")
    bkey = boundaries.boundary_key(query, version)
    fetch_block(query, 0, 100, count="skip")  # count unknown: nothing to decide on yet
    assert jumpmap.request_map(query, version)  # ... so the flag was still free
    clean_redis.delete(jumpmap.FLAG_PREFIX + bkey)
    small = parse_grid_query(
        {"id": {"filterType": "number", "type": "lessThan", "filter": 500}},
        [],
        "",
        "",
        (),
        None,
        None,
    )
    fetch_block(small, 0, 100)  # a small view is never mapped ahead
    assert jumpmap.request_map(small, version)
    with celery_worker():
        opened = fetch_block(query, 0, 100)  # the page opens the view; its count is known
        assert opened.row_count == ROWS
        assert not jumpmap.request_map(query, version)  # already asked, by the first block
        wait_for(lambda: clean_redis.zcard(bkey) >= 30, timeout_s=60)
    first_jump = fetch_block(query, 2400, 2500)
    assert first_jump.strategy == "keyset"  # never jumped into before, yet mapped
    assert [r["id"] for r in first_jump.rows] == reference_ids(seeded, query, 2400, 2500)


def test_jump_map_refuses_a_stale_version_and_a_small_view(
    seeded: psycopg.Connection, clean_redis: redis_lib.Redis
) -> None:
    version = data_version("profiles")
    plain = parse_grid_query({}, [], "", "", (), None, None)
    bump_data_version("profiles")
    assert jumpmap.build_map(jumpmap.query_args(plain), version) == 0
    narrow = parse_grid_query(
        {"id": {"filterType": "number", "type": "lessThan", "filter": 500}},
        [],
        "",
        "",
        (),
        None,
        None,
    )
    assert jumpmap.build_map(jumpmap.query_args(narrow), data_version("profiles")) == 0


def test_write_and_version_bump_invalidate_counts_and_boundaries(
    db: psycopg.Connection, clean_redis: Any
) -> None:
    seed_profiles(db, 300, seed=5)
    query = parse_grid_query({"seniority": {"filterType": "text", "type": "equals",
                                            "filter": "senior"}}, [], "", "", (), None, None)  # fmt: skip
    before = count_rows(query)
    assert before == reference_count(db, query)
    fetch_block(query, 0, 10)
    assert fetch_block(query, 10, 20).strategy == "keyset"
    db.execute(
        "INSERT INTO profiles (linkedin_url, seniority) SELECT 'x' || g, 'senior'"
        " FROM generate_series(1, 7) g"
    )
    assert count_rows(query) == before  # served from Redis until the writer bumps the version
    bump_data_version("profiles")
    assert count_rows(query) == before + 7 == reference_count(db, query)
    assert fetch_block(query, 10, 20).strategy == "deferred"  # old boundaries are unreachable


def test_export_streams_in_bounded_memory_and_neutralises_formulas(
    db: psycopg.Connection, clean_redis: Any
) -> None:
    # 200k rows straight from SQL (much faster than COPY from Python), some with formula cells.
    db.execute(
        "INSERT INTO profiles (linkedin_url, full_name, headline, current_company, skills,"
        " created_at) SELECT 'u' || g, 'Name ' || g,"
        " (ARRAY['=1+2', '+cmd', '-x', '@SUM(A1)', e'\\tTab', e'\\rCR', 'plain', NULL])[g % 8 + 1],"
        " 'Co ' || (g % 100), ARRAY['=skill', 'Go'], now() FROM generate_series(1, 200000) g"
    )
    db.execute("ANALYZE profiles")
    query = parse_grid_query({}, [{"colId": "full_name", "sort": "desc"}], "", "", (), None, None)

    process = psutil.Process()

    def consume(cap: int) -> tuple[int, int, int]:
        """Lines and characters streamed, and the largest RSS growth seen while streaming."""
        base = process.memory_info().rss
        lines = chars = grew = 0
        for chunk in export_csv(query, row_cap=cap):
            chars += len(chunk)
            lines += chunk.count("\r\n")
            grew = max(grew, process.memory_info().rss - base)
        return lines, chars, grew

    consume(20_000)  # warm up allocator arenas and the connection code paths
    lines_small, chars_small, grew_small = consume(20_000)
    lines_big, chars_big, grew_big = consume(200_000)
    assert (lines_small, lines_big) == (20_001, 200_001)
    assert chars_big > 9 * chars_small > 9_000_000
    # Ten times the rows (~14 MB of CSV) and about the same memory: holding the result would
    # add well over 100 MB of Python objects.
    assert grew_big < grew_small + 5_000_000, (grew_small, grew_big)

    text = "".join(export_csv(query, row_cap=400))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(ROW_KEYS) and len(rows) == 401
    headline, skills = ROW_KEYS.index("headline"), ROW_KEYS.index("skills")
    seen = {r[headline] for r in rows[1:]}
    assert {"'=1+2", "'+cmd", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR", "plain", ""} <= seen
    assert all(r[skills] == "'=skill; Go" for r in rows[1:])
    names = [r[ROW_KEYS.index("full_name")] for r in rows[1:]]
    assert names == sorted(names, reverse=True)  # the view's order (C collation here)
    assert "".join(export_csv(query, row_cap=0)) == ",".join(ROW_KEYS) + "\r\n"


def test_profile_detail_with_raw_payloads_and_projects(db: psycopg.Connection) -> None:
    seed_profiles(db, 3, seed=1)
    db.execute("UPDATE profiles SET enriched_at = now() - interval '10 days 2 hours' WHERE id = 2")
    db.execute(
        "INSERT INTO profile_raw (profile_id, provider, payload) VALUES"
        " (2, 'crustdata', '{\"a\": 1}'), (2, 'salesql', '{\"emails\": [\"x@y.z\"]}')"
    )
    make_project(db, name="Zeta")
    make_project(db, name="Alpha")
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, stage, shortlisted)"
        " VALUES (1, 2, 'contacted', true), (2, 2, 'sourced', false), (1, 3, 'sourced', false)"
    )
    detail = profile_detail(2)
    assert detail is not None
    assert detail.profile["id"] == 2 and "search_vector" not in detail.profile
    assert {"linkedin_url", "skills", "updated_at", "source"} <= set(detail.profile)
    assert isinstance(detail.profile["skills"], list)
    assert detail.raw["crustdata"]["payload"] == {"a": 1}
    assert detail.raw["salesql"]["payload"] == {"emails": ["x@y.z"]}
    assert isinstance(detail.raw["salesql"]["fetched_at"], str)
    assert detail.projects == [
        {"id": 2, "name": "Alpha", "stage": "sourced", "shortlisted": False},
        {"id": 1, "name": "Zeta", "stage": "contacted", "shortlisted": True},
    ]
    assert detail.data_age_days == 10
    db.execute("UPDATE profiles SET enriched_at = NULL WHERE id = 3")
    plain = profile_detail(3)
    assert plain is not None and plain.raw == {} and plain.data_age_days is None
    assert profile_detail(999) is None and profile_detail(0) is None
