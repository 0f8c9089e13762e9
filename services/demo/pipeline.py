"""Candidates moving along a project's pipeline in the demo history, and the team's tags and
notes on them: through the real `stages.move_stage` (stage history, audit) and
`tags_notes.tag_profile` / `add_note`, so the funnel's stage steps and the detail panel show
what a working team produces.

A shortlisted candidate is contacted a few days after being shortlisted (most are), some reply,
some of those interview, and an interview ends in an offer or a rejection after a week or so.
Each move happens at a history time (`at`), so the funnel by date reads like real work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services import stages, tags_notes
from services.demo.state import Demo, ProjectState

# (from stage, to stage, days in the from stage before the move, chance per look)
STEPS: tuple[tuple[str, str, float, float], ...] = (
    ("sourced", "contacted", 1.0, 0.8),
    ("contacted", "replied", 2.0, 0.35),
    ("contacted", "rejected", 6.0, 0.1),
    ("replied", "interviewing", 1.0, 0.5),
    ("interviewing", "hired", 3.0, 0.2),
    ("interviewing", "rejected", 3.0, 0.25),
)
DUE_SQL = """
SELECT pp.profile_id FROM project_profiles pp
WHERE pp.project_id = %(project)s AND pp.shortlisted AND pp.stage = %(stage)s
  AND coalesce(pp.stage_changed_at, pp.shortlisted_at, pp.added_at) < %(before)s
ORDER BY pp.profile_id
"""
TAGS = ("Strong referral", "Open to relocation", "Follow up in Q1", "Speaks German")
NOTES = {
    "replied": "Replied within a day; happy to talk next week.",
    "interviewing": "First call went well: strong on system design, wants a hybrid setup.",
    "hired": "Accepted the offer. Start date agreed with the hiring manager.",
}


def advance(demo: Demo, state: ProjectState, at: datetime) -> int:
    """One look at the project's shortlist by its owner: due candidates move on a stage."""
    owner = demo.user(state.plan.owner)
    moved = 0
    for source, target, days, chance in STEPS:
        with demo.db.tx() as conn:
            due = [
                int(r[0])
                for r in conn.execute(
                    DUE_SQL,
                    {"project": state.id, "stage": source, "before": at - timedelta(days=days)},
                ).fetchall()
            ]
        chosen = [pid for pid in due if demo.rng.random() < chance]
        if not chosen:
            continue
        # The moves, notes and tags (and their audit rows) happen at `at`, not at the clock's now.
        with demo.db.at(at, "tags", "profile_tags", "profile_notes"):
            moved += stages.move_stage(owner, state.id, chosen, target, at=at).moved
            _annotate(demo, owner, chosen, target)
    return moved


def _annotate(demo: Demo, user_id: int, profile_ids: list[int], stage: str) -> None:
    """A note on some of those who moved, a tag on a few (the team's shared vocabulary)."""
    for profile_id in profile_ids:
        if stage in NOTES and demo.rng.random() < 0.5:
            tags_notes.add_note(user_id, profile_id, NOTES[stage])
        if demo.rng.random() < 0.3:
            tags_notes.tag_profile(user_id, profile_id, demo.rng.choice(TAGS))
