"""Request ids, request/callback metrics and the /metrics endpoint of the web tier."""

from __future__ import annotations

import json
import re
import secrets
import time

from flask import Blueprint, Flask, Response, g, jsonify, request

from services.core import metrics
from services.core.logs import REQUEST_ID, new_request_id
from services.core.settings import get_settings, tuning
from web.security import current_session_user

bp = Blueprint("observability", __name__)
_HASH_SUFFIX = re.compile(r"@[0-9a-f]+")


def callback_label(output: object) -> str:
    """A short, bounded label for a Dash callback from its `output` string (first output id)."""
    if not isinstance(output, str):
        return "unknown"
    first = _HASH_SUFFIX.sub("", output).strip(".").split("...")[0]
    if first.startswith("{"):  # pattern-matching id: label by its type
        try:
            return str(json.loads(first.rsplit("}", 1)[0] + "}").get("type", "pattern"))[:60]
        except ValueError:
            return "pattern"
    return first.rsplit(".", 1)[0][:60] or "unknown"


def _before() -> None:
    g.started = time.perf_counter()
    g.request_id = new_request_id(request.headers.get("X-Request-ID"))
    REQUEST_ID.set(g.request_id)


def _after(response: Response) -> Response:
    elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    status = f"{response.status_code // 100}xx"
    metrics.REQUESTS.labels(route, status).observe(elapsed)
    if response.status_code >= 500:
        metrics.ERRORS.labels(route).inc()
    if request.path == "/_dash-update-component" and request.is_json:
        body = request.get_json(silent=True) or {}
        metrics.CALLBACKS.labels(callback_label(body.get("output")), status).observe(elapsed)
    response.headers["X-Request-ID"] = getattr(g, "request_id", "")
    if host := get_settings().host_id:  # read once per process, not per response
        response.headers["X-SourcingX-Host"] = host
    return response


def metrics_token_ok() -> bool:
    token = tuning().metrics_token
    given = request.headers.get("Authorization", "")
    return bool(token) and secrets.compare_digest(given, f"Bearer {token}")


@bp.route("/metrics")
def metrics_endpoint() -> Response | tuple[Response, int]:
    user = current_session_user()
    if not metrics_token_ok() and (user is None or not user.has_role("admin")):
        return jsonify(error="metrics need an admin session or the METRICS_TOKEN"), 403
    try:
        from services.core.redis_client import get_redis

        metrics.QUEUE_DEPTH.set(int(get_redis().llen("sourcingx")))  # type: ignore[arg-type]
    except Exception:  # depth is best effort; the rest of the scrape must still answer
        metrics.QUEUE_DEPTH.set(-1)
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)


def install(server: Flask) -> None:
    server.before_request(_before)
    server.after_request(_after)
    server.register_blueprint(bp)
