"""PhantomBuster's API v2 under `/phantombuster/api/v2`: launching and stopping agents, saving an
agent's webhook, polling agents and containers, and the public result files of large runs.

A launch builds its export rows at once (deterministic, from the search URL) and the container
then advances starting -> running -> finished with time (`container_seconds`); the run model
itself lives in `sandbox.phantombuster_runs`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import Flask, Response, request

from sandbox import data
from sandbox.phantombuster_runs import (
    LAUNCH_PARAMS,
    LaunchError,
    agent_view,
    container_view,
    merged_argument,
    new_agent,
    notify_run_end,
    running_view,
    search_of,
    status_of,
)
from sandbox.replies import Gate, bad_key, json_response, key_from_request, s3_not_found
from sandbox.state import ProviderSettings, SandboxState

PREFIX = "/phantombuster/api/v2"


def register(app: Flask, state: SandboxState, gate: Gate) -> None:
    api = _PhantomBusterRoutes(state, gate)
    app.post(f"{PREFIX}/agents/launch")(api.pb_launch)
    app.post(f"{PREFIX}/agents/save")(api.pb_save)
    app.get(f"{PREFIX}/agents/fetch")(api.pb_agent)
    app.get(f"{PREFIX}/agents/fetch-output")(api.pb_agent_output)
    app.get(f"{PREFIX}/containers/fetch")(api.pb_container)
    app.get(f"{PREFIX}/containers/fetch-result-object")(api.pb_result)
    app.get(f"{PREFIX}/containers/fetch-output")(api.pb_container_output)
    app.get("/phantombuster-s3/sandbox/<cid>/result.json")(api.pb_result_file)
    app.get(f"{PREFIX}/containers/fetch-all")(api.pb_containers)
    app.get(f"{PREFIX}/orgs/fetch-running-containers")(api.pb_running)
    app.post(f"{PREFIX}/agents/stop")(api.pb_stop)


def pb_error(status: int, message: str) -> Response:
    return json_response({"status": "error", "error": message}, status)


class _PhantomBusterRoutes:
    def __init__(self, state: SandboxState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    def guard(self) -> Response | None:
        key = key_from_request("X-Phantombuster-Key", "X-Phantombuster-Key-1") or request.args.get(
            "key", ""
        )
        if bad_key(key):
            return pb_error(401, "Invalid or missing API key")
        return self.gate("phantombuster")

    def agent(self, agent_id: str) -> dict[str, Any]:
        with self.state.lock:
            return self.state.agents.setdefault(agent_id, new_agent(agent_id))

    def containers_of(self, agent_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [c for c in self.state.containers.values() if c["agentId"] == agent_id]

    def container_or_404(self) -> dict[str, Any] | Response:
        with self.state.lock:
            c = self.state.containers.get(request.args.get("id", ""))
        return c if c is not None else pb_error(404, "No container exists with the provided id.")

    # ---------------------------------------------------------------- launch

    def pb_launch(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("id"):
            return pb_error(400, "Missing agent id")
        if set(body) - LAUNCH_PARAMS:
            return pb_error(400, f"Unknown parameters: {sorted(set(body) - LAUNCH_PARAMS)}")
        agent_id = str(body["id"])
        ag = self.agent(agent_id)
        # Keep this order: a bad row count is refused only after the launch was counted.
        try:
            argument = merged_argument(body, ag["argument"])
            s = self.state.get("phantombuster")
            self.count_launch(ag, body, argument)
            search, kind, count = search_of(argument)
        except LaunchError as exc:
            return pb_error(400, str(exc))
        cid = self.start_container(
            agent_id, s, argument, data.search_rows(search, count, kind, search), kind
        )
        webhook = (ag.get("notifications") or {}).get("webhook")
        if webhook and not s.stuck_unknown:
            timer = threading.Timer(
                s.container_seconds + 0.05, notify_run_end, (self.state.containers[cid], webhook)
            )
            timer.daemon = True
            timer.start()
        return json_response({"containerId": cid})

    def count_launch(
        self, ag: dict[str, Any], body: dict[str, Any], argument: dict[str, Any]
    ) -> None:
        """Refuse a launch over `maxInstanceCount`; else save the argument if asked, count it."""
        max_instances = body.get("maxInstanceCount")
        with self.state.lock:
            running = [
                c
                for c in self.state.containers.values()
                if c["agentId"] == ag["id"] and status_of(c) != "finished"
            ]
            if isinstance(max_instances, int) and len(running) >= max_instances:
                raise LaunchError(
                    f"Agent already running {len(running)} instance(s): "
                    f"maxInstanceCount ({max_instances}) reached"
                )
            if body.get("saveArgument") or body.get("saveArguments"):
                ag["argument"] = json.dumps(argument)
            ag["nbLaunches"] += 1

    def start_container(
        self,
        agent_id: str,
        s: ProviderSettings,
        argument: dict[str, Any],
        rows: list[dict[str, Any]],
        kind: str,
    ) -> str:
        cid = self.state.new_container_id()
        # A LinkedIn Phantom without a login fails its run (not the launch).
        login_error = not argument.get("sessionCookie") and not argument.get("identities")
        result = json.dumps(rows)
        if len(rows) > s.large_result_rows:
            base = request.host_url.rstrip("/") + f"/phantombuster-s3/sandbox/{cid}"
            result = json.dumps({"jsonUrl": f"{base}/result.json", "csvURL": f"{base}/result.csv"})
        with self.state.lock:
            self.state.containers[cid] = {
                "id": cid,
                "agentId": agent_id,
                "created": time.time(),
                "duration": s.container_seconds,
                "kind": kind,
                "argument": argument,
                "result": result,
                "rows": rows,
                "login_error": login_error,
                "stuck_unknown": s.stuck_unknown,
            }
        return cid

    # ---------------------------------------------------------------- agents

    def pb_save(self) -> Response:
        """Only what we use of it: `notifications` (the run webhook) on an existing agent id."""
        if (denied := self.guard()) is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("id"):
            return pb_error(400, "invalid parameters provided")
        ag = self.agent(str(body["id"]))
        if isinstance(body.get("notifications"), dict):
            with self.state.lock:
                ag["notifications"] = body["notifications"]
        return json_response({"id": ag["id"]})

    def pb_agent(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        ag = self.agent(request.args.get("id", ""))
        mine = self.containers_of(ag["id"])
        last = max(mine, key=lambda c: c["created"], default=None)
        with_manifest = request.args.get("withManifest") == "true"
        return json_response(agent_view(ag, last, with_manifest))

    def pb_agent_output(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        mine = self.containers_of(request.args.get("id", ""))
        last = max(mine, key=lambda c: c["created"], default=None)
        if last is None:
            return json_response(
                {"status": "never launched", "isAgentRunning": False, "output": ""}
            )
        v = container_view(last)
        return json_response(
            {
                "containerId": last["id"],
                "status": v["status"],
                "output": "[sandbox] search export\n",
                "outputPos": 0,
                "isAgentRunning": v["status"] != "finished",
                "progress": None,
                "runtimeEvents": [],
                "_sandbox": True,
            }
        )

    def pb_stop(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        body = request.get_json(silent=True) or {}
        with self.state.lock:
            for c in self.state.containers.values():
                if c["agentId"] == str(body.get("id")) and status_of(c) != "finished":
                    c["killed"] = True
        return json_response({"status": "success"})

    # ---------------------------------------------------------------- containers

    def pb_container(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        c = self.container_or_404()
        if isinstance(c, Response):
            return c
        with_result = request.args.get("withResultObject") == "true"
        return json_response(container_view(c, with_result=with_result))

    def pb_result(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        c = self.container_or_404()
        if isinstance(c, Response):
            return c
        result = container_view(c, with_result=True)["resultObject"]
        return json_response({"resultObject": result, "_sandbox": True})

    def pb_container_output(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        c = self.container_or_404()
        if isinstance(c, Response):
            return c
        note = (
            "Can't connect to LinkedIn: no session cookie or identity\n"
            if c.get("login_error")
            else ""
        )
        return json_response({"output": f"[sandbox] container {c['id']}: {status_of(c)}\n{note}"})

    def pb_result_file(self, cid: str) -> Response:
        """A result file in the bucket: public objects, as PhantomBuster's S3 links are."""
        with self.state.lock:
            c = self.state.containers.get(cid)
        if c is None or status_of(c) != "finished":
            return s3_not_found()
        return json_response(c["rows"])

    def pb_containers(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        mine = self.containers_of(request.args.get("agentId", ""))
        return json_response(
            {"maxLimitReached": False, "containers": [container_view(c) for c in mine]}
        )

    def pb_running(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        with self.state.lock:
            items = list(self.state.containers.values())
        running = [running_view(c) for c in items if status_of(c) != "finished"]
        return json_response({"containers": running})
