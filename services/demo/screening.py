"""Screening in the demo history: verdicts against each project's prompt version, and the team's
reviews of them.

A screening job cannot reach OpenAI, so it writes what `screening.job.run_screening` leaves:
one `screenings` row per candidate (done with score, fit, checks and reasoning, or failed with
the real error text), the exact input hash of the data that would have been sent
(`prompt.candidate_json`), token counts from the real estimator and costs from the configured
prices, the job row and one usage row per attempt. Reviews go through the real
`results.set_override`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from services.demo.plan import LISTS, Fact, ProjectPlan
from services.demo.state import Demo, ProjectState
from services.demo.usage import Who
from services.demo.work import provider_job
from services.providers.errors import MalformedResponse, ProviderTimeout, RetriesExhausted
from services.providers.openai_client import estimate_prompt_tokens
from services.screening import prompt as pr
from services.screening import results

MODEL_SNAPSHOT = "gpt-4o-mini-2024-07-18"  # what the API answers for "gpt-4o-mini"
CLIENTS = next(s.values for s in LISTS if s.key == "clients")
SCHEMA = pr.ScreeningAnswer.model_json_schema()
SECONDS_PER_ANSWER = 0.45  # four calls in flight, ~1.8 s each

CANDIDATES_SQL = """
SELECT p.id, p.headline, p.current_title, p.current_company, p.location, p.seniority,
       p.years_experience, p.skills, p.schools
FROM project_profiles pp JOIN profiles p ON p.id = pp.profile_id
JOIN filter_results fr ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
WHERE pp.project_id = %(project)s AND fr.passed AND p.id = ANY(%(fresh)s::bigint[])
  AND NOT EXISTS (SELECT 1 FROM screenings s WHERE s.project_id = pp.project_id
                  AND s.profile_id = pp.profile_id AND s.prompt_version_id = %(version)s)
ORDER BY p.id
"""
RESCREEN_SQL = """
SELECT p.id, p.headline, p.current_title, p.current_company, p.location, p.seniority,
       p.years_experience, p.skills, p.schools
FROM screenings s JOIN profiles p ON p.id = s.profile_id
WHERE s.project_id = %(project)s AND s.status = 'done' AND s.prompt_version_id <> %(version)s
ORDER BY p.id
"""
INSERT_SQL = """
INSERT INTO screenings (project_id, profile_id, prompt_version_id, status, score, fit, checks,
    reasoning, model, input_hash, tokens_in, tokens_out, cost_usd, error, attempts, job_id,
    created_at, updated_at)
VALUES (%(project)s, %(profile)s, %(version)s, %(status)s, %(score)s, %(fit)s, %(checks)s,
    %(reasoning)s, %(model)s, %(hash)s, %(tin)s, %(tout)s, %(cost)s, %(error)s, %(attempts)s,
    %(job)s, %(created)s, %(updated)s)
"""


def _judge(plan: ProjectPlan, fact: Fact, p: dict[str, Any], strict: bool) -> tuple[str, str]:
    """A criterion's status and evidence from the profile data alone."""
    skills = [s for s in (p.get("skills") or []) if s in plan.skills]
    if fact == "title":
        title = p.get("current_title") or ""
        return ("met" if title in plan.titles else "unmet"), f"Current title: {title or 'none'}"
    if fact == "skills":
        needed = 2 if strict else 1
        if not p.get("skills"):
            return "unknown", "No skills listed"
        shown = ", ".join(skills[:3]) or "none of the named ones"
        return ("met" if len(skills) >= needed else "unmet"), f"Skills: {shown}"
    if fact == "years":
        years = p.get("years_experience")
        if years is None:
            return "unknown", "Experience not stated"
        return ("met" if years >= plan.min_years else "unmet"), f"{years} years of experience"
    if fact == "location":
        where = p.get("location") or ""
        city = plan.location.split(",")[0]
        ok = city in where or where == "Remote"
        return ("met" if ok else "unmet"), f"Location: {where or 'unknown'}"
    if fact == "not_client":
        company = p.get("current_company") or ""
        return ("met" if company in CLIENTS else "unmet"), f"Current company: {company}"
    return "unknown", "Not in the profile data"


