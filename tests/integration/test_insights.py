"""Insights: every aggregate against a hand-computed answer on a small fixed data set, the cache
keys and single-flight cache, the lead gate on every insights callback and the CSV route, and
valid figures for empty data."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import plotly.graph_objects as go
import psycopg
import pytest

from tests.factories import (
    add_to_project,
    make_job,
    make_profile,
    make_project,
    make_prompt_version,
)
from tests.helpers import create_user, dash_post, login, output_key

# The reference time of every test here: filters, "today" and all rows are placed from it and
# passed to the services explicitly, so a run crossing 00:00 UTC gives the same answers.
NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
# Midday five days ago: inside the default 30-day range whatever the time of day.
BASE = NOW.replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=5)
OLD = NOW - dt.timedelta(days=60)
# A usage row of "today" (a few seconds before NOW, but never before today's 00:00 UTC).
JUST_NOW = max(
    NOW - dt.timedelta(seconds=5), NOW.replace(hour=0, minute=0, second=0, microsecond=0)
)


def _days(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture()
def dataset(db: psycopg.Connection, redis_conn: Any) -> dict[str, int]:
    """Three users, two projects, six profiles and their pipeline rows (see each test's sums)."""
    lead = create_user(db, "lena@example.com", "lead")
    r1 = create_user(db, "rita@example.com", "recruiter")
    r2 = create_user(db, "rob@example.com", "recruiter")
    ex = db.execute
    make_project(db, id=1, name="Alpha")
    make_project(db, id=2, name="Beta")
    enriched = [_days(10), _days(100), _days(400), None, _days(50), None]
    for i, at in enumerate(enriched, start=1):
        make_profile(
            db,
            id=i,
            linkedin_url=f"https://www.linkedin.com/in/p{i}",
            full_name=f"Person {i}",
            enrichment_status="enriched" if at else "pending",
            enriched_at=at,
        )
    pp = [
        (1, 1, r1, True, BASE),
        (1, 2, r1, False, BASE),
        (1, 3, r2, False, BASE),
        (1, 4, r2, False, BASE),
        (2, 1, r2, True, BASE),
        (2, 5, r2, False, BASE),
        (2, 6, r1, False, OLD),
    ]
    for project, profile, by, shortlisted, at in pp:
        add_to_project(db, project, profile, added_by=by, shortlisted=shortlisted, added_at=at)
    for project, profile, passed in [(1, 1, True), (1, 2, True), (1, 3, False), (1, 4, True),
                                     (2, 1, True), (2, 5, False)]:  # fmt: skip
        ex(
            "INSERT INTO filter_results (project_id, profile_id, passed) VALUES (%s, %s, %s)",
            (project, profile, passed),
        )
    for version_id, project, version in [(1, 1, 1), (2, 1, 2), (3, 2, 1)]:
        make_prompt_version(db, id=version_id, project_id=project, version=version)
    for job_id, kind, project, by in [
        (1, "screen", 1, r1),
        (2, "screen", 2, r2),
        (3, "lookup", 1, r1),
    ]:
        make_job(db, id=job_id, kind=kind, project_id=project, created_by=by)
    screenings = [
        (1, 1, 1, 1, "done", 8, "good", 1),
        (2, 1, 1, 2, "done", 4, "maybe", 1),
        (3, 1, 2, 1, "done", 9, "strong", 1),
        (4, 1, 3, 1, "failed", None, None, 1),
        (5, 1, 4, 2, "pending", None, None, 1),
        (6, 2, 1, 3, "done", 7, "strong", 2),
        (7, 2, 5, 3, "done", 2, "no", 2),
    ]
    for sid, project, profile, pv, status, score, fit, job in screenings:
        ex(
            "INSERT INTO screenings (id, project_id, profile_id, prompt_version_id, status, score,"
            " fit, error, job_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (sid, project, profile, pv, status, score, fit,
             "boom" if status == "failed" else None, job, BASE),
        )  # fmt: skip
    ex(
        "INSERT INTO screening_overrides (screening_id, user_id, verdict) VALUES"
        " (3, %s, 'agree'), (2, %s, 'disagree'), (6, %s, 'agree')",
        (r1, r1, r2),
    )
    ex(
        "INSERT INTO contact_lookups (profile_id, status, provider, job_id, looked_up_at) VALUES"
        " (1, 'found', 'salesql', 3, %(t)s), (2, 'not_found', 'salesql', 3, %(t)s),"
        " (5, 'found', 'salesql', NULL, %(t)s)",
        {"t": BASE},
    )
    ex(
        "INSERT INTO contacts (profile_id, kind, value, provider)"
        " VALUES (1, 'email', 'p1@example.com', 'salesql')"
    )
    ex(
        "INSERT INTO searches (project_id, agent_id, kind, query, requested_count, launched_by,"
        " created_at) VALUES (1, 'a1', 'linkedin', 'q', 10, %s, %s)",
        (r1, BASE),
    )
    ex(
        "INSERT INTO imports (project_id, filename, format, imported_by, created_at)"
        " VALUES (2, 'f.csv', 'csv', %s, %s)",
        (r2, BASE),
    )
    usage = [
        (BASE, r1, 1, "crustdata", 10, 0.10),
        (BASE, r1, 1, "openai", 1000, 0.50),
        (BASE + dt.timedelta(days=1), r2, 2, "salesql", 2, 0.04),
        (BASE + dt.timedelta(days=1), r2, None, "crustdata", 5, 0.05),
        (JUST_NOW, r1, 1, "crustdata", 3, 0.03),
        (OLD, r1, 1, "openai", 1, 9.99),
    ]
    for ts, user, project, provider, units, cost in usage:
        ex(
            "INSERT INTO api_usage (ts, user_id, project_id, provider, operation, units, cost_usd,"
            " status) VALUES (%s, %s, %s, %s, 'op', %s, %s, 'ok')",
            (ts, user, project, provider, units, cost),
        )
    return {"lead": lead, "r1": r1, "r2": r2}


