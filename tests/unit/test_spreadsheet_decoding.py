"""Decoding uploads as Excel writes them: encodings, line numbers, binaries, workbooks' cells."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest

from services.csv_source import ImportRefused, numbered_records, read_candidates, sniff_delimiter
from services.spreadsheet import cell_text, file_kind, xlsx_records
from services.text_decoding import DETECT_BYTES, DecodedText, DecodeFailure

ACCENTED = (
    "Jürgen Müller,Renée O\u2019Brien,François Lefèvre,Zoë Ørsted,Société Générale \u2013 5 €\n"
)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _decode(data: bytes, size: int = 7) -> tuple[str | None, str]:
    text = DecodedText(_chunks(data, size))
    joined = "".join(text)
    return text.encoding, joined


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ACCENTED.encode("utf-8"), "utf-8"),
        (ACCENTED.encode("utf-8-sig"), "utf-8"),
        (ACCENTED.encode("utf-16"), "utf-16-le"),  # Excel's "Unicode Text"
        (ACCENTED.encode("utf-16-be"), None),  # without a BOM: not detected (see file_kind)
        (ACCENTED.encode("cp1252"), "cp1252"),
    ],
)
def test_each_excel_encoding_decodes_exactly_whatever_the_chunking(
    data: bytes, encoding: str | None
) -> None:
    if encoding is None:
        with pytest.raises(DecodeFailure):
            _decode(data)
        return
    for size in (1, 2, 3, 5, 64, len(data)):
        found, text = _decode(data, size)
        assert (found, text) == (encoding, ACCENTED), size


def test_a_cp1252_file_whose_first_accent_is_far_beyond_the_detection_window() -> None:
    ascii_part = "https://www.linkedin.com/in/someone,Some One\n" * (3 * DETECT_BYTES // 40)
    data = (ascii_part + "https://www.linkedin.com/in/j,Jürgen Müller \u2013 Köln\n").encode(
        "cp1252"
    )
    assert len(ascii_part) > 2 * DETECT_BYTES
    encoding, text = _decode(data, 256 * 1024)
    assert encoding == "cp1252"
    assert text.endswith("Jürgen Müller \u2013 Köln\n")


def test_an_ascii_file_is_ascii() -> None:
    assert _decode(b"url\nhttps://www.linkedin.com/in/a\n") == (
        "ascii",
        "url\nhttps://www.linkedin.com/in/a\n",
    )


def test_a_bad_byte_is_refused_at_its_own_line_not_where_a_block_starts() -> None:
    data = ("é\n" + "x" * 50 + "\n").encode() * 1000 + b"bad \xff byte\n" + b"more\n" * 10
    with pytest.raises(DecodeFailure) as caught:
        _decode(data, 4096)
    assert caught.value.line == 2001
    assert "not valid UTF-8" in caught.value.message


def test_cp1252_bytes_that_are_undefined_or_utf8_inside_refuse_at_their_line() -> None:
    head = ("Müller\n" * 3000).encode("cp1252")
    with pytest.raises(DecodeFailure) as undefined:
        _decode(head + b"x\x81y\n", 1000)
    assert undefined.value.line == 3001 and "Windows-1252" in undefined.value.message
    for size in (1, 2, 1000):  # the pair may straddle a chunk boundary
        with pytest.raises(DecodeFailure) as mixed:
            _decode(head + b"ok\n" + "Ren\u00e9e\n".encode(), size)
        assert mixed.value.line == 3002, size
        assert "UTF-8 text inside a Windows-1252 file" in mixed.value.message


def test_text_in_another_code_page_is_refused_not_guessed() -> None:
    russian = "Иван Петров,Москва,Разработчик программного обеспечения\n".encode("cp1251")
    with pytest.raises(DecodeFailure, match="neither UTF-8 nor Windows-1252") as caught:
        _decode(b"profileUrl,name\n" + russian)
    assert caught.value.line == 2


def test_line_breaks_of_every_kind_are_kept_and_counted() -> None:
    for text in ("a\rb\r\nc\n\rd\r", "a\r\nb\r", "x"):
        for size in (1, 2, 3, 50):
            lines = list(DecodedText(_chunks(text.encode(), size)))
            assert "".join(lines) == text
    assert list(DecodedText([b"a\rb\r\nc\n"])) == ["a\r", "b\r\n", "c\n"]


def test_strict_mode_reads_utf8_only() -> None:
    with pytest.raises(DecodeFailure, match="not valid UTF-8"):
        "".join(DecodedText(["Zürich\n".encode("cp1252")], detect=False))


def test_delimiter_sniffing_on_the_header() -> None:
    assert sniff_delimiter("profileUrl;fullName;company\r\n") == ";"
    assert sniff_delimiter("profileUrl\tfullName\n") == "\t"
    assert sniff_delimiter('"a;b",c\n') == ","  # inside quotes does not count
    assert sniff_delimiter("url\n") == ","


def test_records_are_numbered_like_spreadsheet_rows() -> None:
    data = b'\nprofileUrl,note\nhttps://www.linkedin.com/in/a,"two\nlines"\n\nhttps://www.linkedin.com/in/b,x\n'
    assert list(numbered_records([data])) == [
        (1, []),
        (2, ["profileUrl", "note"]),
        (3, ["https://www.linkedin.com/in/a", "two\nlines"]),
        (4, []),
        (5, ["https://www.linkedin.com/in/b", "x"]),
    ]
    rows = list(read_candidates([data], 10))
    assert [r.row_no for r in rows] == [3, 5]
    bad = data + b"https://www.linkedin.com/in/c,\xff\n"
    with pytest.raises(ImportRefused, match=r"^Line 6 \(line 7 of the text\): "):
        list(numbered_records([bad], detect=False))


def test_a_semicolon_cp1252_export_maps_its_columns() -> None:
    data = "profileUrl;fullName;company\r\nhttps://www.linkedin.com/in/jürgen;Jürgen Müller;Bäcker AG\r\n"
    (row,) = read_candidates([data.encode("cp1252")], 10)
    assert (row.full_name, row.current_company) == ("Jürgen Müller", "Bäcker AG")
    assert row.key.url == "https://www.linkedin.com/in/jürgen"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, r"not a CSV or Excel file \(it is a PNG image\)"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "JPEG"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
        (bytes(range(256)) * 4, "binary data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"old Excel 97-2003 \(\.xls\)"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
            "password-protected",
        ),
        (b"PK\x03\x04garbage", "damaged"),
    ],
)
def test_files_that_are_not_csv_or_excel_are_named(content: bytes, message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        file_kind(content)


def test_zip_archives_that_are_not_workbooks_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ImportRefused, match="Word document"):
        file_kind(buffer.getvalue())


def test_text_is_text_even_with_a_stray_nul() -> None:
    assert file_kind(b"profileUrl,name\nhttps://www.linkedin.com/in/a,A\x00B\n" * 20) == "text"
    assert file_kind(ACCENTED.encode("utf-16")) == "text"


def test_cells_become_the_text_a_recruiter_sees() -> None:
    assert cell_text(1234) == "1234"
    assert cell_text(1234.0) == "1234"
    assert cell_text(12.5) == "12.5"
    assert cell_text(None) == ""
    assert cell_text(True) == "TRUE"
    assert cell_text(datetime(2024, 3, 1)) == "2024-03-01"
    assert cell_text(datetime(2024, 3, 1, 14, 30, 5)) == "2024-03-01 14:30:05"
    assert cell_text(date(2024, 3, 1)) == "2024-03-01"
    assert cell_text(time(9, 15)) == "09:15:00"
    assert cell_text("Zoë") == "Zoë"


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["nothing here"])
    people = book.create_sheet("People")
    people.append(["profileUrl", "fullName", "id", "since"])
    people.append(
        ["https://www.linkedin.com/in/jürgen", "Jürgen Müller", 1234, datetime(2024, 3, 1)]
    )
    people["A5"] = "https://www.linkedin.com/in/zoe"
    people["C5"] = 99.0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_chosen_sheet_streams_with_its_own_row_numbers() -> None:
    content = _workbook()
    assert file_kind(content) == "xlsx"
    rows = list(xlsx_records(content, "People"))
    assert rows == [
        (1, ["profileUrl", "fullName", "id", "since"]),
        (2, ["https://www.linkedin.com/in/jürgen", "Jürgen Müller", "1234", "2024-03-01"]),
        (3, []),
        (4, []),
        (5, ["https://www.linkedin.com/in/zoe", "", "99"]),
    ]
    assert list(xlsx_records(content)) == [(1, ["nothing here"])]  # the first sheet by default
    with pytest.raises(ImportRefused, match=r'no sheet "Missing" \(it has: Notes, People\)'):
        list(xlsx_records(content, "Missing"))
