"""Migrations apply on an empty database, are idempotent, and downgrade cleanly."""

from __future__ import annotations

import psycopg

from services.core import migrate

EXPECTED_TABLES = {
    "users",
    "projects",
    "profiles",
    "profile_raw",
    "project_profiles",
    "searches",
    "jobs",
    "api_usage",
    "audit_log",
    "filter_lists",
    "filter_items",
    "project_filter_lists",
    "filter_results",
    "prompt_versions",
    "screenings",
    "screening_overrides",
    "contacts",
    "contact_lookups",
    "imports",
    "funnel_daily",
    "funnel_dirty",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'").fetchall()
    return {r[0] for r in rows}


def test_upgrade_is_idempotent_and_creates_the_data_model(migrated: str) -> None:
    migrate.upgrade(migrated)  # a second run must be a no-op, not an error
    assert _tables(migrated) >= EXPECTED_TABLES


def test_downgrade_then_upgrade_round_trips(migrated: str) -> None:
    migrate.downgrade(migrated, "base")
    assert not (EXPECTED_TABLES & _tables(migrated))
    migrate.upgrade(migrated)
    assert _tables(migrated) >= EXPECTED_TABLES
