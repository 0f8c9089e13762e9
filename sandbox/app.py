"""The sandbox web app: the five providers' endpoints under one Flask app, plus `/_sandbox/*`.

Paths mirror the real base URLs under a provider prefix (`/crustdata/person/enrich`,
`/openai/v1/chat/completions`, ...), so a client only swaps its base URL. Control endpoints:
`GET /_sandbox/health`, `GET|POST /_sandbox/config`, `POST /_sandbox/reset`, `GET /_sandbox/stats`,
`POST /_sandbox/sheets` (set a sheet's cells).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import httpx
from flask import Flask, Response, g, request

from sandbox import data
from sandbox.state import PROVIDERS, Decision, ProviderSettings, SandboxState, ceil_s

JSON = "application/json"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype=JSON, headers=headers or {})


# ------------------------------------------------------------------ provider error envelopes


def _openai_error(status: int, message: str, etype: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def _fault_response(provider: str, d: Decision, s: ProviderSettings) -> Response:
    """A fault in the provider's own error shape and headers."""
    body: Any
    fault = d.fault or "500"
    headers: dict[str, str] = {}
    wait = s.retry_after_s if s.retry_after_s is not None else d.retry_after
    if fault in ("429", "503") and s.send_retry_after:
        headers["Retry-After"] = str(ceil_s(wait))
    if fault == "429":
        return _rate_limited(provider, d, headers, wait)
    if fault in ("500", "503"):
        status = int(fault)
        body = {
            "openai": _openai_error(
                status,
                "The server had an error while processing your request.",
                "server_error",
                None,
            ),
            "sheets": {
                "error": {
                    "code": status,
                    "message": "Internal error encountered.",
                    "status": "INTERNAL" if status == 500 else "UNAVAILABLE",
                }
            },
            "phantombuster": {"status": "error", "error": "Internal server error"},
        }.get(
            provider,
            {
                "error": "Service unavailable" if status == 503 else "Internal server error",
                "message": "sandbox fault",
            },
        )
        return _json(body, status, headers)
    if fault == "401":
        body = {
            "openai": _openai_error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            ),
            "sheets": {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "status": "UNAUTHENTICATED",
                }
            },
            "phantombuster": {"status": "error", "error": "Invalid API key"},
        }.get(provider, {"error": "Unauthorized", "message": "Invalid API key"})
        return _json(body, 401)
    if (provider == "openai" or fault == "quota") and provider == "openai":
        return _json(
            _openai_error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            ),
            429,
        )
    body = {
        "crustdata": {
            "error": "Insufficient credits",
            "message": "Your account has run out of credits.",
        },
        "salesql": {"message": "Not enough credits"},
        "phantombuster": {"status": "error", "error": "Not enough execution time left"},
        "sheets": {
            "error": {"code": 403, "message": "Quota exhausted", "status": "PERMISSION_DENIED"}
        },
    }[provider]
    return _json(body, 403 if provider == "sheets" else 402)


