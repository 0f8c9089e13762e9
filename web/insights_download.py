"""CSV of one insights chart: the same cached aggregate rows the chart shows, formula-safe.

`/download/insights/<chart>.csv?from=...&to=...&project=...&user=...&grain=...` (lead role).
The chart name is checked against the chart registry and the filter parsed like the page URL.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, jsonify, request

from services import insights
from services.audit import record
from services.core.db import unit_of_work
from web.security import acting_user, guarded_route

bp = Blueprint("insights_downloads", __name__)


@bp.route("/download/insights/<chart>.csv")
@guarded_route("lead")
def chart_csv(chart: str) -> Response | tuple[Response, int]:
    user = acting_user()
    if chart not in insights.CHARTS:
        return jsonify(error="There is no such chart."), 404
    try:
        f = insights.parse_filter(request.args.to_dict(flat=True))
    except insights.InsightsFilterError as exc:
        return jsonify(error=f"Cannot export this view: {exc}"), 400
    rows = insights.chart_rows(chart, f)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(insights.csv_lines(chart, rows))
    with unit_of_work() as conn:
        record(conn, user.id, "insights.export", "insights", chart, {"params": f.to_params()})
    stamp = f"{f.date_from.isoformat()}_{f.date_to.isoformat()}"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="insights-{chart}-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
