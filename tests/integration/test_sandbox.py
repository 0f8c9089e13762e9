"""The sandbox itself, over real HTTP: documented shapes, determinism, labels, limits and faults."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration
CD = {"authorization": "Bearer k", "x-api-version": "2025-11-01"}
SQ = {"Authorization": "Bearer k"}
PB = {"X-Phantombuster-Key": "k"}
OA = {"Authorization": "Bearer k"}


def enrich(url: str, urls: list[str], **kw) -> httpx.Response:
    body = {"professional_network_profile_urls": urls, **kw}
    return httpx.post(f"{url}/crustdata/person/enrich", json=body, headers=CD)


def test_health_config_and_labels(sandbox_ctl: SandboxControl) -> None:
    url = sandbox_ctl.url
    health = httpx.get(f"{url}/_sandbox/health")
    assert health.json()["sandbox"] is True and health.headers["X-Sandbox"] == "true"
    bad = httpx.post(f"{url}/_sandbox/config", json={"provider": "openai", "nope": 1})
    assert bad.status_code == 400
    bad = httpx.post(f"{url}/_sandbox/config", json={"provider": "openai", "fail_next": ["x"]})
    assert bad.status_code == 400
    cfg = sandbox_ctl.configure("openai", rate_limit_per_min=600, latency_ms=5)
    assert cfg["openai"]["rate_limit_per_min"] == 600
    assert httpx.get(f"{url}/_sandbox/config").json()["openai"]["latency_ms"] == 5


def test_same_profile_same_person_everywhere(sandbox_ctl: SandboxControl) -> None:
    url = sandbox_ctl.url
    a = enrich(url, ["https://www.linkedin.com/in/Mark-Twain-1"], fields=["basic_profile"]).json()
    b = enrich(url, ["linkedin.com/in/mark-twain-1/"], fields=["basic_profile"]).json()
    pa, pb = a[0]["matches"][0]["person_data"], b[0]["matches"][0]["person_data"]
    assert pa == pb and pa["basic_profile"]["name"] == "Mark Twain"
    assert a[0]["_sandbox"] is True and "[sandbox]" in pa["basic_profile"]["summary"]
    sq = httpx.get(
        f"{url}/salesql/v1/persons/enrich/",
        params={"linkedin_url": "https://www.linkedin.com/in/mark-twain-1"},
        headers=SQ,
    ).json()
    assert sq["full_name"] == "Mark Twain" and sq["_sandbox"] is True
    assert sq["organization"]["name"] in pa["basic_profile"]["headline"]
    assert all(e["email"].endswith(".example") for e in sq["emails"])


def test_crustdata_shapes_and_batch_rules(sandbox_ctl: SandboxControl) -> None:
    url = sandbox_ctl.url
    ok = enrich(url, ["https://www.linkedin.com/in/x-y"])
    assert ok.status_code == 200
    assert set(ok.json()[0]["matches"][0]["person_data"]) == {"basic_profile", "social_handles"}
    no_version = httpx.post(
        f"{url}/crustdata/person/enrich",
        json={"professional_network_profile_urls": ["https://www.linkedin.com/in/x-y"]},
        headers={"authorization": "Bearer k"},
    )
    assert no_version.status_code == 400
    assert enrich(url, ["https://www.linkedin.com/in/ok", "not-a-url"]).status_code == 400
    assert enrich(url, [f"https://www.linkedin.com/in/u{i}" for i in range(26)]).status_code == 400
    sandbox_ctl.configure("crustdata", per_profile_error_ratio=0.5)
    answer = enrich(url, [f"https://www.linkedin.com/in/u{i}" for i in range(20)]).json()
    errors = [e for e in answer if "error" in e]
    assert 0 < len(errors) < 20
    sandbox_ctl.configure("crustdata", credits=0)
    broke = enrich(url, ["https://www.linkedin.com/in/x-y"])
    assert broke.status_code == 402 and "credits" in broke.text


@pytest.mark.parametrize(
    ("provider", "call", "check"),
    [
        (
            "openai",
            lambda u: httpx.post(
                f"{u}/openai/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                headers=OA,
            ),
            lambda b: (
                b["error"]["code"] == "rate_limit_exceeded" and b["error"]["type"] == "requests"
            ),
        ),
        (
            "sheets",
            lambda u: httpx.get(
                f"{u}/sheets/v4/spreadsheets/s/values/A1", headers={"x-goog-api-key": "k"}
            ),
            lambda b: b["error"]["status"] == "RESOURCE_EXHAUSTED",
        ),
        (
            "crustdata",
            lambda u: enrich(u, ["https://www.linkedin.com/in/x-y"]),
            lambda b: b["error"] == "Rate limit exceeded",
        ),
        (
            "salesql",
            lambda u: httpx.get(
                f"{u}/salesql/v1/persons/enrich/",
                params={"linkedin_url": "linkedin.com/in/a-b"},
                headers=SQ,
            ),
            lambda b: b["message"] == "Rate limit exceeded",
        ),
    ],
)
def test_rate_limits_answer_429_with_provider_body_and_headers(
    sandbox_ctl: SandboxControl,
    provider,
    call,
    check,
) -> None:
    sandbox_ctl.configure(provider, rate_limit=2, rate_window_s=2.0)
    assert call(sandbox_ctl.url).status_code == 200
    assert call(sandbox_ctl.url).status_code == 200
    limited = call(sandbox_ctl.url)
    assert limited.status_code == 429 and check(limited.json())
    if provider == "salesql":  # documented without Retry-After: its 429 comes bare
        assert "Retry-After" not in limited.headers
    else:
        assert 1 <= int(limited.headers["Retry-After"]) <= 2
    if provider == "crustdata":
        assert limited.headers["x-ratelimit-remaining"] == "0"


def test_openai_structured_answer_is_schema_valid_and_deterministic(
    sandbox_ctl: SandboxControl,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "label": {"type": "string", "enum": ["low", "mid", "high"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "detail": {"$ref": "#/$defs/Detail"},
        },
        "required": ["score", "label", "tags", "detail"],
        "additionalProperties": False,
        "$defs": {
            "Detail": {
                "type": "object",
                "properties": {
                    "ok": {"type": "boolean"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["ok", "note"],
                "additionalProperties": False,
            }
        },
    }
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "rust"},
            {"role": "user", "content": "rust dev"},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "X", "strict": True, "schema": schema},
        },
    }
    first = httpx.post(
        f"{sandbox_ctl.url}/openai/v1/chat/completions", json=body, headers=OA
    ).json()
    second = httpx.post(
        f"{sandbox_ctl.url}/openai/v1/chat/completions", json=body, headers=OA
    ).json()
    content = json.loads(first["choices"][0]["message"]["content"])
    assert content == json.loads(second["choices"][0]["message"]["content"])
    assert 1 <= content["score"] <= 5 and content["label"] in ("low", "mid", "high")
    assert isinstance(content["detail"]["ok"], bool) and isinstance(content["detail"]["note"], str)
    assert (
        first["usage"]["total_tokens"]
        == first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]
    )
    assert first["_sandbox"] is True


def test_phantombuster_lifecycle_and_max_instances(sandbox_ctl: SandboxControl) -> None:
    url = f"{sandbox_ctl.url}/phantombuster/api/v2"
    # Long enough to see the run busy and running before it ends.
    sandbox_ctl.configure("phantombuster", container_seconds=2.0)
    arg = {"search": "data engineer", "numberOfResultsPerLaunch": 4}
    # bonusArgument is merged into the saved argument, which holds the LinkedIn login.
    launch = httpx.post(
        f"{url}/agents/launch",
        json={"id": "7", "bonusArgument": json.dumps(arg), "maxInstanceCount": 1},
        headers=PB,
    )
    cid = launch.json()["containerId"]
    busy = httpx.post(
        f"{url}/agents/launch", json={"id": "7", "argument": arg, "maxInstanceCount": 1}, headers=PB
    )
    assert (
        busy.status_code == 400
        and busy.json()["status"] == "error"
        and "maxInstanceCount" in busy.json()["error"]
    )
    assert (
        httpx.post(f"{url}/agents/launch", json={"id": "7", "bogus": 1}, headers=PB).status_code
        == 400
    )
    assert httpx.get(f"{url}/agents/fetch-output", params={"id": "7"}, headers=PB).json()[
        "isAgentRunning"
    ]
    assert (
        httpx.get(f"{url}/containers/fetch-result-object", params={"id": cid}, headers=PB).json()[
            "resultObject"
        ]
        is None
    )
    time.sleep(2.1)
    done = httpx.get(
        f"{url}/containers/fetch", params={"id": cid, "withResultObject": "true"}, headers=PB
    ).json()
    assert done["status"] == "finished" and done["endType"] == "finished" and done["exitCode"] == 0
    rows = json.loads(done["resultObject"])
    assert len(rows) == 4 and {"headline", "jobTitle", "company"} <= set(rows[0])  # LinkedIn export
    # The launch saved nothing: the agent keeps only its own login.
    saved = httpx.get(f"{url}/agents/fetch", params={"id": "7"}, headers=PB).json()["argument"]
    assert json.loads(saved) == {"sessionCookie": "sandbox-li_at-cookie"}
    # A plain `argument` replaces the saved input: the run has no login and fails.
    bare = httpx.post(f"{url}/agents/launch", json={"id": "7", "argument": arg}, headers=PB).json()[
        "containerId"
    ]
    time.sleep(2.1)
    failed = httpx.get(f"{url}/containers/fetch", params={"id": bare}, headers=PB).json()
    assert failed["status"] == "finished" and failed["exitCode"] == 1
    assert (
        httpx.get(f"{url}/containers/fetch", params={"id": "nope"}, headers=PB).status_code == 404
    )
    assert httpx.get(f"{url}/containers/fetch", params={"id": cid}).status_code == 401


def test_faults_malformed_outage_and_auth(sandbox_ctl: SandboxControl) -> None:
    url = sandbox_ctl.url
    sandbox_ctl.configure("salesql", fail_next=["malformed"])
    params = {"linkedin_url": "https://www.linkedin.com/in/a-b"}
    broken = httpx.get(f"{url}/salesql/v1/persons/enrich/", params=params, headers=SQ)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    sandbox_ctl.configure("salesql", outage_until=time.time() + 5)
    down = httpx.get(f"{url}/salesql/v1/persons/enrich/", params=params, headers=SQ)
    assert down.status_code == 503 and "Retry-After" not in down.headers  # SalesQL sends none
    sandbox_ctl.configure("salesql", send_retry_after=True)
    down = httpx.get(f"{url}/salesql/v1/persons/enrich/", params=params, headers=SQ)
    assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 4
    sandbox_ctl.configure("salesql", outage_until=0)
    query_key = httpx.get(f"{url}/salesql/v1/persons/enrich/", params={**params, "api_key": "k"})
    assert query_key.status_code == 401
    invalid = httpx.get(
        f"{url}/salesql/v1/persons/enrich/",
        params=params,
        headers={"Authorization": "Bearer invalid-key"},
    )
    assert invalid.status_code == 401


def test_sheets_ranges_and_dimensions(sandbox_ctl: SandboxControl) -> None:
    url = sandbox_ctl.url
    httpx.post(
        f"{url}/_sandbox/sheets",
        json={"spreadsheet_id": "g", "values": [["a", "b", ""], ["c"], [], []]},
    )
    h = {"x-goog-api-key": "k"}
    rows = httpx.get(f"{url}/sheets/v4/spreadsheets/g/values/Tab%21A1%3AC9", headers=h).json()
    assert rows == {"range": "Tab!A1:C9", "majorDimension": "ROWS", "values": [["a", "b"], ["c"]]}
    cols = httpx.get(
        f"{url}/sheets/v4/spreadsheets/g/values/A1:B2",
        params={"majorDimension": "COLUMNS"},
        headers=h,
    ).json()
    assert cols["values"] == [["a", "c"], ["b"]]
    empty = httpx.get(f"{url}/sheets/v4/spreadsheets/g/values/D5:E6", headers=h).json()
    assert "values" not in empty
    assert httpx.get(f"{url}/sheets/v4/spreadsheets/g/values/A1").status_code == 403