def verdict(
    rng: random.Random, plan: ProjectPlan, p: dict[str, Any], version: int
) -> tuple[int, str, list[dict[str, str]], str]:
    """Score, fit, checks and reasoning as the model would plausibly answer for this profile."""
    strict = version > 1
    must = plan.must + (plan.v2_must if strict else ())
    checks, met = [], 0
    for text, fact in must:
        status, evidence = _judge(plan, fact, p, strict and (text, fact) in plan.v2_must)
        met += status == "met"
        checks.append({"criterion": text, "status": status, "evidence": evidence})
    for text, fact in plan.nice:
        status, evidence = _judge(plan, fact, p, False)
        checks.append({"criterion": text, "status": status, "evidence": evidence})
    dealbreaker = False
    for text, fact in plan.deal:
        status, evidence = _judge(plan, fact, p, False)
        dealbreaker = dealbreaker or status == "met"
        checks.append({"criterion": text, "status": status, "evidence": evidence})
    skills = len([s for s in (p.get("skills") or []) if s in plan.skills])
    title, where = p.get("current_title") or "", p.get("location") or ""
    score = 2 + (3 if title == plan.titles[0] else 2 if title in plan.titles else 0)
    score += min(2 * skills, 4) + (1 if (p.get("years_experience") or 0) >= plan.min_years else 0)
    score += 1 if plan.location.split(",")[0] in where or where == "Remote" else 0
    score += rng.choice((-1, -1, 0, 0, 0, 1, 1))  # the model is not a formula
    if strict and skills < 2:
        score -= 1
    score = max(1, min(10, 3 if dealbreaker else score))
    fit = "strong" if score >= 9 else "good" if score >= 7 else "maybe" if score >= 5 else "no"
    reasoning = (
        f"{title or 'No title'} at {p.get('current_company') or 'an unknown company'}; "
        f"{met} of {len(must)} must-haves met. "
        + ("Works at a current client, so not a fit." if dealbreaker else _tail(fit))
    )
    return score, fit, checks, reasoning


def _tail(fit: str) -> str:
    return {
        "strong": "Clear match on the core requirements; worth contacting now.",
        "good": "Solid match with a gap or two to probe in a first call.",
        "maybe": "Partly relevant experience; check the gaps before reaching out.",
        "no": "The profile shows too little of what the role needs.",
    }[fit]


Attempt = tuple[datetime, int, int, str, int]  # (at, profile, tokens, status, tries)


def screen(
    demo: Demo, state: ProjectState, user_key: str, at: datetime, rescreen: float = 0.0
) -> None:
    """A screening job over the project's new members that passed the filters (the recruiter
    selects the new batch); with `rescreen`, that share of earlier versions' verdicts again."""
    user = demo.user(user_key)
    candidates = _candidates(demo, state, rescreen)
    if not candidates:
        return
    rows: list[dict[str, Any]] = []
    attempts: list[Attempt] = []
    cost = 0.0
    for n, p in enumerate(candidates):
        row, attempt, price = _answer(demo, state, p, at, n)
        rows.append(row)
        attempts.append(attempt)
        cost += price
    job_id = _write_job(demo, state, user, at, rows, cost)
    _usage(demo, Who(user, state.id, job_id), state.version, attempts, rows)


def _candidates(demo: Demo, state: ProjectState, rescreen: float) -> list[dict[str, Any]]:
    """The new members that passed the filters, or (rescreening) a share of earlier verdicts."""
    with demo.db.tx() as conn, conn.cursor(row_factory=dict_row) as cur:
        sql = RESCREEN_SQL if rescreen else CANDIDATES_SQL
        cur.execute(sql, {"project": state.id, "version": state.version_id, "fresh": state.fresh})
        candidates = cur.fetchall()
    if rescreen:
        candidates = [c for c in candidates if demo.rng.random() < rescreen]
    return candidates


def _answer(
    demo: Demo, state: ProjectState, p: dict[str, Any], at: datetime, n: int
) -> tuple[dict[str, Any], Attempt, float]:
    """The `n`th candidate's screening row, its metered attempt and its cost: a verdict, or a
    failure (retries exhausted on timeouts, or a malformed answer)."""
    rng = demo.rng
    when = at + timedelta(seconds=SECONDS_PER_ANSWER * (n + 1) * rng.uniform(0.7, 1.3))
    sent = pr.candidate_json(p)
    tin = estimate_prompt_tokens(pr.messages(state.prompt_text, sent), SCHEMA)
    tin += rng.randint(-40, 40)
    row = _pending_row(state, p, pr.input_hash(sent), at, when)
    roll = rng.random()
    if roll < 0.025:
        tries = 5
        last = ProviderTimeout("openai", "read timeout after 60 s")
        error = RetriesExhausted(last, tries).reason
        row.update(status="failed", error=error, cost=0, attempts=tries)
        return row, (when, p["id"], 0, "timeout", tries), 0.0
    if roll < 0.032:
        error = MalformedResponse("openai", "answer does not match ScreeningAnswer").reason
        row.update(status="failed", error=error, cost=0, attempts=1)
        return row, (when, p["id"], 0, "malformed", 1), 0.0
    tout = rng.randint(170, 330)
    price = demo.usage.openai_cost(tin, tout)
    _add_verdict(row, rng, state, p, tin, tout, price)
    return row, (when, p["id"], tin + tout, "ok", 1), price


def _pending_row(
    state: ProjectState, p: dict[str, Any], input_hash: str, at: datetime, when: datetime
) -> dict[str, Any]:
    """A screening row without its outcome (and without its job, written later)."""
    return {
        "project": state.id,
        "profile": p["id"],
        "version": state.version_id,
        "hash": input_hash,
        "job": None,
        "created": at,
        "updated": when,
        "model": None,
        "score": None,
        "fit": None,
        "checks": None,
        "reasoning": None,
        "tin": None,
        "tout": None,
    }


