"""Locust load profile: recruiters and team leads driving Dash's real callback POSTs.

Recruiters open the profiles page, scroll the grid (sequential blocks and deep jumps), sort,
filter, open a profile's detail and export a filtered view; leads open insights and change its
filters. Credentials come from LOAD_RECRUITER / LOAD_LEAD ("email:password").

Each simulated user waits LOAD_WAIT seconds between two actions ("min,max"; default "0.5,2", a
user who barely reads: a stress setting; "2,8" is closer to a recruiter reading the rows). Users are FastHttpUser (geventhttpclient):
Locust shares the machine's cores with the app, so its own cost per request is kept small.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

TOTAL_ROWS = int(os.environ.get("LOAD_TOTAL_ROWS", "1000000"))
PROJECT_IDS = [int(p) for p in os.environ.get("LOAD_PROJECT_IDS", "1").split(",") if p]
CHARTS = os.environ.get("LOAD_CHARTS", "funnel,scores,fits,spend_daily,freshness").split(",")
SORTS = [
    [{"colId": "current_company", "sort": "desc"}],
    [{"colId": "full_name", "sort": "asc"}],
    [{"colId": "years_experience", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}],
]
FILTERS = [
    {"current_title": {"filterType": "text", "type": "contains", "filter": "engineer"}},
    {
        "years_experience": {
            "filterType": "number",
            "type": "inRange",
            "filter": 5,
            "filterTo": 10,
        },
        "location": {
            "filterType": "text",
            "operator": "OR",
            "conditions": [
                {"filterType": "text", "type": "startsWith", "filter": "Berlin"},
                {"filterType": "text", "type": "startsWith", "filter": "Munich"},
            ],
        },
    },
    {"seniority": {"filterType": "text", "type": "equals", "filter": "Senior"}},
]


def _ref(item: dict[str, Any]) -> dict[str, Any]:
    ident = item["id"]
    if isinstance(ident, str) and ident.startswith("{"):
        ident = json.loads(ident)
    return {"id": ident, "property": item["property"], "value": None}


def _body(dep: dict[str, Any], values: dict[tuple[str, str], Any], changed: str) -> dict[str, Any]:
    outputs = [o for o in dep["output"].strip(".").split("...") if o]
    body = {
        "output": dep["output"],
        "outputs": [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
            for o in outputs
        ],
        "inputs": [_ref(i) for i in dep["inputs"]],
        "state": [_ref(s) for s in dep["state"]],
        "changedPropIds": [changed],
    }
    for item in (*body["inputs"], *body["state"]):
        key = (item["id"] if isinstance(item["id"], str) else "", item["property"])
        item["value"] = values.get(key, item["value"])
    return body


WAIT_MIN_S, WAIT_MAX_S = (float(x) for x in os.environ.get("LOAD_WAIT", "0.5,2").split(","))


class DashUser(FastHttpUser):
    abstract = True
    wait_time = between(WAIT_MIN_S, WAIT_MAX_S)
    credentials_env = ""

    def on_start(self) -> None:
        email, password = os.environ[self.credentials_env].split(":", 1)
        page = self.client.get("/login", name="login page").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}, name="login"
        )
        self.deps = self.client.get("/_dash-dependencies", name="dash dependencies").json()

    def callback(
        self, fragment: str, values: dict[tuple[str, str], Any], changed: str, name: str
    ) -> Any:
        dep = next((d for d in self.deps if fragment in d["output"]), None)
        if dep is None:  # a renamed callback must show up as a failure, not vanish from stats
            raise RuntimeError(f"no callback registered for {fragment}")
        with self.client.post(
            "/_dash-update-component",
            json=_body(dep, values, changed),
            headers={"Origin": self.host},
            name=name,
            catch_response=True,
        ) as resp:
            if resp.status_code not in (200, 204):
                resp.failure(f"HTTP {resp.status_code}")
            return resp


class Recruiter(DashUser):
    weight = 4
    credentials_env = "LOAD_RECRUITER"

    def grid(
        self,
        start: int,
        sort: list[Any] | None = None,
        filters: Any = None,
        name: str = "grid block",
    ) -> None:
        request = {
            "startRow": start,
            "endRow": start + 100,
            "sortModel": sort or [],
            "filterModel": filters or {},
        }
        resp = self.callback(
            "profiles-grid.getRowsResponse",
            {("profiles-grid", "getRowsRequest"): request},
            "profiles-grid.getRowsRequest",
            name,
        )
        if resp.status_code == 200 and "rowData" not in resp.text:
            resp.failure("grid answered without rows")

    @task(2)
    def open_profiles(self) -> None:
        self.client.get("/profiles", name="open profiles page")
        self.grid(0, name="grid first page")

    @task(5)
    def scroll(self) -> None:
        start = random.randrange(0, TOTAL_ROWS // 100) * 100
        self.grid(start, name="grid jump")
        for step in range(1, 4):
            self.grid(min(start + 100 * step, TOTAL_ROWS - 100), name="grid scroll")

    @task(2)
    def sort(self) -> None:
        sort = random.choice(SORTS)
        self.grid(0, sort=sort, name="grid sort")
        self.grid(100, sort=sort, name="grid scroll")

    @task(2)
    def filter(self) -> None:
        self.grid(0, filters=random.choice(FILTERS), name="grid filter")

    @task(2)
    def detail(self) -> None:
        row = random.randint(1, TOTAL_ROWS)
        self.callback(
            "profiles-detail.is_open",
            {
                ("profiles-grid", "cellClicked"): {
                    "rowId": str(row),
                    "colId": "full_name",
                    "value": "x",
                    "rowIndex": 0,
                }
            },
            "profiles-grid.cellClicked",
            "open detail",
        )

    @task(1)
    def export(self) -> None:
        query = "q=python+kafka&loc=Berlin&sen=%5B%22Senior%22%5D"
        with self.client.get(
            f"/download/profiles.csv?{query}", name="export csv", stream=True, catch_response=True
        ) as resp:
            size = sum(len(chunk) for chunk in resp.iter_content(65536))
            if resp.status_code != 200 or size == 0:
                resp.failure(f"export {resp.status_code} {size} bytes")


class Lead(DashUser):
    weight = 1
    credentials_env = "LOAD_LEAD"

    def charts(self, params: dict[str, Any], name: str) -> None:
        for chart in CHARTS:
            self.callback(
                f"insights-graph-{chart}.figure",
                {("insights-filter", "data"): params},
                "insights-filter.data",
                name,
            )

    @task(2)
    def open_insights(self) -> None:
        self.client.get("/insights", name="open insights page")
        self.charts({"from": "2026-10-30", "to": "2026-11-28", "grain": "day"}, "insights chart")

    @task(3)
    def change_filters(self) -> None:
        project = random.choice(PROJECT_IDS)
        self.charts(
            {"from": "2026-09-01", "to": "2026-11-28", "grain": "week", "project": str(project)},
            "insights chart (filtered)",
        )


@events.quitting.add_listener
def _fail_on_errors(environment: Any, **_: Any) -> None:
    if environment.stats.total.fail_ratio > 0:
        environment.process_exit_code = 1
