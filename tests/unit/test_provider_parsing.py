"""Response parsing of the provider modules and the sandbox's deterministic data (pure)."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from sandbox import data
from services.providers.config import Prices
from services.providers.crustdata import credits_per_profile, parse_enrich_answer
from services.providers.errors import MalformedResponse
from services.providers.linkedin import normalize_profile_url
from services.providers.openai_client import TokenUsage, cost_of
from services.providers.phantombuster import ResultFile, parse_result_object, to_result_row

A, B, C = (f"https://www.linkedin.com/in/{s}" for s in ("ann", "bob", "cy"))


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("https://www.linkedin.com/in/Jane-Doe/", "https://www.linkedin.com/in/jane-doe"),
        ("linkedin.com/in/jane-doe?trk=x", "https://www.linkedin.com/in/jane-doe"),
        ("https://de.linkedin.com/in/jane-doe/details", "https://www.linkedin.com/in/jane-doe"),
        ("https://www.linkedin.com/in/ACwAAB12cd", "https://www.linkedin.com/in/ACwAAB12cd"),
        ("https://www.linkedin.com/company/acme", None),
        ("https://evil.com/in/jane", None),
        ("", None),
    ],
)
def test_normalize_profile_url(raw: str, norm: str | None) -> None:
    assert normalize_profile_url(raw) == norm


def test_crustdata_answer_maps_per_profile_outcomes() -> None:
    body = [
        {
            "matched_on": A,
            "matches": [
                {"confidence_score": 0.9, "person_data": {"basic_profile": {"name": "Ann"}}}
            ],
        },
        {"matched_on": B, "matches": []},
        {"linkedin_profile_url": C, "error": "Profile is private"},
    ]
    out = parse_enrich_answer("crustdata", [A, B, C, "https://www.linkedin.com/in/dan"], body)
    assert [o.status for o in out] == ["enriched", "not_found", "failed", "failed"]
    assert out[0].person and out[0].person.basic_profile.name == "Ann"
    assert "private" in (out[2].error or "")
    assert "no entry" in (out[3].error or "")


def test_crustdata_malformed_answers() -> None:
    with pytest.raises(MalformedResponse):
        parse_enrich_answer("crustdata", [A], {"not": "a list"})
    with pytest.raises(MalformedResponse):
        parse_enrich_answer("crustdata", [A], ["string entry"])
    bad_entry = parse_enrich_answer("crustdata", [A], [{"matched_on": A, "matches": "x"}])
    assert bad_entry[0].status == "failed"
    bad_person = [{"matched_on": A, "matches": [{"person_data": {"basic_profile": {"name": 5}}}]}]
    assert parse_enrich_answer("crustdata", [A], bad_person)[0].status == "failed"


def test_credits_per_profile() -> None:
    assert credits_per_profile(["basic_profile"]) == 1
    assert credits_per_profile(["contact.business_emails", "contact.phone_numbers"]) == 4
    every = ["contact.personal_emails", "contact.phone_numbers", "contact.business_emails"]
    assert credits_per_profile([*every, "contact.phone_numbers"]) == 7
    # The singular names are not Crustdata's: they price nothing.
    assert credits_per_profile(["contact.business_email", "contact.phone"]) == 1


def test_result_rows_both_exports() -> None:
    salesnav = {"profileUrl": A, "fullName": "Ann", "companyName": "Acme", "title": "CTO"}
    linkedin = {"profileUrl": B, "headline": "Dev at X", "company": "X", "jobTitle": "Dev"}
    assert to_result_row(salesnav) is not None and to_result_row(salesnav).company == "Acme"  # type: ignore[union-attr]
    row = to_result_row(linkedin)
    assert row is not None and (row.company, row.title, row.headline) == ("X", "Dev", "Dev at X")
    assert to_result_row({"fullName": "no url"}) is None
    rows = parse_result_object("phantombuster", json.dumps([salesnav, linkedin, "junk"]))
    assert len(rows) == 2
    with pytest.raises(MalformedResponse):
        parse_result_object("phantombuster", "{not json")
    # A large result names its files instead of holding the rows.
    big = {"jsonUrl": "https://phantombuster.s3.amazonaws.com/a/b/result.json", "csvURL": "c"}
    assert parse_result_object("phantombuster", json.dumps(big)) == ResultFile(big["jsonUrl"], "c")
    with pytest.raises(MalformedResponse):
        parse_result_object("phantombuster", json.dumps({"rows": 3}))


def test_openai_cost() -> None:
    prices = Prices(input_per_m=0.15, cached_input_per_m=0.075, output_per_m=0.60)
    assert cost_of(TokenUsage(1_000_000, 0), prices) == pytest.approx(0.15)
    assert cost_of(TokenUsage(1000, 500, cached_tokens=400), prices) == pytest.approx(
        (600 * 0.15 + 400 * 0.075 + 500 * 0.60) / 1e6
    )


def test_sandbox_person_is_deterministic_and_labelled() -> None:
    assert data.person_for("jane-doe") == data.person_for("jane-doe")
    assert data.person_for("jane-doe")["full_name"] == "Jane Doe"
    assert data.person_for("a1") != data.person_for("a2")
    p = data.person_for("x9")
    assert all(e["email"].endswith(".example") for e in p["emails"])
    assert "[sandbox]" in p["summary"]
    assert data.slug_of("https://www.linkedin.com/in/Jane-Doe/") == "jane-doe"
    assert data.search_rows("q", 3, "salesnav", "q") == data.search_rows("q", 3, "salesnav", "q")
    assert "companyName" in data.search_rows("q", 1, "salesnav", "q")[0]


class Score(BaseModel):
    score: int = Field(ge=0, le=10)
    reason: str
    tags: list[str]
    decided: bool


def test_sandbox_structured_answer_fits_the_model_and_tracks_overlap() -> None:
    schema = Score.model_json_schema()
    criteria = {"role": "system", "content": "python kubernetes kafka postgres"}
    good = data.structured_answer(
        schema, [criteria, {"role": "user", "content": "python kubernetes kafka"}]
    )
    bad = data.structured_answer(schema, [criteria, {"role": "user", "content": "baking bread"}])
    assert Score.model_validate(good).score > Score.model_validate(bad).score
    assert good == data.structured_answer(
        schema, [criteria, {"role": "user", "content": "python kubernetes kafka"}]
    )
