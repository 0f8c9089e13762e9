"""Screening criteria, the versioned prompt built from them, the structured answer the model
must give, and the exact candidate data sent (with its hash).

Saving criteria that change the prompt (or the model) creates `prompt_versions` row n+1 holding
the exact system prompt text and model; verdicts point at that row, so a verdict can be
reproduced (prompt text + model + the candidate JSON whose sha256 is `input_hash`) and two
versions compared. Identical criteria do not create a new version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from services import audit
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.settings import tuning
from services.jobs import JobError

MAX_ITEMS = 20
MAX_ITEM_CHARS = 300
MAX_NOTES = 3000
FITS = ("strong", "good", "maybe", "no")
# Exactly these profile columns are sent; names are left out on purpose (not needed to judge
# fit, and one less piece of personal data leaving the system).
SENT_FIELDS = (
    "headline",
    "current_title",
    "current_company",
    "location",
    "seniority",
    "years_experience",
    "skills",
    "schools",
)


def default_model() -> str:
    return tuning().screening_model


class CriterionCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    status: Literal["met", "unmet", "unknown"]
    evidence: str


class ScreeningAnswer(BaseModel):
    """The structured answer (strict JSON schema). Fit bands are listed weakest first."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=10, description="Overall fit score, 1 (none) to 10 (ideal)")
    fit: Literal["no", "maybe", "good", "strong"]
    checks: list[CriterionCheck] = Field(
        description="One line per criterion: met, unmet or unknown, with evidence"
    )
    reasoning: str = Field(description="Two or three sentences")


@dataclass(frozen=True)
class Criteria:
    must_haves: list[str] = field(default_factory=list)
    nice_to_haves: list[str] = field(default_factory=list)
    dealbreakers: list[str] = field(default_factory=list)
    notes: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "must_haves": self.must_haves,
            "nice_to_haves": self.nice_to_haves,
            "dealbreakers": self.dealbreakers,
            "notes": self.notes,
        }

    @property
    def empty(self) -> bool:
        return not (self.must_haves or self.nice_to_haves or self.dealbreakers or self.notes)


def _lines(value: object) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        return []
    items = [" ".join(str(v).split()) for v in value]
    items = [i for i in items if i]
    if len(items) > MAX_ITEMS:
        raise JobError(f"At most {MAX_ITEMS} criteria per section")
    if any(len(i) > MAX_ITEM_CHARS for i in items):
        raise JobError(f"A criterion is at most {MAX_ITEM_CHARS} characters")
    return list(dict.fromkeys(items))


def parse_criteria(
    must_haves: object, nice_to_haves: object, dealbreakers: object, notes: object
) -> Criteria:
    """Criteria from form values (text with one item per line, or lists)."""
    text = str(notes or "").strip()
    if len(text) > MAX_NOTES:
        raise JobError(f"Notes are at most {MAX_NOTES} characters")
    return Criteria(_lines(must_haves), _lines(nice_to_haves), _lines(dealbreakers), text)


def build_prompt(project_name: str, criteria: Criteria) -> str:
    """The exact system prompt of a version (stored verbatim in prompt_versions)."""

    def section(title: str, items: list[str]) -> str:
        body = "\n".join(f"- {i}" for i in items) if items else "- (none)"
        return f"{title}:\n{body}"

    return "\n\n".join(
        [
            "You screen candidates for a recruiting team. Judge only from the candidate data "
            "given; when the data does not say, mark the criterion 'unknown' rather than "
            "guessing. Answer in the required JSON structure.",
            f"Role: {project_name}",
            section("Must-haves", criteria.must_haves),
            section("Nice-to-haves", criteria.nice_to_haves),
            section("Dealbreakers (any one met means fit 'no')", criteria.dealbreakers),
            f"Notes from the recruiter:\n{criteria.notes or '(none)'}",
            "Give a score from 1 to 10, a fit band (strong, good, maybe, no), one check per "
            "must-have, nice-to-have and dealbreaker with evidence from the data, and a short "
            "reasoning.",
        ]
    )


