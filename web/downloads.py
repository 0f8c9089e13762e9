"""Downloads: the profile grid's current view as CSV, streamed from Postgres as it is read."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request, stream_with_context

from services import grid
from services.audit import record
from services.core.db import unit_of_work
from web.security import acting_user, guarded_route

bp = Blueprint("downloads", __name__)


@bp.route("/download/profiles.csv")
@guarded_route("recruiter")
def profiles_csv() -> Response | tuple[Response, int]:
    user = acting_user()
    try:
        # Lists for repeated keys, as the page gets them from Dash: the last one wins in both.
        query = grid.url_params_to_query(request.args.to_dict(flat=False))
    except (grid.GridQueryError, ValueError) as exc:
        return jsonify(error=f"Cannot export this view: {exc}"), 400
    with unit_of_work() as conn:
        record(
            conn,
            user.id,
            "profiles.export",
            "profiles",
            None,
            {"params": grid.query_to_url_params(query)},
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(grid.export_csv(query)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="profiles-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
