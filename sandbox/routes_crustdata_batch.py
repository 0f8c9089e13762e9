"""Crustdata's batch enrichment: `POST /batch/person/enrich`, `GET /batch/{id}` and the results
file in "S3".

A job is pending for the first third of `batch_seconds`, then processing, then completed; on
completion its records are charged like /person/enrich matches (min(7, 1 + contact fields) per
record) and unresolvable slugs (notfound/unknown/error) are left out of the file. A slug with
`batchfail` fails the whole job; a sixth active job is refused with 429.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from sandbox import data
from sandbox.replies import json_response, s3_not_found
from sandbox.state import SandboxState

ACTIVE = ("pending", "processing")
RESULT_FILES = ("results.jsonl.gz", "part-000.jsonl.gz")
_BATCH_EXTRA_CREDITS = {
    "contact.business_emails": 1,
    "contact.personal_emails": 2,
    "contact.phone_numbers": 2,
}


def register(app: Flask, state: SandboxState, guard: Callable[[], Response | None]) -> None:
    api = _BatchRoutes(state, guard)
    app.post("/crustdata/batch/person/enrich")(api.crust_batch_submit)
    app.get("/crustdata/batch/<batch_id>")(api.crust_batch_status)
    app.get("/crustdata-s3/<batch_id>/output/<name>")(api.crust_batch_file)


def bad(message: str, status: int = 400) -> Response:
    return json_response({"error": "Bad Request", "message": message}, status)


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat()


def phase(b: dict[str, Any], now: float) -> str:
    if b.get("error_message"):
        return "failed"
    if b.get("file") is not None:
        return "completed"
    elapsed = now - b["created"]
    if elapsed < b["seconds"] / 3:
        return "pending"
    return "processing" if elapsed < b["seconds"] else "completing"


def submitted_urls(body: Any) -> list[Any] | Response:
    """The profile URLs of a submission, or the 400 that refuses it."""
    if not request.headers.get("x-api-version"):
        return bad("x-api-version header is required")
    if not isinstance(body, dict):
        return bad("body must be a JSON object")
    urls, emails = body.get("professional_network_profile_urls"), body.get("business_emails")
    if bool(urls) == bool(emails):
        return bad("provide exactly one identifier type")
    if emails:
        return bad("business_emails batches are not simulated by the sandbox")
    if isinstance(urls, str):  # documented: a single comma-separated string is accepted
        urls = [u.strip() for u in urls.split(",") if u.strip()]
    if not isinstance(urls, list) or not 0 < len(urls) <= 10_000:
        return bad("professional_network_profile_urls: 1..10,000 identifiers")
    return urls


def status_body(batch_id: str, b: dict[str, Any], status: str) -> dict[str, Any]:
    count = int(b.get("count", 0))
    body: dict[str, Any] = {
        "batch_id": batch_id,
        "status": status,
        "entity": "person",
        "action": "enrich",
        "identifier_count": len(b["items"]),
        "result_count": count,
        "entities_requested": len(b["items"]),
        "entities_fulfilled": count,
        "created_at": iso(b["created"]),
        "completed_at": iso(b["completed"]) if b.get("completed") else None,
    }
    if status == "completed":
        base = f"{request.host_url}crustdata-s3/{batch_id}/output"
        body["download_url"] = f"{base}/results.jsonl.gz"
        body["download_urls"] = [f"{base}/part-000.jsonl.gz"]
    if status == "failed":
        body["error_message"] = b["error_message"]
    return body


class _BatchRoutes:
    def __init__(self, state: SandboxState, guard: Callable[[], Response | None]) -> None:
        self.state = state
        self.guard = guard
        self.lock = threading.Lock()  # state.batches; never held while state.lock is taken inside

    def complete(self, b: dict[str, Any]) -> None:
        """Build the results file once, charging its records (caller holds `lock`)."""
        if any("batchfail" in slug for _, slug in b["items"]):
            b["error_message"] = "Batch processing failed (sandbox fault)"
            return
        per = min(7, 1 + sum(_BATCH_EXTRA_CREDITS.get(f, 0) for f in b["fields"] or []))
        lines = []
        for url, slug in b["items"]:
            if any(word in slug for word in ("notfound", "unknown", "error")):
                continue  # documented: identifiers that cannot be resolved are dropped
            if not self.state.spend("crustdata", per):
                b["error_message"] = "Insufficient credits"
                return
            record = data.crustdata_batch_record(url, slug, b["fields"])
            lines.append(json.dumps(record))
        b["count"] = len(lines)
        b["file"] = gzip.compress(("\n".join(lines) + "\n").encode() if lines else b"")
        b["completed"] = time.time()

    def settled(self, batch_id: str) -> dict[str, Any] | None:
        now = time.time()
        with self.lock:
            b = self.state.batches.get(batch_id)
            if b is not None and phase(b, now) == "completing":
                self.complete(b)
            return dict(b) if b is not None else None

    def crust_batch_submit(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        body = request.get_json(silent=True)
        urls = submitted_urls(body)
        if isinstance(urls, Response):
            return urls
        assert isinstance(body, dict)  # submitted_urls refuses anything else
        slugs = [data.slug_of(str(u)) for u in urls]
        fields = body.get("fields")
        fields = [f.strip() for f in fields.split(",")] if isinstance(fields, str) else fields
        batch_id = self.create(urls, slugs, fields)
        if batch_id is None:
            return json_response(
                {
                    "error": "Too Many Requests",
                    "message": "An account may have at most 5 active batch jobs",
                },
                429,
            )
        return json_response(
            {
                "batch_id": batch_id,
                "status": "pending",
                "entity": "person",
                "action": "enrich",
                "identifier_count": len(urls),
                "entities_requested": len(urls),
                "status_url": f"/batch/{batch_id}",
            }
        )

    def create(self, urls: list[Any], slugs: list[str | None], fields: Any) -> str | None:
        """A new job's id, or None when five jobs are still active."""
        now = time.time()
        with self.lock:
            for b in self.state.batches.values():  # jobs finish on their own, polled or not
                if phase(b, now) == "completing":
                    self.complete(b)
            active = sum(1 for b in self.state.batches.values() if phase(b, now) in ACTIVE)
            if active >= 5:
                return None
            batch_id = str(uuid.uuid4())
            self.state.batches[batch_id] = {
                "id": batch_id,
                "created": now,
                "seconds": self.state.get("crustdata").batch_seconds,
                # Unparseable URLs cannot be resolved: they are dropped like unknown ones.
                "items": [(str(u), s or "unknown") for u, s in zip(urls, slugs, strict=True)],
                "fields": fields if isinstance(fields, list) else None,
                "file": None,
            }
        return batch_id

    def crust_batch_status(self, batch_id: str) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        b = self.settled(batch_id)
        if b is None:
            return json_response({"error": "Not Found", "message": "batch job not found"}, 404)
        return json_response(status_body(batch_id, b, phase(b, time.time())))

    def crust_batch_file(self, batch_id: str, name: str) -> Response:
        """Pre-signed storage: no API key; a file that was never written is S3's 404."""
        b = self.settled(batch_id)
        if b is None or b.get("file") is None or name not in RESULT_FILES:
            return s3_not_found()
        return Response(b["file"], 200, mimetype="application/gzip")
