"""Job kinds are registered where their handlers are defined; one kind has one handler."""

from __future__ import annotations

import pytest

from services.jobs import kinds


def test_every_pipeline_kind_has_its_handler() -> None:
    assert kinds.registered_kinds() == {
        "import_csv",
        "search_run",
        "enrich",
        "apply_filters",
        "screening",
        "contact_lookup",
        "recount_profiles",
    }
    from services.enrichment import run_enrichment

    assert kinds.handler_for("enrich") is run_enrichment
    assert kinds.handler_for("no such kind") is None


def test_a_kind_cannot_be_registered_twice() -> None:
    def other(job: object) -> None:
        raise AssertionError("never run")

    with pytest.raises(RuntimeError, match="registered twice"):
        kinds.job_kind("enrich")(other)  # type: ignore[arg-type]


def test_kinds_of_modules_not_yet_imported_are_found_after_one_module_was() -> None:
    import services.recount  # noqa: F401  (registers one kind before any lookup)

    assert kinds.handler_for("contact_lookup") is not None
