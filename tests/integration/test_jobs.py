"""The job runner: one result per job however often it is delivered, takeover of a dead run, progress."""
from __future__ import annotations

import datetime
import time

import pytest
from sqlalchemy import func, select, update

import tests.support.slow_jobs  # noqa: F401 - registers the test_slow kind
from app.actor import Actor
from tests.conftest import HEALTH_ID


def _actor():
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))


def _new_job(params=None, dispatch=False):
    from app import jobs

    job = jobs.submit("test_slow", actor=_actor(), title="测试", params=params or {"steps": 3, "delay": 0.01},
                      dispatch=dispatch)
    return job.id


def _job(job_id):
    from app.extensions import db
    from app.models import Job

    db.session.expire_all()
    return db.session.get(Job, job_id)


def _audit_rows(job_id):
    from app.extensions import db
    from app.models import AuditLog

    return db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "test_job_done", AuditLog.object_id == job_id))


def test_a_job_runs_once_however_often_it_is_delivered(app_ctx):
    from app.jobs.runner import run_job
    from app.storage import get_storage

    job_id = _new_job()
    assert run_job(job_id, app_ctx) == "succeeded"
    assert run_job(job_id, app_ctx) == "skipped"        # a redelivered message finds it finished
    job = _job(job_id)
    assert job.status.value == "succeeded" and job.attempts == 1 and job.done == job.total == 3
    assert job.result_name == "结果.txt" and get_storage().exists(job.result_file)
    assert _audit_rows(job_id) == 1


def test_a_run_whose_worker_died_is_taken_over_and_finishes_once(app_ctx):
    """Simulate the dead run: claimed, heartbeat stale. A redelivery takes over; the old claim is void."""
    from app.extensions import db
    from app.jobs.runner import run_job
    from app.models import Job, JobStatus

    job_id = _new_job()
    stale = datetime.datetime.now() - datetime.timedelta(seconds=60)
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.running, claim="dead-run", attempts=1, heartbeat_on=stale, started_on=stale))
    db.session.commit()
    assert run_job(job_id, app_ctx) == "succeeded"
    job = _job(job_id)
    assert job.status.value == "succeeded" and job.attempts == 2 and job.claim is None
    assert _audit_rows(job_id) == 1
    # the dead run, were it to wake up, cannot finish: its guarded final UPDATE matches nothing
    assert db.session.execute(update(Job).where(Job.id == job_id, Job.claim == "dead-run")
                              .values(message="second result")).rowcount == 0
    db.session.rollback()


def test_a_job_whose_workers_keep_dying_ends_failed(app_ctx):
    from app.extensions import db
    from app.jobs.runner import run_job
    from app.models import Job, JobStatus

    job_id = _new_job()
    stale = datetime.datetime.now() - datetime.timedelta(seconds=60)
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.running, claim="dead", attempts=app_ctx.config["JOB_MAX_ATTEMPTS"], heartbeat_on=stale))
    db.session.commit()
    assert run_job(job_id, app_ctx) == "skipped"
    job = _job(job_id)
    assert job.status.value == "failed" and "中断" in job.message and job.result_file is None
    assert _audit_rows(job_id) == 0


def test_a_live_run_is_not_taken_over(app_ctx, monkeypatch):
    """A second delivery while the first run beats waits, then leaves it alone."""
    from app.extensions import db
    from app.jobs.runner import claim
    from app.models import Job, JobStatus

    job_id = _new_job()
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.running, claim="alive", attempts=1, heartbeat_on=datetime.datetime.now() + datetime.timedelta(hours=1)))
    db.session.commit()
    monkeypatch.setitem(app_ctx.config, "JOB_STALE_SECONDS", 1)
    started = time.monotonic()
    assert claim(job_id, "second") is False
    assert time.monotonic() - started < 10
    assert _job(job_id).claim == "alive"


def test_a_failing_task_ends_failed_with_its_message_and_no_side_effect(app_ctx):
    from app.jobs.runner import run_job

    job_id = _new_job({"steps": 2, "delay": 0.01, "fail": True})
    assert run_job(job_id, app_ctx) == "failed"
    job = _job(job_id)
    assert job.status.value == "failed" and job.message == "测试任务按要求失败" and job.result_file is None
    assert _audit_rows(job_id) == 0


def test_abandoned_running_jobs_are_marked_failed(app_ctx):
    from app.extensions import db
    from app.jobs.runner import reap_abandoned
    from app.models import Job, JobStatus

    job_id = _new_job()
    old = datetime.datetime.now() - datetime.timedelta(hours=2)
    db.session.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.running, claim="x",
                                                                  heartbeat_on=old))
    db.session.commit()
    assert reap_abandoned() >= 1
    assert _job(job_id).status.value == "failed"


def test_the_embedded_backend_runs_jobs_in_threads_with_progress_every_second(app_ctx):
    """A 4 s job: the stored progress moves forward in every second of its run (the bar polls it)."""
    from app.jobs.backends import wait_idle
    from app.services.transaction import transaction

    with transaction():
        job_id = _new_job({"steps": 20, "delay": 0.2}, dispatch=True)
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = _job(job_id)
        seen.append((time.monotonic(), job.done, job.status.value))
        if job.status.value in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    wait_idle(app_ctx)
    assert seen[-1][2] == "succeeded"
    running = [(t, done) for t, done, status in seen if status == "running"]
    assert running and running[-1][0] - running[0][0] > 2
    # in every window of one second while running, the progress advanced at least once
    changes = [t for (t, done), (_, before) in zip(running[1:], running) if done != before]
    start, end = running[0][0], running[-1][0]
    window = start
    while window + 1.0 <= end:
        assert any(window <= t < window + 1.0 for t in changes), f"no progress in [{window - start:.1f}, +1 s)"
        window += 0.5
