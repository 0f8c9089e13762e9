"""The sandbox's in-process, thread-safe state: per-provider settings, faults and rate windows.

It is a test double of the outside world, so holding state in memory is fine here (it is not the
app). Settings come from the start-up config and can be changed at runtime via `/_sandbox/config`.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PROVIDERS = ("phantombuster", "crustdata", "salesql", "openai", "sheets")
FAULTS = ("429", "500", "503", "timeout", "malformed", "401", "402", "quota")


@dataclass
class ProviderSettings:
    latency_ms: float = 0.0
    rate_limit_per_min: float = 0.0  # 0 = unlimited; shorthand for rate_limit / 60 s
    rate_limit: int = 0  # requests per rate_window_s (0 = unlimited)
    rate_window_s: float = 60.0
    daily_limit: int = 0  # calendar-day cap (SalesQL); 0 = unlimited
    send_retry_after: bool = True  # whether 429s carry Retry-After (some providers don't)
    retry_after_s: float | None = None  # force this Retry-After value instead of the real wait
    fail_429_ratio: float = 0.0
    fail_500_ratio: float = 0.0
    timeout_ratio: float = 0.0
    malformed_ratio: float = 0.0
    per_profile_error_ratio: float = 0.0  # Crustdata: entries with an error inside a 200
    outage_until: float = 0.0  # epoch seconds; 503 until then
    hang_s: float = 5.0  # how long a "timeout" fault keeps the request open
    credits: int | None = None  # None = unlimited; 0 = out of credit
    container_seconds: float = 2.0  # PhantomBuster: starting→running→finished duration
    large_result_rows: int = 100  # PhantomBuster: larger results come as a jsonUrl/csvURL object
    stuck_unknown: bool = False  # PhantomBuster: containers report status "unknown" forever
    batch_seconds: float = 1.0  # Crustdata: batch job pending→processing→completed duration
    seed: int = 0
    fail_next: list[str] = field(default_factory=list)

    def window(self) -> tuple[int, float]:
        if self.rate_limit > 0:
            return self.rate_limit, self.rate_window_s
        if self.rate_limit_per_min > 0:
            return int(self.rate_limit_per_min), 60.0
        return 0, 60.0


# Documented limits (external-apis.md); PhantomBuster documents none.
DEFAULTS: dict[str, dict[str, Any]] = {
    "phantombuster": {},
    "crustdata": {"rate_limit_per_min": 15},
    "salesql": {"rate_limit_per_min": 180, "daily_limit": 5000},
    "openai": {"rate_limit_per_min": 500},
    "sheets": {"rate_limit_per_min": 60},
}


# How a provider answers, kept also without limits (`plain`): SalesQL documents no Retry-After,
# so its 429s (a spent minute or a spent day) come bare.
BEHAVIOUR: dict[str, dict[str, Any]] = {"salesql": {"send_retry_after": False}}


@dataclass
class Decision:
    fault: str | None = None
    retry_after: float = 0.0
    remaining: int = 0
    limit: int = 0
    reset_s: float = 0.0


class SandboxState:
    def __init__(self, overrides: dict[str, dict[str, Any]] | None = None) -> None:
        self.lock = threading.Lock()
        self.settings: dict[str, ProviderSettings] = {}
        self.windows: dict[str, deque[float]] = {}
        self.daily: dict[str, tuple[int, int]] = {}
        self.rngs: dict[str, random.Random] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.accepted: dict[str, list[float]] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.sheets: dict[str, list[list[Any]]] = {}
        # Profiles each provider already enriched for the account (SalesQL charges them once).
        self.enriched: dict[str, set[str]] = {}
        self.batches: dict[str, dict[str, Any]] = {}  # Crustdata batch jobs by batch_id
        self.next_container = 7_000_000_000_000_000
        self.reset(overrides)

    def reset(
        self, overrides: dict[str, dict[str, Any]] | None = None, *, plain: bool = False
    ) -> None:
        """Back to defaults (or no limits at all with `plain`), then apply overrides."""
        with self.lock:
            for p in PROVIDERS:
                limits = {} if plain else DEFAULTS[p]
                self.settings[p] = ProviderSettings(**{**BEHAVIOUR.get(p, {}), **limits})
                self.rngs[p] = random.Random(0)
                self.counts[p] = {}
                self.accepted[p] = []
            self.windows.clear()
            self.daily.clear()
            self.containers.clear()
            self.agents.clear()
            self.sheets.clear()
            self.enriched.clear()
            self.batches.clear()
        for provider, values in (overrides or {}).items():
            self.configure(provider, values)

    def configure(self, provider: str, values: dict[str, Any]) -> dict[str, Any]:
        targets = PROVIDERS if provider in ("*", "all") else (provider,)
        known = {f.name for f in fields(ProviderSettings)}
        unknown = set(values) - known - {"provider"}
        if unknown or any(t not in PROVIDERS for t in targets):
            raise ValueError(f"unknown provider or setting: {provider}, {sorted(unknown)}")
        if "fail_next" in values:
            bad = [f for f in values["fail_next"] if str(f) not in FAULTS]
            if bad:
                raise ValueError(f"unknown faults {bad}; known: {FAULTS}")
        with self.lock:
            for t in targets:
                current = self.settings[t]
                for key, value in values.items():
                    if key == "fail_next":
                        value = [str(f) for f in value]
                    if key != "provider":
                        setattr(current, key, value)
                if "seed" in values:
                    self.rngs[t] = random.Random(int(values["seed"]))
            return asdict(self.settings[targets[0]])

    def get(self, provider: str) -> ProviderSettings:
        with self.lock:
            return ProviderSettings(**asdict(self.settings[provider]))

    def count(self, provider: str, outcome: str) -> None:
        with self.lock:
            bucket = self.counts[provider]
            bucket[outcome] = bucket.get(outcome, 0) + 1

    def decide(self, provider: str, scope: str = "", *, daily: bool = True) -> Decision:
        """Faults first (forced, then random), then the sliding-window and daily limits."""
        now = time.time()
        with self.lock:
            s = self.settings[provider]
            limit, window_s = s.window()
            if (injected := self._injected_fault(provider, s, now)) is not None:
                return injected
            if s.credits is not None and s.credits <= 0:
                return Decision("quota" if provider == "openai" else "402")
            day = int(now // 86400)
            used_day, used = self.daily.get(provider + scope, (day, 0))
            used = used if used_day == day else 0
            if daily and s.daily_limit > 0 and used >= s.daily_limit:
                return Decision("429", retry_after=(day + 1) * 86400 - now, limit=s.daily_limit)
            remaining, reset = limit, 0.0
            if limit > 0:
                win = self.windows.setdefault(provider + "|" + scope, deque())
                while win and win[0] <= now - window_s:
                    win.popleft()
                if len(win) >= limit:
                    wait = win[0] + window_s - now
                    return Decision("429", retry_after=wait, limit=limit, reset_s=wait)
                win.append(now)
                remaining = limit - len(win)
                reset = (win[0] + window_s - now) if win else 0.0
            if daily:  # account endpoints (balance, allowance) do not use up the daily calls
                self.daily[provider + scope] = (day, used + 1)
            self.accepted[provider].append(now)
            return Decision(None, remaining=remaining, limit=limit, reset_s=reset)

    def _injected_fault(self, provider: str, s: ProviderSettings, now: float) -> Decision | None:
        """An outage, a forced fault or a random one (caller holds `lock`)."""
        if s.outage_until > now:
            return Decision("503", retry_after=s.outage_until - now)
        if s.fail_next:
            return Decision(s.fail_next.pop(0), retry_after=s.retry_after_s or 1.0)
        rng = self.rngs[provider]
        for fault, ratio in (
            ("429", s.fail_429_ratio),
            ("500", s.fail_500_ratio),
            ("timeout", s.timeout_ratio),
            ("malformed", s.malformed_ratio),
        ):
            if ratio > 0 and rng.random() < ratio:
                return Decision(fault, retry_after=s.retry_after_s or 1.0)
        return None

    def spend(self, provider: str, amount: int) -> bool:
        """Take credits; False when there are not enough (None = unlimited)."""
        with self.lock:
            s = self.settings[provider]
            if s.credits is None:
                return True
            if s.credits < amount:
                return False
            s.credits -= amount
            return True

    def first_enrichment(self, provider: str, subject: str) -> bool:
        """True the first time `subject` is enriched for the account, False on a repeat."""
        with self.lock:
            seen = self.enriched.setdefault(provider, set())
            if subject in seen:
                return False
            seen.add(subject)
            return True

    def credits(self, provider: str) -> int | None:
        with self.lock:
            return self.settings[provider].credits

    def stats(self, provider: str | None = None) -> dict[str, Any]:
        with self.lock:
            names = (provider,) if provider else PROVIDERS
            return {
                p: {"counts": dict(self.counts[p]), "accepted": list(self.accepted[p])}
                for p in names
            }

    def new_container_id(self) -> str:
        with self.lock:
            self.next_container += 1
            return str(self.next_container)


def ceil_s(seconds: float) -> int:
    return max(1, math.ceil(seconds))
