"""The demo team's last 90 days, day by day: projects opening, searches and uploads, the
pipeline (enrich → filter → screen) over each day's new people, reviews of the verdicts,
shortlists and contact lookups, and the weekly refresh of the sheet-backed list.

Everything is drawn from one `random.Random`, in a fixed order, so a seed and a reference time
always give the same history. Who works which day follows a weekday pattern (clock.works), and
each step's time of day keeps the order a real day has.
"""

from __future__ import annotations

from services.demo import clock, enrich, outreach, pipeline, screening, sourcing, team
from services.demo.plan import PROJECTS, TEAM
from services.demo.state import Demo, ProjectState

SEARCH_CHANCE = 0.12  # per project member present, Monday to Thursday
UPLOAD_CHANCE = 0.05  # per project, Monday to Friday
LEAD_REVIEW_CHANCE = 0.35
RECRUITER_REVIEW_CHANCE = 0.15
SHORTLIST_CHANCE = 0.6  # per project on Thursday and Friday, when its owner works
RESCREEN_SHARE = 0.45  # of earlier verdicts re-run when the criteria change
KICKOFF_SIZE = 60
PIPELINE_BATCH = 50  # new members that make a recruiter run the pipeline straight away
PIPELINE_WAIT = 4  # days new members wait at most


def run(demo: Demo) -> None:
    for day in clock.days(demo.now, demo.days):
        present = {m.key: clock.works(demo.rng, day) for m in TEAM}
        _morning(demo, day, present)
        _searches(demo, day, present)
        if present["lead"] and demo.rng.random() < LEAD_REVIEW_CHANCE and day.open:
            screening.review(demo, "lead", demo.projects, day.at(10.5))
        _uploads(demo, day, present)
        _recruiter_reviews(demo, day, present)
        _pipelines(demo, day, present)
        _outreach(demo, day, present)
    with demo.db.tx() as conn:
        demo.usage.write(conn)


def _morning(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    if day.ago == demo.days - 1:
        team.create_lists(demo, day.at(8.25))
    elif day.weekday == 0 and present["lead"] and day.open:
        team.resync_sheet(demo, day.at(8.1))
    for plan in PROJECTS:
        if clock.scaled(plan.opened_days_ago, demo.days) == day.ago:
            state = team.open_project(demo, plan, day.at(8.75))
            sourcing.search(demo, state, plan.owner, day.at(9.25), KICKOFF_SIZE)
    for state in demo.projects:
        v2 = state.plan.v2_days_ago
        if v2 is not None and clock.scaled(v2, demo.days) == day.ago and day.open:
            team.tighten_criteria(demo, state, day.at(9.0))
            screening.screen(demo, state, state.plan.owner, day.at(9.5), RESCREEN_SHARE)


def _searches(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    searched = False
    for state in list(demo.projects):
        for key in state.team:
            if present[key] and day.weekday < 4 and demo.rng.random() < SEARCH_CHANCE:
                hour = clock.work_hour(demo.rng, 9.0, 12.0)
                if day.open:
                    sourcing.search(demo, state, key, day.at(hour))
                    searched = True
    if day.ago == 0 and day.open and not searched and demo.projects:
        state = demo.rng.choice(demo.projects)  # so that "today" shows some provider use
        sourcing.search(demo, state, state.plan.owner, day.at(10.0))


def _present_member(demo: Demo, state: ProjectState, present: dict[str, bool]) -> str:
    if present[state.plan.owner]:
        return state.plan.owner
    return next((k for k in state.team if present[k]), state.plan.owner)


def _uploads(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    for state in demo.projects:
        if day.weekday < 5 and demo.rng.random() < UPLOAD_CHANCE:
            who = _present_member(demo, state, present)
            hour = clock.work_hour(demo.rng, 11.0, 15.0)
            if day.open:
                sourcing.upload(demo, state, who, day.at(hour))


def _recruiter_reviews(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    for member in TEAM:
        if member.role != "recruiter" or not present[member.key]:
            continue
        if demo.rng.random() < RECRUITER_REVIEW_CHANCE:
            theirs = [s for s in demo.projects if member.key in s.team]
            hour = clock.work_hour(demo.rng, 13.0, 15.0)
            if theirs and day.open:
                screening.review(demo, member.key, theirs, day.at(hour))


def _pipelines(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    """Each project's new people, in batches: enriched, filtered, then screened once enough
    have come in, on Fridays, or when the oldest has waited a few days."""
    for state in demo.projects:
        if not state.fresh or not day.open:
            continue
        waited = (day.at(16.0) - (state.waiting_since or day.start)).days
        batch_due = len(state.fresh) >= PIPELINE_BATCH or waited >= PIPELINE_WAIT
        if not (batch_due or day.weekday == 4 or day.ago == 0):
            continue
        who = _present_member(demo, state, present)
        enrich.enrich(demo, state, who, day.at(15.5))
        sourcing.apply_filters(demo, state, who, day.at(15.75))
        screening.screen(demo, state, who, day.at(16.0))
        state.fresh.clear()


def _outreach(demo: Demo, day: clock.Day, present: dict[str, bool]) -> None:
    for state in demo.projects:
        if not present[state.plan.owner] or not day.open:
            continue
        pipeline.advance(demo, state, day.at(11.4))  # the shortlist's daily follow-up
        if day.weekday not in (3, 4):
            continue
        if demo.rng.random() < SHORTLIST_CHANCE and outreach.shortlist(demo, state, day.at(16.6)):
            outreach.look_up(demo, state, day.at(16.8))
