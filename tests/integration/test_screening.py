"""AI screening end to end on a real Celery worker against the OpenAI sandbox: faults become
failed screenings (never scores) that a retry turns into verdicts, a killed worker resumes
without paying twice, prompt versions keep old verdicts, concurrent jobs share the limit."""

from __future__ import annotations

import time

import psutil
import psycopg
import pytest

from services import jobs
from services.screening import prompt, results
from services.screening.job import retry_failed, start_screening
from tests.factories import make_project
from tests.helpers import celery_worker, create_user, wait_for
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration

CRITERIA = prompt.parse_criteria(
    "Python and Spark data pipelines\nFive years as a data engineer",
    "Kafka streaming",
    "No relocation",
    "Berlin team, English speaking.",
)


@pytest.fixture()
def screening_env(
    fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> SandboxControl:
    monkeypatch.setenv("JOB_LOCK_TTL_S", "4")
    monkeypatch.setenv("JOB_STALE_AFTER_S", "3")
    monkeypatch.setenv("SCREENING_CONCURRENCY", "4")
    return fast_providers


def project_with_profiles(db: psycopg.Connection, user: int, n: int, name: str = "DE") -> int:
    project = make_project(db, name=name, owner_id=user)
    db.execute(
        "WITH new AS ("
        " INSERT INTO profiles (linkedin_url, full_name, headline, current_title,"
        "  current_company, location, skills)"
        " SELECT 'https://www.linkedin.com/in/' || %(p)s || '-cand-' || g, 'Cand ' || g,"
        "  CASE WHEN g %% 3 = 0 THEN 'Data engineer: Python, Spark, Kafka pipelines'"
        "       ELSE 'Frontend developer' END,"
        "  CASE WHEN g %% 3 = 0 THEN 'Senior Data Engineer' ELSE 'Developer' END,"
        "  'Company ' || (g %% 17), 'Berlin', ARRAY['Python', 'SQL']"
        " FROM generate_series(1, %(n)s) g RETURNING id)"
        " INSERT INTO project_profiles (project_id, profile_id) SELECT %(p)s, id FROM new",
        {"p": project, "n": n},
    )
    return project


def finished(job_id: int, timeout_s: float = 90) -> jobs.Job:
    return wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=timeout_s)


