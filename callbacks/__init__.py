"""Callbacks: inputs → one service call → component props. Importing this registers them all."""

from callbacks import admin, home, jobs, profiles, shell  # noqa: F401
