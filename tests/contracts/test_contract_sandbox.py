"""The provider sandbox answers in the shapes the providers document (tests/contracts/*.json), for
the documented requests, including their errors and 429s. Real HTTP to the sandbox process."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest

from tests.contracts.shapes import contract, mismatches
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration

CD = {"authorization": "Bearer k", "x-api-version": "2025-11-01"}
PB = {"X-Phantombuster-Key": "k"}
SQ = {"Authorization": "Bearer k"}
OA = {"Authorization": "Bearer k"}
SH = {"x-goog-api-key": "k"}


def _conforms(example: dict[str, Any], actual: Any, documented: Any = None) -> None:
    wrong = mismatches(example["body"] if documented is None else documented, actual, example)
    assert not wrong, wrong


# ------------------------------------------------------------------ Crustdata


def test_crustdata_enrich_answers_documented_person_data(sandbox_ctl: SandboxControl) -> None:
    doc = contract("crustdata")
    request = doc["enrich_request"]
    body = {
        **request["body"],
        "professional_network_profile_urls": ["https://www.linkedin.com/in/ann-lee-7"],
    }
    response = httpx.post(f"{sandbox_ctl.url}/crustdata/person/enrich", json=body, headers=CD)
    assert response.status_code == 200
    _conforms(doc["enrich_response"], response.json())
    person = response.json()[0]["matches"][0]["person_data"]
    assert isinstance(person["basic_profile"]["location"], dict)
    assert set(person["contact"]) == {"business_emails"}  # only the contact field asked for
    none = {**body, "professional_network_profile_urls": ["https://www.linkedin.com/in/notfound-1"]}
    missing = httpx.post(f"{sandbox_ctl.url}/crustdata/person/enrich", json=none, headers=CD)
    _conforms(doc["enrich_no_match"], missing.json())


def test_crustdata_limits_and_credits_as_documented(sandbox_ctl: SandboxControl) -> None:
    doc = contract("crustdata")
    sandbox_ctl.configure("crustdata", rate_limit_per_min=1)
    body = {"professional_network_profile_urls": ["https://www.linkedin.com/in/ann-lee-7"]}
    first = httpx.post(f"{sandbox_ctl.url}/crustdata/person/enrich", json=body, headers=CD)
    limited = httpx.post(f"{sandbox_ctl.url}/crustdata/person/enrich", json=body, headers=CD)
    for name in doc["rate_limited"]["headers"]:
        assert name in first.headers and name in limited.headers  # "on every response"
    assert limited.status_code == doc["rate_limited"]["status"]
    sandbox_ctl.configure("crustdata", rate_limit_per_min=0)
    credits = httpx.get(f"{sandbox_ctl.url}/crustdata/user/credits", headers=CD)
    _conforms(doc["credits_response"], credits.json())


def test_crustdata_batch_job_moves_to_a_documented_gzipped_results_file(
    sandbox_ctl: SandboxControl,
) -> None:
    doc = contract("crustdata")
    sandbox_ctl.configure("crustdata", batch_seconds=0.6, credits=100)
    urls = [f"https://www.linkedin.com/in/ann-lee-{i}" for i in range(3)]
    urls.append("https://www.linkedin.com/in/notfound-9")
    # The sections the enrichment job asks for (and one contact field, which costs +1).
    fields = doc["enrich_request"]["body"]["fields"]
    body = {"professional_network_profile_urls": urls, "fields": fields}
    base = f"{sandbox_ctl.url}/crustdata"
    no_version = {"authorization": CD["authorization"]}
    refused = httpx.post(f"{base}/batch/person/enrich", json=body, headers=no_version)
    assert refused.status_code == 400  # x-api-version is required on submit
    submitted = httpx.post(f"{base}/batch/person/enrich", json=body, headers=CD)
    assert submitted.status_code == 200
    _conforms(doc["batch_submit_response"], submitted.json())
    batch_id = submitted.json()["batch_id"]
    seen: list[str] = []
    while not seen or seen[-1] not in ("completed", "failed"):
        # x-api-version is not required when polling.
        status = httpx.get(f"{base}/batch/{batch_id}", headers=no_version).json()
        if status["status"] != "completed":
            assert "download_url" not in status
        seen.append(status["status"])
        time.sleep(0.05)
    assert seen[0] == "pending" and "processing" in seen and seen[-1] == "completed"
    _conforms(doc["batch_status_completed"], status)
    assert (status["entities_requested"], status["entities_fulfilled"]) == (4, 3)
    file = httpx.get(status["download_url"])  # pre-signed: no key
    assert file.status_code == 200 and "content-encoding" not in file.headers
    records = [json.loads(line) for line in gzip.decompress(file.content).splitlines()]
    assert [r["original_identifier"] for r in records] == urls[:3]  # the unknown one dropped
    for record in records:
        _conforms(doc["batch_result_record"], record)
        wrong = mismatches(
            doc["enrich_response"]["body"][0]["matches"][0]["person_data"],
            record["data"],
            doc["enrich_response"],
        )
        assert not wrong, wrong  # the same shape as /person/enrich's person_data
    # Billed as /person/enrich: 1 + 1 (business emails) per delivered record, none for the miss.
    credits = httpx.get(f"{base}/user/credits", headers=CD).json()["credits"]
    assert credits == 100 - 3 * 2


def test_crustdata_batch_limits_active_jobs_and_reports_failures(
    sandbox_ctl: SandboxControl,
) -> None:
    doc = contract("crustdata")
    sandbox_ctl.configure("crustdata", batch_seconds=30)
    base = f"{sandbox_ctl.url}/crustdata"
    one = {"professional_network_profile_urls": ["https://www.linkedin.com/in/ann-lee-1"]}
    answers = [
        httpx.post(f"{base}/batch/person/enrich", json=one, headers=CD)
        for _ in range(doc["batch_busy"]["max_active"] + 1)
    ]
    assert [a.status_code for a in answers[:-1]] == [200] * doc["batch_busy"]["max_active"]
    assert answers[-1].status_code == doc["batch_busy"]["status"]
    sandbox_ctl.reset()
    sandbox_ctl.configure("crustdata", batch_seconds=0.1)
    fail = {"professional_network_profile_urls": ["https://www.linkedin.com/in/batchfail-1"]}
    batch_id = httpx.post(f"{base}/batch/person/enrich", json=fail, headers=CD).json()["batch_id"]
    time.sleep(0.2)
    status = httpx.get(f"{base}/batch/{batch_id}", headers=CD).json()
    _conforms(doc["batch_status_failed"], status)
    assert status["error_message"] and "download_url" not in status
    too_many = {"professional_network_profile_urls": ["https://www.linkedin.com/in/a-b"] * 10_001}
    assert httpx.post(f"{base}/batch/person/enrich", json=too_many, headers=CD).status_code == 400


# ------------------------------------------------------------------ PhantomBuster


def test_phantombuster_agent_manifest_containers_and_rows(sandbox_ctl: SandboxControl) -> None:
    doc = contract("phantombuster")
    url = f"{sandbox_ctl.url}/phantombuster/api/v2"
    sandbox_ctl.configure("phantombuster", container_seconds=0.6)
    agent = httpx.get(
        f"{url}/agents/fetch", params={"id": "li-1", "withManifest": "true"}, headers=PB
    )
    _conforms(doc["agent_fetch_response"], agent.json())
    bonus = {
        "linkedInSearchUrl": "https://www.linkedin.com/search/results/people/?keywords=go",
        "numberOfResultsPerSearch": 3,
    }
    launch = httpx.post(
        f"{url}/agents/launch", json={"id": "li-1", "bonusArgument": bonus}, headers=PB
    )
    _conforms(doc["launch_response"], launch.json())
    cid = launch.json()["containerId"]
    running = httpx.get(f"{url}/containers/fetch", params={"id": cid}, headers=PB).json()
    _conforms(doc["container_running"], running)
    _conforms(
        doc["running_containers"],
        httpx.get(f"{url}/orgs/fetch-running-containers", headers=PB).json(),
    )
    time.sleep(0.8)
    finished = httpx.get(f"{url}/containers/fetch", params={"id": cid}, headers=PB).json()
    _conforms(doc["container_finished"], finished)
    result = httpx.get(f"{url}/containers/fetch-result-object", params={"id": cid}, headers=PB)
    rows = json.loads(result.json()["resultObject"])
    assert len(rows) == 3
    _conforms(doc["result_object_rows"], rows, doc["result_object_rows"]["rows"])
    launched = httpx.get(f"{sandbox_ctl.url}/_sandbox/containers").json()["containers"]
    assert launched[0]["argument"]["sessionCookie"]  # the saved login survived the launch


def test_phantombuster_salesnav_rows_and_large_result_file(sandbox_ctl: SandboxControl) -> None:
    doc = contract("phantombuster")
    url = f"{sandbox_ctl.url}/phantombuster/api/v2"
    sandbox_ctl.configure("phantombuster", container_seconds=0.2, large_result_rows=4)
    bonus = {
        "searches": "https://www.linkedin.com/sales/search/people?query=x",
        "numberOfProfiles": 6,
    }
    cid = httpx.post(
        f"{url}/agents/launch", json={"id": "nav-1", "bonusArgument": bonus}, headers=PB
    ).json()["containerId"]
    time.sleep(0.4)
    result = httpx.get(f"{url}/containers/fetch-result-object", params={"id": cid}, headers=PB)
    pointer = json.loads(result.json()["resultObject"])
    example = doc["result_object_file"]
    assert not mismatches(example["result"], pointer, example)
    rows = httpx.get(pointer["jsonUrl"]).json()
    assert len(rows) == 6
    _conforms(doc["salesnav_rows"], rows, doc["salesnav_rows"]["rows"])


def test_phantombuster_refuses_undocumented_launch_keys(sandbox_ctl: SandboxControl) -> None:
    url = f"{sandbox_ctl.url}/phantombuster/api/v2"
    bogus = httpx.post(f"{url}/agents/launch", json={"id": "x", "search": "go"}, headers=PB)
    assert bogus.status_code == 400


# ------------------------------------------------------------------ SalesQL


def test_salesql_person_allowance_and_bare_daily_429(sandbox_ctl: SandboxControl) -> None:
    doc = contract("salesql")
    sandbox_ctl.configure("salesql", daily_limit=1)
    url = f"{sandbox_ctl.url}/salesql/v1"
    person = httpx.get(
        f"{url}{doc['enrich_request']['path']}",
        params={"linkedin_url": "https://www.linkedin.com/in/ann-lee-7"},
        headers=SQ,
    )
    _conforms(doc["enrich_response"], person.json())
    spent = httpx.get(
        f"{url}/persons/enrich/",
        params={"linkedin_url": "https://www.linkedin.com/in/bo-li-2"},
        headers=SQ,
    )
    example = doc["daily_limit"]
    assert spent.status_code == example["status"]
    assert not set(example["headers_absent"]) & {h.lower() for h in spent.headers}
    _conforms(example, spent.json())
    _conforms(doc["allowance_response"], httpx.get(f"{url}/allowance", headers=SQ).json())


# ------------------------------------------------------------------ OpenAI


def test_openai_completion_and_rate_limit_shapes(sandbox_ctl: SandboxControl) -> None:
    doc = contract("openai")
    schema = {
        "type": "object",
        "properties": {"score": {"type": "integer"}, "reason": {"type": "string"}},
        "required": ["score", "reason"],
        "additionalProperties": False,
    }
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "python payments"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "CandidateScore", "strict": True, "schema": schema},
        },
    }
    url = f"{sandbox_ctl.url}/openai/v1/chat/completions"
    _conforms(doc["chat_completion_response"], httpx.post(url, json=body, headers=OA).json())
    sandbox_ctl.configure("openai", fail_next=["429"], retry_after_s=1.5)
    limited = httpx.post(url, json=body, headers=OA)
    example = doc["rate_limited_requests"]
    assert limited.status_code == 429
    _conforms(example, limited.json())
    for name in ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"):
        assert name in limited.headers


# ------------------------------------------------------------------ Google Sheets


def test_sheets_values_private_sheet_and_quota(sandbox_ctl: SandboxControl) -> None:
    doc = contract("sheets")
    url = f"{sandbox_ctl.url}/sheets/v4/spreadsheets"
    values = httpx.get(f"{url}/team-lists/values/Sheet1!A1:C", headers=SH)
    _conforms(doc["values_response"], values.json())
    private = httpx.get(f"{url}/private-list/values/Sheet1!A1:C", headers=SH)
    assert private.status_code == doc["private_sheet"]["status"]
    _conforms(doc["private_sheet"], private.json())
    sandbox_ctl.configure("sheets", fail_next=["429"])
    limited = httpx.get(f"{url}/team-lists/values/Sheet1!A1:C", headers=SH)
    assert limited.status_code == 429
    _conforms(doc["rate_limited"], limited.json())
