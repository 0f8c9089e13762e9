"""AG Grid filter model -> validated, canonical model -> parameterised SQL conditions.

`normalize_filter_model` checks every column, filter type and operator against the allow-lists
and returns a canonical copy (so equal filters share cache keys and URLs); `compile_filter_model`
turns that copy into SQL in which values only appear as bind parameters.

Semantics (documented for the page; set `filterParams.inRangeInclusive: true` so AG Grid's own
labels match):
- text: case-insensitive; `contains`/`startsWith`/`endsWith` are ILIKE with %, _ and \\ escaped;
  `notEqual`/`notContains` keep blank (NULL) cells, as AG Grid does client-side; `blank` is NULL
  or only whitespace. Without pg_trgm these are scans, not index lookups.
- number: NULL cells never match a comparison (also not `notEqual`); `inRange` is inclusive.
- date: whole UTC days; `dateFrom`/`dateTo` 'YYYY-MM-DD[ hh:mm:ss]' (time ignored); `inRange`
  covers both days; `equals` means "on that day".
- `empty` (AG Grid's "no condition chosen") matches everything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from psycopg import sql

from services.grid.columns import Column, get_column
from services.grid.errors import GridQueryError, shown
from services.grid.params import TRUE, Params, and_all, or_all

MAX_CONDITIONS = 10
MAX_TEXT_LENGTH = 500

# What the grids offer, in menu order (layouts build their column filters from these); the
# compiler accepts exactly these plus "empty", AG Grid's "no condition chosen yet".
TEXT_OPTIONS = (
    "contains",
    "notContains",
    "equals",
    "notEqual",
    "startsWith",
    "endsWith",
    "blank",
    "notBlank",
)
NUMBER_OPTIONS = (
    "equals",
    "notEqual",
    "lessThan",
    "lessThanOrEqual",
    "greaterThan",
    "greaterThanOrEqual",
    "inRange",
    "blank",
    "notBlank",
)
DATE_OPTIONS = ("equals", "notEqual", "lessThan", "greaterThan", "inRange", "blank", "notBlank")
TEXT_OPS = frozenset({"empty", *TEXT_OPTIONS})
SCALAR_OPS = frozenset({"empty", *NUMBER_OPTIONS, *DATE_OPTIONS})
NO_VALUE_OPS = frozenset({"empty", "blank", "notBlank"})
OPS_BY_KIND = {"text": TEXT_OPS, "number": SCALAR_OPS, "date": SCALAR_OPS}
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")

Model = dict[str, dict[str, Any]]


# ---------------------------------------------------------------- validation / canonical form


def normalize_filter_model(model: object, columns: Mapping[str, Column] | None = None) -> Model:
    """A canonical, validated copy of an AG Grid filterModel (raises GridQueryError); columns
    come from `columns` (the profile grid's allow-list by default)."""
    if model is None:
        return {}
    if not isinstance(model, dict):
        raise GridQueryError("The filter model must be an object of column -> filter.")
    out: Model = {}
    for col_id in sorted(model, key=str):
        column = get_column(col_id, "filter", columns)
        spec = model[col_id]
        if not isinstance(spec, dict):
            raise GridQueryError(f"The filter on {column.col_id} must be an object.")
        normalized = _normalize_column_filter(column, spec)
        if normalized is not None:
            out[column.col_id] = normalized
    return out


def _normalize_column_filter(column: Column, spec: dict[str, Any]) -> dict[str, Any] | None:
    kind = _check_filter_type(column, spec.get("filterType"))
    if "conditions" in spec or "condition1" in spec:
        operator = spec.get("operator", "AND")
        if operator not in ("AND", "OR"):
            raise GridQueryError(
                f"Filter operator {shown(operator)} on {column.col_id} is not AND or OR."
            )
        if "conditions" in spec:
            raw = spec["conditions"]
            if not isinstance(raw, list):
                raise GridQueryError(f"The conditions on {column.col_id} must be a list.")
        else:  # pre-v29 AG Grid shape
            raw = [spec[k] for k in ("condition1", "condition2") if spec.get(k) is not None]
        if len(raw) > MAX_CONDITIONS:
            raise GridQueryError(
                f"At most {MAX_CONDITIONS} conditions are allowed on {column.col_id}."
            )
        conditions = []
        for cond in raw:
            if not isinstance(cond, dict):
                raise GridQueryError(f"A condition on {column.col_id} must be an object.")
            _check_filter_type(column, cond.get("filterType", kind))
            conditions.append(_normalize_condition(column, cond))
        if not conditions:
            return None
        if len(conditions) == 1:
            return conditions[0]
        return {"filterType": kind, "operator": operator, "conditions": conditions}
    return _normalize_condition(column, spec)


def _check_filter_type(column: Column, filter_type: object) -> str:
    if filter_type is None:
        return column.kind
    if filter_type != column.kind:
        raise GridQueryError(
            f"Filter type {shown(filter_type)} is not allowed on {column.col_id} "
            f"(a {column.kind} column)."
        )
    return column.kind


def _normalize_condition(column: Column, cond: dict[str, Any]) -> dict[str, Any]:
    op = cond.get("type", "empty")
    if op not in OPS_BY_KIND[column.kind]:
        raise GridQueryError(
            f"Filter operator {shown(op)} is not allowed on {column.col_id} "
            f"(a {column.kind} column)."
        )
    out: dict[str, Any] = {"filterType": column.kind, "type": op}
    if op in NO_VALUE_OPS:
        return out
    if column.kind == "text":
        out["filter"] = _text_value(column, cond.get("filter"))
    elif column.kind == "number":
        out["filter"] = _number_value(column, cond.get("filter"))
        if op == "inRange":
            out["filterTo"] = _number_value(column, cond.get("filterTo"))
    else:
        out["dateFrom"] = _date_value(column, cond.get("dateFrom")).isoformat()
        if op == "inRange":
            out["dateTo"] = _date_value(column, cond.get("dateTo")).isoformat()
    return out


def _text_value(column: Column, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GridQueryError(f"The text filter on {column.col_id} needs a text value.")
    text = str(value)
    if len(text) > MAX_TEXT_LENGTH:
        raise GridQueryError(
            f"The text filter on {column.col_id} is longer than {MAX_TEXT_LENGTH} characters."
        )
    if "\x00" in text:
        raise GridQueryError(f"The text filter on {column.col_id} contains a NUL character.")
    return text


def _number_value(column: Column, value: object) -> int | float:
    number: int | float
    if isinstance(value, bool):
        raise GridQueryError(f"The number filter on {column.col_id} needs a number.")
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise GridQueryError(
                f"The number filter on {column.col_id} needs a number, not {shown(value)}."
            ) from None
    else:
        raise GridQueryError(f"The number filter on {column.col_id} needs a number.")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise GridQueryError(f"The number filter on {column.col_id} must be finite.")
        if number.is_integer() and abs(number) < 2**53:
            number = int(number)  # 5.0 and 5 are the same filter (and the same cache key)
    if isinstance(number, int) and abs(number) >= 2**63:
        raise GridQueryError(f"The number filter on {column.col_id} is out of range.")
    return number


def _date_value(column: Column, value: object) -> date:
    if not isinstance(value, str):
        raise GridQueryError(
            f"The date filter on {column.col_id} needs a date (YYYY-MM-DD); presets such as "
            "'today' are not supported."
        )
    match = _DATE_RE.match(value.strip())
    if match is None:
        raise GridQueryError(
            f"The date filter on {column.col_id} needs YYYY-MM-DD, not {shown(value)}."
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise GridQueryError(f"{shown(value)} is not a valid date.") from None


# ---------------------------------------------------------------- SQL


def compile_filter_model(
    model: Model, params: Params, columns: Mapping[str, Column] | None = None
) -> list[sql.Composable]:
    """SQL conditions (to be AND-ed) for a model; the model is re-validated first."""
    parts = []
    for col_id, spec in normalize_filter_model(model, columns).items():
        column = get_column(col_id, "filter", columns)
        if "conditions" in spec:
            compiled = [_condition_sql(column, c, params) for c in spec["conditions"]]
            parts.append(and_all(compiled) if spec["operator"] == "AND" else or_all(compiled))
        else:
            parts.append(_condition_sql(column, spec, params))
    return parts


def _condition_sql(column: Column, cond: dict[str, Any], params: Params) -> sql.Composable:
    op = cond["type"]
    if op == "empty":
        return TRUE
    if column.kind == "text":
        return _text_sql(column.filter_expr(), op, cond.get("filter", ""), params)
    if column.kind == "number":
        return _number_sql(column.filter_expr(), op, cond, params)
    return _date_sql(column.filter_expr(), op, cond, params)


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so user text matches literally (backslash is the escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_sql(expr: sql.Composable, op: str, value: str, params: Params) -> sql.Composable:
    if op == "blank":
        return sql.SQL("({e} IS NULL OR btrim({e}) = '')").format(e=expr)
    if op == "notBlank":
        return sql.SQL("({e} IS NOT NULL AND btrim({e}) <> '')").format(e=expr)
    if op in ("equals", "notEqual"):
        ph = params.add(value)
        if op == "equals":
            return sql.SQL("lower({e}) = lower({v}::text)").format(e=expr, v=ph)
        return sql.SQL("({e} IS NULL OR lower({e}) <> lower({v}::text))").format(e=expr, v=ph)
    escaped = like_escape(value)
    pattern = {
        "contains": f"%{escaped}%",
        "notContains": f"%{escaped}%",
        "startsWith": f"{escaped}%",
        "endsWith": f"%{escaped}",
    }[op]
    ph = params.add(pattern)
    if op == "notContains":
        return sql.SQL("({e} IS NULL OR {e} NOT ILIKE {v}::text)").format(e=expr, v=ph)
    return sql.SQL("{e} ILIKE {v}::text").format(e=expr, v=ph)


_COMPARATORS = {
    "equals": "=",
    "notEqual": "<>",
    "lessThan": "<",
    "lessThanOrEqual": "<=",
    "greaterThan": ">",
    "greaterThanOrEqual": ">=",
}


def _number_sql(
    expr: sql.Composable, op: str, cond: dict[str, Any], params: Params
) -> sql.Composable:
    if op == "blank":
        return sql.SQL("{} IS NULL").format(expr)
    if op == "notBlank":
        return sql.SQL("{} IS NOT NULL").format(expr)
    if op == "inRange":
        low, high = sorted((cond["filter"], cond["filterTo"]))
        return sql.SQL("{e} BETWEEN {lo} AND {hi}").format(
            e=expr, lo=params.add(low), hi=params.add(high)
        )
    return sql.SQL("{} {} {}").format(expr, sql.SQL(_COMPARATORS[op]), params.add(cond["filter"]))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _date_sql(
    expr: sql.Composable, op: str, cond: dict[str, Any], params: Params
) -> sql.Composable:
    if op == "blank":
        return sql.SQL("{} IS NULL").format(expr)
    if op == "notBlank":
        return sql.SQL("{} IS NOT NULL").format(expr)
    day = date.fromisoformat(cond["dateFrom"])
    start, next_day = _day_start(day), _day_start(day + timedelta(days=1))
    if op == "inRange":
        first, last = sorted((day, date.fromisoformat(cond["dateTo"])))
        start, next_day = _day_start(first), _day_start(last + timedelta(days=1))
    # Whole-day semantics expressed as half-open ranges, so a (column, id) index can serve them.
    templates = {
        "equals": "({e} >= {a} AND {e} < {b})",
        "inRange": "({e} >= {a} AND {e} < {b})",
        "notEqual": "({e} < {a} OR {e} >= {b})",
        "lessThan": "{e} < {a}",
        "lessThanOrEqual": "{e} < {b}",
        "greaterThan": "{e} >= {b}",
        "greaterThanOrEqual": "{e} >= {a}",
    }
    template = templates[op]
    values: dict[str, sql.Composable] = {"e": expr}
    if "{a}" in template:
        values["a"] = params.add(start)
    if "{b}" in template:
        values["b"] = params.add(next_day)
    return sql.SQL(template).format(**values)
