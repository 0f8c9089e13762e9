"""`/download/projects/<id>/shortlist.csv`: a project's shortlist with verdicts and contacts,
streamed and formula-safe (recruiter role; the export is audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, stream_with_context

from services import projects
from services.audit import record
from services.core.db import unit_of_work
from services.shortlist_export import export_shortlist, shortlist_size
from web.security import acting_user, guarded_route

bp = Blueprint("shortlist_downloads", __name__)


@bp.route("/download/projects/<int:project_id>/shortlist.csv")
@guarded_route("recruiter")
def shortlist_csv(project_id: int) -> Response | tuple[Response, int]:
    user = acting_user()
    if projects.get_project(project_id) is None:
        return jsonify(error="There is no such project."), 404
    with unit_of_work() as conn:
        record(
            conn,
            user.id,
            "shortlist.export",
            "project",
            project_id,
            {"rows": shortlist_size(project_id)},
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(export_shortlist(project_id)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="shortlist-project-{project_id}-{stamp}.csv"'
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
