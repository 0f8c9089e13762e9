"""LinkedIn profile URL normalisation shared by the enrichment clients."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_SLUG = re.compile(r"^[A-Za-z0-9\-_%.]{2,100}$")


def normalize_profile_url(url: str) -> str | None:
    """`https://www.linkedin.com/in/<slug>` for any spelling of a profile URL, else None.

    One malformed URL makes Crustdata reject the whole batch with 400, so URLs are checked
    before they are sent and a bad one fails alone.
    """
    raw = url.strip()
    if not raw:
        return None
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() != "in":
        return None
    slug = unquote(segments[1])
    if not _SLUG.match(slug):
        return None
    return f"https://www.linkedin.com/in/{slug.lower() if not slug.startswith('ACw') else slug}"
