"""Celery tasks of the profiles grid: a large view's jump map (services/grid/jumpmap.py) and a
slow view's exact count (services/grid/counting.py)."""

from __future__ import annotations

import logging
from typing import Any

from celery_app import celery
from services.grid import counting, jumpmap
from services.grid.errors import GridQueryError

log = logging.getLogger(__name__)


@celery.task(name=jumpmap.TASK_NAME, acks_late=True, ignore_result=True)
def grid_jump_map(args: dict[str, Any], version: int) -> int:
    """Idempotent: a second delivery stores the same boundaries again."""
    try:
        return jumpmap.build_map(args, version)
    except GridQueryError as exc:  # validated again here: a task message is input too
        log.warning("refused a grid jump map request: %s", exc)
        return 0


@celery.task(name=counting.TASK_NAME, acks_late=True, ignore_result=True)
def grid_exact_count(view: dict[str, Any], version: int) -> int | None:
    """Idempotent: a second delivery finds the count cached (or stores the same number)."""
    try:
        return counting.count_exactly(view, version)
    except GridQueryError as exc:  # validated again here: a task message is input too
        log.warning("refused a grid count request: %s", exc)
        return None
