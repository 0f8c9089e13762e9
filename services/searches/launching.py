"""Launching a search: the request checked and recorded as a queued search with its job.

A search is a LinkedIn people search (a search URL or keywords) or a Sales Navigator search URL,
capped at what the site shows for one search. It runs on the agent configured for its kind; the
agent's argument for this run is built from the search alone, never from what is saved on it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from services import audit, jobs
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.core.settings import tuning
from services.providers.phantombuster import SearchInput
from services.searches import store
from services.searches.agent import SearchLeases

KINDS = ("linkedin", "salesnav")
# LinkedIn serves at most 1,000 results per search, Sales Navigator 2,500: more cannot be had.
MAX_PROFILES = {"linkedin": 1000, "salesnav": 2500}
LINKEDIN_PEOPLE_SEARCH = "https://www.linkedin.com/search/results/people/"
DEFAULT_AGENT = {"linkedin": "linkedin-search-export", "salesnav": "salesnav-search-export"}


class SearchError(UserError):
    """A search request that cannot be launched (message is safe to show)."""


def _validate(kind: str, query: str, count: int) -> str:
    if kind not in KINDS:
        raise SearchError("Choose a LinkedIn or a Sales Navigator search")
    query = (query or "").strip()
    if not query:
        raise SearchError("Enter a search URL or keywords")
    if kind == "salesnav" and not query.startswith("https://www.linkedin.com/sales/"):
        raise SearchError("A Sales Navigator search needs its search URL (linkedin.com/sales/...)")
    cap = MAX_PROFILES[kind]
    if not 1 <= count <= cap:
        source = "Sales Navigator" if kind == "salesnav" else "LinkedIn"
        raise SearchError(
            f"Number of profiles must be between 1 and {cap:,}: {source} shows at most {cap:,}"
            " results per search, so split a larger search into narrower ones"
        )
    return query[:2000]


def linkedin_search_url(query: str) -> str:
    """A LinkedIn people-search URL for keywords; a search URL as given."""
    if query.startswith("https://www.linkedin.com/"):
        return query
    params = urlencode({"keywords": query, "origin": "GLOBAL_SEARCH_HEADER"})
    return f"{LINKEDIN_PEOPLE_SEARCH}?{params}"


def agent_for(kind: str) -> str:
    """The configured agent of a search kind (env PHANTOMBUSTER_AGENT_LINKEDIN / _SALESNAV)."""
    return tuning().phantombuster_agents.get(kind) or DEFAULT_AGENT[kind]


def start_search(
    user_id: int, project_id: int, kind: str, query: str, count: int
) -> tuple[int, int]:
    """Record a queued search and its job; returns (search id, job id)."""
    query = _validate(kind, query, count)
    agent_id = agent_for(kind)
    with unit_of_work() as conn:
        status = conn.execute("SELECT status FROM projects WHERE id = %s", (project_id,)).fetchone()
        if status is None or status[0] != "active":
            raise SearchError("Searches can only run for an active project")
        search_id = store.insert_search(conn, project_id, agent_id, kind, query, count, user_id)
        job_id = jobs.insert_job(conn, "search_run", {"search_id": search_id}, user_id, project_id)
        store.set_job(conn, search_id, job_id)
        jobs.set_total(conn, job_id, count)
        audit.record(
            conn,
            user_id,
            "search.launch",
            "search",
            search_id,
            {"project_id": project_id, "kind": kind, "count": count},
        )
        jobs.enqueue_after_commit(job_id)
    return search_id, job_id


def queue_position(search: store.Search) -> int | None:
    return (
        SearchLeases().position(search.agent_id, search.id) if search.status == "queued" else None
    )


def launch_argument(search: store.Search, keys: SearchInput) -> dict[str, object]:
    """This run's input, under the key names the agent's manifest declares. It is merged into
    the agent's saved argument, which keeps the LinkedIn identity set up in PhantomBuster."""
    url = search.query if search.kind == "salesnav" else linkedin_search_url(search.query)
    return {
        keys.url_key: url,
        keys.count_key: search.requested_count,
        "csvName": f"sourcingx-search-{search.id}",
    }
