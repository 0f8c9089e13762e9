"""Component ids shared by layouts and callbacks, in one place so they cannot drift apart."""

from typing import Any

URL = "url"
NAV_PROFILE_COUNT = "nav-profile-count"
HOME_STATS = "home-stats"
HOME_RECOUNT_BUTTON = "home-recount"
HOME_JOBS_TABLE = "home-jobs"


def job_store(scope: Any) -> dict[str, Any]:
    return {"type": "job-store", "scope": scope}


def job_interval(scope: Any) -> dict[str, Any]:
    return {"type": "job-interval", "scope": scope}


def job_progress(scope: Any) -> dict[str, Any]:
    return {"type": "job-progress", "scope": scope}


def job_status(scope: Any) -> dict[str, Any]:
    return {"type": "job-status", "scope": scope}


def job_cancel(scope: Any) -> dict[str, Any]:
    return {"type": "job-cancel", "scope": scope}
