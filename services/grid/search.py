"""Quick search: user text -> a safe tsquery over `profiles.search_vector` ('simple' config).

The text is split into word tokens in Python ([^\\W_]+, i.e. letters and digits, the pieces the
default parser also produces for ordinary words); no quote, operator or backslash can reach the
tsquery grammar, and the resulting string is still passed as a bind parameter to
`to_tsquery('simple', ...)`. All words must match; the last one matches as a prefix while the
user is still typing (no trailing space). The GIN index on search_vector serves it on Postgres 15
and 16 alike; no extension (pg_trgm) is needed.
"""

from __future__ import annotations

import re

from psycopg import sql

from services.grid.columns import ALIAS
from services.grid.errors import GridQueryError
from services.grid.params import Params

MAX_SEARCH_LENGTH = 200
MAX_WORDS = 8
MAX_WORD_LENGTH = 60
_WORD = re.compile(r"[^\W_]+")


def normalize_search(text: object) -> str:
    """Validated search text with surrounding whitespace collapsed (but a trailing space kept)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise GridQueryError("The search must be text.")
    if len(text) > MAX_SEARCH_LENGTH:
        raise GridQueryError(f"The search is longer than {MAX_SEARCH_LENGTH} characters.")
    collapsed = " ".join(text.split())
    # A trailing space means "this word is complete": keep it (it switches prefix matching off).
    return collapsed + " " if collapsed and text[-1:].isspace() else collapsed


def build_tsquery(text: str) -> str | None:
    """`'word1' & 'word2':*` for the words of text, or None when there is nothing to search."""
    words = [w.lower()[:MAX_WORD_LENGTH] for w in _WORD.findall(text)][:MAX_WORDS]
    if not words:
        return None
    terms = [f"'{w}'" for w in words]
    if not text[-1:].isspace():
        terms[-1] += ":*"
    return " & ".join(terms)


def search_condition(text: str, params: Params, alias: str = ALIAS) -> sql.Composable | None:
    """The full-text condition for a search box value, or None for an empty search."""
    tsquery = build_tsquery(text)
    if tsquery is None:
        return None
    return sql.SQL("{} @@ to_tsquery('simple', {})").format(
        sql.Identifier(alias, "search_vector"), params.add(tsquery)
    )
