"""Who is this? Normalised LinkedIn identities for dedup.

A person reaches us under many spellings: http/https, www/country/mobile subdomains, trailing
slashes, query strings, URL-encoded or mixed-case slugs, sub-pages such as /details/experience,
Sales Navigator lead URLs (`/sales/lead/<member id>,NAME_SEARCH,...`), member-id profile URLs
(`/in/ACwAA...`) and slugs in decomposed Unicode (macOS copy-paste; normalised to NFC).
Every spelling is reduced to one canonical profile URL and/or one member id; the database's
unique keys on both decide what is "already known".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

CANONICAL_PREFIX = "https://www.linkedin.com/in/"
# LinkedIn member ids (the `vmid` of exports) are base64-like and case-sensitive.
MEMBER_ID = re.compile(r"^AC[a-zA-Z]{2}[A-Za-z0-9_-]{6,}$")
# Public slugs: letters (any script, once decoded), digits, hyphens, underscores, dots.
SLUG = re.compile(r"^[\w\-.%]{2,100}$", re.UNICODE)
PROFILE_SECTIONS = {"in"}
SALES_SECTIONS = {"lead", "people"}


@dataclass(frozen=True)
class ProfileKey:
    """The identity of one person: a canonical profile URL, a member id, or both."""

    url: str | None
    member_id: str | None

    @property
    def valid(self) -> bool:
        return self.url is not None or self.member_id is not None

    @property
    def storage_url(self) -> str | None:
        """The URL we store: the slug URL, else the member-id URL LinkedIn also resolves."""
        if self.url:
            return self.url
        return f"{CANONICAL_PREFIX}{self.member_id}" if self.member_id else None


def _host_is_linkedin(host: str) -> bool:
    return host == "linkedin.com" or host.endswith(".linkedin.com")


def _split(raw: str) -> tuple[str, list[str]] | None:
    text = raw.strip().strip("<>\"'").strip()
    if not text:
        return None
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not _host_is_linkedin(host):
        return None
    # NFC: a slug pasted from macOS arrives decomposed ("u" + combining diaeresis), which is
    # neither a word character for SLUG nor the same key as the composed "ü" of other exports.
    segments = [unicodedata.normalize("NFC", unquote(s)) for s in parts.path.split("/") if s]
    return host, segments


def _member_from_segments(segments: list[str]) -> str | None:
    if (
        len(segments) >= 3
        and segments[0].lower() == "sales"
        and segments[1].lower() in SALES_SECTIONS
    ):
        head = segments[2].split(",", 1)[0]
        return head if MEMBER_ID.match(head) else None
    if len(segments) >= 2 and segments[0].lower() in PROFILE_SECTIONS:
        return segments[1] if MEMBER_ID.match(segments[1]) else None
    return None


def _url_from_segments(segments: list[str]) -> str | None:
    if len(segments) < 2 or segments[0].lower() not in PROFILE_SECTIONS:
        return None
    slug = segments[1].strip()
    if MEMBER_ID.match(slug) or not SLUG.match(slug) or "%" in slug:
        return None
    return CANONICAL_PREFIX + slug.lower()


def _parse(value: str | None) -> tuple[str | None, str | None]:
    """(canonical URL, member id) of one value, parsing it once."""
    if not value:
        return None, None
    candidate = value.strip()
    if MEMBER_ID.match(candidate):
        return None, candidate
    split = _split(candidate)
    if split is None:
        return None, None
    _, segments = split
    return _url_from_segments(segments), _member_from_segments(segments)


def member_id_from(value: str | None) -> str | None:
    """A member id from a bare id or from a Sales Navigator / member-id URL, else None."""
    return _parse(value)[1]


def normalize_profile_url(value: str | None) -> str | None:
    """`https://www.linkedin.com/in/<slug>` (slug lowercased, decoded) for a public profile URL."""
    return _parse(value)[0]


def profile_key(*candidates: str | None, vmid: str | None = None) -> ProfileKey:
    """Combine everything an export row says about a person into one key.

    The first candidate that is a public profile URL gives the URL; the vmid, or the first
    candidate that carries a member id, gives the member id.
    """
    url: str | None = None
    member = _parse(vmid)[1] if vmid else None
    for candidate in candidates:
        if url is not None and member is not None:
            break
        found_url, found_member = _parse(candidate)
        url = url or found_url
        member = member or found_member
    return ProfileKey(url=url, member_id=member)
