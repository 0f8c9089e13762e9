"""`seed_profiles` (tests/factories.py) writes data that is hard on a grid, as promised."""

from __future__ import annotations

import psycopg

from tests.factories import seed_profiles


def test_seed_profiles_writes_ties_nulls_and_blanks(db: psycopg.Connection) -> None:
    assert seed_profiles(db, 500) == 500
    stats = db.execute(
        "SELECT count(*), count(DISTINCT created_at), count(*) FILTER (WHERE headline IS NULL),"
        " count(*) FILTER (WHERE years_experience IS NULL),"
        " count(*) FILTER (WHERE cardinality(skills) = 0) FROM profiles"
    ).fetchone()
    assert stats is not None
    total, distinct_created, null_headlines, null_years, no_skills = stats
    assert total == 500 and distinct_created < 250
    assert null_headlines > 0 and null_years > 0 and no_skills > 0
