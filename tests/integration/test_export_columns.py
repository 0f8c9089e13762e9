"""The PhantomBuster export columns a recruiter filters on (connection degree, industry, school,
time in role and company, shared connections, open profile / premium) arrive from an export,
refresh a known person's network data, and filter and sort in the profile grid."""

from __future__ import annotations

import psycopg
import pytest

from services.core.cache import bump_data_version
from services.grid import fetch_block, parse_grid_query
from services.grid.errors import GridQueryError
from services.imports import import_upload, store_upload
from tests.factories import make_project
from tests.helpers import create_user

pytestmark = pytest.mark.integration

SALESNAV = (
    "profileUrl,defaultProfileUrl,fullName,companyName,title,industry,connectionDegree,"
    "durationInRole,durationInCompany,sharedConnectionsCount,isPremium,isOpenLink\n"
    "https://www.linkedin.com/sales/lead/ACwAAA1,https://www.linkedin.com/in/ann-a,Ann A,Acme,"
    "CTO,Software Development,2nd,2 years 3 months in role,4 years in company,12,true,false\n"
    "https://www.linkedin.com/sales/lead/ACwAAA2,https://www.linkedin.com/in/bob-b,Bob B,Globex,"
    "Engineer,Banking,3rd,10 months in role,less than a year in company,0,false,true\n"
)
LINKEDIN = (
    "profileUrl,fullName,headline,company,jobTitle,school,schoolDegree,connectionDegree,"
    "sharedConnections\n"
    "https://www.linkedin.com/in/cy-c,Cy C,Data at Initech,Initech,Data Engineer,TU Berlin,"
    "MSc Computer Science,1st,3 shared connections\n"
    "https://www.linkedin.com/in/ann-a,Ann A,CTO at Acme,Acme,CTO,,,1st,\n"
)


def _import(project: int, text: str) -> None:
    upload_id, _fmt, _rows = store_upload(project, "export.csv", text.encode(), None, 10_000_000)
    import_upload(upload_id, None)
    bump_data_version("profiles")


def _names(filters: dict[str, object], sort: list[dict[str, str]] | None = None) -> list[str]:
    query = parse_grid_query(filters, sort or [], "", "", (), None, None)
    return [r["full_name"] for r in fetch_block(query, 0, 100).rows]


def test_export_columns_import_refresh_and_filter(
    db: psycopg.Connection, redis_conn: object
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    _import(project, SALESNAV)
    _import(project, LINKEDIN)
    rows = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT full_name, industry, connection_degree, months_in_role, months_in_company,"
            " shared_connections, is_premium, is_open_profile, school, school_degree"
            " FROM profiles"
        ).fetchall()
    }
    assert rows["Ann A"] == ("Software Development", "1st", 27, 48, 12, True, False, None, None)
    assert rows["Bob B"] == ("Banking", "3rd", 10, 0, 0, False, True, None, None)
    assert rows["Cy C"][-2:] == ("TU Berlin", "MSc Computer Science")
    assert rows["Cy C"][4] == 3
    # The grid filters and sorts on them in SQL.
    premium = {"is_premium": {"filterType": "text", "type": "equals", "filter": "yes"}}
    assert _names(premium) == ["Ann A"]
    short = {"months_in_role": {"filterType": "number", "type": "lessThan", "filter": 12}}
    assert _names(short) == ["Bob B"]
    school = {"school": {"filterType": "text", "type": "contains", "filter": "berlin"}}
    assert _names(school) == ["Cy C"]
    by_industry = _names({}, [{"colId": "industry", "sort": "asc"}])
    assert by_industry[:2] == ["Bob B", "Ann A"]  # Banking < Software Development
    with pytest.raises(GridQueryError, match="months_in_role"):
        _names({}, [{"colId": "months_in_role", "sort": "asc"}])
