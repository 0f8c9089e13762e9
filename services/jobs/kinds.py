"""Job kinds and their handlers, registered where each handler is defined (`@job_kind`).

Adding a kind is one decorated function in its domain module (and, for a new module, one entry
in HANDLER_MODULES). The Celery entry point asks `handler_for(kind)`; modules are imported on the
first lookup, so a worker process pays for them only once it runs jobs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.jobs import Job

Handler = Callable[["Job"], None]

# Modules that define job kinds; each registers its handlers when imported.
HANDLER_MODULES = (
    "services.imports",
    "services.searches",
    "services.enrichment",
    "services.filters.apply",
    "services.screening.job",
    "services.contacts",
    "services.recount",
)
_registry: dict[str, Handler] = {}


def job_kind(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs of `kind`. A handler must be safe
    to run again after a crash: it skips what is committed and redoes only the in-flight chunk."""

    def register(handler: Handler) -> Handler:
        known = _registry.get(kind)
        if known is not None and known is not handler:
            raise RuntimeError(f"job kind {kind!r} is registered twice")
        _registry[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    # Import every handler module, not only "any": a module imported for other reasons (a test,
    # a service call) has registered its kinds already, and the others must still load.
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return _registry.get(kind)


def registered_kinds() -> frozenset[str]:
    handler_for("")
    return frozenset(_registry)
