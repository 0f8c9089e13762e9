"""SalesQL's `GET /v1/persons/enrich` (by LinkedIn URL) and `GET /v1/allowance`.

Only `Authorization: Bearer <key>` is accepted (an `api_key` query parameter is refused). A
profile costs one credit the first time this account enriches it and nothing on a repeat; the
allowance call does not use up the daily request cap.
"""

from __future__ import annotations

import time

from flask import Flask, Response, request

from sandbox import data
from sandbox.replies import Gate, bad_key, json_response
from sandbox.state import SandboxState


def register(app: Flask, state: SandboxState, gate: Gate) -> None:
    api = _SalesqlRoutes(state, gate)
    app.get("/salesql/v1/persons/enrich")(api.salesql_enrich)
    app.get("/salesql/v1/persons/enrich/")(api.salesql_enrich)
    app.get("/salesql/v1/allowance")(api.salesql_allowance)


class _SalesqlRoutes:
    def __init__(self, state: SandboxState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    def guard(self, daily: bool = True) -> Response | None:
        auth = request.headers.get("Authorization", "")
        if "api_key" in request.args or not auth.lower().startswith("bearer ") or bad_key(auth[7:]):
            return json_response(
                {"message": "Unauthorized: use 'Authorization: Bearer <key>'"}, 401
            )
        return self.gate("salesql", "", daily)

    def salesql_enrich(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        url = request.args.get("linkedin_url", "")
        slug = data.slug_of(url) if url else None
        if slug is None:
            return json_response({"message": "A valid linkedin_url is required"}, 400)
        if "notfound" in slug or "unknown" in slug:
            return json_response({"message": "Person not found"}, 404)
        # One credit when data comes back, none for a profile this account enriched before.
        if self.state.first_enrichment("salesql", slug) and not self.state.spend("salesql", 1):
            return json_response({"message": "Not enough credits"}, 402)
        person = data.salesql_person(data.person_for(slug))
        if request.args.get("match_if_direct_email") == "true":
            person["emails"] = [e for e in person["emails"] if e["type"] == "Direct"]
        return json_response(person)

    def salesql_allowance(self) -> Response:
        if (denied := self.guard(daily=False)) is not None:
            return denied
        s = self.state.get("salesql")
        tomorrow = (int(time.time() // 86400) + 1) * 86400
        return json_response(
            {
                "credits": s.credits if s.credits is not None else 100_000,
                "reset_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tomorrow)),
                "_sandbox": True,
            }
        )
