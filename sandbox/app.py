"""The sandbox web app: the five providers' endpoints under one Flask app, plus `/_sandbox/*`.

Paths mirror the real base URLs under a provider prefix (`/crustdata/person/enrich`,
`/openai/v1/chat/completions`, ...), so a client only swaps its base URL. Control endpoints:
`GET /_sandbox/health`, `GET|POST /_sandbox/config`, `POST /_sandbox/reset`, `GET /_sandbox/stats`,
`POST /_sandbox/sheets` (set a sheet's cells). Each provider's routes live in their own
`sandbox.routes_*` module; the gate and the faults it injects in `sandbox.faults`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response

from sandbox import (
    routes_control,
    routes_crustdata,
    routes_openai,
    routes_phantombuster,
    routes_salesql,
    routes_sheets,
)
from sandbox.faults import make_gate
from sandbox.state import SandboxState


def create_sandbox_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the sandbox. `config`: {"plain": bool (no default limits),
    "providers": {name: {setting: value}}}; settings as in `sandbox.state.ProviderSettings`."""
    config = config or {}
    app = Flask("sourcingx_sandbox")
    state = SandboxState()
    state.reset(config.get("providers"), plain=bool(config.get("plain")))
    app.extensions["sandbox_state"] = state

    @app.after_request
    def label(response: Response) -> Response:
        response.headers["X-Sandbox"] = "true"
        return response

    gate = make_gate(state)
    routes_control.register(app, state)
    routes_phantombuster.register(app, state, gate)
    routes_crustdata.register(app, state, gate)
    routes_salesql.register(app, state, gate)
    routes_openai.register(app, gate)
    routes_sheets.register(app, state, gate)
    return app
