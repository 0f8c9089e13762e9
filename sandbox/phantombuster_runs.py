"""PhantomBuster's run model without the HTTP layer: how a container's status advances with time,
how a container and an agent are shown, what a launch's argument turns into (search kind,
result count), and the webhook PhantomBuster posts when a run ends.

The routes in `sandbox.routes_phantombuster` keep the request handling; everything here is plain
data in, data out, so it can be read against PhantomBuster's documentation on its own.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

# Body parameters `POST /agents/launch` documents; anything else is refused.
LAUNCH_PARAMS = {
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


class LaunchError(ValueError):
    """A launch refused with 400; the message is PhantomBuster's."""


def status_of(c: dict[str, Any]) -> str:
    if c.get("killed"):
        return "finished"
    if c.get("stuck_unknown"):
        return "unknown"
    elapsed = time.time() - c["created"]
    if elapsed < min(0.3, c["duration"] * 0.1):
        return "starting"
    return "running" if elapsed < c["duration"] else "finished"


def container_view(c: dict[str, Any], with_result: bool = False) -> dict[str, Any]:
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


def running_view(c: dict[str, Any]) -> dict[str, Any]:
    """One entry of `GET /orgs/fetch-running-containers`."""
    return {
        "id": c["id"],
        "agentId": c["agentId"],
        "agentName": f"Sandbox agent {c['agentId']}",
        "createdAt": int(c["created"] * 1000),
        "retryNumber": 0,
        "launchType": "user api call",
        "scriptSlug": "sandbox-search-export",
    }


def agent_view(
    ag: dict[str, Any], last: dict[str, Any] | None, with_manifest: bool
) -> dict[str, Any]:
    """`GET /agents/fetch`: the agent, its last run's end type and, on request, its manifest."""
    extra = {"manifest": manifest(ag["id"])} if with_manifest else {}
    return {
        **ag,
        **extra,
        "executionTimeLimit": 3600,
        "scriptId": "sandbox",
        "script": "Sandbox Search Export.js",
        "lastEndType": container_view(last).get("endType") if last else None,
        "launchType": "manually",
        "maxParallelism": 1,
        "s3Folder": "sandbox",
        "orgS3Folder": "sandbox",
        "fileMgmt": "mix",
        "_sandbox": True,
    }


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


def new_agent(agent_id: str) -> dict[str, Any]:
    return {
        "id": agent_id,
        "name": f"Sandbox agent {agent_id}",
        # The identity set up in PhantomBuster lives in the saved argument.
        "argument": json.dumps({"sessionCookie": "sandbox-li_at-cookie"}),
        "nbLaunches": 0,
    }


def merged_argument(body: dict[str, Any], saved: str) -> dict[str, Any]:
    """`argument` replaces the saved input for this run; `bonusArgument` is merged into it."""
    argument = body.get("argument", body.get("arguments"))
    bonus = body.get("bonusArgument")
    try:
        if isinstance(argument, str):
            argument = json.loads(argument)
        if isinstance(bonus, str):
            bonus = json.loads(bonus)
    except json.JSONDecodeError as exc:
        raise LaunchError("argument is not valid JSON") from exc
    if argument is None:
        argument = json.loads(saved)
    if not isinstance(argument, dict) or not isinstance(bonus, (dict, type(None))):
        raise LaunchError("argument must be an object")
    return {**argument, **(bonus or {})}


def search_of(argument: dict[str, Any]) -> tuple[str, str, int]:
    """(search URL, "salesnav" | "linkedin", how many rows the run exports)."""
    search = str(
        argument.get("searches")
        or argument.get("salesNavigatorSearchUrl")
        or argument.get("linkedInSearchUrl")
        or argument.get("search")
        or ""
    )
    salesnav = (
        "searches" in argument or "salesNavigatorSearchUrl" in argument or "/sales/" in search
    )
    kind = "salesnav" if salesnav else "linkedin"
    count = (
        argument.get("numberOfProfiles")
        or argument.get("numberOfResultsPerSearch")
        or argument.get("numberOfResultsPerLaunch")
        or 10
    )
    try:
        # LinkedIn shows at most 1,000 results per search, Sales Navigator 2,500.
        count = max(0, min(2500 if kind == "salesnav" else 1000, int(count)))
    except (TypeError, ValueError) as exc:
        raise LaunchError("numberOfProfiles must be a number") from exc
    return search, kind, count


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
