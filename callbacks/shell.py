"""Shell callbacks: the profile count in the navbar."""

from __future__ import annotations

from dash import Input, Output, callback

from callbacks.kit import guarded
from layouts import ids
from services.overview import overview


@callback(Output(ids.NAV_PROFILE_COUNT, "children"), Input(ids.URL, "pathname"))
@guarded(role="recruiter")
def show_profile_count(_pathname: str | None) -> str:
    return f"{overview().profiles:,} profiles"