def _filter(**kw: Any) -> Any:
    from services.insights import default_filter

    f = default_filter(TODAY)
    return type(f)(f.date_from, f.date_to, **kw)


def test_funnel_per_project_and_team(dataset: dict[str, int]) -> None:
    """Hand count: P1 has p1-p4 in range, P2 has p1 and p5 (p6 was added 60 days ago)."""
    from services.insights import funnel

    rows = {r.project_name: r.counts() for r in funnel.funnel(_filter())}
    assert rows == {
        # nobody moved along the recruiters' stages (contacted, replied, interviewing, hired)
        "All projects": [6, 5, 4, 4, 2, 2, 3, 0, 0, 0, 0],
        "Alpha": [4, 3, 3, 2, 1, 1, 1, 0, 0, 0, 0],  # p1's latest screening (v2) says maybe
        "Beta": [2, 2, 1, 2, 1, 1, 2, 0, 0, 0, 0],
    }
    alpha = next(r for r in funnel.funnel(_filter()) if r.project_name == "Alpha")
    assert alpha.conversion() == [None, 0.75, 1.0, 2 / 3, 0.5, 1.0, 1.0, 0.0, None, None, None]
    mine = funnel.funnel(_filter(user_id=dataset["r1"]))
    assert [(r.project_name, r.counts()) for r in mine] == [
        ("All projects", [2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0]),
        ("Alpha", [2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0]),
    ]
    assert [r.project_name for r in funnel.funnel(_filter(project_id=2))] == [
        "All projects",
        "Beta",
    ]


def test_screening_scores_fits_and_agreement(dataset: dict[str, int]) -> None:
    """Only finished screenings count; overrides give agreement per prompt version."""
    from services.insights import screening

    f = _filter()
    assert [(r.project_name, r.prompt_version, r.score, r.screenings) for r in screening.scores(f)] == [
        ("Alpha", 1, 8, 1), ("Alpha", 1, 9, 1), ("Alpha", 2, 4, 1),
        ("Beta", 1, 2, 1), ("Beta", 1, 7, 1),
    ]  # fmt: skip
    assert [(r.project_name, r.prompt_version, r.fit, r.screenings) for r in screening.fits(f)] == [
        ("Alpha", 1, "good", 1), ("Alpha", 1, "strong", 1), ("Alpha", 2, "maybe", 1),
        ("Beta", 1, "no", 1), ("Beta", 1, "strong", 1),
    ]  # fmt: skip
    assert [
        (r.project_name, r.prompt_version, r.screened, r.reviewed, r.agree, r.disagree,
         r.agreement_rate)
        for r in screening.agreement(f)
    ] == [
        ("Alpha", 1, 2, 1, 1, 0, 1.0),
        ("Alpha", 2, 1, 1, 0, 1, 0.0),
        ("Beta", 1, 2, 1, 1, 0, 1.0),
    ]  # fmt: skip
    assert [r.score for r in screening.scores(_filter(user_id=dataset["r2"]))] == [2, 7]


