"""Team-wide filter lists: create, rename, delete, edit items, import from a CSV or a Google
Sheet range.

Items keep the text the team wrote (`value`, for display) beside its normalised form
(`normalized`, for matching); two values that normalise alike are one item. Inserts are batched
(`executemany` with ON CONFLICT DO NOTHING), a CSV is checked whole before anything is written
(a bad file changes nothing), and a sheet range is read through the provider layer (shared
per-user rate limit, metered) and cached in Redis so re-importing it does not call Google again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from services import audit
from services.core.cache import bump_data_version, cache_key, cached, data_version
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.csv_source import ImportRefused, csv_records
from services.filters.normalize import normalize
from services.providers.errors import ProviderError, RateLimited, RetriesExhausted
from services.providers.metering import CallContext

log = logging.getLogger(__name__)

CATEGORIES: dict[str, str] = {
    "target_companies": "Target companies",
    "excluded_companies": "Excluded companies",
    "schools": "Schools",
    "titles_include": "Titles (include)",
    "titles_exclude": "Titles (exclude)",
    "locations": "Locations",
    "keywords": "Keywords",
}
MAX_NAME = 200
MAX_VALUE = 300
MAX_ITEMS = 20_000
MAX_CSV_BYTES = 2 * 1024 * 1024
SHEET_CACHE_S = 300
INSERT_BATCH = 1000
# First cells that mark a header row in an imported file rather than a value.
HEADER_WORDS = {"value", "values", "name", "company", "companies", "title", "titles", "school"}
HEADER_WORDS |= {"schools", "location", "locations", "keyword", "keywords", "item", "items"}


class ListError(UserError):
    """A list request that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class FilterList:
    id: int
    name: str
    category: str
    description: str
    source: str
    source_ref: str | None
    item_count: int
    updated_at: datetime

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)


@dataclass(frozen=True)
class FilterItem:
    id: int
    value: str
    normalized: str


@dataclass(frozen=True)
class AddReport:
    """What an edit or import did: new items, values already on the list, values skipped."""

    added: int
    duplicates: int
    skipped: int
    removed: int = 0

    def describe(self) -> str:
        parts = [f"{self.added:,} added", f"{self.duplicates:,} already on the list"]
        if self.skipped:
            parts.append(f"{self.skipped:,} empty or unusable skipped")
        if self.removed:
            parts.append(f"{self.removed:,} old items replaced")
        return ", ".join(parts)


LIST_SQL = (
    "SELECT l.id, l.name, l.category, l.description, l.source, l.source_ref,"
    " (SELECT count(*) FROM filter_items i WHERE i.list_id = l.id)::int AS item_count,"
    " l.updated_at FROM filter_lists l"
)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ListError("A list needs a name")
    if len(name) > MAX_NAME:
        raise ListError(f"List names are at most {MAX_NAME} characters")
    return name


def create_list(user_id: int, name: str, category: str, description: str = "") -> int:
    name = _check_name(name)
    if category not in CATEGORIES:
        raise ListError("Choose a category for the list")
    try:
        with unit_of_work() as conn:
            row = conn.execute(
                "INSERT INTO filter_lists (name, category, description, created_by)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                (name, category, (description or "").strip()[:2000], user_id),
            ).fetchone()
            assert row is not None
            audit.record(conn, user_id, "filter_list.create", "filter_list", row[0])
    except psycopg.errors.UniqueViolation:
        raise ListError(f"A list named {name!r} already exists") from None
    bump_data_version("filters")
    return int(row[0])


def rename_list(user_id: int, list_id: int, name: str, description: str) -> None:
    name = _check_name(name)
    try:
        with unit_of_work() as conn:
            cur = conn.execute(
                "UPDATE filter_lists SET name = %s, description = %s, updated_at = now()"
                " WHERE id = %s",
                (name, (description or "").strip()[:2000], list_id),
            )
            if cur.rowcount != 1:
                raise ListError("No such list")
            audit.record(conn, user_id, "filter_list.update", "filter_list", list_id)
    except psycopg.errors.UniqueViolation:
        raise ListError(f"A list named {name!r} already exists") from None
    bump_data_version("filters")


