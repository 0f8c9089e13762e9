"""/healthz: is this web worker able to reach Postgres and Redis? JSON, no login, no data."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from services.core.db import unit_of_work
from services.core.redis_client import get_redis

bp = Blueprint("health", __name__)


def _check(fn) -> dict[str, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # any failure makes the dependency unhealthy, with its type
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _postgres() -> None:
    with unit_of_work() as conn:
        conn.execute("SELECT 1")


def _redis() -> None:
    get_redis().ping()


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    checks = {"postgres": _check(_postgres), "redis": _check(_redis)}
    healthy = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if healthy else "unhealthy", checks=checks), 200 if healthy else 503
