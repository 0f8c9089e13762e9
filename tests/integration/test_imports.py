"""CSV import with dedup: whole-or-nothing, refusals with reasons, concurrency without duplicates."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from services.csv_source import ImportRefused, read_candidates
from services.imports import import_candidates, import_upload, store_upload
from tests.factories import make_project

SALESNAV_HEADER = (
    "profileUrl,fullName,firstName,lastName,companyName,title,location,vmid,linkedInProfileUrl\n"
)
LINKEDIN_HEADER = "profileUrl,fullName,headline,location,company,jobTitle,vmid\n"


def _salesnav_row(i: int) -> str:
    mid = f"ACwAAA{i:010d}xyz"
    return (
        f'"https://www.linkedin.com/sales/lead/{mid},NAME_SEARCH,ab",Person {i},Person,{i},'
        f"Acme {i % 7},Engineer,Berlin,{mid},https://www.linkedin.com/in/{mid}\n"
    )


def _import(db: psycopg.Connection, project_id: int, text: str, name: str = "x.csv") -> Any:
    upload_id, _fmt, _rows = store_upload(project_id, name, text.encode(), None, 10_000_000)
    return import_upload(upload_id, None)


def test_linkedin_export_imports_and_maps_columns(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    csv_text = LINKEDIN_HEADER + (
        "https://www.linkedin.com/in/jane-doe/,Jane Doe,Data Engineer at Acme,Berlin,Acme,"
        "Data Engineer,ACwAAAjane0000001\n"
        "https://de.linkedin.com/in/max-m,Max M,CTO,Munich,Globex,CTO,\n"
    )
    report = _import(db, project, csv_text)
    assert (report.rows, report.new, report.linked, report.skipped_count) == (2, 2, 0, 0)
    row = db.execute(
        "SELECT full_name, current_company, current_title, headline, member_id FROM profiles"
        " WHERE linkedin_url = 'https://www.linkedin.com/in/jane-doe'"
    ).fetchone()
    assert row == (
        "Jane Doe",
        "Acme",
        "Data Engineer",
        "Data Engineer at Acme",
        "ACwAAAjane0000001",
    )
    assert db.execute("SELECT profile_count FROM projects").fetchone() == (2,)


def test_known_profiles_are_linked_not_inserted_again_across_formats(
    db: psycopg.Connection,
) -> None:
    first, second = make_project(db, name="A"), make_project(db, name="B")
    _import(db, first, LINKEDIN_HEADER + "https://www.linkedin.com/in/jane-doe,Jane,,,,,\n")
    again = _import(db, second, "LinkedIn URL,Name\nhttp://www.linkedin.com/in/Jane-Doe/?trk=x,J\n")
    assert (again.new, again.linked) == (0, 1)
    same_project = _import(db, second, "url\nhttps://uk.linkedin.com/in/jane-doe\n")
    assert (same_project.new, same_project.linked, same_project.already_in_project) == (0, 0, 1)
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM project_profiles").fetchone() == (2,)


def test_member_id_matches_a_profile_known_by_slug(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    mid = "ACwAAAjane0000001"
    _import(db, project, LINKEDIN_HEADER + f"https://www.linkedin.com/in/jane-doe,Jane,,,,,{mid}\n")
    salesnav = SALESNAV_HEADER + (
        f'"https://www.linkedin.com/sales/lead/{mid},NAME_SEARCH,x",Jane D,Jane,D,Acme,Eng,Berlin,'
        f"{mid},https://www.linkedin.com/in/{mid}\n"
    )
    report = _import(db, make_project(db, name="B"), salesnav)
    assert (report.new, report.linked) == (0, 1)
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (1,)


def test_bad_rows_are_skipped_with_reasons_and_duplicates_within_file(
    db: psycopg.Connection,
) -> None:
    project = make_project(db, name="Data Engineer")
    text = (
        "profileUrl,fullName\n"
        "https://www.linkedin.com/in/a-person,A\n"
        "https://www.linkedin.com/company/acme,Not a person\n"
        "https://www.linkedin.com/in/A-Person/,A again\n"
        ",Nobody\n"
    )
    report = _import(db, project, text)
    assert (report.rows, report.new, report.skipped_count) == (4, 1, 3)
    reasons = {s["row"]: s["reason"] for s in report.skipped}
    assert reasons[3] == "no LinkedIn profile URL or member id"
    assert reasons[4] == "duplicate of row 2 in the same file"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,title\nJane,CTO\n", "No LinkedIn URL column"),
        (b"", "empty"),
        (b"profileUrl,fullName\n", "no data rows"),
        (  # UTF-8 until a Latin-1 byte: refused at that byte's line, not guessed
            "profileUrl,name\nhttps://www.linkedin.com/in/j\u00fcrgen,J\u00fcrgen\n".encode()
            + b"https://www.linkedin.com/in/z,Zo\xeb\n",
            "Line 53: bytes that are not valid UTF-8",
        ),  # 50 good rows come first
        (
            "profileUrl,name\nhttps://www.linkedin.com/in/i,\u0418\u0432\u0430\u043d\n".encode(
                "cp1251"
            ),
            "Line 52: the text is neither UTF-8 nor Windows-1252",
        ),
        (
            b"profileUrl,name\nhttps://www.linkedin.com/in/a-b,A,extra,fields\n",
            "Line 52: 4 fields",
        ),  # 50 good rows come first
        (b'profileUrl,name\n"https://www.linkedin.com/in/a-b,A\n', "malformed CSV"),
        (b"profileUrl,name\nhttps://www.linkedin.com/in/a-b,A\x00B\n", "NUL"),
    ],
)
def test_malformed_files_are_refused_whole_and_write_nothing(
    db: psycopg.Connection, content: bytes, message: str
) -> None:
    project = make_project(db, name="Data Engineer")
    good_rows = b"".join(f"https://www.linkedin.com/in/ok-{i},OK\n".encode() for i in range(50))
    with pytest.raises(ImportRefused, match=message):
        has_rows = content.startswith(b"profileUrl") and content.count(b"\n") > 1
        body = content.replace(b"\n", b"\n" + good_rows, 1) if has_rows else content
        store_upload(project, "bad.csv", body, None, 10_000_000)
    for table in ("profiles", "project_profiles", "uploads", "imports"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_too_large_and_wrong_type_are_refused(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    with pytest.raises(ImportRefused, match="limit is"):
        store_upload(project, "big.csv", b"profileUrl\n" + b"x" * 2000, None, 1000)
    with pytest.raises(ImportRefused, match=r"only CSV \(\.csv, \.txt\) and Excel \(\.xlsx\)"):
        store_upload(project, "people.pdf", b"%PDF-1.4", None, 10_000)
    with pytest.raises(ImportRefused, match="damaged"):
        store_upload(project, "people.xlsx", b"PK\x03\x04", None, 10_000)


def test_a_failure_mid_import_leaves_nothing_half_imported(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    text = "profileUrl\n" + "".join(f"https://www.linkedin.com/in/p-{i}\n" for i in range(3000))
    text += "https://www.linkedin.com/in/late,unexpected,fields\n"
    chunks = [text.encode()]
    with pytest.raises(ImportRefused), psycopg.connect(db.info.dsn) as conn:
        import_candidates(conn, project, read_candidates(chunks, 10_000), None, "import")
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (0,)


def test_concurrent_overlapping_imports_create_no_duplicates(db: psycopg.Connection) -> None:
    projects = [make_project(db, name="A"), make_project(db, name="B")]
    rows = [_salesnav_row(i) for i in range(3000)]
    files = [SALESNAV_HEADER + "".join(rows[:2000]), SALESNAV_HEADER + "".join(rows[1000:])]
    reports: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def run(k: int) -> None:
        barrier.wait()
        with psycopg.connect(db.info.dsn) as conn:
            reports[k] = import_candidates(
                conn, projects[k], read_candidates([files[k].encode()], 10_000), None, "import"
            )

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.execute("SELECT count(*), count(DISTINCT member_id) FROM profiles").fetchone() == (
        3000,
        3000,
    )
    assert reports[0].new + reports[1].new == 3000
    assert reports[0].new + reports[0].linked == 2000 and reports[1].new + reports[1].linked == 2000
    assert db.execute("SELECT count(*) FROM project_profiles").fetchone() == (4000,)


# --- real exports: encodings, workbooks, binaries ------------------------------------------

PEOPLE = [
    ("https://www.linkedin.com/in/jürgen-müller", "Jürgen Müller", "Bäcker & Söhne \u2013 Köln"),
    ("https://www.linkedin.com/in/renee-obrien", "Renée O\u2019Brien", "Société Générale"),
    ("https://www.linkedin.com/in/zoe-orsted", "Zoë Ørsted", "Ørsted A/S €"),
]


def _export(delimiter: str = ",") -> str:
    header = delimiter.join(("profileUrl", "fullName", "companyName"))
    return "\r\n".join([header, *(delimiter.join(p) for p in PEOPLE)]) + "\r\n"


def _stored_people(db: psycopg.Connection) -> list[tuple[str, str, str]]:
    return [
        tuple(r)
        for r in db.execute(
            "SELECT linkedin_url, full_name, current_company FROM profiles ORDER BY id"
        ).fetchall()
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("excel-windows.csv", _export().encode("cp1252")),
        ("excel-german.csv", _export(";").encode("cp1252")),  # ; where , is the decimal mark
        ("excel-utf8.csv", _export().encode("utf-8-sig")),
        ("excel-unicode.txt", _export("\t").encode("utf-16")),  # Excel's "Unicode Text"
        ("plain-utf8.csv", _export().encode("utf-8")),
    ],
)
def test_excel_csv_exports_import_with_accents_intact(
    db: psycopg.Connection, name: str, content: bytes
) -> None:
    project = make_project(db, name="Data Engineer")
    upload_id, fmt, rows = store_upload(project, name, content, None, 10_000_000)
    assert (fmt, rows) == ("salesnav", 3)
    report = import_upload(upload_id, None)
    assert (report.rows, report.new) == (3, 3)
    assert _stored_people(db) == PEOPLE


def test_a_cp1252_file_whose_first_accent_comes_late_is_not_misread(
    db: psycopg.Connection,
) -> None:
    project = make_project(db, name="Data Engineer")
    ascii_rows = "".join(
        f"https://www.linkedin.com/in/p-{i},Person {i},Acme\r\n" for i in range(4000)
    )
    late = "https://www.linkedin.com/in/francois,François Lefèvre,Crème Brûlée SARL\r\n"
    content = ("profileUrl,fullName,companyName\r\n" + ascii_rows + late).encode("cp1252")
    assert content.index(b"\xe7") > 128 * 1024  # far past the first chunks and any prefix
    upload_id, _fmt, rows = store_upload(project, "late.csv", content, None, 10_000_000)
    assert rows == 4001
    import_upload(upload_id, None)
    row = db.execute(
        "SELECT full_name, current_company FROM profiles"
        " WHERE linkedin_url = 'https://www.linkedin.com/in/francois'"
    ).fetchone()
    assert row == ("François Lefèvre", "Crème Brûlée SARL")


def test_a_bad_byte_late_in_a_big_file_names_its_real_line(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    rows = "".join(f"https://www.linkedin.com/in/p-{i},Pérson {i}\n" for i in range(2000))
    content = ("profileUrl,fullName\n" + rows).encode() + b"https://www.linkedin.com/in/x,\xff\n"
    with pytest.raises(ImportRefused, match=r"^Line 2,?002: bytes that are not valid UTF-8"):
        store_upload(project, "big.csv", content, None, 10_000_000)
    mixed = ("profileUrl,fullName\n" + rows).encode("cp1252") + "Zoë\n".encode()
    with pytest.raises(ImportRefused, match=r"^Line 2002: UTF-8 text inside a Windows-1252"):
        store_upload(project, "mixed.csv", mixed, None, 10_000_000)
    for table in ("profiles", "uploads", "upload_chunks", "imports"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def _workbook(tmp_path: Any, rows: list[list[Any]], sheet: str = "Export") -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Read me"
    cover.append(["This sheet has no people"])
    people = book.create_sheet(sheet)
    for row in rows:
        people.append(row)
    path = tmp_path / "people.xlsx"
    book.save(path)
    return bytes(path.read_bytes())


def test_an_xlsx_sheet_imports_with_the_same_mapping_and_sensible_cells(
    db: psycopg.Connection, tmp_path: Any
) -> None:
    from datetime import datetime

    project = make_project(db, name="Data Engineer")
    content = _workbook(
        tmp_path,
        [
            ["profileUrl", "fullName", "companyName", "title", "location", "vmid"],
            ["https://www.linkedin.com/in/jürgen", "Jürgen Müller", 1234, 56.0, None, None],
            [None, None, None, None, None, None],
            ["https://www.linkedin.com/in/zoe", "Zoë", "Ørsted", "CTO", datetime(2024, 3, 1), None],
            ["https://www.linkedin.com/company/acme", "Not a person", None, None, None, None],
            ["https://www.linkedin.com/in/jürgen/", "Jürgen again", None, None, None, None],
        ],
    )
    with pytest.raises(ImportRefused, match="No LinkedIn URL column"):
        store_upload(project, "people.xlsx", content, None, 10_000_000)  # the first sheet
    upload_id, fmt, rows = store_upload(project, "people.xlsx", content, None, 10_000_000, "Export")
    assert (fmt, rows) == ("salesnav", 4)
    report = import_upload(upload_id, None)
    assert (report.rows, report.new, report.skipped_count) == (4, 2, 2)
    # Sheet row numbers, the empty row 3 counted: what the recruiter sees in Excel.
    assert {s["row"]: s["reason"] for s in report.skipped} == {
        5: "no LinkedIn profile URL or member id",
        6: "duplicate of row 2 in the same file",
    }
    people = db.execute(
        "SELECT full_name, current_company, current_title, location FROM profiles ORDER BY id"
    ).fetchall()
    assert people == [("Jürgen Müller", "1234", "56", None), ("Zoë", "Ørsted", "CTO", "2024-03-01")]


def test_workbooks_that_cannot_be_read_are_refused_with_what_to_do(
    db: psycopg.Connection, tmp_path: Any
) -> None:
    project = make_project(db, name="Data Engineer")
    too_wide = _workbook(tmp_path, [["profileUrl"], ["https://www.linkedin.com/in/a", "extra"]])
    with pytest.raises(ImportRefused, match="Row 2: 2 fields but the header has 1"):
        store_upload(project, "wide.xlsx", too_wide, None, 10_000_000, "Export")
    with pytest.raises(ImportRefused, match='no sheet "Nope"'):
        store_upload(project, "p.xlsx", too_wide, None, 10_000_000, "Nope")
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)
    with pytest.raises(ImportRefused, match=r"old Excel 97-2003 \(\.xls\)"):
        store_upload(project, "old.xls", ole2, None, 10_000_000)
    locked = ole2 + "EncryptedPackage".encode("utf-16-le") + bytes(64)
    with pytest.raises(ImportRefused, match="password-protected"):
        store_upload(project, "locked.xlsx", locked, None, 10_000_000)
    damaged = too_wide[: len(too_wide) // 2]
    with pytest.raises(ImportRefused, match="damaged"):
        store_upload(project, "cut.xlsx", damaged, None, 10_000_000)
    for table in ("uploads", "upload_chunks", "profiles"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_a_png_uploaded_as_csv_is_told_what_it_is(db: psycopg.Connection) -> None:
    project = make_project(db, name="Data Engineer")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(500)
    with pytest.raises(ImportRefused, match=r"not a CSV or Excel file \(it is a PNG image\)"):
        store_upload(project, "people.csv", png, None, 10_000_000)
    with pytest.raises(ImportRefused, match=r"not a CSV or Excel file \(it is binary data\)"):
        store_upload(project, "dump.csv", bytes(range(256)) * 8, None, 10_000_000)


def test_a_decomposed_unicode_slug_is_the_same_person(db: psycopg.Connection) -> None:
    import unicodedata

    first, second = make_project(db, name="A"), make_project(db, name="B")
    _import(db, first, "profileUrl,fullName\nhttps://www.linkedin.com/in/jürgen-café,Jürgen\n")
    nfd = unicodedata.normalize("NFD", "https://www.linkedin.com/in/jürgen-café")
    report = _import(db, second, f"profileUrl,fullName\n{nfd},Jürgen (mac)\n")
    assert (report.new, report.linked, report.skipped_count) == (0, 1, 0)
    assert db.execute("SELECT linkedin_url FROM profiles").fetchall() == [
        ("https://www.linkedin.com/in/jürgen-café",)
    ]


# --- outcomes that add up, and the rows not added ------------------------------------------


def _mixed_file(db: psycopg.Connection) -> tuple[int, int]:
    """A project where one file has each outcome; returns (project, import id)."""
    project, other = make_project(db, name="Target"), make_project(db, name="Other")
    _import(db, other, "profileUrl,fullName\nhttps://www.linkedin.com/in/known,Known\n")
    _import(db, project, "profileUrl,fullName\nhttps://www.linkedin.com/in/member,Member\n")
    text = (
        "profileUrl,fullName\n"
        "https://www.linkedin.com/in/fresh,Fresh\n"  # 2 new
        "https://www.linkedin.com/in/known,Known\n"  # 3 linked (known, new to the project)
        "https://www.linkedin.com/in/member,Member\n"  # 4 already in the project
        'https://www.linkedin.com/company/x,=HYPERLINK("http://evil")\n'  # 5 skipped
        "https://www.linkedin.com/in/Fresh/,Fresh again\n"  # 6 duplicate of row 2
        "https://www.linkedin.com/in/fresh-2,Fresh 2\n"  # 7 new
    )
    report = _import(db, project, text, "mixed.csv")
    assert (
        report.rows,
        report.new,
        report.linked,
        report.already_in_project,
        report.skipped_count,
        report.failed,
    ) == (6, 2, 1, 1, 2, 0)
    row = db.execute("SELECT max(id) FROM imports WHERE project_id = %s", (project,)).fetchone()
    assert row is not None
    return project, int(row[0])


def test_every_row_has_one_outcome_and_the_history_adds_up(db: psycopg.Connection) -> None:
    from services.imports import list_imports

    project, import_id = _mixed_file(db)
    latest = list_imports(project)[0]
    assert latest.id == import_id
    outcomes = (latest.new, latest.linked, latest.already_in_project, latest.skipped, latest.failed)
    assert outcomes == (2, 1, 1, 2, 0)
    assert sum(outcomes) == latest.rows == 6
    assert latest.detail_rows == 3  # skipped twice, already once


def test_rows_not_added_page_from_sql_and_download_formula_safe(db: psycopg.Connection) -> None:
    import csv
    import io

    from services.imports import export_import_rows, import_rows_page

    project, import_id = _mixed_file(db)
    first, total = import_rows_page(project, import_id, page=0, page_size=2)
    second, _ = import_rows_page(project, import_id, page=1, page_size=2)
    assert total == 3
    # Problems first, by row, then the rows already in the project.
    assert [(r.row, r.outcome, r.reason) for r in first + second] == [
        (5, "skipped", "no LinkedIn profile URL or member id"),
        (6, "skipped", "duplicate of row 2 in the same file"),
        (4, "already", "already in this project"),
    ]
    only_already, count = import_rows_page(project, import_id, outcome="already")
    assert count == 1 and [r.row for r in only_already] == [4]
    assert import_rows_page(make_project(db, name="Elsewhere"), import_id) == (
        [],
        0,
    )  # not its import
    with pytest.raises(ValueError, match="unknown outcome"):
        import_rows_page(project, import_id, outcome="new; DROP TABLE imports")
    rows = list(csv.reader(io.StringIO("".join(export_import_rows(project, import_id)))))
    assert rows[0] == ["row", "name", "outcome", "reason"]
    assert rows[1] == [
        "5",
        '\'=HYPERLINK("http://evil")',
        "skipped",
        "no LinkedIn profile URL or member id",
    ]
    assert [r[0] for r in rows[1:]] == ["5", "6", "4"]
    assert rows[3][2] == "already in project"


def test_the_reasons_download_needs_a_login_and_the_right_project(db: psycopg.Connection) -> None:
    from app import server
    from tests.helpers import create_user, login

    project, import_id = _mixed_file(db)
    create_user(db, "rita@example.com", "recruiter")
    client = server.test_client()
    url = f"/download/projects/{project}/imports/{import_id}/rows.csv"
    assert client.get(url).status_code == 401
    login(client, "rita@example.com")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("row,name,outcome,reason") and "'=HYPERLINK" in body
    other = make_project(db, name="Not this one")
    assert client.get(f"/download/projects/{other}/imports/{import_id}/rows.csv").status_code == 404
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'import.rows_export'"
    ).fetchone() == (1,)


def test_an_import_job_reports_skips_as_skipped_not_failed(db: psycopg.Connection) -> None:
    from callbacks.jobs import counts_text
    from services import jobs
    from services.core.db import unit_of_work
    from services.imports import run_import

    project = make_project(db, name="Data Engineer")
    people = [f"https://www.linkedin.com/in/p-{i}" for i in range(10)]
    text = "profileUrl\n" + "\n".join(people + people + people[:3]) + "\n"  # 23 rows, 10 people
    upload_id, _fmt, rows = store_upload(project, "repeats.csv", text.encode(), None, 10_000_000)
    assert rows == 23
    with unit_of_work() as conn:
        job_id = jobs.insert_job(conn, "import_csv", {"upload_id": upload_id, "rows": rows}, None)
    job = jobs.claim(job_id)
    assert job is not None
    run_import(job)
    jobs.finish(job_id, "done")
    finished = jobs.get_job(job_id)
    assert finished is not None
    assert (finished.total, finished.done, finished.failed, finished.skipped) == (23, 10, 0, 13)
    assert counts_text(finished) == "10 done · 13 skipped of 23"


def test_the_history_and_the_reasons_panel_through_the_callbacks(db: psycopg.Connection) -> None:
    import json

    from app import server
    from tests.helpers import create_user, dash_post, login, output_key

    project, import_id = _mixed_file(db)
    create_user(db, "rita@example.com", "recruiter")
    client = server.test_client()
    login(client, "rita@example.com")
    history = dash_post(
        client,
        output_key(client, "project-import-history.children"),
        {"id": "project-import-history", "property": "children"},
        [
            {"id": "project-id", "property": "data", "value": project},
            {"id": {"type": "job-progress", "scope": "project-import"}, "property": "label"},
        ],
    )
    assert history.status_code == 200, history.get_data(as_text=True)[:300]
    text = history.get_data(as_text=True)
    for heading in ("Already in project", "Skipped", "Failed", "Rows not added"):
        assert heading in text
    button = {"import": import_id, "type": "import-reasons"}
    compact = text.replace(" ", "")
    assert '"type":"import-reasons"' in compact and f'"import":{import_id}' in compact
    outputs = [
        ("project-import-reasons-store", "data"),
        ("project-import-reasons", "style"),
        ("project-import-reasons-title", "children"),
        ("project-import-reasons-table", "children"),
        ("project-import-reasons-page", "children"),
        ("project-import-reasons-prev", "disabled"),
        ("project-import-reasons-next", "disabled"),
        ("project-import-reasons-download", "href"),
    ]
    panel = dash_post(
        client,
        output_key(client, "project-import-reasons-store.data"),
        [{"id": i, "property": p} for i, p in outputs],
        [
            [{"id": button, "property": "n_clicks", "value": 1}],
            {"id": "project-import-reasons-outcome", "property": "value", "value": ""},
            {"id": "project-import-reasons-prev", "property": "n_clicks", "value": None},
            {"id": "project-import-reasons-next", "property": "n_clicks", "value": None},
        ],
        state=[
            {"id": "project-import-reasons-store", "property": "data", "value": None},
            {"id": "project-id", "property": "data", "value": project},
        ],
        changed=[json.dumps(button, separators=(",", ":")) + ".n_clicks"],
    )
    assert panel.status_code == 200, panel.get_data(as_text=True)[:300]
    response = panel.get_json()["response"]
    assert response["project-import-reasons-store"]["data"] == {
        "import_id": import_id,
        "page": 0,
        "outcome": None,
    }
    table = json.dumps(response["project-import-reasons-table"]["children"])
    assert "duplicate of row 2 in the same file" in table and "already in this project" in table
    assert response["project-import-reasons-title"]["children"].endswith("(3)")
    assert response["project-import-reasons-download"]["href"] == (
        f"/download/projects/{project}/imports/{import_id}/rows.csv"
    )


def test_kept_reasons_are_capped_problems_first_and_counts_stay_complete(
    db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import imports
    from services.imports import import_rows_page, list_imports

    monkeypatch.setattr(imports, "DETAIL_ROWS_KEPT", 3)
    project = make_project(db, name="Data Engineer")
    _import(db, project, "url\nhttps://www.linkedin.com/in/ann\nhttps://www.linkedin.com/in/bob\n")
    text = "url\n" + "".join(
        f"https://www.linkedin.com/{path}\n"
        for path in ("in/ann", "in/bob", "company/x", "company/y", "in/cy", "in/cy/", "in/dan")
    )
    report = _import(db, project, text)
    assert (report.new, report.already_in_project, report.skipped_count) == (2, 2, 3)
    latest = list_imports(project)[0]
    assert (latest.rows, latest.already_in_project, latest.skipped, latest.detail_rows) == (
        7,
        2,
        3,
        3,
    )
    rows, total = import_rows_page(project, latest.id)
    assert total == 3 and [(r.row, r.outcome) for r in rows] == [
        (4, "skipped"),
        (5, "skipped"),
        (7, "skipped"),
    ]
