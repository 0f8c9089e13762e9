"""Two app hosts behind Debian's nginx running deploy/nginx.conf, against one Postgres and Redis.

Each "host" is what a real host runs: its own gunicorn master (2 workers) and its own Celery
worker, on its own loopback port, naming itself in SOURCINGX_HOST_ID (echoed in the
X-SourcingX-Host response header). nginx runs the shipped template, rewritten only in its host
addresses, listen port and file paths (a temp prefix, no root needed). Through nginx a recruiter
signs in, browses and filters the grid, creates a project, imports a CSV and starts a screening;
both hosts must serve requests. Then the host whose worker runs the screening dies (SIGKILL of
its gunicorn and Celery process groups) under load: the next requests work (nginx moves to the
other host), and the job finishes on the surviving host exactly once, paying each verdict once.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from layouts import ids
from layouts import profiles as profiles_page
from layouts import project_pipeline as pipeline_page
from layouts import projects as projects_page
from services import jobs
from tests.factories import seed_profiles
from tests.helpers import (
    ROOT,
    answers,
    callback_body,
    celery_argv,
    create_user,
    dash_post,
    free_port,
    gunicorn_argv,
    http_login,
    wait_for,
)
from tests.integration.sandbox_fixture import SandboxControl
from tests.integration.test_profiles_page import _state as grid_state

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx.conf"
TEMPLATE_HOSTS = ("10.0.1.11:8050", "10.0.1.12:8050")
HOST_HEADER = "X-SourcingX-Host"
IMPORTED = 160  # people in the uploaded CSV, then screened
LOAD_THREADS = 3
SCREENING_CONCURRENCY = 4

needs_nginx = pytest.mark.skipif(
    not os.path.exists(NGINX),
    reason="nginx is not installed (Debian package 'nginx'; scripts/test installs it as root)",
)


# --- processes ---------------------------------------------------------------------------------


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so it and every child it forks can be killed as one."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _stop(proc: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    """Stop a process group politely, then for sure (also when a test failed half-way)."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc, signal.SIGKILL)  # leftovers of the group (pool children) as well
    proc.wait(timeout=10)


@dataclass
class Host:
    """One app host: a gunicorn master with its workers and a Celery worker with its pool."""

    name: str
    port: int
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    worker_log: Path
    node: str

    def die(self) -> None:
        """The host is gone at once: no graceful shutdown, no acknowledgement of its task."""
        for proc in (self.web, self.worker):
            _signal_group(proc, signal.SIGKILL)
        for proc in (self.web, self.worker):
            proc.wait(timeout=10)
        # The master is reaped; its workers may still be exiting with the listening socket.
        wait_for(lambda: not _accepts(self.port), timeout_s=10, interval_s=0.02)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _start_host(stack: ExitStack, name: str, logs: Path) -> Host:
    port = free_port()
    env = {
        **os.environ,
        "SOURCINGX_HOST_ID": name,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "PYTHONUNBUFFERED": "1",
    }
    web = _spawn(gunicorn_argv(), env, logs / f"{name}-web.log")
    stack.callback(_stop, web)
    node = f"{name}-{time.time_ns()}"
    worker_log = logs / f"{name}-worker.log"
    worker = _spawn(celery_argv(1, node), env, worker_log)
    stack.callback(_stop, worker)
    return Host(name, port, web, worker, worker_log, node)


def render_nginx_conf(template: str, upstreams: list[int], listen: int, prefix: Path) -> str:
    """deploy/nginx.conf with loopback hosts, a loopback port and every path under `prefix`.

    Each rewrite must find exactly what it replaces, so a template that drifts fails here
    instead of the test quietly running some other configuration."""

    def sub(pattern: str, repl: str, text: str, count: int) -> str:
        out, n = re.subn(pattern, repl, text)
        assert n == count, f"deploy/nginx.conf: expected {count} x {pattern!r}, found {n}"
        return out

    text = sub(r"(?m)^user [^;]+;\n", "", template, 1)  # no user switch without root
    for address, port in zip(TEMPLATE_HOSTS, upstreams, strict=True):
        text = sub(rf"server {re.escape(address)} ", f"server 127.0.0.1:{port} ", text, 1)
    text = sub(r"(?m)^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{listen};", text, 1)
    text = sub(r"pid /run/nginx\.pid;", f"pid {prefix}/nginx.pid;", text, 1)
    text = sub(r"/var/log/nginx/", f"{prefix}/logs/", text, 2)
    text = sub(r"/var/lib/nginx/", f"{prefix}/lib/", text, 5)
    return text


