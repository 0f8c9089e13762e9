"""The AG Grid filter models the grid accepts, as Hypothesis strategies and sample values.

Shared by the pure grid tests (URL round trips) and the ones that run the compiled SQL on Postgres
(semantics against a Python model), so both draw from one definition of a valid model.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from services.grid import COLUMNS

HYPOTHESIS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TEXT_VALUES = ["an", "ENGINEER", "50%", "max_1", "o'", "back\\", "", "acme", "zz", "ber"]
TEXT_OPS = ["contains", "notContains", "equals", "notEqual", "startsWith", "endsWith"]
SCALAR_OPS = ["equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan",
              "greaterThanOrEqual"]  # fmt: skip
DATES = ["2024-01-01", "2024-01-15 00:00:00", "2024-02-10T00:00:00", "2023-12-31", "2024-03-05"]

text_cond = st.fixed_dictionaries(
    {"filterType": st.just("text"), "type": st.sampled_from([*TEXT_OPS, "blank", "notBlank"]),
     "filter": st.sampled_from(TEXT_VALUES)}
)  # fmt: skip
number_cond = st.fixed_dictionaries(
    {"filterType": st.just("number"), "type": st.sampled_from([*SCALAR_OPS, "inRange", "blank"]),
     "filter": st.integers(-2, 35), "filterTo": st.integers(-2, 35)}
)  # fmt: skip
date_cond = st.fixed_dictionaries(
    {"filterType": st.just("date"), "type": st.sampled_from([*SCALAR_OPS, "inRange", "notBlank"]),
     "dateFrom": st.sampled_from(DATES), "dateTo": st.sampled_from(DATES)}
)  # fmt: skip
COND_BY_KIND = {"text": text_cond, "number": number_cond, "date": date_cond}


@st.composite
def filter_models(draw: st.DrawFn) -> dict[str, Any]:
    col_ids = draw(st.lists(st.sampled_from(sorted(COLUMNS)), max_size=3, unique=True))
    model: dict[str, Any] = {}
    for col_id in col_ids:
        kind = COLUMNS[col_id].kind
        conds = draw(st.lists(COND_BY_KIND[kind], min_size=1, max_size=3))
        if len(conds) == 1:
            model[col_id] = conds[0]
        else:
            op = draw(st.sampled_from(["AND", "OR"]))
            model[col_id] = {"filterType": kind, "operator": op, "conditions": conds}
    return model
