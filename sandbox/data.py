"""Deterministic synthetic data: the same LinkedIn slug always yields the same person.

Everything is derived from a SHA-256 of the normalised input, never from a global random state,
so two sandbox processes (or two test runs) agree on every byte. This module is the one the
routes (and tests) read from: people come from `sandbox.data_people`, Crustdata's shapes from
`sandbox.data_crustdata`, OpenAI's structured answers from `sandbox.data_openai`; the
PhantomBuster export rows, SalesQL's person and sheet grids are built here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.data_crustdata import CONTACT_FIELDS, crustdata_batch_record, crustdata_person_data
from sandbox.data_openai import structured_answer
from sandbox.data_people import (
    CITIES,
    COMPANIES,
    DEGREES,
    FIRST,
    LAST,
    SANDBOX_NOTE,
    SCHOOLS,
    SKILLS,
    TITLES,
    company_domain,
    person_for,
    rng_for,
    search_slug,
    slug_of,
)

__all__ = [
    "CITIES",
    "COMPANIES",
    "CONTACT_FIELDS",
    "DEGREES",
    "FIRST",
    "LAST",
    "SANDBOX_NOTE",
    "SCHOOLS",
    "SKILLS",
    "TITLES",
    "crustdata_batch_record",
    "crustdata_person_data",
    "person_for",
    "rng_for",
    "salesql_person",
    "search_rows",
    "search_slug",
    "sheet_grid",
    "slug_of",
    "structured_answer",
]


def search_rows(search: str, count: int, kind: str, query_url: str) -> list[dict[str, Any]]:
    """Export rows for a search: Sales Navigator or LinkedIn search export columns."""
    rows = []
    for i in range(count):
        p = person_for(search_slug(search, i))
        row = _common_columns(p, query_url)
        row.update(_salesnav_columns(p, i) if kind == "salesnav" else _linkedin_columns(p))
        rows.append(row)
    return rows


def _common_columns(p: dict[str, Any], query_url: str) -> dict[str, Any]:
    return {
        "profileUrl": p["url"],
        "fullName": p["full_name"],
        "firstName": p["first_name"],
        "lastName": p["last_name"],
        "location": p["location_text"],
        "connectionDegree": "3rd",
        "profileImageUrl": "",
        "vmid": p["member_id"],
        "query": query_url,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "_sandbox": True,
    }


def _salesnav_columns(p: dict[str, Any], i: int) -> dict[str, Any]:
    """The Sales Navigator Search Export's own columns for the i-th result."""
    return {
        "companyName": p["company"],
        "title": p["title"],
        "companyUrl": f"https://www.linkedin.com/sales/company/{i + 1000}",
        "summary": p["summary"],
        "titleDescription": "",
        "industry": "Software Development",
        "companyLocation": p["location_text"],
        "durationInRole": f"{(i % 11) + 1} months in role",
        "durationInCompany": f"{(i % 5) + 1} years in company",
        "name": p["full_name"],
        "linkedInProfileUrl": f"https://www.linkedin.com/in/{p['member_id']}",
        "defaultProfileUrl": p["url"],
        "isPremium": False,
        "isOpenLink": False,
    }


def _linkedin_columns(p: dict[str, Any]) -> dict[str, Any]:
    """The LinkedIn Search Export's own columns."""
    return {
        "headline": p["headline"],
        "additionalInfo": "",
        "category": "People",
        "company": p["company"],
        "companyUrl": f"https://www.linkedin.com/company/{company_domain(p['company'])[:-8]}",
        "jobTitle": p["title"],
        "jobDateRange": f"{p['experience'][0]['start'][:4]} - Present",
        "school": p["education"][0]["school"],
        "schoolDegree": p["education"][0]["degree"],
    }


def salesql_person(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": hashlib.sha256(("salesql" + p["slug"]).encode()).hexdigest()[:32],
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "full_name": p["full_name"],
        "linkedin_url": p["url"],
        "headline": p["headline"],
        "industry": "Software Development",
        "image": "",
        "location": p["location"],
        "emails": p["emails"],
        "phones": p["phones"],
        "organization": {"name": p["company"], "website": p["company_domain"]},
        "_sandbox": True,
    }


def sheet_grid(spreadsheet_id: str, rows: int = 30) -> list[list[str]]:
    rng = rng_for("sheet", spreadsheet_id)
    grid = [["value", "category", "note"]]
    for i in range(rows):
        kind = rng.choice(["company", "title", "skill"])
        value = {"company": rng.choice(COMPANIES), "title": rng.choice(TITLES)[0]}.get(
            kind, rng.choice(SKILLS)
        )
        grid.append([value, kind, "[sandbox]" if i % 5 == 0 else ""])
    return grid
