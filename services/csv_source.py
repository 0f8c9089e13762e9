"""Reading candidate CSVs safely: PhantomBuster Sales Navigator and LinkedIn search exports, or
any CSV with a LinkedIn URL column.

The file is read as a stream of byte chunks (never loaded whole), decoded as UTF-8, and checked
before anything is written: a wrong encoding, a missing URL column, a malformed row or an
oversized file refuses the whole file with a message that says what and where.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from services.identity import ProfileKey, profile_key

MAX_FIELD_CHARS = 20_000
MAX_COLUMNS = 300
MAX_ERRORS_SHOWN = 10
csv.field_size_limit(MAX_FIELD_CHARS)


class ImportRefused(ValueError):
    """The whole file is refused; the message says what is wrong and where."""


def _canon(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Columns that may carry the person's identity, most specific first.
URL_COLUMNS = (
    "profileurl",
    "linkedinprofileurl",
    "defaultprofileurl",
    "linkedinurl",
    "linkedin",
    "profilelink",
    "publicprofileurl",
    "url",
)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "vmid": ("vmid", "memberid"),
    "full_name": ("fullname", "name", "candidatename"),
    "first_name": ("firstname",),
    "last_name": ("lastname",),
    "headline": ("headline",),
    # Sales Navigator says companyName/title, LinkedIn search says company/jobTitle.
    "current_title": ("jobtitle", "title", "currenttitle", "position"),
    "current_company": ("companyname", "company", "currentcompany", "organization"),
    "location": ("location", "city"),
}


@dataclass(frozen=True)
class ColumnMap:
    """Where each field lives in this file's rows, and which export format it looks like."""

    url_columns: tuple[int, ...]
    fields: Mapping[str, int]
    format: str
    width: int


@dataclass(frozen=True)
class CandidateRow:
    """One person as an export describes them, before dedup."""

    row_no: int
    key: ProfileKey
    full_name: str
    first_name: str | None
    last_name: str | None
    headline: str | None
    current_title: str | None
    current_company: str | None
    location: str | None


def map_columns(header: list[str]) -> ColumnMap:
    """Map a header row to fields; refuses a file without any LinkedIn URL column."""
    if len(header) > MAX_COLUMNS:
        raise ImportRefused(f"Header has {len(header)} columns; at most {MAX_COLUMNS} are accepted")
    canon = [_canon(h) for h in header]
    url_columns = tuple(canon.index(c) for c in URL_COLUMNS if c in canon)
    if not url_columns:
        raise ImportRefused(
            "No LinkedIn URL column found in the header (expected one of: profileUrl, "
            "linkedInProfileUrl, linkedin_url, LinkedIn URL, url)"
        )
    fields = {}
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            if alias in canon:
                fields[field] = canon.index(alias)
                break
    if "companyname" in canon:
        fmt = "salesnav"
    elif "jobtitle" in canon or ("company" in canon and "headline" in canon):
        fmt = "linkedin"
    else:
        fmt = "simple"
    return ColumnMap(url_columns=url_columns, fields=fields, format=fmt, width=len(header))


class _ChunkReader(io.RawIOBase):
    """A read-only byte stream over an iterable of chunks (uploads are stored in chunks)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def csv_records(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """Decoded CSV records from byte chunks; decoding and CSV errors become ImportRefused."""
    text = io.TextIOWrapper(
        io.BufferedReader(_ChunkReader(chunks)), encoding="utf-8-sig", newline=""
    )
    reader = csv.reader(text, strict=True)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                f"The file is not UTF-8 text (near line {reader.line_num + 1}); export it as "
                "UTF-8 CSV and upload again"
            ) from exc
        except csv.Error as exc:
            raise ImportRefused(f"Line {reader.line_num}: malformed CSV ({exc})") from exc
        if "\x00" in "".join(record):
            raise ImportRefused(f"Line {reader.line_num}: contains NUL bytes (not a text CSV)")
        yield record


def _cell(record: list[str], index: int | None) -> str | None:
    if index is None or index >= len(record):
        return None
    value = record[index].strip()
    return value or None


def to_candidate(row_no: int, record: list[str], columns: ColumnMap) -> CandidateRow:
    urls = [_cell(record, i) for i in columns.url_columns]
    f = columns.fields
    first, last = _cell(record, f.get("first_name")), _cell(record, f.get("last_name"))
    full = _cell(record, f.get("full_name")) or " ".join(p for p in (first, last) if p)
    return CandidateRow(
        row_no=row_no,
        key=profile_key(*urls, vmid=_cell(record, f.get("vmid"))),
        full_name=full or "",
        first_name=first,
        last_name=last,
        headline=_cell(record, f.get("headline")),
        current_title=_cell(record, f.get("current_title")),
        current_company=_cell(record, f.get("current_company")),
        location=_cell(record, f.get("location")),
    )


def read_candidates(chunks: Iterable[bytes], max_rows: int) -> Iterator[CandidateRow]:
    """Candidates from a CSV stream. Structural problems refuse the file (ImportRefused)."""
    records = csv_records(chunks)
    header = next(records, None)
    if header is None or not any(h.strip() for h in header):
        raise ImportRefused("The file is empty: expected a header row and at least one data row")
    columns = map_columns(header)
    for line_no, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines are harmless
        if len(record) > columns.width:
            raise ImportRefused(
                f"Line {line_no}: {len(record)} fields but the header has {columns.width} "
                "(a stray comma or an unquoted field?)"
            )
        if line_no - 1 > max_rows:
            raise ImportRefused(f"Too many rows: at most {max_rows:,} rows per import")
        yield to_candidate(line_no, record, columns)


def sniff_format(chunks: Iterable[bytes]) -> str:
    records = csv_records(chunks)
    header = next(records, None)
    if header is None:
        raise ImportRefused("The file is empty: expected a header row and at least one data row")
    return map_columns(header).format


def candidates_from_dicts(rows: Iterable[Mapping[str, object]]) -> Iterator[CandidateRow]:
    """Candidates from a provider's result rows (PhantomBuster result objects are row dicts)."""
    for row_no, row in enumerate(rows, start=1):
        names = list(row.keys())
        columns = map_columns(names)
        record = ["" if row.get(n) is None else str(row.get(n)) for n in names]
        yield to_candidate(row_no, record, columns)