def ok_calls(db: psycopg.Connection, project: int | None = None) -> dict[str, int]:
    """Paid (answered) OpenAI calls per subject."""
    rows = db.execute(
        "SELECT subject, count(*) FROM api_usage WHERE provider = 'openai' AND status = 'ok'"
        " AND (%s::bigint IS NULL OR project_id = %s) GROUP BY subject",
        (project, project),
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


def test_faults_become_failed_screenings_that_retry_to_verdicts(
    db: psycopg.Connection, screening_env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two attempts per call against 20% 429s and 5% 500s: some profiles exhaust their retries.
    monkeypatch.setenv("OPENAI_MAX_ATTEMPTS", "2")
    screening_env.configure(
        "openai", fail_429_ratio=0.2, fail_500_ratio=0.05, retry_after_s=0.05, seed=7
    )
    user = create_user(db, "rita@example.com", "recruiter")
    project = project_with_profiles(db, user, 300)
    version = prompt.save_criteria(user, project, CRITERIA)
    job_id = start_screening(user, project, version.id, scope="all")
    with celery_worker():
        job = finished(job_id, timeout_s=120)
        assert job.status == "done", job.error
        rows = db.execute(
            "SELECT status, score, fit, error, input_hash, model FROM screenings"
            " WHERE project_id = %s",
            (project,),
        ).fetchall()
        assert len(rows) == 300  # one row per profile: zero duplicates
        done = [r for r in rows if r[0] == "done"]
        failed = [r for r in rows if r[0] == "failed"]
        assert len(done) + len(failed) == 300  # nothing left pending
        assert failed, "the fault ratio should exhaust some retries"
        assert all(1 <= r[1] <= 10 and r[2] in prompt.FITS and r[4] and r[5] for r in done)
        assert all(r[1] is None and r[2] is None and r[3] for r in failed)  # no invented score
        assert any("RateLimited" in r[3] or "Unavailable" in r[3] for r in failed)
        assert (job.done, job.failed, job.total) == (len(done), len(failed), 300)
        assert job.message and job.message.startswith("$")
        paid = ok_calls(db, project)
        assert len(paid) == len(done) and set(paid.values()) == {1}  # each verdict paid once
        # Retrying the failed ones, with the provider healthy again, turns every one into a verdict.
        screening_env.configure("openai", fail_429_ratio=0.0, fail_500_ratio=0.0)
        retry = finished(retry_failed(user, project, version.id))
    assert retry.status == "done" and (retry.done, retry.failed) == (len(failed), 0)
    statuses = dict(
        db.execute(
            "SELECT status, count(*) FROM screenings WHERE project_id = %s GROUP BY status",
            (project,),
        ).fetchall()
    )
    assert statuses == {"done": 300}
    assert set(ok_calls(db, project).values()) == {1}
    # Verdicts are listed with the error-free rows and can be overridden; agreement is per project.
    listed = results.verdicts(project, version.id, status="done", limit=5)
    results.set_override(user, listed[0].screening_id, "agree", "spot on")
    results.set_override(user, listed[1].screening_id, "disagree", "no Spark really")
    results.set_override(user, listed[1].screening_id, "agree", "changed my mind")
    agreement = results.agreement(project)
    assert (agreement.reviewed, agreement.agree, agreement.rate) == (2, 2, 1.0)
    kept = db.execute(
        "SELECT s.score, o.verdict FROM screenings s JOIN screening_overrides o"
        " ON o.screening_id = s.id WHERE s.id = %s",
        (listed[1].screening_id,),
    ).fetchone()
    assert kept is not None and kept[0] == listed[1].score  # the model's answer is unchanged


def test_worker_killed_mid_screening_resumes_without_paying_twice(
    db: psycopg.Connection, screening_env: SandboxControl
) -> None:
    screening_env.configure("openai", latency_ms=150)
    user = create_user(db, "rita@example.com", "recruiter")
    project = project_with_profiles(db, user, 120)
    version = prompt.save_criteria(user, project, CRITERIA)
    job_id = start_screening(user, project, version.id, scope="all")
    with celery_worker() as worker:
        wait_for(
            lambda: (j := jobs.get_job(job_id)) and j.done >= 30, timeout_s=60, interval_s=0.05
        )
        for child in psutil.Process(worker.pid).children(recursive=True):
            child.kill()
        psutil.Process(worker.pid).kill()
        worker.wait(timeout=10)
    done_before = {
        int(r[0])
        for r in db.execute(
            "SELECT profile_id FROM screenings WHERE project_id = %s AND status = 'done'",
            (project,),
        ).fetchall()
    }
    killed = jobs.get_job(job_id)
    assert killed is not None and killed.status == "running" and len(done_before) < 120
    time.sleep(4)  # past the stale-job and run-lock timeouts
    with celery_worker():
        job = finished(job_id)
    assert job.status == "done" and (job.done, job.failed, job.total) == (120, 0, 120), job
    paid = ok_calls(db, project)
    for profile_id in done_before:  # finished before the kill: never called again
        assert paid[f"screening:{profile_id}:v1"] == 1
    repeated = sum(n - 1 for n in paid.values())
    assert repeated <= 4  # at most the calls that were in flight when the worker died
    assert db.execute(
        "SELECT count(*) FROM screenings WHERE project_id = %s AND status = 'done'", (project,)
    ).fetchone() == (120,)


def test_new_prompt_version_screens_again_and_keeps_old_verdicts(
    db: psycopg.Connection, screening_env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = project_with_profiles(db, user, 24)
    # Only members that passed the filters are screened by default.
    db.execute(
        "INSERT INTO filter_results (project_id, profile_id, passed)"
        " SELECT project_id, profile_id, profile_id %% 4 <> 0 FROM project_profiles"
        " WHERE project_id = %s",
        (project,),
    )
    passed = db.execute(
        "SELECT count(*) FROM filter_results WHERE project_id = %s AND passed", (project,)
    ).fetchone()
    assert passed is not None
    v1 = prompt.save_criteria(user, project, CRITERIA)
    assert prompt.save_criteria(user, project, CRITERIA).id == v1.id  # same prompt, same version
    with celery_worker():
        first = finished(start_screening(user, project))
        assert first.status == "done" and first.done == passed[0]
        # Re-running the same version skips everything done for the same data.
        again = finished(start_screening(user, project))
        assert again.status == "done" and again.total == 0
        v2 = prompt.save_criteria(
            user,
            project,
            prompt.parse_criteria("Kafka streaming at scale", "", "", "Second try"),
        )
        assert (v2.version, v2.model) == (2, "gpt-4o-mini") and v2.prompt_text != v1.prompt_text
        second = finished(start_screening(user, project))
        assert second.status == "done" and second.done == passed[0]
        # A chosen selection, including a profile that did not pass the filters.
        extra = db.execute(
            "SELECT profile_id FROM filter_results WHERE project_id = %s AND NOT passed LIMIT 1",
            (project,),
        ).fetchone()
        assert extra is not None
        chosen = finished(start_screening(user, project, scope="selection", profile_ids=[extra[0]]))
        assert chosen.done == 1
    by_version = dict(
        db.execute(
            "SELECT v.version, count(*) FROM screenings s JOIN prompt_versions v"
            " ON v.id = s.prompt_version_id WHERE s.project_id = %s AND s.status = 'done'"
            " GROUP BY v.version",
            (project,),
        ).fetchall()
    )
    assert by_version == {1: passed[0], 2: passed[0] + 1}
    stored = db.execute(
        "SELECT DISTINCT s.model, v.prompt_text FROM screenings s JOIN prompt_versions v"
        " ON v.id = s.prompt_version_id WHERE s.prompt_version_id = %s",
        (v1.id,),
    ).fetchall()
    assert stored == [("gpt-4o-mini", v1.prompt_text)]
    comparison = results.compare(project, v1.id, v2.id)
    assert comparison.both == passed[0]
    assert ok_calls(db, project) and set(ok_calls(db, project).values()) == {1}


def test_two_concurrent_jobs_share_the_limit_fairly_and_never_exceed_it(
    db: psycopg.Connection, screening_env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_RATE_PER_MIN", "600")  # 10 per second, shared by both jobs
    monkeypatch.setenv("OPENAI_LIMIT_WAIT_S", "30")
    screening_env.configure("openai", latency_ms=50)
    rita = create_user(db, "rita@example.com", "recruiter")
    sam = create_user(db, "sam@example.com", "recruiter")
    p1 = project_with_profiles(db, rita, 40, "P1")
    p2 = project_with_profiles(db, sam, 40, "P2")
    j1 = start_screening(rita, p1, prompt.save_criteria(rita, p1, CRITERIA).id, scope="all")
    j2 = start_screening(sam, p2, prompt.save_criteria(sam, p2, CRITERIA).id, scope="all")
    shares: list[tuple[int, int]] = []
    with celery_worker(concurrency=2):

        def both_done() -> bool:
            a, b = jobs.get_job(j1), jobs.get_job(j2)
            assert a is not None and b is not None
            if a.finished != b.finished and not shares:
                shares.append((a.done, b.done))  # where the other stood when one finished
            return a.finished and b.finished

        wait_for(both_done, timeout_s=60, interval_s=0.1)
    assert jobs.get_job(j1).status == jobs.get_job(j2).status == "done"  # type: ignore[union-attr]
    accepted = sorted(screening_env.stats("openai")["accepted"])
    assert len(accepted) == 80
    # Never above 10/s. Over the run the provider saw at most the limit; in any 2-second window
    # at most 20, plus the few calls admitted on time that reached it late (client-side jitter
    # after admission: the first calls of a process also build the SDK client).
    span = accepted[-1] - accepted[0]
    assert (len(accepted) - 1) / span <= 10 * 1.02, span
    worst = max(sum(1 for t in accepted if start <= t < start + 2.0) for start in accepted)
    assert worst <= 20 + 4, worst
    assert accepted[-1] - accepted[0] >= 7.0  # 80 calls at 10/s cannot take less than ~8 s
    if shares:  # neither job starved: the slower one was well under way when the other finished
        assert min(shares[0]) >= 25, shares
