"""Celery task that brings the insights funnel's rollup up to date (insights/funnel_rollup.py)."""

from __future__ import annotations

from celery_app import celery
from services.insights import funnel_rollup


@celery.task(name=funnel_rollup.TASK_NAME, acks_late=True, ignore_result=True)
def funnel_refresh() -> int:
    """Idempotent: a second delivery finds the projects unmarked (or recomputes the same rows)."""
    return funnel_rollup.run_refresh_task()
