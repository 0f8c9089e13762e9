"""Crustdata's synchronous endpoints: `POST /person/enrich` (up to 25 profile URLs, one entry per
URL with `matches`, an `error` or nothing found) and `GET /user/credits`.

A match costs min(7, 1 + contact-field surcharges) credits; slugs containing `error` (or picked
by `per_profile_error_ratio`) come back as per-profile errors inside the 200, `notfound` and
`unknown` slugs as empty matches. The batch endpoints are registered from here, sharing the guard.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, g, request

from sandbox import data, routes_crustdata_batch
from sandbox.replies import Gate, bad_key, json_response, key_from_request
from sandbox.state import Decision, ProviderSettings, SandboxState, ceil_s

# Contact fields that cost more than the base credit, per matched profile.
CONTACT_SURCHARGE = {
    "contact.business_emails": 1,
    "contact.personal_emails": 2,
    "contact.phone_numbers": 2,
}
_MATCH_TYPE = "professional_network_profile_url"


def register(app: Flask, state: SandboxState, gate: Gate) -> None:
    api = _CrustdataRoutes(state, gate)
    app.post("/crustdata/person/enrich")(api.crust_enrich)
    app.get("/crustdata/user/credits")(api.crust_credits)
    routes_crustdata_batch.register(app, state, api.guard)


def rate_headers() -> dict[str, str]:
    d: Decision = g.get("decision") or Decision()
    if not d.limit:
        return {}
    return {
        "x-ratelimit-limit": str(d.limit),
        "x-ratelimit-remaining": str(d.remaining),
        "x-ratelimit-reset": str(ceil_s(d.reset_s)),
    }


def _bad_request(message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": "Bad Request", "message": message}, 400, headers)


def _profile_fails(slug: str, s: ProviderSettings) -> bool:
    ratio_hit = s.per_profile_error_ratio > 0 and (
        int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        < s.per_profile_error_ratio
    )
    return "error" in slug or ratio_hit


def _failed_entry(url: str) -> dict[str, Any]:
    return {
        "matched_on": url,
        "match_type": _MATCH_TYPE,
        "matches": [],
        "error": {
            "code": "enrichment_failed",
            "message": "Profile could not be enriched (sandbox fault)",
        },
        "_sandbox": True,
    }


def _matched_entry(url: str, slug: str, fields: list[str] | None) -> dict[str, Any]:
    person = data.person_for(slug)
    return {
        "matched_on": url,
        "match_type": _MATCH_TYPE,
        "matches": [
            {
                "confidence_score": 0.97,
                "person_data": data.crustdata_person_data(person, fields),
            }
        ],
        "_sandbox": True,
    }


class _CrustdataRoutes:
    def __init__(self, state: SandboxState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    def guard(self) -> Response | None:
        if bad_key(key_from_request("authorization")):
            return json_response(
                {"error": "Unauthorized", "message": "Invalid or missing API key"}, 401
            )
        return self.gate("crustdata")

    def crust_enrich(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        if not request.headers.get("x-api-version"):
            return _bad_request("x-api-version header is required")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _bad_request("body must be a JSON object")
        urls, emails = body.get("professional_network_profile_urls"), body.get("business_emails")
        if urls and emails:
            return _bad_request("send either profile URLs or emails")
        if not isinstance(urls, list) or not 0 < len(urls) <= 25:
            return _bad_request("professional_network_profile_urls: 1..25 URLs")
        slugs = [data.slug_of(str(u)) for u in urls]
        if any(s is None for s in slugs):
            return _bad_request("invalid profile URL in batch", rate_headers())
        fields = body.get("fields") if isinstance(body.get("fields"), list) else None
        return self.enrich(urls, [s for s in slugs if s is not None], fields)

    def enrich(self, urls: list[Any], slugs: list[str], fields: list[str] | None) -> Response:
        """One entry per URL, charging each match as it is made (a spent balance stops there)."""
        extra = sum(CONTACT_SURCHARGE.get(f, 0) for f in fields or [])
        s = self.state.get("crustdata")
        out = []
        for url, slug in zip(urls, slugs, strict=True):
            if _profile_fails(slug, s):
                out.append(_failed_entry(url))
                continue
            if "notfound" in slug or "unknown" in slug:
                out.append(
                    {"matched_on": url, "match_type": _MATCH_TYPE, "matches": [], "_sandbox": True}
                )
                continue
            if not self.state.spend("crustdata", min(7, 1 + extra)):
                return json_response(
                    {
                        "error": "Insufficient credits",
                        "message": "Your account has run out of credits.",
                    },
                    402,
                )
            out.append(_matched_entry(url, slug, fields))
        return json_response(out, 200, rate_headers())

    def crust_credits(self) -> Response:
        if (denied := self.guard()) is not None:
            return denied
        credits = self.state.credits("crustdata")
        body = {"credits": 1_000_000 if credits is None else credits}
        return json_response(body, 200, rate_headers())
