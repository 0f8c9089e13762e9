"""Pure figure builders for the insights charts: typed rows in, a Plotly figure out.

No I/O. An empty selection gives a valid, axis-less figure that says so, and every trace carries
a hover template with the exact numbers behind it. Figures are plain Plotly figure dicts (the
shape `go.Figure(...).to_plotly_json()` gives): building `go` objects validates every property
and cost tens of milliseconds per chart, more than a cached read; the tests check that each
figure constructs as a `go.Figure`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from services.insights.activity import KINDS, ActivityRow
from services.insights.freshness import FreshnessRow
from services.insights.funnel import STAGES, FunnelRow
from services.insights.screening import FITS, AgreementRow, FitRow, ScoreRow
from services.insights.spend import BudgetRow, DailySpendRow, ProjectSpendRow, UserSpendRow

Figure = dict[str, Any]
EMPTY_TEXT = "No data for this selection"
FIT_COLOURS = {"strong": "#198754", "good": "#20c997", "maybe": "#ffc107", "no": "#dc3545"}
# Beyond this many projects the funnel starts with only the first few visible (legend toggles).
VISIBLE_FUNNELS = 4


def _fig(traces: list[dict[str, Any]], **layout: Any) -> Figure:
    base: dict[str, Any] = {
        "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
        "height": 320,
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"namelength": -1},
        "plot_bgcolor": "white",
    }
    # Long labels (stage names, recruiters, projects) push the plot area instead of being cut.
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {"automargin": True, **layout.get(axis, {})}
    return {"data": traces, "layout": {**base, **layout}}


def _day_label(value: Any) -> str:
    """Periods as plain dates on a category axis: a date axis with one or two bars invents
    sub-second ticks around them."""
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)[:10]


def empty_figure(text: str = EMPTY_TEXT) -> Figure:
    note = {"text": text, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
            "yref": "paper", "font": {"size": 14}}  # fmt: skip
    return _fig([], annotations=[note], xaxis={"visible": False}, yaxis={"visible": False})


def _version(project: str, version: int) -> str:
    return f"{project} v{version}"


def _bar(**props: Any) -> dict[str, Any]:
    return {"type": "bar", **props}


def funnel_figure(rows: Sequence[FunnelRow]) -> Figure:
    labels = [label for _, label in STAGES]
    traces = [
        {
            "type": "funnel",
            "name": row.project_name,
            "y": labels,
            "x": row.counts(),
            # Share of sourced: a stage after an empty one (screening everyone, say) would read
            # "Infinity%" as a share of the stage before; the hover still shows both.
            "textinfo": "value+percent initial",
            "visible": True if index <= VISIBLE_FUNNELS else "legendonly",
            "hovertemplate": "%{y}: %{x:,}<br>%{percentPrevious:.1%} of the stage before"
            "<br>%{percentInitial:.1%} of sourced<extra>%{fullData.name}</extra>",
        }
        for index, row in enumerate(rows)
    ]
    # Taller than the other charts: eleven steps (the pipeline's, then the recruiters' stages).
    return _fig(traces, height=420)


def scores_figure(rows: Sequence[ScoreRow]) -> Figure:
    series: dict[str, dict[int, int]] = defaultdict(dict)
    for r in rows:
        series[_version(r.project_name, r.prompt_version)][r.score] = r.screenings
    scores = list(range(1, 11))
    traces = [
        _bar(
            name=name,
            x=scores,
            y=[counts.get(s, 0) for s in scores],
            hovertemplate="score %{x}: %{y:,} screenings<extra>%{fullData.name}</extra>",
        )
        for name, counts in series.items()
    ]
    return _fig(traces, barmode="group", xaxis={"dtick": 1, "title": {"text": "score"}})


def fits_figure(rows: Sequence[FitRow]) -> Figure:
    groups: list[str] = []
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        label = _version(r.project_name, r.prompt_version)
        if not groups or groups[-1] != label:  # rows come ordered by project and version
            groups.append(label)
        counts[(label, r.fit)] = r.screenings
    traces = [
        _bar(
            name=fit,
            x=groups,
            y=[counts.get((g, fit), 0) for g in groups],
            marker={"color": FIT_COLOURS[fit]},
            hovertemplate="%{x}: %{y:,} " + fit + "<extra></extra>",
        )
        for fit in FITS
    ]
    return _fig(traces, barmode="stack")


def agreement_figure(rows: Sequence[AgreementRow]) -> Figure:
    reviewed = [r for r in rows if r.reviewed]
    if not reviewed:
        return empty_figure("No reviewed verdicts for this selection")
    trace = _bar(
        x=[_version(r.project_name, r.prompt_version) for r in reviewed],
        y=[r.agreement_rate for r in reviewed],
        customdata=[[r.agree, r.disagree, r.reviewed, r.screened] for r in reviewed],
        hovertemplate="%{x}: %{y:.1%} agreement<br>%{customdata[0]:,} agree,"
        " %{customdata[1]:,} disagree of %{customdata[2]:,} reviewed"
        "<br>%{customdata[3]:,} screened<extra></extra>",
    )
    return _fig([trace], yaxis={"tickformat": ".0%", "range": [0, 1]})


def activity_figure(rows: Sequence[ActivityRow]) -> Figure:
    periods = sorted({r.period for r in rows})
    per_user: dict[str, dict[Any, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        per_user[r.user_name][r.period][r.kind] = r.actions
    hover = (
        "%{x}: %{y:,} actions<br>"
        + "<br>".join(f"{k}: %{{customdata[{i}]:,}}" for i, k in enumerate(KINDS))
        + "<extra>%{fullData.name}</extra>"
    )
    traces = []
    for user, by_period in per_user.items():
        breakdown = [[by_period[p].get(k, 0) for k in KINDS] for p in periods]
        traces.append(
            _bar(
                name=user,
                x=[_day_label(p) for p in periods],
                y=[sum(b) for b in breakdown],
                customdata=breakdown,
                hovertemplate=hover,
            )
        )
    return _fig(traces, barmode="stack", xaxis={"type": "category"})


def _by_provider(rows: Sequence[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        grouped[r.provider].append(r)
    return grouped


def spend_daily_figure(rows: Sequence[DailySpendRow]) -> Figure:
    traces = [
        _bar(
            name=provider,
            x=[_day_label(r.day) for r in items],
            y=[r.cost_usd for r in items],
            customdata=[[r.calls, r.units] for r in items],
            hovertemplate="%{x}: $%{y:,.4f}<br>%{customdata[0]:,} calls,"
            " %{customdata[1]:,.2f} units<extra>%{fullData.name}</extra>",
        )
        for provider, items in _by_provider(rows).items()
    ]
    return _fig(
        traces,
        barmode="stack",
        yaxis={"tickprefix": "$"},
        xaxis={"type": "category", "categoryorder": "category ascending"},
    )


def spend_users_figure(rows: Sequence[UserSpendRow]) -> Figure:
    traces = [
        _bar(
            name=provider,
            orientation="h",
            y=[r.user_name for r in items],
            x=[r.cost_usd for r in items],
            customdata=[[r.calls, r.units] for r in items],
            hovertemplate="%{y}: $%{x:,.4f}<br>%{customdata[0]:,} calls,"
            " %{customdata[1]:,.2f} units<extra>%{fullData.name}</extra>",
        )
        for provider, items in _by_provider(rows).items()
    ]
    return _fig(traces, barmode="stack", xaxis={"tickprefix": "$"})


def spend_projects_figure(rows: Sequence[ProjectSpendRow]) -> Figure:
    names = [r.project_name for r in rows]
    custom = [[r.cost_usd, r.qualified, r.contacted] for r in rows]
    hover = (
        "<br>spend $%{customdata[0]:,.4f}, %{customdata[1]:,} qualified,"
        " %{customdata[2]:,} contacted<extra></extra>"
    )
    traces = [
        _bar(
            name="per qualified candidate",
            x=names,
            y=[r.cost_per_qualified for r in rows],
            customdata=custom,
            hovertemplate="%{x}: $%{y:,.4f} per strong/good fit" + hover,
        ),
        _bar(
            name="per contacted candidate",
            x=names,
            y=[r.cost_per_contacted for r in rows],
            customdata=custom,
            hovertemplate="%{x}: $%{y:,.4f} per contacted candidate" + hover,
        ),
    ]
    return _fig(traces, barmode="group", yaxis={"tickprefix": "$"})


def budgets_figure(rows: Sequence[BudgetRow]) -> Figure:
    custom = [
        [
            r.used_today,
            r.daily_budget or "no budget",
            "n/a" if r.left_today is None else r.left_today,
            r.avg_per_day,
            r.metric,
            r.mode,
        ]
        for r in rows
    ]
    trace = _bar(
        x=[r.provider for r in rows],
        y=[r.burn_today or 0.0 for r in rows],
        customdata=custom,
        hovertemplate="%{x} (%{customdata[5]}): %{y:.1%} of today's budget"
        "<br>used %{customdata[0]:,.4f} of %{customdata[1]} %{customdata[4]}"
        "<br>left %{customdata[2]}<br>average %{customdata[3]:,.4f} per day<extra></extra>",
    )
    return _fig([trace], yaxis={"tickformat": ".1%", "rangemode": "tozero"})


def freshness_figure(rows: Sequence[FreshnessRow]) -> Figure:
    colours = ["#dc3545" if r.due else ("#adb5bd" if r.bucket == 6 else "#0d6efd") for r in rows]
    trace = _bar(
        x=[r.label for r in rows],
        y=[r.profiles for r in rows],
        marker={"color": colours},
        customdata=["due for refresh" if r.due else "" for r in rows],
        hovertemplate="%{x}: %{y:,} profiles %{customdata}<extra></extra>",
    )
    return _fig([trace])


BUILDERS: dict[str, Callable[[Any], Figure]] = {
    "funnel": funnel_figure,
    "scores": scores_figure,
    "fits": fits_figure,
    "agreement": agreement_figure,
    "activity": activity_figure,
    "spend_daily": spend_daily_figure,
    "spend_users": spend_users_figure,
    "spend_projects": spend_projects_figure,
    "budgets": budgets_figure,
    "freshness": freshness_figure,
}


def figure(chart: str, rows: Sequence[Any]) -> Figure:
    """The chart's figure, or the empty-state figure when the selection has no rows."""
    if not rows:
        return empty_figure()
    return BUILDERS[chart](rows)
