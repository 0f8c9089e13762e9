"""Each provider client over real HTTP against the sandbox, with real Redis and Postgres."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel, Field

from services.providers.crustdata import CrustdataClient
from services.providers.errors import AgentBusy, BadRequest, QuotaExhausted
from services.providers.openai_client import OpenAIClient
from services.providers.phantombuster import PhantomBusterClient
from services.providers.salesql import SalesqlClient
from services.providers.sheets import SheetsClient
from tests.integration.sandbox_fixture import (
    SandboxControl,
    make_context,
    usage_rows,
)

pytestmark = pytest.mark.integration


@pytest.fixture()
def env(fast_providers: SandboxControl, db, redis_conn):
    return fast_providers, db, make_context(db)


def test_crustdata_batches_of_25_with_per_profile_outcomes(env) -> None:
    ctl, db, ctx = env
    urls = [f"https://www.linkedin.com/in/person-{i}" for i in range(28)]
    urls += [
        "https://linkedin.com/in/some-error-case/",
        "https://www.linkedin.com/in/notfound-someone",
        "not a url",
        "https://www.linkedin.com/in/person-0?trk=x",  # duplicate of the first, other spelling
    ]
    outcomes = CrustdataClient().enrich_people(ctx, urls)

    assert [o.url for o in outcomes] == urls
    by_url = {o.url: o for o in outcomes}
    assert by_url["https://linkedin.com/in/some-error-case/"].status == "failed"
    assert "provider:" in (by_url["https://linkedin.com/in/some-error-case/"].error or "")
    assert by_url["https://www.linkedin.com/in/notfound-someone"].status == "not_found"
    assert by_url["not a url"].status == "failed"
    assert sum(o.status == "enriched" for o in outcomes) == 29  # 28 + the duplicate spelling
    first = outcomes[0]
    assert first.sandbox and first.person is not None
    assert first.person.basic_profile.name == outcomes[-1].person.basic_profile.name  # type: ignore[union-attr]
    assert first.person.current_company
    # 30 distinct valid URLs → 2 requests (25 + 5); the invalid one is never sent.
    assert ctl.requests("crustdata") == 2
    rows = usage_rows(db, "crustdata")
    assert [r["status"] for r in rows] == ["ok", "partial"]
    assert sum(float(r["units"]) for r in rows) == 28.0
    assert all(r["job_id"] == ctx.job_id and r["latency_ms"] is not None for r in rows)


def test_crustdata_credits_and_out_of_credit(env) -> None:
    ctl, _db, ctx = env
    client = CrustdataClient()
    assert client.credits(ctx) == 1_000_000
    ctl.configure("crustdata", credits=0)
    urls = [f"https://www.linkedin.com/in/p-{i}" for i in range(40)]
    outcomes = client.enrich_people(ctx, urls)
    assert all(o.status == "failed" and not o.retryable for o in outcomes)
    assert "QuotaExhausted" in (outcomes[0].error or "")
    # out of credit is account-wide: the second batch is not even sent
    assert ctl.requests("crustdata") == 2  # credits call + one enrich
    with pytest.raises(QuotaExhausted):
        client.enrich_batch(ctx, urls[:3])


def test_salesql_found_not_found_and_allowance(env) -> None:
    _ctl, db, ctx = env
    client = SalesqlClient()
    person = client.enrich_person(ctx, "linkedin.com/in/jane-doe")
    assert person is not None and person.sandbox
    assert person.full_name == "Jane Doe"
    assert person.emails and person.emails[0].email.endswith(".example")
    assert person.phones and "555 01" in person.phones[0].phone
    assert client.enrich_person(ctx, "https://www.linkedin.com/in/notfound-x") is None
    with pytest.raises(BadRequest):
        client.enrich_person(ctx, "https://example.com/in/x")
    allowance = client.allowance(ctx)
    assert allowance.credits is not None and allowance.credits > 0
    assert allowance.reset_date and allowance.reset_date.endswith("T00:00:00Z")
    statuses = [(r["operation"], r["status"], float(r["units"])) for r in usage_rows(db, "salesql")]
    assert statuses == [
        ("person_enrich", "ok", 1.0),
        ("person_enrich", "not_found", 0.0),
        ("allowance", "ok", 0.0),
    ]


class CandidateScore(BaseModel):
    score: int = Field(ge=0, le=10)
    reason: str
    strengths: list[str]


def test_openai_structured_output_usage_and_cost(env) -> None:
    _ctl, db, ctx = env
    client = OpenAIClient()
    criteria = {"role": "system", "content": "Senior Python engineer with Kubernetes and Kafka"}
    good = {"role": "user", "content": "Staff engineer: Python, Kubernetes, Kafka, Postgres"}
    poor = {"role": "user", "content": "Pastry chef with a love for croissants"}
    a = client.structured(ctx, messages=[criteria, good], response_model=CandidateScore)
    b = client.structured(ctx, messages=[criteria, good], response_model=CandidateScore)
    c = client.structured(ctx, messages=[criteria, poor], response_model=CandidateScore)
    assert a.parsed == b.parsed  # deterministic
    assert a.parsed.score > c.parsed.score
    assert a.parsed.reason.startswith("[sandbox]") and a.sandbox
    assert a.usage.prompt_tokens > 0 and a.usage.completion_tokens > 0
    expected = (a.usage.prompt_tokens * 0.15 + a.usage.completion_tokens * 0.60) / 1e6
    assert a.cost_usd == pytest.approx(expected)
    rows = usage_rows(db, "openai")
    assert len(rows) == 3 and float(rows[0]["cost_usd"]) == pytest.approx(expected, abs=1e-6)
    assert float(rows[0]["units"]) == a.usage.total_tokens


def test_openai_insufficient_quota_is_not_retried(env) -> None:
    ctl, _db, ctx = env
    ctl.configure("openai", fail_next=["quota", "quota"])
    with pytest.raises(QuotaExhausted):
        OpenAIClient().structured(
            ctx, messages=[{"role": "user", "content": "hi"}], response_model=CandidateScore
        )
    assert ctl.requests("openai") == 1


def test_sheets_values_get_and_filter_list(env, sandbox_url) -> None:
    _ctl, _db, ctx = env
    import httpx

    httpx.post(
        f"{sandbox_url}/_sandbox/sheets",
        json={
            "spreadsheet_id": "filters1",
            "values": [["company"], ["Acme"], [" Acme "], [""], ["Globex", "x"]],
        },
    ).raise_for_status()
    client = SheetsClient()
    vr = client.get_values(ctx, "filters1", "Blocklist!A1:B")
    assert vr.range == "Blocklist!A1:B" and vr.sandbox
    assert vr.values[0] == ["company"]
    assert client.read_list(ctx, "filters1", "Blocklist!A:A") == ["Acme", "Globex"]
    with_token = client.get_values(ctx, "generated", "A1:C3", oauth_token="ya29.user-token-123456")
    assert len(with_token.values) == 3
    with pytest.raises(BadRequest):
        client.get_values(ctx, "missing-sheet", "A1:B2")


def test_phantombuster_launch_poll_result_and_running(env) -> None:
    ctl, _db, ctx = env
    ctl.configure("phantombuster", container_seconds=0.6)
    client = PhantomBusterClient()
    search = "https://www.linkedin.com/sales/search/people?query=python%20berlin"
    container_id = client.launch(
        ctx, "agent-1", {"searches": search, "numberOfProfiles": 12, "sessionCookie": "x"}
    )
    first = client.fetch_container(ctx, container_id)
    assert first.id == container_id and first.status in ("starting", "running")
    assert [c.id for c in client.running_containers(ctx)] == [container_id]
    assert client.fetch_result_rows(ctx, container_id) is None
    with pytest.raises(AgentBusy):
        client.launch(ctx, "agent-1", {"searches": search}, max_instance_count=1)
    deadline = time.monotonic() + 5
    while not client.fetch_container(ctx, container_id).done and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.fetch_container(ctx, container_id).succeeded
    rows = client.fetch_result_rows(ctx, container_id)
    assert rows is not None and len(rows) == 12
    assert rows[0].company and rows[0].title and rows[0].profile_url.startswith("https://www.")
    again = client.launch(ctx, "agent-1", {"searches": search, "numberOfProfiles": 12})
    deadline = time.monotonic() + 5
    while not client.fetch_container(ctx, again).done and time.monotonic() < deadline:
        time.sleep(0.1)
    same = client.fetch_result_rows(ctx, again)
    assert same is not None and [r.profile_url for r in same] == [r.profile_url for r in rows]
    linkedin = client.launch(ctx, "agent-2", {"search": "python", "numberOfResultsPerLaunch": 3})
    assert linkedin != again
