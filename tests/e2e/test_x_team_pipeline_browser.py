"""(Runs after the workflow test and before the server-log check.) Tags, notes, saved views and
pipeline stages in a real browser, in one flow: tag a profile and write a note in its detail
panel, filter the grid by the tag, save that view and reopen it from the list, move a project
candidate to "contacted" from the project grid and see it in the funnel. Every step leaves a
screenshot in test-artifacts/e2e/.

The project and its two members are written in SQL (creating projects and importing are the
workflow test's subject); every step under test goes through the UI.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.e2e.conftest import ARTIFACTS, Console, LiveApp, skip_reason
from tests.factories import make_project

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

TAG = "E2E shortlist-later"
NOTE = "Spoke on the phone: open to Berlin, notice period 2 months."
VIEW_NAME = "E2E tagged for later"
PROJECT = "E2E Pipeline stages"
GRID_API = "dash_ag_grid.getApi('{}')"
SETTLED = """(grid) => {
    let api; try { api = dash_ag_grid.getApi(grid); } catch (e) { return false; }
    if (!api) return false;
    const blocks = Object.values(api.getCacheBlockState());
    return blocks.length > 0 && blocks.every(b => b.pageStatus === 'loaded');
}"""


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def settle(page: Any, grid: str) -> None:
    page.wait_for_function(SETTLED, arg=grid, timeout=15_000)
    page.wait_for_timeout(300)  # the block debounce (150 ms) could start another block
    page.wait_for_function(SETTLED, arg=grid, timeout=15_000)


def first_rows(page: Any, grid: str, count: int) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """([grid, n]) => { const api = dash_ag_grid.getApi(grid); const out = [];
                 for (let i = 0; i < n; i++) { const r = api.getDisplayedRowAtIndex(i);
                   if (r && r.data) out.push(r.data); } return out; }""",
            [grid, count],
        )
    )


def count_text(page: Any) -> str:
    return str(page.locator("#profiles-count").inner_text())


@pytest.fixture(scope="module")
def members(live_app: LiveApp) -> dict[str, Any]:
    """A project with the first two demo profiles as members, added now."""
    with psycopg.connect(live_app.database_url, autocommit=True) as conn:
        people = conn.execute("SELECT id, full_name FROM profiles ORDER BY id LIMIT 2").fetchall()
        admin = conn.execute("SELECT id FROM users WHERE role = 'admin' ORDER BY id").fetchone()
        assert len(people) == 2 and admin is not None
        project = make_project(conn, name=PROJECT, owner_id=admin[0])
        conn.execute(
            "INSERT INTO project_profiles (project_id, profile_id, added_by)"
            " SELECT %s, unnest(%s::bigint[]), %s",
            (project, [p[0] for p in people], admin[0]),
        )
    return {"project": project, "profile": int(people[0][0]), "name": str(people[0][1]),
            "other": int(people[1][0])}  # fmt: skip


def test_tag_note_filter_save_reopen_stage_and_funnel(
    page: Any, live_app: LiveApp, console: Console, members: dict[str, Any]
) -> None:
    # 1. Open the first profile's detail panel; tag it (a new tag) and write a note.
    page.goto("/profiles")
    settle(page, "profiles-grid")
    assert first_rows(page, "profiles-grid", 1)[0]["id"] == members["profile"]
    page.locator(".ag-row[row-index='0'] .ag-cell[col-id='full_name']").first.click()
    page.locator("#profiles-detail").wait_for(state="visible")
    page.wait_for_function(
        "(name) => document.querySelector('#profiles-detail').innerText.includes(name)",
        arg=members["name"],
    )
    page.wait_for_selector("#profiles-detail-tags >> text=No tags yet.")
    page.fill("#profiles-detail-tag-input", TAG)
    page.click("#profiles-detail-tag-add")
    page.wait_for_selector(f"#profiles-detail-tags .profile-tag >> text={TAG}")
    assert page.input_value("#profiles-detail-tag-input") == ""
    page.fill("#profiles-detail-note-input", NOTE)
    page.click("#profiles-detail-note-add")
    page.wait_for_selector(f"#profiles-detail-notes .profile-note >> text={NOTE}")
    assert "Delete" in page.locator("#profiles-detail-notes").inner_text()  # the author's own
    page.wait_for_timeout(400)  # the panel has slid in
    shot(page, "30-detail-tag-and-note")

    # 2. Filter the grid by the tag: exactly the tagged profile, and the URL says so.
    page.keyboard.press("Escape")
    page.locator("#profiles-detail").wait_for(state="hidden")
    page.click("#profiles-tags")
    page.get_by_text(re.compile(rf"^{re.escape(TAG)} \(1\)$")).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('tag=')", timeout=15_000)
    settle(page, "profiles-grid")
    page.wait_for_function(
        "() => document.querySelector('#profiles-count').innerText === '1 profile'"
    )
    assert [r["id"] for r in first_rows(page, "profiles-grid", 5)] == [members["profile"]]
    tagged_search = urlsplit(page.url).query
    tag_ids = parse_qs(tagged_search)["tag"]
    assert len(tag_ids) == 1 and tag_ids[0].isdigit()
    shot(page, "31-grid-filtered-by-tag")

    # 3. Save the view, shared with the team; it appears in the list.
    page.fill("#profiles-view-name", VIEW_NAME)
    page.locator("#profiles-view-shared").check()
    page.click("#profiles-view-save")
    page.wait_for_selector(f"#profiles-views-feedback >> text=Saved the view '{VIEW_NAME}'")
    link = page.locator("#profiles-views-list a.saved-view-link", has_text=VIEW_NAME)
    link.wait_for(state="visible")
    assert link.get_attribute("href") == f"/profiles?{tagged_search}"
    shot(page, "32-view-saved")

    # 4. From the unfiltered grid, reopen the view from the list: the URL and rows come back.
    page.goto("/profiles")
    settle(page, "profiles-grid")
    page.wait_for_function(
        "() => /^[0-9,]+ profiles$/.test(document.querySelector('#profiles-count').innerText)"
    )
    assert count_text(page) != "1 profile"
    page.click("#profiles-views-toggle")
    page.locator("#profiles-views-list a.saved-view-link", has_text=VIEW_NAME).click()
    page.wait_for_function("(q) => location.search === '?' + q", arg=tagged_search)
    settle(page, "profiles-grid")
    page.wait_for_function(
        "() => document.querySelector('#profiles-count').innerText === '1 profile'"
    )
    assert [r["id"] for r in first_rows(page, "profiles-grid", 5)] == [members["profile"]]
    assert TAG in page.locator("#profiles-tags").inner_text()  # the filter shows the tag
    shot(page, "33-view-reopened")

    # 5. In the project grid, move the tagged candidate to "contacted".
    page.goto(f"/projects/{members['project']}?tab=profiles")
    settle(page, "project-grid")
    rows = first_rows(page, "project-grid", 5)
    assert {r["id"] for r in rows} == {members["profile"], members["other"]}
    assert {r["stage"] for r in rows} == {"sourced"}
    index = [r["id"] for r in rows].index(members["profile"])
    page.locator(
        f"#project-grid .ag-row[row-index='{index}'] .ag-selection-checkbox input"
    ).first.check()
    page.wait_for_function(
        "() => dash_ag_grid.getApi('project-grid').getSelectedRows().length === 1"
    )
    page.locator("#project-stage-pick").select_option("contacted")
    page.click("#project-stage-apply")
    page.wait_for_selector("#project-grid-feedback >> text=1 moved to Contacted.")
    page.wait_for_function(
        """(id) => { const api = dash_ag_grid.getApi('project-grid'); let stage = null;
             api.forEachNode(n => { if (n.data && n.data.id === id) stage = n.data.stage; });
             return stage === 'contacted'; }""",
        arg=members["profile"],
        timeout=15_000,
    )
    shot(page, "34-project-stage-contacted")

    # 6. The funnel of that project counts one contacted candidate, after the existing steps.
    page.goto(f"/insights?project={members['project']}")
    page.wait_for_selector("#insights-graph-funnel .main-svg", timeout=30_000)
    funnel = page.wait_for_function(
        """() => { const el = document.querySelector('#insights-graph-funnel .js-plotly-plot');
             if (!el || !el.data || !el.data.length) return null;
             const t = el.data.find(d => d.name !== 'All projects') || el.data[0];
             return {y: t.y, x: t.x}; }""",
        timeout=30_000,
    ).json_value()
    steps = dict(zip(funnel["y"], funnel["x"], strict=True))
    assert funnel["y"][0] == "Sourced" and funnel["y"][-4:] == [
        "Contacted", "Replied", "Interviewing", "Hired",
    ]  # fmt: skip
    assert (steps["Sourced"], steps["Contacted"], steps["Replied"]) == (2, 1, 0)
    page.locator("#insights-card-funnel").scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the funnel's transition
    shot(page, "35-funnel-contacted")
    assert not console.matching(r"^pageerror"), console.messages
