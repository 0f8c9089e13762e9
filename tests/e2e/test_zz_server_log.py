"""Runs after the other browser tests: nothing they did made the server log an error."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import LiveApp, skip_reason

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]


def test_the_app_logged_no_server_errors(live_app: LiveApp) -> None:
    errors = []
    for line in live_app.log:
        if line.startswith("{") and '"level": "error"' in line:
            entry = json.loads(line)
            errors.append(f"{entry.get('msg')}: {str(entry.get('exc', ''))[-300:]}")
    assert not errors, "\n".join(errors)
