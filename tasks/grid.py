"""Celery task that maps a large grid view's block boundaries (services/grid/jumpmap.py)."""

from __future__ import annotations

import logging
from typing import Any

from celery_app import celery
from services.grid import jumpmap
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
