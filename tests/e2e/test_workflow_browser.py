"""(Runs after test_profiles_browser, whose counts it would change.) The sourcing pipeline in a real browser, against the sandbox providers: create a project,
import a CSV, run a search and a screening and watch their progress reach done, then open
insights and see the charts. Every step leaves a screenshot in test-artifacts/e2e/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, skip_reason

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

JOB_DONE_S = 90_000


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_job_done(page: Any, scope: str) -> str:
    """Wait for a job panel's status line to say done; returns the status text."""
    status = page.locator(f'[id*="job-status"][id*="{scope}"]')
    page.wait_for_function(
        """(scope) => [...document.querySelectorAll('[id*="job-status"]')]
             .some(e => e.id.includes(scope) && /: (done|failed|cancelled)/.test(e.innerText))""",
        arg=scope,
        timeout=JOB_DONE_S,
    )
    return str(status.inner_text())


def open_tab(page: Any, label: str) -> None:
    page.get_by_role("tab", name=label).click()


@pytest.fixture(scope="module")
def project_url(signed_in_context: Any) -> str:
    page = signed_in_context.new_page()
    page.goto("/projects")
    page.fill("#project-new-name", "E2E Staff Data Engineer, Berlin")
    page.fill("#project-new-location", "Berlin, Germany")
    page.fill("#project-new-description", "Streaming pipelines; Kafka, Python, Postgres.")
    page.click("#project-new-submit")
    page.wait_for_url(re.compile(r".*/projects/\d+$"), timeout=15_000)
    page.wait_for_selector("text=E2E Staff Data Engineer, Berlin")
    shot(page, "10-project-created")
    url = str(page.url)
    page.close()
    return url


def test_import_a_csv_into_the_project(
    signed_in_context: Any, project_url: str, tmp_path: Path
) -> None:
    page = signed_in_context.new_page()
    page.goto(project_url)
    open_tab(page, "Imports")
    csv_file = tmp_path / "salesnav-export.csv"
    csv_file.write_text(
        "profileUrl,fullName,companyName,title,location\n"
        + "".join(
            f"https://www.linkedin.com/in/e2e-person-{i},E2E Person {i},Acme,Data Engineer,Berlin\n"
            for i in range(25)
        ),
        encoding="utf-8",
    )
    page.locator("#project-upload input[type=file]").set_input_files(str(csv_file))
    page.wait_for_selector("text=25 rows", timeout=15_000)
    status = wait_job_done(page, "project-import")
    assert ": done" in status
    page.wait_for_selector("#project-import-history >> text=salesnav-export.csv")
    shot(page, "11-csv-imported")
    page.close()


def test_run_a_search_and_watch_it_reach_done(signed_in_context: Any, project_url: str) -> None:
    page = signed_in_context.new_page()
    page.goto(project_url)
    open_tab(page, "Searches")
    page.fill("#project-search-query", "kafka engineer berlin")
    page.fill("#project-search-count", "15")
    page.click("#project-search-launch")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[id*="job-status"]')]
             .some(e => e.id.includes('project-search') && /Job #\\d+/.test(e.innerText))""",
        timeout=15_000,
    )
    shot(page, "12-search-running")
    status = wait_job_done(page, "project-search")
    assert ": done" in status, status
    page.wait_for_selector("#project-search-history >> text=kafka engineer berlin")
    shot(page, "13-search-done")
    page.close()


def test_screen_the_project_and_watch_results_fill_in(
    signed_in_context: Any, project_url: str
) -> None:
    page = signed_in_context.new_page()
    page.goto(project_url)
    open_tab(page, "Screening")
    page.fill("#project-crit-must", "Python\nKafka")
    page.fill("#project-crit-nice", "Postgres")
    page.fill("#project-crit-deal", "No data engineering experience")
    page.click("#project-crit-save")
    page.wait_for_function(
        "() => (document.querySelector('#project-screen-version') || {}).innerText"
        " && /v?1/.test(document.querySelector('#project-screen-version').innerText)",
        timeout=15_000,
    )
    page.locator("#project-screen-scope").select_option("all")
    page.click("#project-screen-run")
    status = wait_job_done(page, "project-screening")
    assert ": done" in status, status
    # The results table refreshes as progress moves; after the last poll nothing is pending.
    page.wait_for_function(
        "() => /^40 done .* 0 pending/.test(document.querySelector('#project-screen-counts').innerText)",
        timeout=15_000,
    )
    assert "40 done" in page.locator("#project-screen-counts").inner_text()
    shot(page, "14-screening-done")
    page.close()


def test_insights_show_charts(signed_in_context: Any) -> None:
    page = signed_in_context.new_page()
    page.goto("/insights")
    # Charts drawn: at least five plots with a size. (Waiting for the first `.main-svg` to be
    # "visible" is not enough: a plot's first layer can be a zero-size one.)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[id^="insights-graph-"] .main-svg')]
            .filter(e => e.getBoundingClientRect().width > 0).length >= 5""",
        timeout=30_000,
    )
    charts = page.locator('[id^="insights-graph-"] .main-svg').count()
    assert charts >= 5
    page.wait_for_timeout(1500)
    shot(page, "15-insights")
    page.close()