@dataclass
class Nginx:
    url: str
    access_log: Path  # both kept after the test (copied next to the hosts' logs)
    error_log: Path


def _start_nginx(stack: ExitStack, upstreams: list[int], keep: Path) -> Nginx:
    prefix = Path(tempfile.mkdtemp(prefix="sx-nginx-"))
    prefix.chmod(0o755)  # as root, nginx's workers run as nobody and must reach the temp dirs
    # Runs after nginx stopped (an ExitStack unwinds in reverse): keep the logs, drop the rest.
    stack.callback(shutil.rmtree, prefix, ignore_errors=True)
    stack.callback(lambda: shutil.copytree(prefix / "logs", keep / "nginx", dirs_exist_ok=True))
    (prefix / "logs").mkdir()
    (prefix / "lib").mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(TEMPLATE.read_text(), upstreams, port, prefix))
    base = [NGINX, "-p", f"{prefix}/", "-c", str(conf), "-e", f"{prefix}/logs/error.log"]
    check = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=20)
    assert check.returncode == 0, check.stderr
    proc = _spawn([*base, "-g", "daemon off;"], dict(os.environ), prefix / "logs" / "stdout.log")
    stack.callback(_stop, proc)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{url}/healthz"), timeout_s=30)
    return Nginx(url, keep / "nginx" / "access.log", keep / "nginx" / "error.log")


# --- one user's browser, as HTTP requests through nginx ----------------------------------------


@dataclass
class Browser:
    """An httpx client through nginx that remembers which host answered each request."""

    base: str
    seen: list[tuple[float, str | None, int]] = field(default_factory=list)
    deps: list[dict[str, Any]] = field(default_factory=list)  # the app's registered callbacks

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.base, timeout=20, event_hooks={"response": [self._record]}
        )
        self.origin = {"Origin": self.base}  # the app compares Origin with the Host it sees

    def _record(self, response: httpx.Response) -> None:
        self.seen.append(
            (time.monotonic(), response.headers.get(HOST_HEADER), response.status_code)
        )

    def dependency(self, *fragments: str) -> dict[str, Any]:
        if not self.deps:
            self.deps = self.client.get("/_dash-dependencies").json()
        found = [d for d in self.deps if all(f in d["output"] for f in fragments)]
        assert len(found) == 1, f"expected one callback with {fragments}, got {len(found)}"
        return found[0]

    def callback(
        self, fragments: tuple[str, ...], values: dict[tuple[str, str], Any], changed: str
    ) -> dict[str, Any]:
        """Fire a callback as the renderer does: every input and state it registers, valued
        from `values`, with `changed` ("id.property") as what the user just did."""
        body = callback_body(self.dependency(*fragments), values)
        return self.post(body["output"], body["outputs"], body["inputs"], body["state"], changed)

    def post(
        self,
        output: str,
        outputs: list[dict[str, Any]],
        inputs: list[dict[str, Any]],
        state: list[dict[str, Any]],
        changed: str,
    ) -> dict[str, Any]:
        resp = dash_post(self.client, output, outputs, inputs, state, [changed], self.origin)
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        return dict(resp.json()["response"])

    def hosts(self) -> set[str]:
        """Hosts that answered (nginx's own answers, like a 413, name none)."""
        return {host for _, host, _ in self.seen if host}


def _key(ident: dict[str, Any]) -> str:
    """A pattern-matching id as Dash spells it in callback bodies and responses."""
    return json.dumps(ident, sort_keys=True, separators=(",", ":"))


def grid_block(browser: Browser, start: int, filter_model: dict[str, Any]) -> dict[str, Any]:
    request = {
        "startRow": start,
        "endRow": start + 100,
        "sortModel": [],
        "filterModel": filter_model,
    }
    values = {(s["id"], s["property"]): s["value"] for s in grid_state()}
    values[(profiles_page.GRID, "getRowsRequest")] = request
    response = browser.callback(
        (f"{profiles_page.GRID}.getRowsResponse",), values, f"{profiles_page.GRID}.getRowsRequest"
    )
    return dict(response[profiles_page.GRID]["getRowsResponse"])


def poll_job(browser: Browser, scope: str, job_id: int) -> str:
    """The job panel's poll (a MATCH callback: concrete ids of one panel); its status line."""
    dep = browser.dependency("job-progress", "job-status")
    outputs = [
        {"id": {"type": t, "scope": scope}, "property": p}
        for t, p in (
            ("job-progress", "value"),
            ("job-progress", "label"),
            ("job-progress", "color"),
            ("job-status", "children"),
            ("job-interval", "disabled"),
            ("job-cancel", "disabled"),
        )
    ]
    response = browser.post(
        dep["output"],
        outputs,
        [{"id": ids.job_interval(scope), "property": "n_intervals", "value": 1}],
        [{"id": ids.job_store(scope), "property": "data", "value": {"job_id": job_id}}],
        f"{_key(ids.job_interval(scope))}.n_intervals",
    )
    return str(response[_key(ids.job_status(scope))]["children"])