def test_activity_per_recruiter_per_day_and_week(dataset: dict[str, int]) -> None:
    """Screenings and lookups belong to whoever started their job; the rest to their author."""
    from services.insights import activity

    rows = activity.activity(_filter())
    assert {r.period for r in rows} == {BASE.date()}
    assert [(r.user_name, r.kind, r.actions) for r in rows] == [
        ("Unattributed", "lookups", 1),
        ("rita", "lookups", 2),
        ("rita", "screenings", 3),
        ("rita", "searches", 1),
        ("rob", "imports", 1),
        ("rob", "screenings", 2),
    ]
    weekly = activity.activity(_filter(grain="week"))
    monday = BASE.date() - dt.timedelta(days=BASE.weekday())
    assert {r.period for r in weekly} == {monday}
    assert [(r.kind, r.actions) for r in activity.activity(_filter(project_id=2))] == [
        ("imports", 1),
        ("screenings", 2),
    ]


def test_spend_per_day_user_project_and_budgets(dataset: dict[str, int]) -> None:
    """The 9.99 usage row is 60 days old, outside the default range."""
    from services.insights import spend
    from services.providers.config import load_config

    f = _filter()
    day0, day1 = BASE.date(), (BASE + dt.timedelta(days=1)).date()
    got = [(r.day, r.provider, r.calls, r.units, round(r.cost_usd, 4)) for r in spend.daily(f)]
    assert got == [
        (day0, "crustdata", 1, 10.0, 0.1),
        (day0, "openai", 1, 1000.0, 0.5),
        (day1, "crustdata", 1, 5.0, 0.05),
        (day1, "salesql", 1, 2.0, 0.04),
        (TODAY, "crustdata", 1, 3.0, 0.03),
    ]
    assert [(r.user_name, r.provider, r.calls, r.units, round(r.cost_usd, 4))
            for r in spend.by_user(f)] == [
        ("rita", "openai", 1, 1000.0, 0.5),
        ("rita", "crustdata", 2, 13.0, 0.13),
        ("rob", "crustdata", 1, 5.0, 0.05),
        ("rob", "salesql", 1, 2.0, 0.04),
    ]  # fmt: skip
    projects = [
        (r.project_name, round(r.cost_usd, 4), r.qualified, r.contacted,
         r.cost_per_qualified and round(r.cost_per_qualified, 4),
         r.cost_per_contacted and round(r.cost_per_contacted, 4))
        for r in spend.by_project(f)
    ]  # fmt: skip
    assert projects == [
        ("All projects", 0.72, 2, 3, 0.36, 0.24),
        ("Alpha", 0.63, 1, 1, 0.63, 0.63),
        ("Beta", 0.04, 1, 2, 0.04, 0.02),
    ]
    budgets = {r.provider: r for r in spend.budgets(f, now=NOW)}
    crust = load_config("crustdata")
    assert budgets["crustdata"].used_today == 3.0
    assert budgets["crustdata"].avg_per_day == pytest.approx(18 / 30)
    assert budgets["crustdata"].left_today == max(crust.daily_budget - 3.0, 0)
    assert budgets["openai"].metric == "cost_usd"
    assert budgets["openai"].avg_per_day == pytest.approx(0.5 / 30)
    assert all(r.mode in ("sandbox", "configured") for r in budgets.values())


def test_freshness_buckets_and_due(dataset: dict[str, int]) -> None:
    """Ages 10, 100, 400, never, 50, never days against the freshness window."""
    from services.core.settings import get_settings
    from services.insights import freshness

    assert get_settings().enrichment_freshness_days == 90  # buckets 0-30-60-90-180-360
    rows = freshness.freshness(_filter())
    assert [r.profiles for r in rows] == [1, 1, 0, 1, 0, 1, 2]
    assert sum(r.profiles for r in rows if r.due) == 2
    assert [r.profiles for r in freshness.freshness(_filter(project_id=1))] == [1, 0, 0, 1, 0, 1, 1]


def test_empty_selection_gives_no_rows(dataset: dict[str, int]) -> None:
    from services.insights import CHARTS

    far = _filter(project_id=999)
    for name, chart in CHARTS.items():
        rows = chart.compute(far)
        if name == "budgets":
            assert all(r.used_today == 0 or r.provider == "crustdata" for r in rows)
        else:
            assert rows == [], name


# --- through the real Flask app -------------------------------------------------------------


@pytest.fixture()
def client(db: psycopg.Connection) -> Any:
    from app import server

    server.config["TESTING"] = True
    return server.test_client()


def _chart_post(client: Any, chart: str, params: dict[str, str]) -> Any:
    graph, table = f"insights-graph-{chart}", f"insights-table-{chart}"
    return dash_post(
        client,
        output_key(client, f"{graph}.figure"),
        [{"id": graph, "property": "figure"}, {"id": table, "property": "children"}],
        [{"id": "insights-filter", "property": "data", "value": params}],
    )


