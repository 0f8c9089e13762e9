"""Agent lease: one PhantomBuster agent runs one search at a time.

A Redis key per agent holds `<owner token>:<search id>` with a TTL; only the holder (who knows the
token) can renew or release it, via Lua compare-and-set. Launches that find the agent busy join a
per-agent queue (a sorted set scored by arrival) and are told their place; the queue's head has
priority when the lease frees. Redis only saves duplicate work: the record of the runs (a
`RunRecords`, kept by the domain that owns them) is the real guarantee, told while the lease is
held that its run started or ended, and it fails a run left running by a holder whose lease
expired (a crashed worker) when the next run takes the agent.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis

from services.core.redis_client import get_redis

log = logging.getLogger(__name__)

LEASE_PREFIX = "sx:lease:pb:"
QUEUE_PREFIX = "sx:leaseq:pb:"
DEFAULT_TTL_S = 60.0
DEFAULT_QUEUE_TTL_S = 6 * 3600.0

# Queue scores are microsecond-scaled arrival times, forced strictly increasing so two arrivals
# in the same millisecond keep their order and nobody's reported place moves backwards.
_ENQUEUE_SNIPPET = """
local function enqueue(qkey, member, now, queue_ttl)
  if not redis.call('ZSCORE', qkey, member) then
    local score = now * 1000
    local last = redis.call('ZRANGE', qkey, -1, -1, 'WITHSCORES')
    if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
    redis.call('ZADD', qkey, score, member)
  end
  redis.call('PEXPIRE', qkey, queue_ttl)
  return redis.call('ZRANK', qkey, member) + 1