def create_project(browser: Browser, name: str) -> int:
    values = {
        (projects_page.NEW_SUBMIT, "n_clicks"): 1,
        (projects_page.NEW_NAME, "value"): name,
        (projects_page.NEW_DESCRIPTION, "value"): "",
        (projects_page.NEW_LOCATION, "value"): "Berlin",
    }
    response = browser.callback(
        (f"{projects_page.REDIRECT}.href",), values, f"{projects_page.NEW_SUBMIT}.n_clicks"
    )
    href = str(response[projects_page.REDIRECT]["href"])
    assert href.startswith("/projects/"), response
    return int(href.rsplit("/", 1)[1])


def upload_csv(browser: Browser, project_id: int, filename: str, content: bytes) -> int:
    store = _key(ids.job_store("project-import"))
    values = {
        (projects_page.UPLOAD, "contents"): "data:text/csv;base64,"
        + base64.b64encode(content).decode(),
        (projects_page.UPLOAD, "filename"): filename,
        (projects_page.PROJECT_ID, "data"): project_id,
    }
    response = browser.callback(
        (f"{projects_page.UPLOAD_FEEDBACK}.children", store),
        values,
        f"{projects_page.UPLOAD}.contents",
    )
    assert store in response, response  # a refused file answers with its reason instead
    return int(response[store]["data"]["job_id"])


def start_screening(browser: Browser, project_id: int) -> int:
    """Save the criteria (a prompt version), then run the screening of every member."""
    values: dict[tuple[str, str], Any] = {
        (projects_page.PROJECT_ID, "data"): project_id,
        (pipeline_page.CRITERIA_SAVE, "n_clicks"): 1,
        (pipeline_page.MUST_HAVES, "value"): "Python\nSpark",
        (pipeline_page.NICE_TO_HAVES, "value"): "Kafka",
        (pipeline_page.DEALBREAKERS, "value"): "No relocation",
        (pipeline_page.NOTES, "value"): "Berlin team.",
    }
    saved = browser.callback(
        (f"{pipeline_page.VERSION}.options", f"{pipeline_page.VERSION}.value"),
        values,
        f"{pipeline_page.CRITERIA_SAVE}.n_clicks",
    )
    version_id = saved[pipeline_page.VERSION]["value"]
    assert version_id, saved
    store = _key(ids.job_store(pipeline_page.SCREEN_SCOPE))
    values.update(
        {
            (pipeline_page.SCREEN_RUN, "n_clicks"): 1,
            (pipeline_page.VERSION, "value"): version_id,
            (pipeline_page.SCOPE, "value"): "all",
        }
    )
    started = browser.callback(
        (f"{pipeline_page.SCREEN_FEEDBACK}.children", store),
        values,
        f"{pipeline_page.SCREEN_RUN}.n_clicks",
    )
    assert store in started, started
    return int(started[store]["data"]["job_id"])


# --- load while a host dies --------------------------------------------------------------------


@dataclass
class Outcome:
    started: float
    ended: float
    ok: bool
    host: str | None
    detail: str


def _user_loop(
    base: str, email: str, job_id: int, stop: threading.Event, out: list[Outcome]
) -> None:
    """One signed-in user scrolling the grid and watching the job panel, without pause."""
    browser = Browser(base)
    http_login(browser.client, email)
    models: list[dict[str, Any]] = [
        {},
        {"full_name": {"filterType": "text", "type": "contains", "filter": "a"}},
    ]
    i = 0
    while not stop.is_set():
        i += 1
        started = time.monotonic()
        try:
            if i % 3 == 0:
                status = poll_job(browser, pipeline_page.SCREEN_SCOPE, job_id)
                ok, detail = f"Job #{job_id}" in status, status[:80]
            else:
                block = grid_block(browser, 0, models[i % 2])
                ok, detail = len(block["rowData"]) == 100, "grid"
            host = browser.seen[-1][1]
        except Exception as exc:  # anything a user would see as a broken page counts
            ok, detail = False, f"{type(exc).__name__}: {str(exc)[:120]}"
            host = browser.seen[-1][1] if browser.seen else None
        out.append(Outcome(started, time.monotonic(), ok, host, detail))
        time.sleep(0.02)
    browser.client.close()


