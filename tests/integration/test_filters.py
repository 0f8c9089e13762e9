"""Filter lists end to end: editing and imports (CSV refused whole on a bad file, Google Sheets
through the provider layer within its per-user limit and cached), and the filter job's outcome
and reasons for every category, shown in the project grid."""

from __future__ import annotations

import psycopg
import pytest

from services import jobs
from services.filters import apply, lists
from services.grid.project_view import fetch_project_block
from tests.factories import add_profile, make_project
from tests.helpers import celery_worker, create_user, wait_for
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration


def test_items_are_normalised_deduplicated_and_displayed_as_written(
    db: psycopg.Connection, redis_conn: object
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    list_id = lists.create_list(user, "Competitors", "excluded_companies")
    report = lists.add_items(user, list_id, ["ACME, Inc.", "Acme", "  ", "Globex GmbH", "Initech"])
    assert (report.added, report.duplicates, report.skipped) == (3, 0, 1)
    again = lists.add_items(user, list_id, ["acme corp", "Umbrella"])
    assert (again.added, again.duplicates) == (1, 1)
    items = {i.normalized: i.value for i in lists.list_items(list_id)}
    assert items == {
        "acme": "ACME, Inc.",
        "globex": "Globex GmbH",
        "initech": "Initech",
        "umbrella": "Umbrella",
    }
    with pytest.raises(lists.ListError, match="already exists"):
        lists.create_list(user, "competitors", "excluded_companies")
    assert [fl.item_count for fl in lists.list_lists()] == [4]


def test_csv_import_refuses_a_bad_file_whole_and_imports_a_good_one(
    db: psycopg.Connection, redis_conn: object
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    list_id = lists.create_list(user, "Schools", "schools")
    lists.add_items(user, list_id, ["MIT"])
    bad = b'value\nStanford\n"Unclosed quote\nOxford\n'
    with pytest.raises(lists.ListError, match="was not imported"):
        lists.import_csv(user, list_id, "bad.csv", bad)
    not_utf8 = "value\nZürich\n".encode("latin-1")
    with pytest.raises(lists.ListError, match="UTF-8"):
        lists.import_csv(user, list_id, "latin.csv", not_utf8)
    assert [i.value for i in lists.list_items(list_id)] == ["MIT"]  # nothing half-imported
    good = "school\nStanford University\nThe University of Oxford\nETH Zürich\n".encode()
    report = lists.import_csv(user, list_id, "good.csv", good, replace=True)
    assert (report.added, report.removed) == (3, 1)
    assert sorted(i.normalized for i in lists.list_items(list_id)) == [
        "eth zurich",
        "stanford university",
        "university of oxford",
    ]
    fl = lists.get_list(list_id)
    assert fl is not None and (fl.source, fl.source_ref) == ("csv", "good.csv")


def test_sheet_import_is_cached_and_stays_within_the_per_user_limit(
    db: psycopg.Connection,
    redis_conn: object,
    fast_providers: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    monkeypatch.setenv("SHEETS_RATE_PER_MIN_PER_USER", "2")
    monkeypatch.setenv("SHEETS_LIMIT_WAIT_S", "0.5")
    for sid in ("sheet-a", "sheet-b", "sheet-c"):
        httpx.post(
            f"{fast_providers.url}/_sandbox/sheets",
            json={"spreadsheet_id": sid, "values": [["Company"], ["Acme Inc"], ["Globex"]]},
            timeout=5,
        ).raise_for_status()
    user = create_user(db, "rita@example.com", "recruiter")
    list_id = lists.create_list(user, "Targets", "target_companies")
    first = lists.import_sheet(user, list_id, "sheet-a", "Lists!A:A")
    assert first.added == 2
    # The same range again comes from the Redis cache: no second call to Google.
    again = lists.import_sheet(user, list_id, "sheet-a", "Lists!A:A")
    assert again.duplicates == 2
    assert fast_providers.requests("sheets") == 1
    # 2/min spaces reads 30 s apart: another range right away is refused before anything is
    # sent, with a message that says so; the sandbox (Google) never sees a request over the limit.
    with pytest.raises(lists.ListError, match=r"rate limit .* try again in"):
        lists.import_sheet(user, list_id, "sheet-b", "Lists!A:A")
    assert fast_providers.requests("sheets") == 1
    fl = lists.get_list(list_id)
    assert fl is not None and fl.source == "sheet"


def test_filter_job_reasons_for_every_category(
    db: psycopg.Connection, redis_conn: object, fast_providers: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    competitors = lists.create_list(user, "Competitors", "excluded_companies")
    lists.add_items(user, competitors, ["ACME, Inc."])
    targets = lists.create_list(user, "Targets", "target_companies")
    lists.add_items(user, targets, ["Globex GmbH", "Acme"])
    schools = lists.create_list(user, "Top schools", "schools")
    lists.add_items(user, schools, ["The University of Oxford"])
    titles_in = lists.create_list(user, "Engineering titles", "titles_include")
    lists.add_items(user, titles_in, ["Data Engineer"])
    titles_out = lists.create_list(user, "Junior titles", "titles_exclude")
    lists.add_items(user, titles_out, ["Intern"])
    places = lists.create_list(user, "DACH", "locations")
    lists.add_items(user, places, ["Berlin"])
    words = lists.create_list(user, "Stack", "keywords")
    lists.add_items(user, words, ["Spark"])

    ok = add_profile(
        db,
        project,
        "ok-person",
        company="Globex",
        title="Senior Data Engineer",
        location="Greater Berlin Area",
        skills=("Apache Spark",),
        schools=("University of Oxford",),
    )
    competitor = add_profile(
        db,
        project,
        "competitor-person",
        company="Acme Corp.",
        title="Data Engineer",
        location="Berlin",
        headline="Spark",
        schools=("Oxford University",),
    )
    intern = add_profile(
        db,
        project,
        "intern-person",
        company="Globex",
        title="Data Engineer Intern",
        location="Munich",
        skills=("SQL",),
        schools=("University of Oxford",),
    )
    unknown = add_profile(db, project, "unknown-person")
    apply.set_project_lists(
        user,
        project,
        {
            competitors: "must_not_match",
            targets: "must_match",
            schools: "must_match",
            titles_in: "must_match",
            titles_out: "must_not_match",
            places: "must_match",
            words: "must_match",
        },
    )
    job_id = apply.start_filter_job(user, project)
    with celery_worker():
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert job.status == "done" and (job.done, job.total) == (4, 4), job
    results = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "SELECT profile_id, passed, reasons FROM filter_results WHERE project_id = %s",
            (project,),
        ).fetchall()
    }
    passed, reasons = results[ok]
    assert passed and {r["rule"] for r in reasons} == {"matched"}
    assert len(reasons) == 5  # one per must-match list

    def failing(profile_id: int) -> set[str]:
        return {r["text"] for r in results[profile_id][1] if r["rule"] != "matched"}

    assert results[competitor][0] is False
    assert failing(competitor) == {
        "excluded: current company 'ACME, Inc.' is on 'Competitors'",
        "missing: no school on 'Top schools'",  # "Oxford University" is another name
    }
    assert results[intern][0] is False
    assert failing(intern) == {
        "excluded: title 'Intern' is on 'Junior titles'",
        "missing: no location on 'DACH'",
        "missing: no profile text on 'Stack'",
    }
    assert results[unknown][0] is False
    assert len(failing(unknown)) == 5  # every must-match list, nothing to exclude
    for _passed, why in results.values():
        for reason in why:
            assert set(reason) == {"list_id", "list", "category", "rule", "value", "text"}
    # The project grid shows the outcome and can filter by it and by reason text.
    failed = fetch_project_block(
        project,
        {"filter_outcome": {"filterType": "text", "type": "equals", "filter": "failed"}},
        [],
        0,
        100,
    )
    assert {r["id"] for r in failed.rows} == {competitor, intern, unknown}
    assert failed.row_count == 3
    by_reason = fetch_project_block(
        project,
        {"filter_reasons": {"filterType": "text", "type": "contains", "filter": "Competitors"}},
        [{"colId": "full_name", "sort": "asc"}],
        0,
        100,
    )
    assert [r["id"] for r in by_reason.rows] == [competitor]
    summary = apply.summary(project)
    assert (summary.evaluated, summary.passed, summary.failed) == (4, 1, 3)
    # Re-running after a list change overwrites the results (one row per profile).
    lists.add_items(user, schools, ["Oxford University"])
    rerun = apply.start_filter_job(user, project)
    with celery_worker():
        wait_for(lambda: (j := jobs.get_job(rerun)) and j.finished, timeout_s=60)
    assert db.execute(
        "SELECT count(*) FROM filter_results WHERE project_id = %s", (project,)
    ).fetchone() == (4,)
    again = db.execute(
        "SELECT reasons FROM filter_results WHERE profile_id = %s", (competitor,)
    ).fetchone()
    assert again is not None
    assert [r["text"] for r in again[0] if r["rule"] != "matched"] == [
        "excluded: current company 'ACME, Inc.' is on 'Competitors'"
    ]