def candidate_json(profile: dict[str, Any]) -> str:
    """The canonical JSON of the exact fields sent (sorted keys, no whitespace)."""
    payload = {k: profile.get(k) for k in SENT_FIELDS}
    payload["skills"] = list(payload.get("skills") or [])
    payload["schools"] = list(payload.get("schools") or [])
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_hash(sent: str) -> str:
    return hashlib.sha256(sent.encode()).hexdigest()


def messages(prompt_text: str, sent: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": prompt_text},
        {"role": "user", "content": f"Candidate (JSON):\n{sent}"},
    ]


@dataclass(frozen=True)
class PromptVersion:
    id: int
    project_id: int
    version: int
    criteria: dict[str, Any]
    prompt_text: str
    model: str
    created_by: int | None
    created_at: datetime


VERSION_SQL = (
    "SELECT id, project_id, version, criteria, prompt_text, model, created_by, created_at"
    " FROM prompt_versions"
)


def _version(row: Any) -> PromptVersion:
    return PromptVersion(*row)


def save_criteria(
    user_id: int, project_id: int, criteria: Criteria, model: str | None = None
) -> PromptVersion:
    """Store the criteria; a changed prompt or model becomes version n+1 (returned)."""
    if criteria.empty:
        raise JobError("Enter at least one criterion or a note")
    model = (model or default_model()).strip()[:100]
    with unit_of_work() as conn:
        # Lock the project row so two saves cannot both become version n+1.
        project = conn.execute(
            "SELECT name FROM projects WHERE id = %s FOR UPDATE", (project_id,)
        ).fetchone()
        if project is None:
            raise JobError("No such project")
        text = build_prompt(str(project[0]), criteria)
        latest = conn.execute(
            VERSION_SQL + " WHERE project_id = %s ORDER BY version DESC LIMIT 1", (project_id,)
        ).fetchone()
        conn.execute(
            "UPDATE projects SET criteria = %s, updated_at = now() WHERE id = %s",
            (Jsonb(criteria.as_json()), project_id),
        )
        if latest is not None and latest[4] == text and latest[5] == model:
            return _version(latest)
        version = _insert_version(conn, user_id, project_id, criteria, text, model, latest)
    bump_data_version("projects")
    return version


def _insert_version(
    conn: psycopg.Connection,
    user_id: int,
    project_id: int,
    criteria: Criteria,
    text: str,
    model: str,
    latest: Any,
) -> PromptVersion:
    """Version n+1 (after `latest`, the newest row or None), with its audit row."""
    row = conn.execute(
        "INSERT INTO prompt_versions (project_id, version, criteria, prompt_text, model,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s)"
        " RETURNING id, project_id, version, criteria, prompt_text, model, created_by,"
        " created_at",
        (
            project_id,
            (latest[2] if latest else 0) + 1,
            Jsonb(criteria.as_json()),
            text,
            model,
            user_id,
        ),
    ).fetchone()
    assert row is not None
    audit.record(
        conn, user_id, "screening.prompt_version", "project", project_id, {"version": row[2]}
    )
    return _version(row)


def latest_version(project_id: int) -> PromptVersion | None:
    with unit_of_work() as conn:
        row = conn.execute(
            VERSION_SQL + " WHERE project_id = %s ORDER BY version DESC LIMIT 1", (project_id,)
        ).fetchone()
    return _version(row) if row else None


def get_version(version_id: int) -> PromptVersion | None:
    with unit_of_work() as conn:
        row = conn.execute(VERSION_SQL + " WHERE id = %s", (version_id,)).fetchone()
    return _version(row) if row else None


def list_versions(project_id: int) -> list[PromptVersion]:
    with unit_of_work() as conn:
        rows = conn.execute(
            VERSION_SQL + " WHERE project_id = %s ORDER BY version DESC", (project_id,)
        ).fetchall()
    return [_version(r) for r in rows]


def current_criteria(project_id: int) -> Criteria:
    with unit_of_work() as conn:
        row = conn.execute("SELECT criteria FROM projects WHERE id = %s", (project_id,)).fetchone()
    data = row[0] if row and isinstance(row[0], dict) else {}
    return Criteria(
        list(data.get("must_haves") or []),
        list(data.get("nice_to_haves") or []),
        list(data.get("dealbreakers") or []),
        str(data.get("notes") or ""),
    )