def _rate_limited(provider: str, d: Decision, headers: dict[str, str], wait: float) -> Response:
    if provider == "openai":
        limit = d.limit or 500
        headers.update(
            {
                "x-ratelimit-limit-requests": str(limit),
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{wait:.3f}s",
            }
        )
        message = (
            "Rate limit reached for gpt-4o-mini in organization org-sandbox on requests per min "
            f"(RPM): Limit {limit}, Used {limit}, Requested 1. Please try again in {wait:.3f}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        return _json(_openai_error(429, message, "requests", "rate_limit_exceeded"), 429, headers)
    if provider == "sheets":
        body = {
            "error": {
                "code": 429,
                "message": (
                    "Quota exceeded for quota metric 'Read requests' and limit 'Read requests "
                    "per minute per user' of service 'sheets.googleapis.com' for consumer "
                    "'project_number:123456789'."
                ),
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RATE_LIMIT_EXCEEDED",
                        "domain": "googleapis.com",
                        "metadata": {
                            "consumer": "projects/123456789",
                            "quota_limit": "ReadRequestsPerMinutePerUser",
                            "quota_metric": "sheets.googleapis.com/read_requests",
                            "service": "sheets.googleapis.com",
                        },
                    }
                ],
            }
        }
        return _json(body, 429, headers)
    if provider == "crustdata":
        headers.update(
            {
                "x-ratelimit-limit": str(d.limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(ceil_s(wait)),
            }
        )
        return _json({"error": "Rate limit exceeded", "message": "Too many requests"}, 429, headers)
    if provider == "salesql":
        return _json({"message": "Rate limit exceeded"}, 429, headers)
    return _json({"status": "error", "error": "Rate limit exceeded"}, 429, headers)


# ------------------------------------------------------------------ the app


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

    def gate(provider: str, scope: str = "", daily: bool = True) -> Response | None:
        """Latency, then faults and limits; None when the request may be served."""
        s = state.get(provider)
        if s.latency_ms > 0:
            time.sleep(s.latency_ms / 1000)
        d = state.decide(provider, scope, daily=daily)
        g.decision = d
        if d.fault is None:
            state.count(provider, "ok")
            return None
        state.count(provider, d.fault)
        if d.fault == "timeout":
            time.sleep(s.hang_s)
            return _json({"error": "sandbox timeout fault"}, 504)
        if d.fault == "malformed":
            return Response('{"sandbox": "malformed answer", "data": [', 200, mimetype=JSON)
        return _fault_response(provider, d, s)

    _control_routes(app, state)
    _phantombuster_routes(app, state, gate)
    _crustdata_routes(app, state, gate)
    _salesql_routes(app, state, gate)
    _openai_routes(app, gate)
    _sheets_routes(app, state, gate)
    return app


def _control_routes(app: Flask, state: SandboxState) -> None:
    @app.get("/_sandbox/health")
    def health() -> Response:
        return _json({"status": "ok", "sandbox": True, "providers": list(PROVIDERS)})

    @app.get("/_sandbox/config")
    def get_config() -> Response:
        return _json({p: asdict(state.get(p)) for p in PROVIDERS})

    @app.post("/_sandbox/config")
    def set_config() -> Response:
        body = request.get_json(silent=True)
        items = body if isinstance(body, list) else [body]
        try:
            out = {}
            for item in items:
                if not isinstance(item, dict) or "provider" not in item:
                    raise ValueError("send {'provider': name|'*', setting: value, ...}")
                out[item["provider"]] = state.configure(item["provider"], item)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(out)

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        body = request.get_json(silent=True) or {}
        try:
            state.reset(body.get("providers"), plain=bool(body.get("plain")))
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"status": "reset"})

    @app.get("/_sandbox/stats")
    def stats() -> Response:
        return _json(state.stats(request.args.get("provider")))

    @app.get("/_sandbox/containers")
    def containers() -> Response:
        """What each PhantomBuster run was launched with (the effective, merged argument)."""
        with state.lock:
            items = [
                {"id": c["id"], "agentId": c["agentId"], "argument": c["argument"]}
                for c in state.containers.values()
            ]
        return _json({"containers": items})

    @app.post("/_sandbox/sheets")
    def set_sheet() -> Response:
        body = request.get_json(silent=True) or {}
        sid, values = body.get("spreadsheet_id"), body.get("values")
        if not isinstance(sid, str) or not isinstance(values, list):
            return _json({"error": "need spreadsheet_id and values"}, 400)
        with state.lock:
            state.sheets[sid] = values
        return _json({"status": "ok"})


Gate = Callable[..., "Response | None"]


def _key_from_request(*headers: str) -> str:
    for name in headers:
        value = request.headers.get(name, "")
        if value:
            return (
                value.split(" ", 1)[1] if value.lower().startswith(("bearer ", "token ")) else value
            )
    return ""


def _bad_key(key: str) -> bool:
    """Any non-empty key is accepted except ones starting with 'invalid' (to test auth errors)."""
    return not key or key.lower().startswith("invalid")


# ------------------------------------------------------------------ PhantomBuster