def _add_verdict(
    row: dict[str, Any],
    rng: random.Random,
    state: ProjectState,
    p: dict[str, Any],
    tin: int,
    tout: int,
    price: float,
) -> None:
    score, fit, checks, reasoning = verdict(rng, state.plan, p, state.version)
    row.update(
        status="done",
        score=score,
        fit=fit,
        checks=Jsonb(checks),
        reasoning=reasoning,
        model=MODEL_SNAPSHOT,
        tin=tin,
        tout=tout,
        cost=round(price, 6),
        error=None,
        attempts=1,
    )


def _write_job(
    demo: Demo,
    state: ProjectState,
    user: int,
    at: datetime,
    rows: list[dict[str, Any]],
    cost: float,
) -> int:
    """The finished screening job and its rows (which get its id); returns the job's id."""
    finished = max(r["updated"] for r in rows) + timedelta(seconds=1)
    done = sum(1 for r in rows if r["status"] == "done")
    with demo.db.tx() as conn:
        job_id = provider_job(
            conn,
            "screening",
            {
                "project_id": state.id,
                "prompt_version_id": state.version_id,
                "scope": "selection",
                "profile_ids": [r["profile"] for r in rows],
            },
            user,
            state.id,
            at,
            finished,
            total=len(rows),
            done=done,
            failed=len(rows) - done,
            message=f"${cost:.4f} spent so far · prompt v{state.version} · {state.model}",
        )
        for r in rows:
            r["job"] = job_id
        with conn.cursor() as cur:
            cur.executemany(INSERT_SQL, rows)
    return job_id


def _usage(
    demo: Demo,
    who: Who,
    version: int,
    attempts: list[Attempt],
    rows: list[dict[str, Any]],
) -> None:
    for (when, profile_id, tokens, status, tries), row in zip(attempts, rows, strict=True):
        subject = f"screening:{profile_id}:v{version}"
        if status == "ok":
            demo.usage.add(
                when,
                who,
                "openai",
                "chat_structured",
                units=float(tokens),
                cost_usd=float(row["cost"]),
                subject=subject,
                latency=(900, 3200),
            )
            continue
        for attempt in range(1, tries + 1):
            back = timedelta(seconds=(tries - attempt) * 8)  # the retries' backoff
            demo.usage.add(
                max(row["created"], when - back),
                who,
                "openai",
                "chat_structured",
                status=status,
                http_status=None if status == "timeout" else 200,
                attempt=attempt,
                subject=subject,
                error=row["error"],
                latency=(900, 60000),
            )


# --- reviews -------------------------------------------------------------------------------

AGREE = {"strong": 0.88, "good": 0.8, "maybe": 0.62, "no": 0.86}
REVIEW_SHARE = {"strong": 0.25, "good": 0.18, "maybe": 0.08, "no": 0.04}
NOTES = {
    "agree": ("", "", "Matches what the hiring manager described.", "Agree, reaching out."),
    "disagree": (
        "Overrated: the title fits but the recent work is mostly maintenance.",
        "Stronger than the score: led a similar migration at their last company.",
        "Location is a blocker; not open to relocating.",
        "Skills listed but no evidence in the last two roles.",
        "Worth a call: adjacent experience the model did not credit.",
    ),
}
UNREVIEWED_SQL = """
SELECT s.id, s.fit, pv.version FROM screenings s
JOIN prompt_versions pv ON pv.id = s.prompt_version_id
WHERE s.project_id = ANY(%(projects)s::bigint[]) AND s.status = 'done'
  AND s.updated_at < %(at)s AND s.updated_at >= %(since)s
  AND NOT EXISTS (SELECT 1 FROM screening_overrides o WHERE o.screening_id = s.id)
ORDER BY s.id
"""


def review(demo: Demo, user_key: str, states: list[ProjectState], at: datetime) -> int:
    """A review session: the reviewer agrees or disagrees with recent verdicts of `states`.
    Later prompt versions are agreed with more often (that is why they were made)."""
    rng, user = demo.rng, demo.user(user_key)
    with demo.db.tx() as conn:
        rows = conn.execute(
            UNREVIEWED_SQL,
            {"projects": [s.id for s in states], "at": at, "since": at - timedelta(days=6)},
        ).fetchall()
    picked = [r for r in rows if rng.random() < REVIEW_SHARE[r[1]]][: rng.randint(2, 8)]
    if not picked:
        return 0
    times: list[datetime] = []
    for n, (screening_id, fit, version) in enumerate(picked):
        agree = rng.random() < min(0.97, AGREE[fit] + 0.07 * (version - 1))
        verdict_ = "agree" if agree else "disagree"
        results.set_override(user, int(screening_id), verdict_, rng.choice(NOTES[verdict_]))
        times.append(at + timedelta(seconds=40 * n + rng.uniform(0, 30)))
    with demo.db.tx() as conn:
        demo.db.move(conn, at)  # the audit rows
        conn.execute(
            "UPDATE screening_overrides o SET created_at = v.at"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)"
            " WHERE o.screening_id = v.id",
            ([int(r[0]) for r in picked], times),
        )
    return len(picked)
