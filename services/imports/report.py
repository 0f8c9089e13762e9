"""What an import reports, and the rule every way into a project shares.

Every row of an import ends with one outcome (new, linked, already in the project, skipped or
failed), so the counts add up to the rows; ImportReport carries those counts and the first
skipped rows with their reasons. Uploads and imports both refuse a project that is missing or
archived, with the same message, through `require_active_project`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from services.csv_source import ImportRefused

MAX_ROWS = 500_000
SKIPPED_SHOWN = 100
OUTCOMES = ("new", "linked", "already", "skipped", "failed")
NOT_ADDED = ("skipped", "failed", "already")
OUTCOME_LABELS = {
    "new": "new profile",
    "linked": "known profile, linked",
    "already": "already in project",
    "skipped": "skipped",
    "failed": "failed",
}
NO_IDENTITY = "no LinkedIn profile URL or member id"


@dataclass
class ImportReport:
    """What an import did, one outcome per row: rows = new + linked + already_in_project +
    skipped_count + failed. `skipped` holds the first skipped rows with their reasons."""

    rows: int = 0
    new: int = 0
    linked: int = 0
    already_in_project: int = 0
    skipped_count: int = 0
    failed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    # True when the per-row outcomes are in this transaction's import_stage table.
    staged: bool = field(default=False, repr=False)

    @property
    def done(self) -> int:
        """Rows whose person is now in the project (what a job reports as done)."""
        return self.new + self.linked + self.already_in_project

    def skip(self, row_no: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_SHOWN:
            self.skipped.append({"row": row_no, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("staged")
        return data


def require_active_project(conn: psycopg.Connection, project_id: int) -> None:
    row = conn.execute("SELECT status FROM projects WHERE id = %s", (project_id,)).fetchone()
    if row is None:
        raise ImportRefused("No such project")
    if row[0] != "active":
        raise ImportRefused("This project is archived; reopen it to import into it")
