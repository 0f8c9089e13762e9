"""CSV import with dedup: whole-or-nothing, refusals with reasons, concurrency without duplicates."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from services.csv_source import ImportRefused, read_candidates
from services.imports import import_candidates, import_upload, store_upload

SALESNAV_HEADER = (
    "profileUrl,fullName,firstName,lastName,companyName,title,location,vmid,linkedInProfileUrl\n"
)
LINKEDIN_HEADER = "profileUrl,fullName,headline,location,company,jobTitle,vmid\n"


def _project(db: psycopg.Connection, name: str = "Data Engineer") -> int:
    row = db.execute("INSERT INTO projects (name) VALUES (%s) RETURNING id", (name,)).fetchone()
    assert row is not None
    return int(row[0])


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
    project = _project(db)
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
    first, second = _project(db, "A"), _project(db, "B")
    _import(db, first, LINKEDIN_HEADER + "https://www.linkedin.com/in/jane-doe,Jane,,,,,\n")
    again = _import(db, second, "LinkedIn URL,Name\nhttp://www.linkedin.com/in/Jane-Doe/?trk=x,J\n")
    assert (again.new, again.linked) == (0, 1)
    same_project = _import(db, second, "url\nhttps://uk.linkedin.com/in/jane-doe\n")
    assert (same_project.new, same_project.linked, same_project.already_in_project) == (0, 0, 1)
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM project_profiles").fetchone() == (2,)


def test_member_id_matches_a_profile_known_by_slug(db: psycopg.Connection) -> None:
    project = _project(db)
    mid = "ACwAAAjane0000001"
    _import(db, project, LINKEDIN_HEADER + f"https://www.linkedin.com/in/jane-doe,Jane,,,,,{mid}\n")
    salesnav = SALESNAV_HEADER + (
        f'"https://www.linkedin.com/sales/lead/{mid},NAME_SEARCH,x",Jane D,Jane,D,Acme,Eng,Berlin,'
        f"{mid},https://www.linkedin.com/in/{mid}\n"
    )
    report = _import(db, _project(db, "B"), salesnav)
    assert (report.new, report.linked) == (0, 1)
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (1,)


def test_bad_rows_are_skipped_with_reasons_and_duplicates_within_file(
    db: psycopg.Connection,
) -> None:
    project = _project(db)
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
        (
            "profileUrl,name\nhttps://www.linkedin.com/in/j\u00fcrgen,J\u00fcrgen\n".encode(
                "latin-1"
            ),
            "not UTF-8",
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
    project = _project(db)
    good_rows = b"".join(f"https://www.linkedin.com/in/ok-{i},OK\n".encode() for i in range(50))
    with pytest.raises(ImportRefused, match=message):
        has_rows = content.startswith(b"profileUrl") and content.count(b"\n") > 1
        body = content.replace(b"\n", b"\n" + good_rows, 1) if has_rows else content
        store_upload(project, "bad.csv", body, None, 10_000_000)
    for table in ("profiles", "project_profiles", "uploads", "imports"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_too_large_and_wrong_type_are_refused(db: psycopg.Connection) -> None:
    project = _project(db)
    with pytest.raises(ImportRefused, match="limit is"):
        store_upload(project, "big.csv", b"profileUrl\n" + b"x" * 2000, None, 1000)
    with pytest.raises(ImportRefused, match=r"only \.csv"):
        store_upload(project, "people.xlsx", b"PK\x03\x04", None, 10_000)


def test_a_failure_mid_import_leaves_nothing_half_imported(db: psycopg.Connection) -> None:
    project = _project(db)
    text = "profileUrl\n" + "".join(f"https://www.linkedin.com/in/p-{i}\n" for i in range(3000))
    text += "https://www.linkedin.com/in/late,unexpected,fields\n"
    chunks = [text.encode()]
    with pytest.raises(ImportRefused), psycopg.connect(db.info.dsn) as conn:
        import_candidates(conn, project, read_candidates(chunks, 10_000), None, "import")
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (0,)


def test_concurrent_overlapping_imports_create_no_duplicates(db: psycopg.Connection) -> None:
    projects = [_project(db, "A"), _project(db, "B")]
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