def _figure(resp: Any, chart: str) -> dict[str, Any]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return dict(resp.get_json()["response"][f"insights-graph-{chart}"]["figure"])


def _params() -> dict[str, str]:
    from services.insights import default_filter

    return dict(default_filter(TODAY).to_params())


def test_lead_gets_every_chart_with_exact_numbers(client: Any, dataset: dict[str, int]) -> None:
    """Each chart callback answers with a valid figure; the funnel carries the hand counts."""
    from services.insights import CHARTS

    login(client, "lena@example.com")
    for chart in CHARTS:
        resp = _chart_post(client, chart, _params())
        fig = go.Figure(_figure(resp, chart))
        assert fig.data, chart
        assert "hovertemplate" in fig.data[0].to_plotly_json(), chart
    funnel = _figure(_chart_post(client, "funnel", _params()), "funnel")
    assert funnel["data"][0]["name"] == "All projects"
    assert funnel["data"][0]["x"] == [6, 5, 4, 4, 2, 2, 3, 0, 0, 0, 0]
    table = _chart_post(client, "funnel", _params()).get_data(as_text=True)
    assert "Alpha" in table and "passed filters" in table


def test_empty_data_gives_valid_figures_with_an_empty_state(
    client: Any, db: psycopg.Connection, redis_conn: Any
) -> None:
    from services.insights import CHARTS

    create_user(db, "lena@example.com", "lead")
    login(client, "lena@example.com")
    for chart in CHARTS:
        fig = go.Figure(_figure(_chart_post(client, chart, _params()), chart))
        if chart != "budgets":  # budgets always lists the providers (at zero use)
            texts = [a.text for a in fig.layout.annotations]
            assert texts == ["No data for this selection"], chart


def test_recruiter_gets_no_insights_data_through_any_callback(
    client: Any, dataset: dict[str, int]
) -> None:
    """Every insights callback re-checks the lead role: the refusal carries no numbers or names."""
    from services.insights import CHARTS

    login(client, "rita@example.com")
    for chart in CHARTS:
        resp = _chart_post(client, chart, _params())
        fig = _figure(resp, chart)
        assert fig.get("data", []) == [], chart
        assert "lead role" in fig["layout"]["annotations"][0]["text"]
        assert "Alpha" not in resp.get_data(as_text=True)
    options = dash_post(
        client,
        output_key(client, "insights-project.options"),
        [
            {"id": "insights-project", "property": "options"},
            {"id": "insights-user", "property": "options"},
        ],
        [{"id": "insights-filter", "property": "id", "value": "insights-filter"}],
    )
    assert options.status_code == 200
    assert "Alpha" not in options.get_data(as_text=True)
    assert "rob" not in options.get_data(as_text=True)
    applied = _apply(client, "2026-01-01", "2026-01-31", 1, None)
    body = applied.get_json()["response"]
    assert "lead role" in body["insights-error"]["children"]
    assert "insights-filter" not in body  # no new filter, no URL change
    csv = client.get("/download/insights/funnel.csv")
    assert csv.status_code == 403


def _apply(client: Any, start: str, end: str, project: int | None, user: int | None) -> Any:
    from services.insights import CHARTS

    outputs = [
        {"id": "insights-filter", "property": "data"},
        {"id": "url", "property": "search"},
        {"id": "insights-error", "property": "children"},
        {"id": "insights-error", "property": "is_open"},
        *[{"id": f"insights-csv-{c}", "property": "href"} for c in CHARTS],
    ]
    return dash_post(
        client,
        output_key(client, "insights-filter.data"),
        outputs,
        [
            {"id": "insights-dates", "property": "start_date", "value": start},
            {"id": "insights-dates", "property": "end_date", "value": end},
            {"id": "insights-project", "property": "value", "value": project},
            {"id": "insights-user", "property": "value", "value": user},
            {"id": "insights-grain", "property": "value", "value": "week"},
        ],
    )


def test_filter_mirrors_into_url_and_csv_links(client: Any, dataset: dict[str, int]) -> None:
    login(client, "lena@example.com")
    body = _apply(client, "2026-01-01", "2026-01-31", 2, dataset["r1"]).get_json()["response"]
    expected = {"from": "2026-01-01", "to": "2026-01-31", "project": "2",
                "user": str(dataset["r1"]), "grain": "week"}  # fmt: skip
    assert body["insights-filter"]["data"] == expected
    search = body["url"]["search"]
    assert search.startswith("?from=2026-01-01&to=2026-01-31&project=2")
    assert body["insights-csv-funnel"]["href"] == "/download/insights/funnel.csv" + search
    bad = _apply(client, "2026-02-01", "2026-01-01", None, None).get_json()["response"]
    assert "before the start" in bad["insights-error"]["children"]
    page = client.get("/insights?from=2026-01-01&to=2026-01-31&project=2")
    assert page.status_code == 200
    layout = client.get("/_dash-layout").get_json()
    assert layout is not None