def delete_list(user_id: int, list_id: int) -> None:
    with unit_of_work() as conn:
        cur = conn.execute("DELETE FROM filter_lists WHERE id = %s", (list_id,))
        if cur.rowcount != 1:
            raise ListError("No such list")
        audit.record(conn, user_id, "filter_list.delete", "filter_list", list_id)
    bump_data_version("filters")


def list_lists() -> list[FilterList]:
    """All lists with their item counts (shared read, cached until a list changes)."""

    def compute() -> list[FilterList]:
        with unit_of_work() as conn, conn.cursor(row_factory=class_row(FilterList)) as cur:
            cur.execute(LIST_SQL + " ORDER BY l.category, lower(l.name)")
            return cur.fetchall()

    return cached(cache_key("filter_lists", data_version("filters")), compute, timeout=600)


def get_list(list_id: int) -> FilterList | None:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(FilterList)) as cur:
        cur.execute(LIST_SQL + " WHERE l.id = %s", (list_id,))
        return cur.fetchone()


def list_items(list_id: int, limit: int = 2000) -> list[FilterItem]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(FilterItem)) as cur:
        cur.execute(
            "SELECT id, value, normalized FROM filter_items WHERE list_id = %s"
            " ORDER BY lower(value), id LIMIT %s",
            (list_id, limit),
        )
        return cur.fetchall()


def _category(conn: psycopg.Connection, list_id: int) -> str:
    row = conn.execute(
        "SELECT category FROM filter_lists WHERE id = %s FOR UPDATE", (list_id,)
    ).fetchone()
    if row is None:
        raise ListError("No such list")
    return str(row[0])


def _prepared(category: str, values: Iterable[str]) -> tuple[list[tuple[str, str]], int]:
    """(value, normalised) pairs, de-duplicated by normalised form, and the count skipped."""
    out: dict[str, str] = {}
    skipped = 0
    for raw in values:
        value = " ".join(str(raw or "").split())
        norm = normalize(category, value) if value else ""
        if not norm or len(value) > MAX_VALUE:
            skipped += 1
            continue
        out.setdefault(norm, value)
    return [(v, n) for n, v in out.items()], skipped


def _insert(conn: psycopg.Connection, list_id: int, pairs: list[tuple[str, str]]) -> int:
    added = 0
    with conn.cursor() as cur:
        for start in range(0, len(pairs), INSERT_BATCH):
            batch = pairs[start : start + INSERT_BATCH]
            cur.execute(
                "INSERT INTO filter_items (list_id, value, normalized)"
                " SELECT %s, v, n FROM unnest(%s::text[], %s::text[]) AS t(v, n)"
                " ON CONFLICT (list_id, normalized) DO NOTHING",
                (list_id, [v for v, _ in batch], [n for _, n in batch]),
            )
            added += cur.rowcount
    return added


def _write_items(
    user_id: int,
    list_id: int,
    values: Iterable[str],
    *,
    replace: bool,
    source: str | None = None,
    source_ref: str | None = None,
) -> AddReport:
    with unit_of_work() as conn:
        category = _category(conn, list_id)
        pairs, skipped = _prepared(category, values)
        removed = 0
        if replace:
            removed = conn.execute(
                "DELETE FROM filter_items WHERE list_id = %s", (list_id,)
            ).rowcount
        existing = conn.execute(
            "SELECT count(*) FROM filter_items WHERE list_id = %s", (list_id,)
        ).fetchone()
        if int(existing[0] if existing else 0) + len(pairs) > MAX_ITEMS:
            raise ListError(f"A list holds at most {MAX_ITEMS:,} items")
        added = _insert(conn, list_id, pairs)
        conn.execute(
            "UPDATE filter_lists SET updated_at = now(), source = coalesce(%s, source),"
            " source_ref = coalesce(%s, source_ref) WHERE id = %s",
            (source, source_ref, list_id),
        )
        report = AddReport(added, len(pairs) - added, skipped, removed if replace else 0)
        audit.record(
            conn,
            user_id,
            "filter_list.items",
            "filter_list",
            list_id,
            {"added": added, "replace": replace, "source": source or "manual"},
        )
    bump_data_version("filters")
    return report


