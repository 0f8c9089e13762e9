"""Integration tier: every test here talks to the real test Postgres and Redis.

Many do so without asking for a database fixture (they build the Dash app, send a job, start a
worker), so the servers are made ready for each of them here instead of in every test.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _servers_for_integration(live_servers: None) -> None:
    """The test Postgres and Redis are up before any test of this tier runs."""