def test_layout_reads_initial_filter_from_the_url() -> None:
    from layouts import insights as page
    from services.insights import default_filter

    f, problem = page.initial_filter({"from": "2026-01-01", "to": "2026-01-31", "project": "2"})
    assert (f.date_from.isoformat(), f.project_id, problem) == ("2026-01-01", 2, "")
    before = dt.datetime.now(dt.UTC).date()
    f, problem = page.initial_filter({"from": "junk"})
    after = dt.datetime.now(dt.UTC).date()  # the page reads the clock: either side of it counts
    assert f in (default_filter(before), default_filter(after))
    assert "date" in problem


def test_csv_download_matches_the_chart_and_is_formula_safe(
    client: Any, db: psycopg.Connection, dataset: dict[str, int]
) -> None:
    db.execute("UPDATE projects SET name = '=HYPERLINK(1)' WHERE id = 1")
    login(client, "lena@example.com")
    resp = client.get(
        "/download/insights/funnel.csv?" + "&".join(f"{k}={v}" for k, v in _params().items())
    )
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).splitlines()
    assert (
        lines[0]
        == "project_id,project_name,sourced,enriched,passed_filters,screened,qualified,shortlisted,contacted"
        ",reached_contacted,reached_replied,reached_interviewing,hired,rejected"
    )
    assert lines[1] == ",All projects,6,5,4,4,2,2,3,0,0,0,0,0"
    assert "1,'=HYPERLINK(1),4,3,3,2,1,1,1,0,0,0,0,0" in lines
    assert client.get("/download/insights/nope.csv").status_code == 404
    assert client.get("/download/insights/funnel.csv?from=xx").status_code == 400
    audit = db.execute("SELECT count(*) FROM audit_log WHERE action = 'insights.export'").fetchone()
    assert audit == (1,)


def test_cache_key_follows_data_versions_and_hides_writes_until_bump(
    dataset: dict[str, int], db: psycopg.Connection
) -> None:
    from services.core.cache import bump_data_version
    from services.insights import funnel
    from services.insights.common import chart_key

    f = _filter()
    key = chart_key("funnel", f)
    assert chart_key("funnel", f) == key
    assert chart_key("funnel", _filter(project_id=1)) != key
    assert funnel.funnel(f)[0].sourced == 6
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (2, 3, %s)",
        (BASE,),
    )
    assert funnel.funnel(f)[0].sourced == 6  # served from the cache
    bump_data_version("insights")
    assert chart_key("funnel", f) != key
    assert funnel.funnel(f)[0].sourced == 7
    before = chart_key("funnel", f)
    bump_data_version("profiles")
    assert chart_key("funnel", f) != before


def test_rendered_view_is_cached_with_its_rows_and_follows_the_version(
    dataset: dict[str, int], db: psycopg.Connection
) -> None:
    from services import insights
    from services.core.cache import bump_data_version

    renders: list[int] = []

    def render(rows: Any) -> int:
        renders.append(len(rows))
        return rows[0].sourced

    f = _filter()
    assert insights.chart_view("funnel", f, render) == 6
    assert insights.chart_view("funnel", f, render) == 6 and len(renders) == 1  # rendered once
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (2, 3, %s)",
        (BASE,),
    )
    bump_data_version("insights")
    assert insights.chart_view("funnel", f, render) == 7 and len(renders) == 2
    with pytest.raises(insights.InsightsFilterError):
        insights.chart_view("nope", f, render)


def test_long_table_shows_its_first_rows_and_the_total() -> None:
    from layouts import insights as page

    records = [{"day": str(i), "n": i} for i in range(page.TABLE_ROWS)]
    table = str(page.data_table(records, total=6406))
    assert "First 100 of 6,406 rows" in table
    assert "First" not in str(page.data_table(records[:5]))


def test_concurrent_misses_compute_once(redis_conn: Any) -> None:
    """Fifty simultaneous readers of a cold key cost one computation (single flight)."""
    from services.insights.common import single_flight

    calls: list[int] = []
    results: list[Any] = []

    def slow() -> list[int]:
        calls.append(1)
        threading.Event().wait(0.3)
        return [42]

    threads = [
        threading.Thread(target=lambda: results.append(single_flight("sx:test:sf", slow)))
        for _ in range(50)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results == [[42]] * 50
