"""Crustdata's `person_data` for a synthetic person, and one line of a batch results file.

Field families follow the current API: without `fields` only `basic_profile` and
`social_handles` come back; `contact.*` lists appear only when asked for (plural names, as
documented), and some lists are null as they are for real profiles.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.data_people import person_for

CONTACT_FIELDS = {
    "contact.business_emails": "business_emails",
    "contact.personal_emails": "personal_emails",
    "contact.phone_numbers": "phone_numbers",
}


def crustdata_person_data(p: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Crustdata `person_data` (current API); without `fields` only basic_profile and handles."""
    full = {
        "basic_profile": _basic_profile(p),
        "social_handles": {
            "professional_network_identifier": {"profile_url": p["url"]},
            "twitter_identifier": {"slug": None},
        },
        "professional_network": {"connections": 500, "followers": 120},
        "experience": {"employment_details": _employment(p)},
        "education": {
            "schools": [
                {
                    "school": e["school"],
                    "degree": e["degree"],
                    "field_of_study": e["field"],
                    "start_date": e["start"],
                    "end_date": e["end"],
                }
                for e in p["education"]
            ]
        },
        "skills": {"professional_network_skills": p["skills"]},
    }
    groups = {f.split(".")[0] for f in fields} if fields else {"basic_profile", "social_handles"}
    out = {k: v for k, v in full.items() if k in groups}
    contact = _crustdata_contact(p, fields or [])
    if contact:
        out["contact"] = contact
    return out


def _basic_profile(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": p["full_name"],
        "headline": p["headline"],
        "current_title": p["title"],
        "summary": p["summary"],
        # Documented as an object (`raw`, with city/state/country in some answers).
        "location": {
            "raw": f"{p['location']['city']}, {p['location']['state']}, {p['location']['country']}",
            "city": p["location"]["city"],
            "state": p["location"]["state"],
            "country": p["location"]["country"],
        },
        # Lists can be null: every seventh person has no languages on record.
        "languages": None if int(p["member_id"][-2:], 16) % 7 == 0 else ["English"],
    }


def _employment(p: dict[str, Any]) -> dict[str, Any]:
    current = [
        {
            "name": e["company"],
            "title": e["title"],
            "professional_network_id": None,
            "start_date": e["start"],
            "end_date": e["end"],
        }
        for e in p["experience"]
        if e["end"] is None
    ]
    past = [
        {"name": e["company"], "title": e["title"], "start_date": e["start"], "end_date": e["end"]}
        for e in p["experience"]
        if e["end"] is not None
    ]
    # A person without past roles has `past: null`, not an empty list.
    return {"current": current, "past": past or None}


def _crustdata_contact(p: dict[str, Any], fields: list[str]) -> dict[str, list[str]]:
    """Only the contact lists that were asked for (plural names, as documented)."""
    values = {
        "business_emails": [e["email"] for e in p["emails"] if e["type"] == "Work"],
        "personal_emails": [e["email"] for e in p["emails"] if e["type"] == "Direct"],
        "phone_numbers": [ph["phone"] for ph in p["phones"]],
    }
    asked = {CONTACT_FIELDS[f] for f in fields if f in CONTACT_FIELDS}
    if "contact" in fields:
        asked = set(CONTACT_FIELDS.values())
    return {name: values[name] for name in sorted(asked)}


def crustdata_batch_record(url: str, slug: str, fields: list[str] | None) -> dict[str, Any]:
    """One line of a Crustdata batch results file: the `{original_identifier, internal_id,
    data}` envelope, `data` in the shape of /person/enrich's `person_data`."""
    person = person_for(slug)
    internal_id = int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16)
    # Documented for batch: requested fields come in addition to the default families.
    asked = [*(fields or []), "basic_profile", "social_handles"]
    data = {**crustdata_person_data(person, asked), "crustdata_person_id": internal_id}
    return {"original_identifier": url, "internal_id": internal_id, "data": data}
