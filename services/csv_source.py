"""Reading candidate CSVs safely: PhantomBuster Sales Navigator and LinkedIn search exports, or
any CSV with a LinkedIn URL column.

The file is read as a stream of byte chunks (never loaded whole), decoded in whatever encoding
Excel saved it (services.text_decoding), split on its delimiter (, ; or TAB, sniffed from the
header), and checked before anything is written: undecodable text, a missing URL column, a
malformed row or an oversized file refuses the whole file with a message that says what and
where. Line numbers count records with the header as line 1 (a spreadsheet's row numbers).
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from services.core.errors import UserError
from services.identity import ProfileKey, profile_key
from services.text_decoding import DecodedText, DecodeFailure

MAX_FIELD_CHARS = 20_000
MAX_COLUMNS = 300
MAX_ERRORS_SHOWN = 10
csv.field_size_limit(MAX_FIELD_CHARS)


class ImportRefused(UserError):
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
    # What the PhantomBuster exports add (LinkedIn Search / Sales Navigator Search Export).
    "connection_degree": ("connectiondegree",),
    "profile_image_url": ("profileimageurl", "profilepictureurl"),
    "industry": ("industry",),
    "school": ("school",),
    "school_degree": ("schooldegree",),
    "duration_in_role": ("durationinrole",),
    "duration_in_company": ("durationincompany",),
    "shared_connections": ("sharedconnectionscount", "sharedconnections"),
    "is_open_profile": ("isopenlink", "isopenprofile", "openprofile"),
    "is_premium": ("ispremium", "premium"),
}
_DURATION_PART = re.compile(r"(\d+)\s*(year|yr|month|mo)", re.IGNORECASE)
_COUNT = re.compile(r"\d[\d,.]*")
_YES, _NO = frozenset({"true", "yes", "1", "y"}), frozenset({"false", "no", "0", "n"})


def months_of(text: str | None) -> int | None:
    """'2 years 3 months in role' -> 27, 'less than a year in company' -> 0; else None."""
    if not text:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts:
        return 0 if "less than" in text.lower() else None
    return sum(int(n) * (12 if unit.lower().startswith("y") else 1) for n, unit in parts)


def count_of(text: str | None) -> int | None:
    """'3 shared connections' -> 3, '1,204' -> 1204; else None."""
    match = _COUNT.search(text or "")
    return int(re.sub(r"[,.]", "", match.group())) if match else None


def flag_of(text: str | None) -> bool | None:
    value = (text or "").strip().lower()
    return True if value in _YES else False if value in _NO else None


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
    extra: ExportFields = dataclasses.field(default_factory=lambda: ExportFields())


@dataclass(frozen=True)
class ExportFields:
    """What a PhantomBuster export row tells beyond identity and job (all optional)."""

    connection_degree: str | None = None
    profile_image_url: str | None = None
    industry: str | None = None
    school: str | None = None
    school_degree: str | None = None
    months_in_role: int | None = None
    months_in_company: int | None = None
    shared_connections: int | None = None
    is_open_profile: bool | None = None
    is_premium: bool | None = None


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


Record = tuple[int, list[str]]  # (line number, the header being line 1; the fields)
DELIMITERS = (",", ";", "\t")  # Excel writes ";" where "," is the decimal mark, TAB for "Text"


def _where(record_no: int, physical_line: int) -> str:
    """Line numbers are records (what a spreadsheet calls rows); a text editor's line is
    named too where a quoted field spanning lines makes the two differ."""
    if physical_line == record_no:
        return f"Line {record_no}"
    return f"Line {record_no} (line {physical_line} of the text)"


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; TAB outside quotes ("," wins
    ties and single-column files)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts
    return best if counts[best] else ","


def numbered_records(
    chunks: Iterable[bytes], delimiter: str | None = ",", detect: bool = True
) -> Iterator[Record]:
    """(line number, fields) of every CSV record, blank ones included so numbering holds.

    The bytes are decoded as they stream (services.text_decoding: the encoding is detected
    unless detect=False, which reads UTF-8 only); delimiter=None sniffs it from the first
    non-blank line. Decoding and CSV errors become ImportRefused naming the line.
    """
    text = DecodedText(chunks, detect=detect)
    lines = iter(text)
    head: list[str] = []
    try:
        for line in lines:
            head.append(line)
            if line.strip():
                break
    except DecodeFailure as exc:
        raise ImportRefused(f"{_where(exc.line, exc.line)}: {exc.message}") from exc
    if delimiter is None:
        delimiter = sniff_delimiter(head[-1]) if head else ","
    reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
    record_no = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except DecodeFailure as exc:
            raise ImportRefused(f"{_where(record_no + 1, exc.line)}: {exc.message}") from exc
        except csv.Error as exc:
            where = _where(record_no + 1, reader.line_num)
            raise ImportRefused(f"{where}: malformed CSV ({exc})") from exc
        record_no += 1
        if "\x00" in "".join(record):
            raise ImportRefused(f"Line {record_no}: contains NUL bytes (not a text CSV)")
        yield record_no, record


def csv_records(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """The fields of every record of a UTF-8 CSV (strict readers such as filter lists)."""
    for _line_no, record in numbered_records(chunks, detect=False):
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
        extra=_export_fields(record, f),
    )


def _export_fields(record: list[str], f: Mapping[str, int]) -> ExportFields:
    def cell(name: str) -> str | None:
        return _cell(record, f.get(name))

    return ExportFields(
        connection_degree=cell("connection_degree"),
        profile_image_url=cell("profile_image_url"),
        industry=cell("industry"),
        school=cell("school"),
        school_degree=cell("school_degree"),
        months_in_role=months_of(cell("duration_in_role")),
        months_in_company=months_of(cell("duration_in_company")),
        shared_connections=count_of(cell("shared_connections")),
        is_open_profile=flag_of(cell("is_open_profile")),
        is_premium=flag_of(cell("is_premium")),
    )


def _blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


@dataclass
class Table:
    """A checked table: where the header was, its column map, and its rows as they stream.

    `rows()` yields every record after the header (blank ones too, so a copy keeps numbering)
    and refuses the file (ImportRefused) at the first structural problem; `data_rows` counts
    the non-blank ones read so far.
    """

    leading: list[Record]  # blank records before the header, then the header
    columns: ColumnMap
    label: str
    max_rows: int
    _records: Iterator[Record]
    data_rows: int = 0

    def rows(self, blank: bool = True) -> Iterator[Record]:
        """The records after the header; blank ones too unless blank=False."""
        for number, record in self._records:
            if _blank(record):
                if blank:
                    yield number, record  # blank lines are harmless
                continue
            if len(record) > self.columns.width:
                raise ImportRefused(
                    f"{self.label} {number}: {len(record)} fields but the header has "
                    f"{self.columns.width} (a stray comma or an unquoted field?)"
                )
            self.data_rows += 1
            if self.data_rows > self.max_rows:
                raise ImportRefused(f"Too many rows: at most {self.max_rows:,} rows per import")
            yield number, record


def open_table(records: Iterable[Record], max_rows: int, label: str = "Line") -> Table:
    """The header (the first non-blank record) mapped to fields, and the rows after it."""
    stream = iter(records)
    leading: list[Record] = []
    for number, record in stream:
        leading.append((number, record))
        if not _blank(record):
            break
    else:
        raise ImportRefused("The file is empty: expected a header row and at least one data row")
    return Table(leading, map_columns(leading[-1][1]), label, max_rows, stream)


def candidates_from_table(table: Table) -> Iterator[CandidateRow]:
    for number, record in table.rows(blank=False):
        yield to_candidate(number, record, table.columns)


def read_candidates(
    chunks: Iterable[bytes], max_rows: int, delimiter: str | None = None
) -> Iterator[CandidateRow]:
    """Candidates from a CSV stream. Structural problems refuse the file (ImportRefused)."""
    yield from candidates_from_table(open_table(numbered_records(chunks, delimiter), max_rows))


def candidates_from_dicts(rows: Iterable[Mapping[str, object]]) -> Iterator[CandidateRow]:
    """Candidates from a provider's result rows (PhantomBuster result objects are row dicts)."""
    for row_no, row in enumerate(rows, start=1):
        names = list(row.keys())
        columns = map_columns(names)
        record = ["" if row.get(n) is None else str(row.get(n)) for n in names]
        yield to_candidate(row_no, record, columns)
