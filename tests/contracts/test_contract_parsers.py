"""Our clients read every documented answer of every provider (tests/contracts/*.json), and map
every documented error to the typed error it stands for. No server: the documented bodies are fed
to the same parsing and classification code the clients run on a live answer."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion

from services.core.settings import load_settings
from services.enrichment import parse_person
from services.providers import http
from services.providers.config import SALESQL_PLANS, load_config, salesql_plan
from services.providers.crustdata import (
    BatchStatus,
    CrustdataClient,
    _refine,
    credits_per_profile,
    parse_batch_results,
    parse_enrich_answer,
)
from services.providers.errors import (
    MalformedResponse,
    NotRetryable,
    ProviderAuthError,
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
)
from services.providers.linkedin import normalize_profile_url
from services.providers.openai_client import _usage, map_sdk_error
from services.providers.phantombuster import (
    Agent,
    Container,
    ResultFile,
    RunningContainer,
    launch_payload,
    parse_result_object,
    search_input,
)
from services.providers.salesql import SalesqlAllowance, _parse_person, is_bare_429_exhaustion
from services.providers.sheets import ValueRange, _explain
from tests.contracts.shapes import contract

SETTINGS = load_settings({"SANDBOX_URL": "http://127.0.0.1:9", "SECRET_KEY": "k" * 40})


def _config(provider: Any) -> Any:
    return load_config(provider, SETTINGS, env={})


def _response(example: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        example.get("status", 200), json=example.get("body", {}), headers=example.get("headers")
    )


# ------------------------------------------------------------------ Crustdata

CRUST = contract("crustdata")


def test_crustdata_documented_person_enriches_with_object_location_null_lists_plural_contacts() -> (
    None
):
    url = CRUST["enrich_response"]["body"][0]["matched_on"]
    [outcome] = parse_enrich_answer("crustdata", [url], CRUST["enrich_response"]["body"])
    assert outcome.status == "enriched" and outcome.billed, outcome.error
    person = outcome.person
    assert person is not None
    assert person.location_text == "San Francisco, California, United States"
    assert person.basic_profile.languages == []
    assert person.experience.employment_details.past == []
    assert person.contact.business_emails == ["abhilash@crustdata.com"]
    parsed = parse_person(person, year=2030)
    assert (parsed.location, parsed.current_company) == (person.location_text, "Crustdata")
    assert parsed.years_experience == 8  # the documented start_date 2022-01-01, seen from 2030
    assert parse_person(person, year=2027).years_experience == 5
    assert parsed.schools == ["Indian Institute of Technology, Kanpur"]


def test_crustdata_no_match_is_not_found_and_not_billed() -> None:
    body = CRUST["enrich_no_match"]["body"]
    [outcome] = parse_enrich_answer("crustdata", [body[0]["matched_on"]], body)
    assert (outcome.status, outcome.billed) == ("not_found", False)


def test_crustdata_match_our_parser_refuses_is_still_billed() -> None:
    body = json.loads(json.dumps(CRUST["enrich_response"]["body"]))
    body[0]["matches"][0]["person_data"]["basic_profile"]["name"] = {"unexpected": "shape"}
    [outcome] = parse_enrich_answer("crustdata", [body[0]["matched_on"]], body)
    assert outcome.status == "failed" and outcome.billed
    assert "basic_profile.name" in (outcome.error or "")


def test_crustdata_prices_per_documented_field_name() -> None:
    prices = CRUST["pricing"]["credits"]
    for field in ("contact.business_emails", "contact.personal_emails", "contact.phone_numbers"):
        assert credits_per_profile([field]) == prices["basic"] + prices[field]
    every = ["contact.business_emails", "contact.personal_emails", "contact.phone_numbers"]
    assert credits_per_profile(every) == 1 + 1 + 2 + 2 <= prices["max"]


def test_crustdata_errors_map_to_their_types() -> None:
    cfg = _config("crustdata")
    limited = http.classify(cfg, _response(CRUST["rate_limited"]))
    assert isinstance(limited, RateLimited) and limited.retry_after == 12
    broke = CRUST["out_of_credits"]
    error = http.classify(cfg, _response(broke))
    assert error is not None
    assert isinstance(_refine(error, _response(broke)), QuotaExhausted)


def _jsonl_gz(*records: Any) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())


def test_crustdata_batch_record_parses_like_person_data_and_dropped_ids_are_not_found() -> None:
    record = CRUST["batch_result_record"]["body"]
    asked = normalize_profile_url(record["original_identifier"])
    dropped = "https://www.linkedin.com/in/no-such-person"
    assert asked is not None
    outcomes, records = parse_batch_results("crustdata", [asked, dropped], _jsonl_gz(record))
    assert records == 1  # only the delivered record is charged
    hit, miss = outcomes
    assert (hit.status, hit.billed, hit.url) == ("enriched", True, asked)
    assert hit.person is not None and hit.person.basic_profile.name == "David Hsu"
    assert (miss.status, miss.billed) == ("not_found", False)
    # The same bytes served with Content-Encoding: gzip arrive decoded: read them as well.
    plain = (json.dumps(record) + "\n").encode()
    assert parse_batch_results("crustdata", [asked], plain)[0][0].status == "enriched"


def test_crustdata_batch_record_our_parser_refuses_is_billed_and_a_torn_file_is_refused() -> None:
    record = json.loads(json.dumps(CRUST["batch_result_record"]["body"]))
    record["data"]["basic_profile"]["name"] = {"unexpected": "shape"}
    url = normalize_profile_url(record["original_identifier"])
    assert url is not None
    [outcome], records = parse_batch_results("crustdata", [url], _jsonl_gz(record))
    assert outcome.status == "failed" and outcome.billed and records == 1
    with pytest.raises(MalformedResponse):
        parse_batch_results("crustdata", [url], gzip.compress(b'{"original_identifier": "x"\n'))


def test_crustdata_batch_status_documented_states() -> None:
    done = BatchStatus.model_validate(CRUST["batch_status_completed"]["body"])
    assert done.status == "completed" and done.download_url and len(done.download_urls) == 1
    failed = BatchStatus.model_validate(CRUST["batch_status_failed"]["body"])
    assert (failed.status, failed.download_url) == ("failed", None) and failed.error_message
    empty = BatchStatus.model_validate(CRUST["batch_status_empty"]["body"])
    assert empty.result_count == 0  # the job must not download a file that was never written
    with pytest.raises(ValueError):
        BatchStatus.model_validate({**CRUST["batch_status_completed"]["body"], "status": "done"})


def test_crustdata_batch_results_only_from_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    client = CrustdataClient(_config("crustdata"))
    documented = CRUST["batch_status_completed"]["body"]["download_url"]
    assert client._trusted_result_url(documented)
    assert not client._trusted_result_url("https://evil.example/results.jsonl.gz")
    assert not client._trusted_result_url(documented.replace("https://", "http://"))
    monkeypatch.setenv("CRUSTDATA_RESULT_HOSTS", "files.example")
    assert client._trusted_result_url("https://files.example/r.jsonl.gz")
    assert not client._trusted_result_url(documented)


# ------------------------------------------------------------------ PhantomBuster

PB = contract("phantombuster")


def test_phantombuster_launch_sends_only_documented_keys_and_keeps_the_saved_login() -> None:
    payload = launch_payload("1234567890", {"linkedInSearchUrl": "https://x", "csvName": "r"})
    assert set(payload) <= set(PB["launch_request"]["allowed_keys"])
    # bonusArgument merges into the saved argument (which holds the login); argument would not.
    assert "argument" not in payload and payload["bonusArgument"]["csvName"] == "r"
    assert payload["saveArgument"] is False


def test_phantombuster_identity_from_settings_is_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHANTOMBUSTER_IDENTITY_ID", "id-42")
    bonus = launch_payload("1", {"linkedInSearchUrl": "https://x"})["bonusArgument"]
    assert bonus["identities"] == [{"identityId": "id-42"}]
    assert set(bonus) & set(PB["launch_request"]["login_keys"])


def test_phantombuster_manifest_names_the_search_input() -> None:
    agent = Agent.model_validate(PB["agent_fetch_response"]["body"])
    keys = search_input(agent.manifest, "linkedin")
    assert (keys.url_key, keys.count_key) == ("linkedInSearchUrl", "numberOfResultsPerSearch")
    assert json.loads(agent.argument or "{}")["sessionCookie"]
    fallback = search_input(None, "salesnav")
    assert (fallback.url_key, fallback.count_key) == ("searches", "numberOfProfiles")


def test_phantombuster_containers_parse() -> None:
    running = Container.model_validate(PB["container_running"]["body"])
    assert not running.done
    finished = Container.model_validate(PB["container_finished"]["body"])
    assert finished.done and finished.succeeded
    assert finished.endedAt and finished.launchedAt
    assert (finished.endedAt - finished.launchedAt) / 1000 == 120
    [one] = PB["running_containers"]["body"]["containers"]
    assert RunningContainer.model_validate(one).agentId == "1234567890"


def test_phantombuster_rows_of_both_exports_and_a_large_result_file() -> None:
    rows = parse_result_object("phantombuster", json.dumps(PB["result_object_rows"]["rows"]))
    assert isinstance(rows, list) and rows[0].company == "Acme" and rows[0].title == "Data Engineer"
    nav = parse_result_object("phantombuster", json.dumps(PB["salesnav_rows"]["rows"]))
    assert isinstance(nav, list) and nav[0].profile_url.endswith("/in/jane-doe-1234")
    big = parse_result_object("phantombuster", json.dumps(PB["result_object_file"]["result"]))
    assert big == ResultFile(
        PB["result_object_file"]["result"]["jsonUrl"], PB["result_object_file"]["result"]["csvURL"]
    )


# ------------------------------------------------------------------ SalesQL

SQ = contract("salesql")


def test_salesql_person_and_empty_answer_parse() -> None:
    person = _parse_person("salesql", SQ["enrich_response"]["body"])
    assert [e.status for e in person.emails] == ["Valid", "Unverifiable"]
    assert person.phones[0].is_valid is True
    empty = _parse_person("salesql", SQ["enrich_empty"]["body"])
    assert (empty.emails, empty.phones) == ([], [])


def test_salesql_spent_day_is_a_bare_429_that_names_no_wait() -> None:
    example = SQ["daily_limit"]
    response = _response(example)
    assert not set(example["headers_absent"]) & set(response.headers)
    error = http.classify(_config("salesql"), response)
    assert isinstance(error, RateLimited) and error.retry_after is None
    assert is_bare_429_exhaustion(RetriesExhausted(error, 2))


def test_salesql_allowance_and_plans() -> None:
    allowance = SalesqlAllowance.model_validate(SQ["allowance_response"]["body"])
    assert (allowance.credits, allowance.reset_date) == (4870, "2026-12-03T00:00:00Z")
    for plan in ("professional", "organization", "starter"):
        assert list(SALESQL_PLANS[plan]) == SQ["plans"][plan]
        rules = {
            r.name: r.limit for r in load_config("salesql", SETTINGS, {"SALESQL_PLAN": plan}).rules
        }
        assert (rules["rpd"], rules["rpm"]) == tuple(SQ["plans"][plan])
    with pytest.raises(ValueError, match="SALESQL_PLAN"):
        salesql_plan({"SALESQL_PLAN": "gold"})


# ------------------------------------------------------------------ OpenAI

OA = contract("openai")


def _sdk_error(example: dict[str, Any]) -> openai.APIStatusError:
    request = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx2.Response(
        example["status"], json=example["body"], headers=example.get("headers"), request=request
    )
    kind = openai.RateLimitError if example["status"] == 429 else openai.InternalServerError
    return kind(example["body"]["error"]["message"], response=response, body=example["body"])


def test_openai_completion_usage_is_read() -> None:
    completion = ChatCompletion.model_validate(OA["chat_completion_response"]["body"])
    usage = _usage(completion)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (120, 20, 0)


def test_openai_waits_for_the_limit_that_was_hit_not_the_longest_reset() -> None:
    error = map_sdk_error("openai", _sdk_error(OA["rate_limited_requests"]))
    assert isinstance(error, RateLimited) and error.retry_after == 1.5  # not the tokens' 6m0s


def test_openai_quota_and_should_not_retry_are_permanent() -> None:
    assert isinstance(map_sdk_error("openai", _sdk_error(OA["insufficient_quota"])), QuotaExhausted)
    refused = map_sdk_error("openai", _sdk_error(OA["should_not_retry"]))
    assert isinstance(refused, NotRetryable) and not refused.retryable


# ------------------------------------------------------------------ Google Sheets

SH = contract("sheets")


def test_sheets_value_ranges_parse() -> None:
    values = ValueRange.model_validate(SH["values_response"]["body"])
    assert values.values[1:] == [["Acme"], ["Globex"]]
    assert ValueRange.model_validate(SH["empty_range"]["body"]).values == []


def test_sheets_private_sheet_says_share_it_not_key_wrong() -> None:
    response = _response(SH["private_sheet"])
    error = http.classify(_config("sheets"), response)
    assert error is not None
    explained = _explain(error, response, with_oauth=False)
    assert isinstance(explained, ProviderAuthError) and "share it" in explained.message
    assert "service account" in explained.message
    assert isinstance(http.classify(_config("sheets"), _response(SH["rate_limited"])), RateLimited)
