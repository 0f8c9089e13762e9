"""Operational knobs and serving parameters come from settings, read on every use, with the
documented defaults, and `.env` under the real environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import SettingsError, Tuning, tuning, web_server


def test_defaults_when_nothing_is_set() -> None:
    assert tuning({}) == Tuning()
    knobs = tuning({})
    assert knobs.search_poll_interval_s == 2.0 and knobs.job_lock_ttl_s == 60
    assert knobs.phantombuster_result_hosts == {"phantombuster.s3.amazonaws.com"}
    assert web_server({}).bind == "127.0.0.1:8050" and web_server({}).workers == 2


def test_values_are_parsed_and_hosts_split() -> None:
    knobs = tuning(
        {
            "SEARCH_POLL_INTERVAL_S": "0.3",
            "JOB_STALE_AFTER_S": "3",
            "CRUSTDATA_RESULT_HOSTS": " files.example , other.example ,",
            "PHANTOMBUSTER_AGENT_SALESNAV": "agent-9",
            "PROVIDER_LIMITER_FAIL_OPEN": "yes",
        }
    )
    assert knobs.search_poll_interval_s == 0.3 and knobs.job_stale_after_s == 3
    assert knobs.crustdata_result_hosts == {"files.example", "other.example"}
    assert knobs.phantombuster_agents == {"salesnav": "agent-9"}
    assert knobs.provider_limiter_fail_open is True
    assert web_server({"HOST": "10.0.0.5", "PORT": "9000"}).bind == "10.0.0.5:9000"


def test_a_bad_number_is_refused_with_its_name_but_a_bad_concurrency_falls_back() -> None:
    with pytest.raises(SettingsError, match="JOB_LOCK_TTL_S"):
        tuning({"JOB_LOCK_TTL_S": "soon"})
    assert tuning({"SCREENING_CONCURRENCY": "many"}).screening_concurrency == 4


def test_knobs_are_read_now_from_the_environment_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SCREENING_MODEL=from-file\nJOB_REAP_INTERVAL_S=7\n", encoding="utf-8")
    monkeypatch.setenv("SOURCINGX_DOTENV", str(dotenv))
    monkeypatch.delenv("SCREENING_MODEL", raising=False)
    monkeypatch.delenv("JOB_REAP_INTERVAL_S", raising=False)
    assert tuning().screening_model == "from-file" and tuning().job_reap_interval_s == 7.0
    monkeypatch.setenv("SCREENING_MODEL", "from-env")
    assert tuning().screening_model == "from-env"  # no cache: the next use sees the change
    dotenv.write_text("JOB_REAP_INTERVAL_S=9\n", encoding="utf-8")
    assert tuning().job_reap_interval_s == 9.0
