"""Callbacks: inputs → one guarded service call → component props.

Importing a module registers its callbacks with `dash.callback`; `register_all()` imports every
one, once the app exists (importing the package alone registers nothing, so `callbacks.kit` can
be imported by the app before that).
"""

from importlib import import_module

MODULES = (
    "admin",
    "filters",
    "home",
    "insights",
    "jobs",
    "profile_panel",
    "profiles",
    "project_pipeline",
    "projects",
    "saved_views",
    "shell",
)


def register_all() -> None:
    for name in MODULES:
        import_module(f"callbacks.{name}")