end
"""

# KEYS: lease, queue. ARGV: value, search_id, ttl_ms, queue_ttl_ms, may_queue (0/1).
# Returns {1, 0, ''} granted, {0, position, holder} queued, {-1, 0, holder} refused (busy).
_CLAIM_LUA = (
    _ENQUEUE_SNIPPET
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local queue_ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', (now - queue_ttl) * 1000)
local holder = redis.call('GET', KEYS[1])
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if holder or (head and head ~= ARGV[2]) then
  if ARGV[5] == '0' then return {-1, 0, holder or ''} end
  return {0, enqueue(KEYS[2], ARGV[2], now, queue_ttl), holder or ''}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[3]))
redis.call('ZREM', KEYS[2], ARGV[2])
return {1, 0, ''}
"""
)
# KEYS: queue. ARGV: search_id, queue_ttl_ms, front (0/1). Returns the 1-based position.
_ENQUEUE_LUA = (
    _ENQUEUE_SNIPPET
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '1' then
  local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local score = head[2] and (tonumber(head[2]) - 1) or now * 1000
  redis.call('ZADD', KEYS[1], score, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return redis.call('ZRANK', KEYS[1], ARGV[1]) + 1
end
return enqueue(KEYS[1], ARGV[1], now, tonumber(ARGV[2]))
"""
)
# KEYS: lease. ARGV: value, ttl_ms. 1 when still ours and extended.
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Lease:
    """Proof of holding an agent; serialisable (plain fields) so a polling task can carry it."""

    agent_id: str
    search_id: int
    token: str
    ttl_s: float = DEFAULT_TTL_S

    @property
    def value(self) -> str:
        return f"{self.token}:{self.search_id}"


@dataclass(frozen=True)
class Granted:
    lease: Lease
    reclaimed_search_id: int | None = None  # a crashed holder's search, now marked failed


@dataclass(frozen=True)
class Queued:
    agent_id: str
    search_id: int
    position: int  # 1 = next to run
    running_search_id: int | None

    @property
    def message(self) -> str:
        return (
            f"Agent {self.agent_id} is busy with another search; yours is number "
            f"{self.position} in its queue and will start automatically."
        )


@dataclass(frozen=True)
class Refused:
    agent_id: str
    search_id: int
    reason: str


ClaimResult = Granted | Queued | Refused


@dataclass(frozen=True)
class RunStart:
    """What the run records said when the lease was granted: `refusal` when the run may not
    start (the lease is dropped again), else the crashed holder's run they failed, if any."""

    refusal: str | None = None
    reclaimed_search_id: int | None = None


class RunRecords(Protocol):
    """The durable record of the runs an agent is leased for. The lease calls it while it holds
    the agent, so the record changes only under the lease."""

    def mark_running(self, agent_id: str, search_id: int) -> RunStart:
        """Start a queued run of the agent; fail a stale one that still holds the agent."""
        ...

    def mark_ended(self, search_id: int, final_status: str, error: str | None) -> None:
        """Set a started run's final status (or `queued` again for one that lost its turn)."""
        ...


def _holder_search(value: str | None) -> int | None:
    if not value or ":" not in value:
        return None
    try:
        return int(value.rsplit(":", 1)[1])
    except ValueError:
        return None


class AgentLeases:
    def __init__(
        self,
        records: RunRecords,
        client: redis.Redis | None = None,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        queue_ttl_s: float = DEFAULT_QUEUE_TTL_S,
    ) -> None:
        self.records = records
        self._client = client
        self.ttl_s = ttl_s
        self.queue_ttl_s = queue_ttl_s

    @property
    def client(self) -> redis.Redis:
        return self._client if self._client is not None else get_redis()

    def claim(self, agent_id: str, search_id: int, *, queue: bool = True) -> ClaimResult:
        """Take the agent for a `queued` search, or queue/refuse it. Never touches another search
        except to fail one whose holder's lease has expired."""
        lease = Lease(agent_id, search_id, secrets.token_hex(16), self.ttl_s)
        status, position, holder = self.client.eval(  # type: ignore[misc]
            _CLAIM_LUA,
            2,
            LEASE_PREFIX + agent_id,
            QUEUE_PREFIX + agent_id,
            lease.value,
            str(search_id),
            int(self.ttl_s * 1000),
            int(self.queue_ttl_s * 1000),
            1 if queue else 0,
        )
        if status == 0:
            return Queued(agent_id, search_id, int(position), _holder_search(holder))
        if status == -1:
            return Refused(agent_id, search_id, f"Agent {agent_id} is busy with another search.")
        try:
            return self._mark_running(lease)
        except BaseException:
            self._drop(lease)
            raise

    def _mark_running(self, lease: Lease) -> ClaimResult:
        start = self.records.mark_running(lease.agent_id, lease.search_id)
        if start.refusal is not None:
            self._drop(lease)
            return Refused(lease.agent_id, lease.search_id, start.refusal)
        return Granted(lease, start.reclaimed_search_id)

    def renew(self, lease: Lease) -> bool:
        """Extend the TTL; False means the lease was lost and the holder must stop working."""
        ttl_ms = int(lease.ttl_s * 1000)
        return bool(
            self.client.eval(_RENEW_LUA, 1, LEASE_PREFIX + lease.agent_id, lease.value, ttl_ms)
        )

    def _drop(self, lease: Lease) -> bool:
        return bool(self.client.eval(_RELEASE_LUA, 1, LEASE_PREFIX + lease.agent_id, lease.value))

    def release(
        self, lease: Lease, *, final_status: str | None = None, error: str | None = None
    ) -> int | None:
        """Set the search's final status (when given), free the agent, and return the search id
        at the head of the queue, which the caller should launch next."""
        if final_status is not None:
            self.records.mark_ended(lease.search_id, final_status, error)
        self._drop(lease)
        return self.next_in_queue(lease.agent_id)

    def next_in_queue(self, agent_id: str) -> int | None:
        head: list[str] = self.client.zrange(QUEUE_PREFIX + agent_id, 0, 0)  # type: ignore[assignment]
        return int(head[0]) if head else None

    def enqueue(self, agent_id: str, search_id: int, *, front: bool = False) -> int:
        """Add a search to the agent's queue (at the front for one that lost its turn)."""
        position = self.client.eval(
            _ENQUEUE_LUA,
            1,
            QUEUE_PREFIX + agent_id,
            str(search_id),
            int(self.queue_ttl_s * 1000),
            1 if front else 0,
        )
        return int(position)  # type: ignore[arg-type]

    def position(self, agent_id: str, search_id: int) -> int | None:
        rank: int | None = self.client.zrank(QUEUE_PREFIX + agent_id, str(search_id))  # type: ignore[assignment]
        return None if rank is None else int(rank) + 1

    def leave_queue(self, agent_id: str, search_id: int) -> None:
        self.client.zrem(QUEUE_PREFIX + agent_id, str(search_id))

    def holder(self, agent_id: str) -> int | None:
        value: str | None = self.client.get(LEASE_PREFIX + agent_id)  # type: ignore[assignment]
        return _holder_search(value)

    @contextmanager
    def kept(self, lease: Lease) -> Iterator[threading.Event]:
        """Renew the lease every ttl/3 while the block runs; the yielded event is set if lost."""
        lost, stop = threading.Event(), threading.Event()

        def renew_loop() -> None:
            while not stop.wait(lease.ttl_s / 3):
                try:
                    if not self.renew(lease):
                        lost.set()
                        return
                except redis.RedisError:
                    log.warning("lease renewal for agent %s failed; retrying", lease.agent_id)

        thread = threading.Thread(target=renew_loop, name="lease-renew", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            stop.set()
            thread.join(timeout=1)
