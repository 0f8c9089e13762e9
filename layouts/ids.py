"""Component ids shared by layouts and callbacks, in one place so they cannot drift apart."""

from typing import Any

URL = "url"
# The page-wide alert that the app's Dash error handler fills (callbacks/kit.py).
APP_ALERT = "app-alert"
# Dash's own pages router location (dash._pages); clientside code hands it the URL.
PAGES_LOCATION = "_pages_location"
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
