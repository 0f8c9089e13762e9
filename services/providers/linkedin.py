"""LinkedIn profile URLs as the enrichment clients send them.

One malformed URL makes Crustdata reject the whole batch with 400, so URLs are checked before
they are sent and a bad one fails alone. The rules are services.identity's, the same ones dedup
uses, so "the profile we know" and "the profile we pay to enrich" can never disagree.
"""

from __future__ import annotations

from services.identity import profile_key


def normalize_profile_url(url: str) -> str | None:
    """`https://www.linkedin.com/in/<slug or member id>` for any spelling of a profile URL."""
    return profile_key(url).storage_url