def _phantombuster_routes(app: Flask, state: SandboxState, gate: Gate) -> None:
    prefix = "/phantombuster/api/v2"

    def pb_error(status: int, message: str) -> Response:
        return _json({"status": "error", "error": message}, status)

    def guard() -> Response | None:
        key = _key_from_request("X-Phantombuster-Key", "X-Phantombuster-Key-1") or request.args.get(
            "key", ""
        )
        if _bad_key(key):
            return pb_error(401, "Invalid or missing API key")
        return gate("phantombuster")

    def status_of(c: dict[str, Any]) -> str:
        if c.get("killed"):
            return "finished"
        if c.get("stuck_unknown"):
            return "unknown"
        elapsed = time.time() - c["created"]
        if elapsed < min(0.3, c["duration"] * 0.1):
            return "starting"
        return "running" if elapsed < c["duration"] else "finished"

    def view(c: dict[str, Any], with_result: bool = False) -> dict[str, Any]:
        status = status_of(c)
        out: dict[str, Any] = {
            "id": c["id"],
            "agentId": c["agentId"],
            "status": status,
            "createdAt": int(c["created"] * 1000),
            "launchedAt": int(c["created"] * 1000),
            "launchType": "user api call",
            "retryNumber": 0,
            "_sandbox": True,
        }
        if status == "finished":
            out.update(
                endedAt=int((c["created"] + c["duration"]) * 1000),
                endType="killed" if c.get("killed") else "finished",
                exitCode=1 if c.get("killed") or c.get("login_error") else 0,
            )
        if with_result:
            ok = status == "finished" and not c.get("killed") and not c.get("login_error")
            out["resultObject"] = c["result"] if ok else None
        return out

    def manifest(agent_id: str) -> dict[str, Any]:
        """The Phantom's input schema, as `withManifest=true` returns it (names as documented
        for the LinkedIn Search Export and Sales Navigator Search Export Phantoms)."""
        if "salesnav" in agent_id:
            names = ["sessionCookie", "identities", "searches", "numberOfProfiles", "csvName"]
        else:
            names = [
                "sessionCookie",
                "identities",
                "linkedInSearchUrl",
                "numberOfResultsPerSearch",
                "numberOfResultsPerLaunch",
                "csvName",
            ]
        return {
            "name": f"Sandbox {agent_id}",
            "argumentSchema": {"type": "object", "properties": {n: {} for n in names}},
        }

    def agent(agent_id: str) -> dict[str, Any]:
        with state.lock:
            return state.agents.setdefault(
                agent_id,
                {
                    "id": agent_id,
                    "name": f"Sandbox agent {agent_id}",
                    # The identity set up in PhantomBuster lives in the saved argument.
                    "argument": json.dumps({"sessionCookie": "sandbox-li_at-cookie"}),
                    "nbLaunches": 0,
                },
            )

    @app.post(f"{prefix}/agents/launch")
    def pb_launch() -> Response:
        if (denied := guard()) is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("id"):
            return pb_error(400, "Missing agent id")
        allowed = {
            "id",
            "argument",
            "arguments",
            "bonusArgument",
            "saveArgument",
            "saveArguments",
            "manualLaunch",
            "maxInstanceCount",
            "internalMetadata",
            "userCustomMetadata",
        }
        if set(body) - allowed:
            return pb_error(400, f"Unknown parameters: {sorted(set(body) - allowed)}")
        agent_id = str(body["id"])
        ag = agent(agent_id)
        # `argument` replaces the saved input for this run; `bonusArgument` is merged into it.
        argument = body.get("argument", body.get("arguments"))
        bonus = body.get("bonusArgument")
        try:
            if isinstance(argument, str):
                argument = json.loads(argument)
            if isinstance(bonus, str):
                bonus = json.loads(bonus)
        except json.JSONDecodeError:
            return pb_error(400, "argument is not valid JSON")
        if argument is None:
            argument = json.loads(ag["argument"])
        if not isinstance(argument, dict) or not isinstance(bonus, (dict, type(None))):
            return pb_error(400, "argument must be an object")
        argument = {**argument, **(bonus or {})}
        s = state.get("phantombuster")
        max_instances = body.get("maxInstanceCount")
        with state.lock:
            running = [
                c
                for c in state.containers.values()
                if c["agentId"] == agent_id and status_of(c) != "finished"
            ]
            if isinstance(max_instances, int) and len(running) >= max_instances:
                return pb_error(
                    400,
                    f"Agent already running {len(running)} instance(s): "
                    f"maxInstanceCount ({max_instances}) reached",
                )
            if body.get("saveArgument") or body.get("saveArguments"):
                ag["argument"] = json.dumps(argument)
            ag["nbLaunches"] += 1
        search = str(
            argument.get("searches")
            or argument.get("salesNavigatorSearchUrl")
            or argument.get("linkedInSearchUrl")
            or argument.get("search")
            or ""
        )
        kind = (
            "salesnav"
            if (
                "searches" in argument
                or "salesNavigatorSearchUrl" in argument
                or "/sales/" in search
            )
            else "linkedin"
        )
        count = (
            argument.get("numberOfProfiles")
            or argument.get("numberOfResultsPerSearch")
            or argument.get("numberOfResultsPerLaunch")
            or 10
        )
        try:
            # LinkedIn shows at most 1,000 results per search, Sales Navigator 2,500.
            count = max(0, min(2500 if kind == "salesnav" else 1000, int(count)))
        except (TypeError, ValueError):
            return pb_error(400, "numberOfProfiles must be a number")
        rows = data.search_rows(search, count, kind, search)
        cid = state.new_container_id()
        # A LinkedIn Phantom without a login fails its run (not the launch).
        login_error = not argument.get("sessionCookie") and not argument.get("identities")
        result = json.dumps(rows)
        if len(rows) > s.large_result_rows:
            base = request.host_url.rstrip("/") + f"/phantombuster-s3/sandbox/{cid}"
            result = json.dumps({"jsonUrl": f"{base}/result.json", "csvURL": f"{base}/result.csv"})
        with state.lock:
            state.containers[cid] = {
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
        webhook = (ag.get("notifications") or {}).get("webhook")
        if webhook and not s.stuck_unknown:
            timer = threading.Timer(
                s.container_seconds + 0.05, notify_run_end, (state.containers[cid], webhook)
            )
            timer.daemon = True
            timer.start()
        return _json({"containerId": cid})

    @app.post(f"{prefix}/agents/save")
    def pb_save() -> Response:
        """Only what we use of it: `notifications` (the run webhook) on an existing agent id."""
        if (denied := guard()) is not None:
            return denied
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("id"):
            return pb_error(400, "invalid parameters provided")
        ag = agent(str(body["id"]))
        if isinstance(body.get("notifications"), dict):
            with state.lock:
                ag["notifications"] = body["notifications"]
        return _json({"id": ag["id"]})

    def notify_run_end(c: dict[str, Any], webhook: str) -> None:
        """What PhantomBuster posts to an agent's webhook when a run ends [X: clients]."""
        payload = {
            "agentId": c["agentId"],
            "agentName": f"Sandbox agent {c['agentId']}",
            "containerId": c["id"],
            "exitCode": 1 if c.get("login_error") else 0,
            "exitMessage": "finished",
            "runDuration": int(c["duration"] * 1000),
        }
        try:
            httpx.post(webhook, json=payload, timeout=5)
        except httpx.HTTPError:
            pass  # PhantomBuster does not retry a webhook either

    @app.get(f"{prefix}/agents/fetch")
    def pb_agent() -> Response:
        if (denied := guard()) is not None:
            return denied
        ag = agent(request.args.get("id", ""))
        with state.lock:
            mine = [c for c in state.containers.values() if c["agentId"] == ag["id"]]
        last = max(mine, key=lambda c: c["created"], default=None)
        extra = (
            {"manifest": manifest(ag["id"])} if request.args.get("withManifest") == "true" else {}
        )
        return _json(
            {
                **ag,
                **extra,
                "executionTimeLimit": 3600,
                "scriptId": "sandbox",
                "script": "Sandbox Search Export.js",
                "lastEndType": view(last).get("endType") if last else None,
                "launchType": "manually",
                "maxParallelism": 1,
                "s3Folder": "sandbox",
                "orgS3Folder": "sandbox",
                "fileMgmt": "mix",
                "_sandbox": True,
            }
        )

    @app.get(f"{prefix}/agents/fetch-output")
    def pb_agent_output() -> Response:
        if (denied := guard()) is not None:
            return denied
        agent_id = request.args.get("id", "")
        with state.lock:
            mine = [c for c in state.containers.values() if c["agentId"] == agent_id]
        last = max(mine, key=lambda c: c["created"], default=None)
        if last is None:
            return _json({"status": "never launched", "isAgentRunning": False, "output": ""})
        v = view(last)
        return _json(
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

    def container_or_404() -> dict[str, Any] | Response:
        with state.lock:
            c = state.containers.get(request.args.get("id", ""))
        return c if c is not None else pb_error(404, "No container exists with the provided id.")

    @app.get(f"{prefix}/containers/fetch")
    def pb_container() -> Response:
        if (denied := guard()) is not None:
            return denied
        c = container_or_404()
        if isinstance(c, Response):
            return c
        return _json(view(c, with_result=request.args.get("withResultObject") == "true"))

    @app.get(f"{prefix}/containers/fetch-result-object")
    def pb_result() -> Response:
        if (denied := guard()) is not None:
            return denied
        c = container_or_404()
        if isinstance(c, Response):
            return c
        return _json({"resultObject": view(c, with_result=True)["resultObject"], "_sandbox": True})

    @app.get(f"{prefix}/containers/fetch-output")
    def pb_container_output() -> Response:
        if (denied := guard()) is not None:
            return denied
        c = container_or_404()
        if isinstance(c, Response):
            return c
        note = (
            "Can't connect to LinkedIn: no session cookie or identity\n"
            if c.get("login_error")
            else ""
        )
        return _json({"output": f"[sandbox] container {c['id']}: {status_of(c)}\n{note}"})

    @app.get("/phantombuster-s3/sandbox/<cid>/result.json")
    def pb_result_file(cid: str) -> Response:
        """A result file in the bucket: public objects, as PhantomBuster's S3 links are."""
        with state.lock:
            c = state.containers.get(cid)
        if c is None or status_of(c) != "finished":
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", 404, mimetype="application/xml"
            )
        return _json(c["rows"])

    @app.get(f"{prefix}/containers/fetch-all")
    def pb_containers() -> Response:
        if (denied := guard()) is not None:
            return denied
        agent_id = request.args.get("agentId", "")
        with state.lock:
            mine = [c for c in state.containers.values() if c["agentId"] == agent_id]
        return _json({"maxLimitReached": False, "containers": [view(c) for c in mine]})

    @app.get(f"{prefix}/orgs/fetch-running-containers")
    def pb_running() -> Response:
        if (denied := guard()) is not None:
            return denied
        with state.lock:
            items = list(state.containers.values())
        running = [
            {
                "id": c["id"],
                "agentId": c["agentId"],
                "agentName": f"Sandbox agent {c['agentId']}",
                "createdAt": int(c["created"] * 1000),
                "retryNumber": 0,
                "launchType": "user api call",
                "scriptSlug": "sandbox-search-export",
            }
            for c in items
            if status_of(c) != "finished"
        ]
        return _json({"containers": running})

    @app.post(f"{prefix}/agents/stop")
    def pb_stop() -> Response:
        if (denied := guard()) is not None:
            return denied
        body = request.get_json(silent=True) or {}
        with state.lock:
            for c in state.containers.values():
                if c["agentId"] == str(body.get("id")) and status_of(c) != "finished":
                    c["killed"] = True
        return _json({"status": "success"})


# ------------------------------------------------------------------ Crustdata


def _crustdata_routes(app: Flask, state: SandboxState, gate: Gate) -> None:
    def rate_headers() -> dict[str, str]:
        d: Decision = g.get("decision") or Decision()
        if not d.limit:
            return {}
        return {
            "x-ratelimit-limit": str(d.limit),
            "x-ratelimit-remaining": str(d.remaining),
            "x-ratelimit-reset": str(ceil_s(d.reset_s)),
        }

    def guard() -> Response | None:
        if _bad_key(_key_from_request("authorization")):
            return _json({"error": "Unauthorized", "message": "Invalid or missing API key"}, 401)
        return gate("crustdata")

    @app.post("/crustdata/person/enrich")
    def crust_enrich() -> Response:
        if (denied := guard()) is not None:
            return denied
        if not request.headers.get("x-api-version"):
            return _json(
                {"error": "Bad Request", "message": "x-api-version header is required"}, 400
            )
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _json({"error": "Bad Request", "message": "body must be a JSON object"}, 400)
        urls, emails = body.get("professional_network_profile_urls"), body.get("business_emails")
        if urls and emails:
            return _json(
                {"error": "Bad Request", "message": "send either profile URLs or emails"}, 400
            )
        if not isinstance(urls, list) or not 0 < len(urls) <= 25:
            return _json(
                {
                    "error": "Bad Request",
                    "message": "professional_network_profile_urls: 1..25 URLs",
                },
                400,
            )
        slugs = [data.slug_of(str(u)) for u in urls]
        if any(s is None for s in slugs):
            return _json(
                {"error": "Bad Request", "message": "invalid profile URL in batch"},
                400,
                rate_headers(),
            )
        fields = body.get("fields") if isinstance(body.get("fields"), list) else None
        extra = sum(
            {
                "contact.business_emails": 1,
                "contact.personal_emails": 2,
                "contact.phone_numbers": 2,
            }.get(f, 0)
            for f in fields or []
        )
        s = state.get("crustdata")
        out = []
        for url, slug in zip(urls, slugs, strict=True):
            assert slug is not None
            ratio_hit = s.per_profile_error_ratio > 0 and (
                int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                < s.per_profile_error_ratio
            )
            if "error" in slug or ratio_hit:
                out.append(
                    {
                        "matched_on": url,
                        "match_type": "professional_network_profile_url",
                        "matches": [],
                        "error": {
                            "code": "enrichment_failed",
                            "message": "Profile could not be enriched (sandbox fault)",
                        },
                        "_sandbox": True,
                    }
                )
                continue
            if "notfound" in slug or "unknown" in slug:
                out.append(
                    {
                        "matched_on": url,
                        "match_type": "professional_network_profile_url",
                        "matches": [],
                        "_sandbox": True,
                    }
                )
                continue
            if not state.spend("crustdata", min(7, 1 + extra)):
                return _json(
                    {
                        "error": "Insufficient credits",
                        "message": "Your account has run out of credits.",
                    },
                    402,
                )
            person = data.person_for(slug)
            out.append(
                {
                    "matched_on": url,
                    "match_type": "professional_network_profile_url",
                    "matches": [
                        {
                            "confidence_score": 0.97,
                            "person_data": data.crustdata_person_data(person, fields),
                        }
                    ],
                    "_sandbox": True,
                }
            )
        return _json(out, 200, rate_headers())

    @app.get("/crustdata/user/credits")
    def crust_credits() -> Response:
        if (denied := guard()) is not None:
            return denied
        credits = state.credits("crustdata")
        return _json({"credits": 1_000_000 if credits is None else credits}, 200, rate_headers())

    _crustdata_batch_routes(app, state, guard)


_BATCH_EXTRA_CREDITS = {
    "contact.business_emails": 1,
    "contact.personal_emails": 2,
    "contact.phone_numbers": 2,
}


def _crustdata_batch_routes(
    app: Flask, state: SandboxState, guard: Callable[[], Response | None]
) -> None:
    """`POST /batch/person/enrich`, `GET /batch/{id}` and the results file in "S3". A job is
    pending for the first third of `batch_seconds`, then processing, then completed; on
    completion its records are charged like /person/enrich matches (min(7, 1 + contact fields)
    per record) and unresolvable slugs (notfound/unknown/error) are left out of the file. A slug
    with `batchfail` fails the whole job; a sixth active job is refused with 429."""
    lock = threading.Lock()  # state.batches; never held while state.lock is taken inside

    def bad(message: str, status: int = 400) -> Response:
        return _json({"error": "Bad Request", "message": message}, status)

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

    def complete(b: dict[str, Any]) -> None:
        """Build the results file once, charging its records (caller holds `lock`)."""
        if any("batchfail" in slug for _, slug in b["items"]):
            b["error_message"] = "Batch processing failed (sandbox fault)"
            return
        per = min(7, 1 + sum(_BATCH_EXTRA_CREDITS.get(f, 0) for f in b["fields"] or []))
        lines = []
        for url, slug in b["items"]:
            if any(word in slug for word in ("notfound", "unknown", "error")):
                continue  # documented: identifiers that cannot be resolved are dropped
            if not state.spend("crustdata", per):
                b["error_message"] = "Insufficient credits"
                return
            record = data.crustdata_batch_record(url, slug, b["fields"])
            lines.append(json.dumps(record))
        b["count"] = len(lines)
        b["file"] = gzip.compress(("\n".join(lines) + "\n").encode() if lines else b"")
        b["completed"] = time.time()

    def settled(batch_id: str) -> dict[str, Any] | None:
        now = time.time()
        with lock:
            b = state.batches.get(batch_id)
            if b is not None and phase(b, now) == "completing":
                complete(b)
            return dict(b) if b is not None else None

    @app.post("/crustdata/batch/person/enrich")
    def crust_batch_submit() -> Response:
        if (denied := guard()) is not None:
            return denied
        if not request.headers.get("x-api-version"):
            return bad("x-api-version header is required")
        body = request.get_json(silent=True)
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
        slugs = [data.slug_of(str(u)) for u in urls]
        fields = body.get("fields")
        fields = [f.strip() for f in fields.split(",")] if isinstance(fields, str) else fields
        now = time.time()
        with lock:
            for b in state.batches.values():  # jobs finish on their own, polled or not
                if phase(b, now) == "completing":
                    complete(b)
            active = sum(1 for b in state.batches.values() if phase(b, now) in ACTIVE)
            if active >= 5:
                return _json(
                    {
                        "error": "Too Many Requests",
                        "message": "An account may have at most 5 active batch jobs",
                    },
                    429,
                )
            batch_id = str(uuid.uuid4())
            state.batches[batch_id] = {
                "id": batch_id,
                "created": now,
                "seconds": state.get("crustdata").batch_seconds,
                # Unparseable URLs cannot be resolved: they are dropped like unknown ones.
                "items": [(str(u), s or "unknown") for u, s in zip(urls, slugs, strict=True)],
                "fields": fields if isinstance(fields, list) else None,
                "file": None,
            }
        return _json(
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

    @app.get("/crustdata/batch/<batch_id>")
    def crust_batch_status(batch_id: str) -> Response:
        if (denied := guard()) is not None:
            return denied
        b = settled(batch_id)
        if b is None:
            return _json({"error": "Not Found", "message": "batch job not found"}, 404)
        status = phase(b, time.time())
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
        return _json(body)

    @app.get("/crustdata-s3/<batch_id>/output/<name>")
    def crust_batch_file(batch_id: str, name: str) -> Response:
        """Pre-signed storage: no API key; a file that was never written is S3's 404."""
        b = settled(batch_id)
        if b is None or b.get("file") is None or name not in RESULT_FILES:
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", 404, mimetype="application/xml"
            )
        return Response(b["file"], 200, mimetype="application/gzip")


ACTIVE = ("pending", "processing")
RESULT_FILES = ("results.jsonl.gz", "part-000.jsonl.gz")


# ------------------------------------------------------------------ SalesQL


def _salesql_routes(app: Flask, state: SandboxState, gate: Gate) -> None:
    def guard(daily: bool = True) -> Response | None:
        auth = request.headers.get("Authorization", "")
        if (
            "api_key" in request.args
            or not auth.lower().startswith("bearer ")
            or _bad_key(auth[7:])
        ):
            return _json({"message": "Unauthorized: use 'Authorization: Bearer <key>'"}, 401)
        return gate("salesql", "", daily)

    @app.get("/salesql/v1/persons/enrich")
    @app.get("/salesql/v1/persons/enrich/")
    def salesql_enrich() -> Response:
        if (denied := guard()) is not None:
            return denied
        url = request.args.get("linkedin_url", "")
        slug = data.slug_of(url) if url else None
        if slug is None:
            return _json({"message": "A valid linkedin_url is required"}, 400)
        if "notfound" in slug or "unknown" in slug:
            return _json({"message": "Person not found"}, 404)
        # One credit when data comes back, none for a profile this account enriched before.
        if state.first_enrichment("salesql", slug) and not state.spend("salesql", 1):
            return _json({"message": "Not enough credits"}, 402)
        person = data.salesql_person(data.person_for(slug))
        if request.args.get("match_if_direct_email") == "true":
            person["emails"] = [e for e in person["emails"] if e["type"] == "Direct"]
        return _json(person)

    @app.get("/salesql/v1/allowance")
    def salesql_allowance() -> Response:
        if (denied := guard(daily=False)) is not None:
            return denied
        s = state.get("salesql")
        tomorrow = (int(time.time() // 86400) + 1) * 86400
        return _json(
            {
                "credits": s.credits if s.credits is not None else 100_000,
                "reset_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tomorrow)),
                "_sandbox": True,
            }
        )


# ------------------------------------------------------------------ OpenAI


def _openai_routes(app: Flask, gate: Gate) -> None:
    @app.post("/openai/v1/chat/completions")
    def chat() -> Response:
        if _bad_key(_key_from_request("Authorization")):
            return _json(
                _openai_error(
                    401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                ),
                401,
            )
        if (denied := gate("openai")) is not None:
            return denied
        body = request.get_json(silent=True)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("messages"), list)
            or not body.get("model")
        ):
            return _json(
                _openai_error(
                    400, "model and messages are required", "invalid_request_error", None
                ),
                400,
            )
        messages = body["messages"]
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema")
            if not isinstance(schema, dict):
                return _json(
                    _openai_error(
                        400, "json_schema.schema is required", "invalid_request_error", None
                    ),
                    400,
                )
            content = json.dumps(data.structured_answer(schema, messages))
        else:
            content = "[sandbox] " + " ".join(str(m.get("content", ""))[:60] for m in messages[-1:])
        prompt_chars = sum(len(json.dumps(m)) for m in messages) + len(json.dumps(fmt))
        prompt_tokens, completion_tokens = prompt_chars // 4 + 7, len(content) // 4 + 1
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and completion_tokens > max_tokens:
            finish, completion_tokens = "length", max_tokens
            content = content[: max_tokens * 4]
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        answer = {
            "id": f"chatcmpl-sandbox{digest[:20]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body["model"]),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
            "system_fingerprint": "fp_sandbox",
            "_sandbox": True,
        }
        d: Decision = g.get("decision") or Decision()
        headers = {"x-request-id": f"req_sandbox{digest[:16]}"}
        if d.limit:
            headers.update(
                {
                    "x-ratelimit-limit-requests": str(d.limit),
                    "x-ratelimit-remaining-requests": str(d.remaining),
                    "x-ratelimit-reset-requests": f"{d.reset_s:.3f}s",
                }
            )
        return _json(answer, 200, headers)


# ------------------------------------------------------------------ Google Sheets

_A1 = re.compile(r"^([A-Za-z]*)(\d*)$")


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


def _google_error(code: int, message: str, status: str) -> Response:
    """Google's error envelope, with its HTTP status."""
    return _json({"error": {"code": code, "message": message, "status": status}}, code)


def _sheets_routes(app: Flask, state: SandboxState, gate: Gate) -> None:
    @app.get("/sheets/v4/spreadsheets/<sid>/values/<path:rng>")
    def values_get(sid: str, rng: str) -> Response:
        credential = _key_from_request("Authorization", "x-goog-api-key") or request.args.get(
            "key", ""
        )
        if not credential:
            return _google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        if credential.lower().startswith("invalid"):
            return _google_error(
                401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"
            )
        user = hashlib.sha256(credential.encode()).hexdigest()[:12]
        if (denied := gate("sheets", user)) is not None:
            return denied
        # An API key reads only sheets shared publicly; a private one answers 403 (Google docs).
        if sid.startswith("private") and not credential.lower().startswith("bearer "):
            return _google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        if sid.startswith("missing"):
            return _google_error(404, "Requested entity was not found.", "NOT_FOUND")
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
        return _json(body)
