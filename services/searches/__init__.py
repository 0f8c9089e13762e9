"""Search runs: a LinkedIn or Sales Navigator search through a leased PhantomBuster agent,
imported into a project with dedup, and kept as the team's search history.

The run is a job (`run`). It leases the agent (one search per agent at a time, `agent`), launches
with its own argument (never saved on the agent, so nobody's search overwrites another's), polls
its own container by id (`polling`), imports the result rows, and releases the agent. A search
that finds the agent busy waits in the agent's queue without holding a worker: the job is
re-queued and tells the user their place. A redelivered job resumes polling the container it
already launched. `store` is the only writer of the `searches` table.
"""

from __future__ import annotations

from services.searches.launching import (
    DEFAULT_AGENT,
    KINDS,
    LINKEDIN_PEOPLE_SEARCH,
    MAX_PROFILES,
    SearchError,
    agent_for,
    launch_argument,
    linkedin_search_url,
    queue_position,
    start_search,
)
from services.searches.polling import mark_container_ended
from services.searches.run import run_search, run_search_job  # registers the `search_run` kind
from services.searches.store import SEARCH_SQL, Search, get_search, list_searches

__all__ = [
    "DEFAULT_AGENT",
    "KINDS",
    "LINKEDIN_PEOPLE_SEARCH",
    "MAX_PROFILES",
    "SEARCH_SQL",
    "Search",
    "SearchError",
    "agent_for",
    "get_search",
    "launch_argument",
    "linkedin_search_url",
    "list_searches",
    "mark_container_ended",
    "queue_position",
    "run_search",
    "run_search_job",
    "start_search",
]
