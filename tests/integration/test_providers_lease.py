"""Agent lease: one running search per PhantomBuster agent, with queueing, expiry of a crashed
holder's lease, and the database's partial unique index as the real guarantee."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from services.providers.lease import Granted, Queued, Refused
from services.searches.agent import SearchLeases, Started, start_search
from tests.integration.sandbox_fixture import (
    SandboxControl,
    make_context,
)

pytestmark = pytest.mark.integration
AGENT = "agent-42"


def _searches(db, project_id: int, n: int, agent: str = AGENT) -> list[int]:
    return [
        db.execute(
            "INSERT INTO searches (project_id, agent_id, kind, query, requested_count) "
            "VALUES (%s, %s, 'salesnav', %s, 25) RETURNING id",
            (project_id, agent, f"query {i}"),
        ).fetchone()[0]
        for i in range(n)
    ]


def _status(db, search_id: int) -> tuple[str, str | None]:
    return db.execute("SELECT status, error FROM searches WHERE id = %s", (search_id,)).fetchone()


def test_ten_concurrent_launches_give_one_running_and_nine_queued(
    fast_providers: SandboxControl,
    db,
    redis_conn,
) -> None:
    fast_providers.configure("phantombuster", container_seconds=30)
    ctx = make_context(db)
    ids = _searches(db, ctx.project_id, 10)
    barrier = threading.Barrier(10)
    results: dict[int, object] = {}

    def launch(search_id: int) -> None:
        barrier.wait()
        argument = {"searches": f"https://www.linkedin.com/sales/search/people?q={search_id}"}
        results[search_id] = start_search(ctx, AGENT, search_id, argument)

    threads = [threading.Thread(target=launch, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    started = [r for r in results.values() if isinstance(r, Started)]
    queued = [r for r in results.values() if isinstance(r, Queued)]
    assert len(started) == 1 and len(queued) == 9
    assert sorted(q.position for q in queued) == list(range(1, 10))
    assert all("number" in q.message for q in queued)
    running = db.execute(
        "SELECT id, container_id FROM searches WHERE agent_id = %s AND status = 'running'",
        (AGENT,),
    ).fetchall()
    assert len(running) == 1 and running[0][1] == started[0].container_id
    # PhantomBuster saw exactly one launch, and the agent's saved argument was never written
    assert fast_providers.stats("phantombuster")["counts"] == {"ok": 1}
    # the database refuses a second active search on the agent whatever Redis says
    other = next(i for i in ids if i != started[0].lease.search_id)
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("UPDATE searches SET status = 'running' WHERE id = %s", (other,))
    # releasing hands the agent to the head of the queue
    head = next(q for q in queued if q.position == 1)
    leases = SearchLeases()
    assert leases.release(started[0].lease, final_status="done") == head.search_id
    nxt = leases.claim(AGENT, head.search_id)
    assert isinstance(nxt, Granted)
    # someone who was not first in line cannot jump the queue
    assert isinstance(leases.claim(AGENT, 999_999, queue=False), Refused)


def test_busy_agent_can_refuse_instead_of_queueing(db, redis_conn) -> None:
    ctx = make_context(db, with_job=False)
    a, b = _searches(db, ctx.project_id, 2)
    leases = SearchLeases()
    assert isinstance(leases.claim(AGENT, a), Granted)
    refused = leases.claim(AGENT, b, queue=False)
    assert isinstance(refused, Refused) and "busy" in refused.reason
    assert leases.position(AGENT, b) is None
    assert _status(db, b)[0] == "queued"


_CRASHER = """
import os, sys, time
from services.providers.lease import Granted
from services.searches.agent import SearchLeases
claim = SearchLeases(ttl_s=1.0).claim(sys.argv[1], int(sys.argv[2]))
print("granted" if isinstance(claim, Granted) else "not-granted", flush=True)
time.sleep(60)
"""


def test_crashed_holder_lease_expires_and_agent_becomes_usable(db, redis_conn) -> None:
    ctx = make_context(db, with_job=False)
    crashed, waiting = _searches(db, ctx.project_id, 2)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHER, AGENT, str(crashed)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "granted"
    os.kill(proc.pid, signal.SIGKILL)  # no release, no renewal
    proc.wait()
    leases = SearchLeases(ttl_s=5.0)
    first = leases.claim(AGENT, waiting)
    assert isinstance(first, Queued) and first.running_search_id == crashed
    time.sleep(1.1)  # the crashed holder's TTL
    claim = leases.claim(AGENT, waiting)
    assert isinstance(claim, Granted)
    assert claim.reclaimed_search_id == crashed
    status, error = _status(db, crashed)
    assert status == "failed" and "lease expired" in (error or "")
    assert _status(db, waiting)[0] == "running"


def test_renewal_keeps_the_lease_and_a_lost_lease_is_noticed(db, redis_conn) -> None:
    ctx = make_context(db, with_job=False)
    (search,) = _searches(db, ctx.project_id, 1)
    leases = SearchLeases(ttl_s=0.6)
    claim = leases.claim(AGENT, search)
    assert isinstance(claim, Granted)
    with leases.kept(claim.lease) as lost:
        time.sleep(1.0)  # longer than the TTL: only renewal keeps it
        assert leases.holder(AGENT) == search and not lost.is_set()
        redis_conn.delete(f"sx:lease:pb:{AGENT}")  # e.g. Redis lost it
        time.sleep(0.5)
        assert lost.is_set()
    assert not leases.renew(claim.lease)
