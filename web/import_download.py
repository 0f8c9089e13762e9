"""`/download/projects/<id>/imports/<import id>/rows.csv`: an import's rows that were not added,
with their outcome and reason, streamed and formula-safe (recruiter role; audited)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, stream_with_context

from services.audit import record
from services.core.db import unit_of_work
from services.imports import export_import_rows, import_exists
from web.security import acting_user, guarded_route

bp = Blueprint("import_downloads", __name__)


@bp.route("/download/projects/<int:project_id>/imports/<int:import_id>/rows.csv")
@guarded_route("recruiter")
def import_rows_csv(project_id: int, import_id: int) -> Response | tuple[Response, int]:
    user = acting_user()
    if import_exists(project_id, import_id) is None:
        return jsonify(error="This project has no such import."), 404
    with unit_of_work() as conn:
        record(conn, user.id, "import.rows_export", "project", project_id, {"import_id": import_id})
    return Response(
        stream_with_context(export_import_rows(project_id, import_id)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="import-{import_id}-rows-not-added.csv"'
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
