"""Callbacks: inputs → one service call → component props. Importing this registers them all."""

from callbacks import (  # noqa: F401
    admin,
    filters,
    home,
    insights,
    jobs,
    profiles,
    project_pipeline,
    projects,
    saved_views,
    shell,
)
