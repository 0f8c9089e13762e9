"""Provider webhooks: PhantomBuster posts here when a run ends, so the search job polling that
run asks for it at once instead of at its next (slow) poll.

No session can come with a provider's call, so the path carries a secret derived from the app's
SECRET_KEY (services.providers.phantombuster.webhook_token); a wrong one is a 404. The call only
marks "this container ended" in Redis: the job still reads the container's real state from the
API, so a forged or replayed call cannot change any result.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from services import searches
from services.core.settings import get_settings
from services.providers.phantombuster import webhook_token

bp = Blueprint("webhooks", __name__)
PREFIX = "/webhooks/"


@bp.post("/webhooks/phantombuster/<token>")
def phantombuster_run_ended(token: str) -> tuple[Response, int]:
    if not hmac.compare_digest(token, webhook_token(get_settings().secret_key)):
        return jsonify(error="not found"), 404
    body = request.get_json(silent=True)
    container = body.get("containerId") if isinstance(body, dict) else None
    if not isinstance(container, (str, int)) or not str(container).isdigit():
        return jsonify(error="containerId missing"), 400
    searches.mark_container_ended(str(container))
    return jsonify(ok=True), 202