def _worker_running(hosts: list[Host], job_id: int) -> Host | None:
    """The host whose Celery worker is executing the job now (asked over Celery's control bus)."""
    from celery_app import celery, follow_settings_broker

    follow_settings_broker()
    active = celery.control.inspect(timeout=1.0).active() or {}
    for host in hosts:
        for node, tasks in active.items():
            # Celery 5 reports args as a list; older versions as their repr.
            runs = [re.findall(r"\d+", str(t.get("args"))) == [str(job_id)] for t in tasks]
            if node.startswith(f"{host.node}@") and any(runs):
                return host
    return None


def _paid_calls(db: psycopg.Connection, project_id: int) -> dict[str, int]:
    rows = db.execute(
        "SELECT subject, count(*) FROM api_usage WHERE provider = 'openai' AND status = 'ok'"
        " AND project_id = %s GROUP BY subject",
        (project_id,),
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture()
def two_host_env(fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> SandboxControl:
    """Short lock/stale timings so a dead host's job is picked up within seconds."""
    monkeypatch.setenv("JOB_LOCK_TTL_S", "4")
    monkeypatch.setenv("JOB_STALE_AFTER_S", "3")
    monkeypatch.setenv("JOB_REAP_INTERVAL_S", "1")
    monkeypatch.setenv("SCREENING_CONCURRENCY", str(SCREENING_CONCURRENCY))
    fast_providers.configure("openai", latency_ms=150)
    return fast_providers


def test_nginx_config_allows_exactly_the_apps_request_limit() -> None:
    from app import server

    match = re.search(r"client_max_body_size (\d+)m;", TEMPLATE.read_text())
    assert match, "deploy/nginx.conf sets client_max_body_size in MiB"
    assert int(match.group(1)) * 1024 * 1024 == server.config["MAX_CONTENT_LENGTH"]


@needs_nginx
def test_two_hosts_behind_nginx_share_users_and_jobs_and_survive_losing_one(
    db: psycopg.Connection, redis_conn: object, two_host_env: SandboxControl, tmp_path: Path
) -> None:
    seed_profiles(db, 300, seed=3)
    create_user(db, "rita@example.com", "recruiter")
    with ExitStack() as stack:
        hosts = [_start_host(stack, name, tmp_path) for name in ("host-a", "host-b")]
        for host in hosts:
            wait_for(lambda h=host: answers(f"http://127.0.0.1:{h.port}/healthz"), timeout_s=60)
        nginx = _start_nginx(stack, [h.port for h in hosts], tmp_path)

        # Sign in, browse and filter the grid: the session made on one host works on the other.
        browser = Browser(nginx.url)
        stack.callback(browser.client.close)
        http_login(browser.client, "rita@example.com")
        assert browser.client.get("/profiles").status_code == 200
        for _ in range(3):
            assert browser.client.get("/_dash-layout").status_code == 200
        first = grid_block(browser, 0, {})
        assert len(first["rowData"]) == 100
        model = {"full_name": {"filterType": "text", "type": "contains", "filter": "an"}}
        filtered = grid_block(browser, 0, model)
        assert filtered["rowData"] and all(
            "an" in r["full_name"].lower() for r in filtered["rowData"]
        )
        oversized = browser.client.post(
            "/_dash-update-component", content=b"x" * (22 * 1024 * 1024), headers=browser.origin
        )
        assert oversized.status_code == 413  # refused by nginx, before any host
        assert oversized.headers.get(HOST_HEADER) is None

        # A project, an import and a screening, each action landing wherever nginx sends it.
        project_id = create_project(browser, "Data engineers")
        assert browser.client.get(f"/projects/{project_id}").status_code == 200
        csv_text = "profileUrl,fullName,headline,location\n" + "".join(
            f"https://www.linkedin.com/in/lb-cand-{i},Cand {i},Data engineer: Python Spark,Berlin\n"
            for i in range(IMPORTED)
        )
        import_job = upload_csv(browser, project_id, "people.csv", csv_text.encode())
        wait_for(lambda: ": done" in poll_job(browser, "project-import", import_job), timeout_s=45)
        screening_job = start_screening(browser, project_id)
        # Round robin, no stickiness: one user's requests were served by both hosts.
        assert browser.hosts() == {"host-a", "host-b"}, browser.hosts()

        # Load from three users while the host that runs the screening dies.
        outcomes: list[Outcome] = []
        stop = threading.Event()
        users = [
            threading.Thread(
                target=_user_loop,
                args=(nginx.url, "rita@example.com", screening_job, stop, outcomes),
            )
            for _ in range(LOAD_THREADS)
        ]
        stack.callback(lambda: [t.join(timeout=30) for t in users if t.is_alive()])
        stack.callback(stop.set)
        for t in users:
            t.start()
        wait_for(
            lambda: (j := jobs.get_job(screening_job)) and j.done >= 20,
            timeout_s=45,
            interval_s=0.05,
        )
        victim = wait_for(lambda: _worker_running(hosts, screening_job), timeout_s=10)
        survivor = next(h for h in hosts if h is not victim)
        killed_at = time.monotonic()
        victim.die()
        paid_before = {
            int(r[0])
            for r in db.execute(
                "SELECT profile_id FROM screenings WHERE project_id = %s AND status = 'done'",
                (project_id,),
            ).fetchall()
        }
        killed = jobs.get_job(screening_job)
        assert killed is not None and killed.status == "running" and killed.done < IMPORTED

        # The job panel, polled through nginx, reaches "done" on the surviving host.
        wait_for(
            lambda: ": done" in poll_job(browser, pipeline_page.SCREEN_SCOPE, screening_job),
            timeout_s=60,
            interval_s=0.5,
        )
        time.sleep(1)  # a little more load on the survivor alone
        stop.set()
        for t in users:
            t.join(timeout=30)

    # Requests: both hosts served before the kill; afterwards only the survivor, and nothing
    # failed except what was in flight on the dead host at the moment it died.
    assert {o.host for o in outcomes if o.ended < killed_at} == {"host-a", "host-b"}
    after = [o for o in outcomes if o.started > killed_at + 0.5]
    assert len(after) > 20 and all(o.ok for o in after), [o.detail for o in after if not o.ok]
    assert {o.host for o in after} == {survivor.name}
    # What may fail is a callback POST already in flight on the dying host (nginx does not
    # resend a POST it has sent): at most one per user. Nothing is pooled to the hosts, so no
    # request is written to a connection of a host that is already dead.
    failed = [o for o in outcomes if not o.ok]
    assert len(failed) <= LOAD_THREADS, [o.detail for o in failed]
    assert all(o.started <= killed_at + 0.5 and o.ended >= killed_at for o in failed)
    # In flight means one of two things: nginx had no answer yet (502), or it was already
    # streaming the dying host's answer and can only cut it short (an incomplete body).
    in_flight = ("502", "incomplete chunked read")
    assert all(any(m in o.detail for m in in_flight) for o in failed), [o.detail for o in failed]
    # nginx failed over: requests sent to the dead host were answered by the survivor, and the
    # passive health check took the dead host out.
    dead, live = f"127.0.0.1:{victim.port}", f"127.0.0.1:{survivor.port}"
    log = nginx.access_log.read_text()
    assert f'upstream="{dead}, {live}" ustatus="502, 200"' in log, log[-2000:]
    assert "upstream server temporarily disabled" in nginx.error_log.read_text()

    # The job: done once, on the survivor, every verdict paid once (a call in flight when the
    # host died may be paid again, never one that was committed).
    job = jobs.get_job(screening_job)
    assert job is not None and job.status == "done", job
    assert (job.done, job.failed, job.total) == (IMPORTED, 0, IMPORTED)
    assert job.attempts >= 2  # claimed again after the kill
    finished_line = f"job {screening_job} (screening) done"
    assert survivor.worker_log.read_text().count(finished_line) == 1
    assert finished_line not in victim.worker_log.read_text()
    rows = db.execute(
        "SELECT status, count(*) FROM screenings WHERE project_id = %s GROUP BY status",
        (project_id,),
    ).fetchall()
    assert dict(rows) == {"done": IMPORTED}
    paid = _paid_calls(db, project_id)
    assert len(paid) == IMPORTED
    for profile_id in paid_before:
        assert paid[f"screening:{profile_id}:v1"] == 1
    assert sum(n - 1 for n in paid.values()) <= SCREENING_CONCURRENCY

    # The import: one import of every row, nothing twice.
    imported = db.execute(
        "SELECT count(*), sum(row_count), sum(new_count) FROM imports WHERE project_id = %s",
        (project_id,),
    ).fetchone()
    assert imported == (1, IMPORTED, IMPORTED)
    members = db.execute(
        "SELECT count(*) FROM project_profiles WHERE project_id = %s", (project_id,)
    ).fetchone()
    assert members == (IMPORTED,)
    import_row = jobs.get_job(import_job)
    assert import_row is not None and import_row.status == "done" and import_row.done == IMPORTED
