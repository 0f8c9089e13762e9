"""Admin downloads: the audit log (filtered like the admin page) as CSV, streamed (admin role)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request, stream_with_context

from services.audit import browse as audit_log
from services.audit import record
from services.core.db import unit_of_work
from web.security import acting_user, guarded_route

bp = Blueprint("admin_downloads", __name__)
LINES_PER_CHUNK = 500


def _csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % LINES_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.route("/download/audit.csv")
@guarded_route("admin")
def audit_csv() -> Response | tuple[Response, int]:
    user = acting_user()
    try:
        f = audit_log.parse_audit_filter(request.args.to_dict(flat=True))
    except audit_log.AuditFilterError as exc:
        return jsonify(error=f"Cannot export: {exc}"), 400
    with unit_of_work() as conn:
        record(conn, user.id, "audit.export", "audit_log", None, {"params": f.to_params()})
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(_csv_chunks(audit_log.export_rows(f))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
