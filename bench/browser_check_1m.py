"""The Profiles page in a real browser (Debian's Chromium via Playwright) on 1,000,000 profiles.

The e2e tests (tests/e2e/) run on 3,000 demo profiles; this checks the same page on the
benchmark database (BENCH_DATABASE_URL, default `sx_bench_insights`, seeded by
bench/bench_insights.py or bench/bench_grid_http.py). It starts gunicorn (2 workers) and one
Celery worker like a deployment, signs in through the login form and, timing each step from the
user's action until the grid has settled (no block loading):

1. opens /profiles: rows and "1,000,000 profiles";
2. jumps to row 900,000 (the scrollbar dragged down), then back to the top;
3. jumps to row 500,000 after the jump map exists (any user's first deep jump asks for it);
4. filters (name contains "ann") and sorts (years desc, name asc): rows obey, the count follows;
5. reloads the page from its URL: same view; back in history: the unfiltered view;
6. opens a profile's detail panel.

Screenshots go to test-artifacts/browser-1m/. The last line printed is one JSON object.

    .venv/bin/python bench/browser_check_1m.py
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_grid_http import BENCH_EMAIL, ensure_user, free_port, start_gunicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.test_profiles_browser import (  # noqa: E402
    API,
    GRID_READY,
    apply_view,
    count_text,
    row,
    settle,
)

ARTIFACTS = ROOT / "test-artifacts" / "browser-1m"
NAME_FILTER = {"full_name": {"filterType": "text", "type": "contains", "filter": "ann"}}
SORT = [{"colId": "years_experience", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}]


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return round((time.perf_counter() - t0) * 1000)


def main() -> int:
    db_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sx_bench_insights"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    port = free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="sx-browser-1m-"))
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SOURCINGX_ENV": "development",
        "SOURCINGX_VAR_DIR": str(var_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "WEB_CONCURRENCY": "2",
        "PORT": str(port),
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SOURCINGX_VAR_DIR")})
    password = ensure_user(db_url)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    master = start_gunicorn(env, var_dir / "gunicorn.log")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "celery_app", "worker", "-c", "1",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    steps: dict[str, Any] = {}
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", viewport={"width": 1600, "height": 1000}
            )
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto("/login")
            page.fill("#email", BENCH_EMAIL)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_url(re.compile(r".*/$"))

            def open_page() -> None:
                page.goto("/profiles")
                page.wait_for_function(GRID_READY)
                settle(page)
                page.wait_for_function(
                    "() => document.querySelector('#profiles-count').innerText.endsWith('profiles')"
                )

            steps["open_ms"] = timed(open_page)
            steps["count"] = count_text(page)
            assert steps["count"] == "1,000,000 profiles", steps["count"]
            page.screenshot(path=str(ARTIFACTS / "01-first-page.png"))

            def jump(index: int) -> None:
                page.evaluate(f"(i) => {API}.ensureIndexVisible(i, 'middle')", index)
                settle(page)
                assert row(page, index) is not None, f"row {index} is loaded"

            steps["jump_900000_ms"] = timed(lambda: jump(900_000))
            deep = row(page, 900_000)
            steps["row_900000_id"] = deep["id"] if deep else None
            page.screenshot(path=str(ARTIFACTS / "02-row-900000.png"))
            steps["back_to_top_ms"] = timed(lambda: jump(0))
            time.sleep(3)  # the worker maps the view after the first deep jump
            steps["jump_500000_mapped_ms"] = timed(lambda: jump(500_000))
            page.screenshot(path=str(ARTIFACTS / "03-row-500000.png"))
            jump(0)

            def filter_and_sort() -> None:
                apply_view(page, NAME_FILTER, SORT)
                page.wait_for_function("() => location.search.includes('f=')")
                settle(page)
                page.wait_for_function(
                    "() => { const t = document.querySelector('#profiles-count').innerText;"
                    " return t.endsWith('profiles') && !t.startsWith('1,000,000'); }"
                )

            steps["filter_sort_ms"] = timed(filter_and_sort)
            steps["filtered_count"] = count_text(page)
            shown = [row(page, i) for i in range(20)]
            assert all(r and "ann" in r["full_name"].lower() for r in shown), shown
            years = [r["years_experience"] for r in shown if r]
            assert years == sorted(years, reverse=True), years
            page.screenshot(path=str(ARTIFACTS / "04-filtered-sorted.png"))
            filtered_url = page.url

            steps["reload_ms"] = timed(lambda: (page.reload(), settle(page)))
            assert page.url == filtered_url and count_text(page) == steps["filtered_count"]
            page.go_back()
            page.wait_for_function("() => !location.search.includes('f=')")
            settle(page)
            steps["back_count"] = count_text(page)

            def open_detail() -> None:
                first = row(page, 0)
                assert first is not None
                page.locator(".ag-row[row-index='0'] .ag-cell[col-id='full_name']").first.click()
                page.locator("#profiles-detail").wait_for(state="visible")
                page.wait_for_function(
                    "(n) => document.querySelector('#profiles-detail').innerText.includes(n)",
                    arg=first["full_name"],
                )

            steps["detail_ms"] = timed(open_detail)
            page.wait_for_timeout(400)
            page.screenshot(path=str(ARTIFACTS / "05-detail.png"))
            browser.close()
    finally:
        worker.terminate()
        master.terminate()
        master.wait(timeout=30)
        worker.wait(timeout=30)
    steps["page_errors"] = errors
    print(json.dumps({"bench": "browser_check_1m", "steps": steps}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
