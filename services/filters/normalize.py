"""Normalisation of filter values and profile values, so that 'ACME, Inc.' matches 'Acme'.

One function per category family; the same function is applied to a list item when it is
saved (stored in `filter_items.normalized`) and to the profile value when a filter job compares
them, so both sides always agree. The original text is kept for display; only the normalised
form is compared. All functions are pure and deterministic (no locale, no I/O).
"""

from __future__ import annotations

import re
import unicodedata

# Legal-form suffixes removed from the end of a company name (after punctuation is gone), longest
# first so "gmbh co kg" wins over "kg". Written in normalised form (lower case, no dots).
COMPANY_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "inc",
            "incorporated",
            "llc",
            "l l c",
            "llp",
            "lp",
            "ltd",
            "limited",
            "plc",
            "corp",
            "corporation",
            "co",
            "company",
            "gmbh",
            "gmbh co kg",
            "co kg",
            "kg",
            "ag",
            "se",
            "sa",
            "s a",
            "sas",
            "sarl",
            "srl",
            "spa",
            "s p a",
            "bv",
            "b v",
            "nv",
            "n v",
            "oy",
            "ab",
            "as",
            "aps",
            "pty",
            "pty ltd",
            "pte",
            "pte ltd",
            "kk",
            "ug",
            "sl",
            "holding",
            "holdings",
            "group",
        },
        key=len,
        reverse=True,
    )
)
_NON_WORD = re.compile(r"[^0-9a-z+#]+")
_SPACES = re.compile(r"\s+")
_SUFFIX_RE = re.compile(r"(?:\s(?:" + "|".join(re.escape(s) for s in COMPANY_SUFFIXES) + r"))+$")
# Location words that carry no meaning for matching ("Berlin Area, Germany" ~ "Berlin, Germany").
_LOCATION_NOISE = re.compile(r"\b(greater|metropolitan|metro|area|region)\b")


def fold(text: str | None) -> str:
    """Lower case, accents removed (é -> e, ß -> ss), '&' -> 'and', every run of punctuation or
    whitespace -> one space, trimmed. The base of every other normaliser."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = ascii_only.replace("&", " and ")
    # '.' and "'" inside a word join it ("s.a." -> "sa", "o'neil" -> "oneil"), not split it.
    ascii_only = re.sub(r"(?<=\w)[.'\u2019](?=\w)", "", ascii_only)
    return _SPACES.sub(" ", _NON_WORD.sub(" ", ascii_only)).strip()


def company(text: str | None) -> str:
    """A company name without legal-form suffixes: 'ACME, Inc.' -> 'acme',
    'Siemens AG' -> 'siemens', 'Müller GmbH & Co. KG' -> 'muller'. A name that is only a suffix
    ('AG') stays as it is rather than becoming empty."""
    folded = fold(text).replace(" and co ", " co ")
    if folded.endswith(" and co"):
        folded = folded[: -len(" and co")] + " co"
    stripped = _SUFFIX_RE.sub("", " " + folded).strip()
    if folded.startswith("the ") and len(stripped) > 4:
        stripped = stripped[4:]
    return stripped or folded


def title(text: str | None) -> str:
    """A job title, folded ('Sr. Software-Engineer' -> 'sr software engineer')."""
    return fold(text)


def school(text: str | None) -> str:
    """A school name, folded, with a leading 'the' dropped."""
    folded = fold(text)
    return folded[4:] if folded.startswith("the ") and len(folded) > 4 else folded


def location(text: str | None) -> str:
    """A location, folded, without 'greater/metropolitan/area/region'."""
    return _SPACES.sub(" ", _LOCATION_NOISE.sub(" ", fold(text))).strip()


def keyword(text: str | None) -> str:
    """A keyword or phrase, folded ('C++' -> 'c++', 'Machine-Learning' -> 'machine learning')."""
    return fold(text)


NORMALIZERS = {
    "target_companies": company,
    "excluded_companies": company,
    "schools": school,
    "titles_include": title,
    "titles_exclude": title,
    "locations": location,
    "keywords": keyword,
}


def normalize(category: str, text: str | None) -> str:
    """The normalised form of a value of a list category (ValueError for an unknown category)."""
    try:
        return NORMALIZERS[category](text)
    except KeyError:
        raise ValueError(f"unknown filter category {category!r}") from None


def contains_phrase(haystack: str, needle: str) -> bool:
    """Whether a normalised phrase occurs in a normalised text on word boundaries
    ('data engineer' in 'senior data engineer ii', but 'java' not in 'javascript')."""
    if not needle:
        return False
    return f" {needle} " in f" {haystack} "
