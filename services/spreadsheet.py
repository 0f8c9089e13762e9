"""What an upload really is, and the rows of an Excel workbook as text.

The content decides, not the file name: a PNG called people.csv is "not a CSV or Excel file", an
.xlsx saved with a .csv name still reads as a workbook. Old binary .xls files and
password-protected workbooks (both OLE2 containers) are refused with what to do instead.

Workbooks are read with openpyxl in read-only mode (the sheet is streamed, not loaded) and with
the cached values of formulas. Cells become the text a recruiter sees: 1234 not "1234.0", a date
as 2024-03-01. Sizes are checked before anything is unpacked, so a zip bomb is refused unread.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from openpyxl import load_workbook

from services.csv_source import MAX_COLUMNS, MAX_FIELD_CHARS, ImportRefused

SNIFF_BYTES = 8192
# Unpacked sizes an xlsx may claim: openpyxl holds the shared strings in memory even in
# read-only mode, and the whole sheet XML is parsed row by row.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
# A share of NUL or other control bytes that no text file has.
MAX_CONTROL_SHARE = 0.05

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Formats people upload by mistake, by their first bytes.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"{\\rtf", "an RTF document"),
)
TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1a")  # tab, line breaks, form feed, DOS end-of-file
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

Kind = Literal["text", "xlsx"]


def _not_ours(what: str) -> ImportRefused:
    return ImportRefused(
        f"This is not a CSV or Excel file (it is {what}); upload a .csv or .xlsx export"
    )


def _looks_binary(head: bytes) -> bool:
    if not head or head.startswith(UTF16_BOMS):
        return False
    controls = sum(1 for b in head if b < 0x20 and b not in TEXT_CONTROLS)
    return controls / len(head) > MAX_CONTROL_SHARE


def _is_encrypted_ole2(content: bytes) -> bool:
    """A password-protected xlsx is an OLE2 container holding EncryptionInfo/EncryptedPackage."""
    return "EncryptedPackage".encode("utf-16-le") in content


def file_kind(content: bytes) -> Kind:
    """ "text" (a CSV to decode) or "xlsx"; anything else is refused with what it is."""
    head = content[:SNIFF_BYTES]
    if head.startswith(OLE2_MAGIC):
        if _is_encrypted_ole2(content):
            raise ImportRefused(
                "This Excel file is password-protected; remove the password in Excel "
                "(File > Info > Protect Workbook) or save it as CSV UTF-8, then upload again"
            )
        raise ImportRefused(
            "This is an old Excel 97-2003 (.xls) file; open it in Excel and save it as .xlsx "
            "or CSV UTF-8, then upload again"
        )
    if head.startswith(ZIP_MAGIC):
        return _xlsx_or_refuse(content)
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            raise _not_ours(what)
    if _looks_binary(head):
        raise _not_ours("binary data")
    return "text"


def _xlsx_or_refuse(content: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportRefused(
            "This file is damaged: it starts like an Excel workbook but cannot be opened; "
            "save it again in Excel or export it as CSV UTF-8"
        ) from exc
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            raise _not_ours("a Word document")
        if "ppt/presentation.xml" in names:
            raise _not_ours("a PowerPoint presentation")
        raise _not_ours("a ZIP archive")
    unpacked = sum(e.file_size for e in entries)
    shared = sum(e.file_size for e in entries if e.filename.lower() == "xl/sharedstrings.xml")
    if len(entries) > MAX_ZIP_ENTRIES or unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(
            f"This workbook unpacks to {unpacked / 1e6:,.0f} MB; at most "
            f"{MAX_UNPACKED_BYTES / 1e6:,.0f} MB can be read: split it or export it as CSV"
        )
    if shared > MAX_SHARED_STRINGS_BYTES:
        raise ImportRefused(
            f"This workbook holds {shared / 1e6:,.0f} MB of text; at most "
            f"{MAX_SHARED_STRINGS_BYTES / 1e6:,.0f} MB can be read: split it or export it as CSV"
        )
    return "xlsx"


def cell_text(value: object) -> str:
    """The text a recruiter sees in the cell; "" for an empty one."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # an id or a count, never "1234.0"
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _damaged(exc: Exception) -> ImportRefused:
    return ImportRefused(
        f"This workbook is damaged and cannot be read ({type(exc).__name__}); save it again in "
        "Excel or export it as CSV UTF-8"
    )


def xlsx_records(content: bytes, sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) of every row of a worksheet: the first, or the one named.

    Row numbers are the sheet's own (row 1 is the first row), empty rows included as [] so
    that numbering never drifts; trailing empty cells are dropped.
    """
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML and zip errors alike
        raise _damaged(exc) from exc
    try:
        yield from _sheet_records(_worksheet(workbook, sheet))
    finally:
        workbook.close()


def _worksheet(workbook: Any, sheet: str | None) -> Any:
    if not workbook.worksheets:
        raise ImportRefused("This workbook has no worksheet to import")
    if not sheet:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        names = ", ".join(workbook.sheetnames)
        raise ImportRefused(f'This workbook has no sheet "{sheet}" (it has: {names})')
    return workbook[sheet]


def _sheet_records(worksheet: Any) -> Iterator[tuple[int, list[str]]]:
    # A sheet claiming 16,384 columns (formatting to the edge) is read no wider than the
    # limit plus one, so a real row that is too wide is still seen and refused.
    rows = worksheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
    row_no = 0
    while True:
        try:
            values = next(rows, None)
        except Exception as exc:  # damaged sheet XML
            raise _damaged(exc) from exc
        if values is None:
            return
        row_no += 1
        cells = [cell_text(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        for cell in cells:
            if len(cell) > MAX_FIELD_CHARS:
                raise ImportRefused(
                    f"Row {row_no}: a cell longer than {MAX_FIELD_CHARS:,} characters"
                )
        yield row_no, cells
