"""Jobs on Celery with a real Redis and a real worker process (as in production).

The fixture starts ``celery -A app.jobs.worker worker`` on the suite's database and file store, on a
queue of its own (other test runs may share the machine's Redis). Redis must be running at
``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0; `.ci/run` and `make test` start it).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests.support.slow_jobs  # noqa: F401 - registers the test_slow kind in this process too
from tests.conftest import EDU_ID, HEALTH_ID

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_ok() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def worker(app, database_url, storage_root, tmp_path_factory):
    assert _redis_ok(), f"Redis is not reachable at {REDIS_URL}: start redis-server (make test does)"
    queue = f"jijiao-test-{uuid.uuid4().hex[:12]}"
    folder = tmp_path_factory.mktemp("worker")
    env = dict(os.environ, DATABASE_URL=database_url, STORAGE_ROOT=storage_root, CELERY_BROKER_URL=REDIS_URL,
               CELERY_QUEUE=queue, JOB_MODULES="tests.support.slow_jobs", JOB_STALE_SECONDS="2",
               JOB_HEARTBEAT_SECONDS="0.2", JIJIAO_INSTANCE=str(folder), SECRET_KEY="worker-test-key",
               DEMO_DATA="0", PYTHONPATH=str(ROOT))
    env.pop("REDIS_URL", None)
    log_path = folder / "worker.log"
    celery = Path(sys.executable).with_name("celery")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(celery), "-A", "app.jobs.worker", "worker", "-Q", queue, "-c", "1",
                                 "--pool", "prefork", "--loglevel", "INFO", "-n", f"{queue}@%h",
                                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        assert proc.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, "worker did not start:\n" + log_path.read_text()[-3000:]
        time.sleep(0.2)
    proc.queue = queue
    proc.log_path = log_path
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    import redis

    redis.Redis.from_url(REDIS_URL).delete(*worker_queue_keys(proc.queue))


def worker_queue_keys(queue):
    return [queue, f"{queue}\x06\x163", f"{queue}\x06\x166", f"{queue}\x06\x169"]


@pytest.fixture()
def via_celery(app, worker, monkeypatch):
    """This test's app sends its jobs to the worker's queue."""
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "CELERY_QUEUE", worker.queue)
    monkeypatch.delitem(app.extensions, "jijiao_celery", raising=False)
    yield worker
    app.extensions.pop("jijiao_celery", None)


def _wait(app, job_id, until, timeout=60):
    from app.extensions import db
    from app.models import Job

    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            if until(job):
                return job
            assert time.monotonic() < deadline, f"job {job_id}: {job.status} {job.done}/{job.total} {job.message}"
            time.sleep(0.1)


def _submit(app, params):
    from app import jobs
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account
    from app.services.transaction import transaction

    with app.app_context():
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        with transaction():
            job = jobs.submit("test_slow", actor=actor, title="测试任务", params=params)
        return job.id


def _done_rows(app, job_id):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "test_job_done", AuditLog.object_id == job_id))


def test_a_job_runs_on_the_celery_worker(app, via_celery):
    job_id = _submit(app, {"steps": 5, "delay": 0.1})
    job = _wait(app, job_id, lambda j: j.status.value in ("succeeded", "failed"))
    assert job.status.value == "succeeded", job.message
    assert job.done == 5 and job.attempts == 1 and job.result_name == "结果.txt"
    assert _done_rows(app, job_id) == 1


def test_a_killed_worker_process_leaves_the_job_retried_once_or_failed_never_twice(app, via_celery, storage_root):
    before = set(os.listdir(storage_root))
    job_id = _submit(app, {"steps": 40, "delay": 0.1, "marker": "kill"})
    job = _wait(app, job_id, lambda j: j.status.value == "running" and j.done >= 5)
    pid = int(job.worker.split(":")[1])
    assert pid != via_celery.pid                       # the pool child runs the task, not the main process
    os.kill(pid, signal.SIGKILL)                        # the worker process dies mid-way
    job = _wait(app, job_id, lambda j: j.status.value in ("succeeded", "failed"), timeout=120)
    log = via_celery.log_path.read_text()
    assert "WorkerLostError" in log or "Process" in log
    new_files = set(os.listdir(storage_root)) - before
    if job.status.value == "succeeded":
        assert job.attempts == 2                        # taken over once by the redelivered message
        assert _done_rows(app, job_id) == 1             # its side effect happened once
        assert new_files == {job.result_file}           # and one result file exists
    else:
        assert _done_rows(app, job_id) == 0 and not new_files
    # a further delivery of the same job changes nothing
    from app.jobs.backends import dispatch

    with app.app_context():
        dispatch(job_id, app)
    time.sleep(2)
    assert _done_rows(app, job_id) == (1 if job.status.value == "succeeded" else 0)


def test_a_large_export_runs_on_the_worker_and_only_its_owner_downloads_it(app, via_celery, client_for, monkeypatch):
    from app.extensions import db
    from app.models import Job

    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 10)
    health = client_for(HEALTH_ID)
    response = health.get("/persons/export/")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    with app.app_context():
        job_id = db.session.scalar(select(Job.id).where(Job.kind == "export").order_by(Job.id.desc()))
    job = _wait(app, job_id, lambda j: j.status.value in ("succeeded", "failed"))
    assert job.status.value == "succeeded", job.message
    assert job.worker and str(via_celery.pid) not in job.worker.split(":")[1:2]
    download = health.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert client_for(EDU_ID).get(f"/jobs/{job_id}/download").status_code == 404
    assert client_for(EDU_ID).get(f"/jobs/{job_id}/status").status_code == 404


def test_the_request_id_travels_to_the_worker_its_log_lines_and_audit_rows(app, via_celery, client_for):
    """A request starts a job: the worker's JSON log lines and the job's audit rows carry the request's id."""
    import json

    from app.extensions import db
    from app.models import AuditLog

    from app import jobs
    from app.actor import Actor
    from app.models import Account
    from app.services.transaction import transaction

    with app.test_request_context(headers={"X-Request-ID": "celery-trace-1"}):
        app.preprocess_request()                       # the request id of this "request"
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        with transaction():
            job_id = jobs.submit("test_slow", actor=actor, title="测试任务", params={"steps": 2, "delay": 0.05}).id
    job = _wait(app, job_id, lambda j: j.status.value in ("succeeded", "failed"))
    assert job.status.value == "succeeded", job.message
    with app.app_context():
        ids = set(db.session.scalars(select(AuditLog.request_id).where(
            AuditLog.action == "test_job_done", AuditLog.object_id == job_id)))
    assert ids == {"celery-trace-1"}
    lines = []
    for raw in via_celery.log_path.read_text().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue                                   # celery's own banner
        if isinstance(line, dict) and line.get("job_id") == job_id:
            lines.append(line)
    assert lines and {line.get("request_id") for line in lines} == {"celery-trace-1"}
