"""Team-wide headline numbers for the home page and navbar, cached by data version."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from services.core.cache import cache_key, cached, data_version
from services.core.db import unit_of_work


@dataclass(frozen=True)
class Overview:
    profiles: int
    enriched: int
    projects: int
    active_jobs: int


def _compute() -> dict[str, int]:
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM profiles),"
            " (SELECT count(*) FROM profiles WHERE enrichment_status = 'enriched'),"
            " (SELECT count(*) FROM projects WHERE status = 'active'),"
            " (SELECT count(*) FROM jobs WHERE status IN ('queued', 'running'))"
        ).fetchone()
    assert row is not None
    return asdict(Overview(*(int(v) for v in row)))


def overview() -> Overview:
    key = cache_key(
        "overview", data_version("profiles"), data_version("projects"), data_version("jobs")
    )
    return Overview(**cached(key, _compute, timeout=30))
