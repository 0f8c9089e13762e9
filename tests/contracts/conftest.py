"""Contract tier: the documented answers run through the provider clients and the sandbox, whose
limiter and metering live in the real test Redis and Postgres, so those are made ready here.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _servers_for_contracts(live_servers: None) -> None:
    """The test Postgres and Redis are up before any test of this tier runs."""