def add_items(user_id: int, list_id: int, values: Iterable[str]) -> AddReport:
    """Add values typed in the UI (one per line); existing ones are left as they are."""
    return _write_items(user_id, list_id, values, replace=False)


def remove_items(user_id: int, list_id: int, item_ids: list[int]) -> int:
    with unit_of_work() as conn:
        removed = conn.execute(
            "DELETE FROM filter_items WHERE list_id = %s AND id = ANY(%s::bigint[])",
            (list_id, item_ids),
        ).rowcount
        conn.execute("UPDATE filter_lists SET updated_at = now() WHERE id = %s", (list_id,))
        audit.record(
            conn, user_id, "filter_list.remove", "filter_list", list_id, {"removed": removed}
        )
    bump_data_version("filters")
    return removed


def parse_csv_values(content: bytes) -> list[str]:
    """The first column of a CSV (header row skipped when it looks like one). The whole file is
    refused (ImportRefused) when it is not UTF-8, not valid CSV, too big or has an oversized
    value, so a bad file never half-imports."""
    if len(content) > MAX_CSV_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    records = list(csv_records([content]))
    if records and records[0] and records[0][0].strip().lower() in HEADER_WORDS:
        records = records[1:]
    values: list[str] = []
    for line_no, record in enumerate(records, start=1):
        cell = record[0].strip() if record else ""
        if len(cell) > MAX_VALUE:
            raise ImportRefused(f"Line {line_no}: a value is longer than {MAX_VALUE} characters")
        if cell:
            values.append(cell)
    if not values:
        raise ImportRefused("The file has no values (expected one value per line)")
    if len(values) > MAX_ITEMS:
        raise ImportRefused(f"Too many values: at most {MAX_ITEMS:,} per list")
    return values


def import_csv(
    user_id: int, list_id: int, filename: str, content: bytes, *, replace: bool = False
) -> AddReport:
    try:
        values = parse_csv_values(content)
    except ImportRefused as exc:
        raise ListError(f"{filename} was not imported: {exc}") from None
    return _write_items(
        user_id, list_id, values, replace=replace, source="csv", source_ref=filename[:300]
    )


def read_sheet_values(user_id: int, spreadsheet_id: str, a1_range: str) -> list[str]:
    """A sheet range's first column through the provider layer, cached in Redis for a few
    minutes: re-importing (or a second list from the same range) does not spend the 60/min
    per-user Sheets quota again."""
    from services.providers.sheets import SheetsClient

    spreadsheet_id, a1_range = (spreadsheet_id or "").strip(), (a1_range or "").strip()
    if not spreadsheet_id or not a1_range:
        raise ListError("Enter the spreadsheet id and a range such as Lists!A:A")
    key = cache_key("sheet_list", spreadsheet_id, a1_range)

    def fetch() -> list[str]:
        client = SheetsClient()
        return client.read_list(
            CallContext(user_id=user_id), spreadsheet_id, a1_range, skip_header=False
        )

    try:
        return cached(key, fetch, timeout=SHEET_CACHE_S)
    except ProviderError as exc:
        last = exc.last_error if isinstance(exc, RetriesExhausted) else exc
        if isinstance(last, RateLimited) and last.local:
            raise ListError(
                "The Google Sheets read rate limit (per user per minute) is reached; "
                f"try again in {max(1, round(last.retry_after or 1))} s"
            ) from None
        raise ListError(f"The sheet could not be read: {exc.message}") from None


def import_sheet(
    user_id: int, list_id: int, spreadsheet_id: str, a1_range: str, *, replace: bool = False
) -> AddReport:
    values = read_sheet_values(user_id, spreadsheet_id, a1_range)
    if values and values[0].strip().lower() in HEADER_WORDS:
        values = values[1:]
    if not values:
        raise ListError("The range has no values")
    if len(values) > MAX_ITEMS:
        raise ListError(f"Too many values: at most {MAX_ITEMS:,} per list")
    ref = f"{spreadsheet_id.strip()}!{a1_range.strip()}"[:300]
    return _write_items(user_id, list_id, values, replace=replace, source="sheet", source_ref=ref)
