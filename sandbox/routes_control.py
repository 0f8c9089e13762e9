"""The sandbox's own control routes under `/_sandbox/*`: health, runtime configuration, reset,
request counters, what PhantomBuster runs were launched with, and sheet contents.

Tests and the bench drive faults and limits through these; no provider has them.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Flask, Response, request

from sandbox.replies import json_response
from sandbox.state import PROVIDERS, SandboxState


def register(app: Flask, state: SandboxState) -> None:
    routes = _ControlRoutes(state)
    app.get("/_sandbox/health")(routes.health)
    app.get("/_sandbox/config")(routes.get_config)
    app.post("/_sandbox/config")(routes.set_config)
    app.post("/_sandbox/reset")(routes.reset)
    app.get("/_sandbox/stats")(routes.stats)
    app.get("/_sandbox/containers")(routes.containers)
    app.post("/_sandbox/sheets")(routes.set_sheet)


class _ControlRoutes:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def health(self) -> Response:
        return json_response({"status": "ok", "sandbox": True, "providers": list(PROVIDERS)})

    def get_config(self) -> Response:
        return json_response({p: asdict(self.state.get(p)) for p in PROVIDERS})

    def set_config(self) -> Response:
        body = request.get_json(silent=True)
        items = body if isinstance(body, list) else [body]
        try:
            out = {}
            for item in items:
                if not isinstance(item, dict) or "provider" not in item:
                    raise ValueError("send {'provider': name|'*', setting: value, ...}")
                out[item["provider"]] = self.state.configure(item["provider"], item)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(out)

    def reset(self) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.state.reset(body.get("providers"), plain=bool(body.get("plain")))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"status": "reset"})

    def stats(self) -> Response:
        return json_response(self.state.stats(request.args.get("provider")))

    def containers(self) -> Response:
        """What each PhantomBuster run was launched with (the effective, merged argument)."""
        with self.state.lock:
            items = [
                {"id": c["id"], "agentId": c["agentId"], "argument": c["argument"]}
                for c in self.state.containers.values()
            ]
        return json_response({"containers": items})

    def set_sheet(self) -> Response:
        body = request.get_json(silent=True) or {}
        sid, values = body.get("spreadsheet_id"), body.get("values")
        if not isinstance(sid, str) or not isinstance(values, list):
            return json_response({"error": "need spreadsheet_id and values"}, 400)
        with self.state.lock:
            self.state.sheets[sid] = values
        return json_response({"status": "ok"})
