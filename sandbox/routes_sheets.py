"""Google Sheets' `GET /v4/spreadsheets/{id}/values/{range}` with A1 ranges.

A credential is an API key (`x-goog-api-key` or `?key=`) or an OAuth bearer token; ids starting
with `private` stand for sheets an API key may not read (403), ids starting with `missing` are
404s. Rate limits are per user (per credential), as Google's per-user quotas are. Cells come
from `/_sandbox/sheets` or a deterministic grid, with trailing empties dropped as Google does.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Flask, Response, request

from sandbox import data
from sandbox.replies import Gate, google_error, json_response, key_from_request
from sandbox.state import SandboxState

_A1 = re.compile(r"^([A-Za-z]*)(\d*)$")


def register(app: Flask, state: SandboxState, gate: Gate) -> None:
    def values_get(sid: str, rng: str) -> Response:
        return sheet_values(state, gate, sid, rng)

    app.get("/sheets/v4/spreadsheets/<sid>/values/<path:rng>")(values_get)


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _slice(grid: list[list[Any]], a1: str) -> list[list[Any]]:
    """Cut `A1:C10`, `A:B`, `A2:C` etc. out of a grid; an unparsable part means 'everything'."""
    start, _, end = a1.partition(":")
    m1, m2 = _A1.match(start), _A1.match(end or start)
    if not m1 or not m2:
        return grid
    c0 = _col(m1.group(1)) - 1 if m1.group(1) else 0
    r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
    c1 = _col(m2.group(1)) if m2.group(1) else 10_000
    r1 = int(m2.group(2)) if m2.group(2) else 10_000
    return [row[c0:c1] for row in grid[r0:r1]]


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Google drops trailing empty cells and trailing empty rows."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] in ("", None):
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _refusal(credential: str) -> Response | None:
    """A missing credential is 403, a rejected one 401; both before any quota is used."""
    if not credential:
        return google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
    if credential.lower().startswith("invalid"):
        return google_error(
            401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"
        )
    return None


def sheet_values(state: SandboxState, gate: Gate, sid: str, rng: str) -> Response:
    credential = key_from_request("Authorization", "x-goog-api-key") or request.args.get("key", "")
    if (refused := _refusal(credential)) is not None:
        return refused
    user = hashlib.sha256(credential.encode()).hexdigest()[:12]
    if (denied := gate("sheets", user)) is not None:
        return denied
    # An API key reads only sheets shared publicly; a private one answers 403 (Google docs).
    if sid.startswith("private") and not credential.lower().startswith("bearer "):
        return google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
    if sid.startswith("missing"):
        return google_error(404, "Requested entity was not found.", "NOT_FOUND")
    sheet, bang, a1 = rng.rpartition("!")
    sheet = sheet.strip("'") if bang else "Sheet1"
    a1 = a1 or "A1:Z1000"
    with state.lock:
        grid = state.sheets.get(sid)
    if grid is None:
        grid = data.sheet_grid(sid)
    values = _trim(_slice(grid, a1))
    if request.args.get("majorDimension") == "COLUMNS":
        width = max((len(r) for r in values), default=0)
        values = _trim([[r[i] if i < len(r) else "" for r in values] for i in range(width)])
    body: dict[str, Any] = {
        "range": f"{sheet}!{a1}",
        "majorDimension": request.args.get("majorDimension", "ROWS"),
    }
    if values:
        body["values"] = values
    return json_response(body)
