"""Running one job: claim the row, run its task with a heartbeat, write one result — exactly once.

The claim is a guarded UPDATE (``status = 'queued'``, or a running job whose heartbeat went stale because
its worker died), which stores a fresh claim token. Every later write of this run — progress, heartbeat,
the final status together with the task's own database changes — is guarded by that token, so a run
that was presumed dead and taken over can never write a second result: its final UPDATE matches no row
and its transaction rolls back. Delivering the same job twice (Celery's late acknowledgement redelivers
the message of a killed worker) is therefore harmless: the second delivery finds the job running with a
fresh heartbeat and waits, takes it over once the heartbeat is stale (at most ``JOB_MAX_ATTEMPTS`` runs,
then the job is marked failed), or finds it finished and does nothing.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.actor import Actor
from app.errors import AppError
from app.extensions import db
from app.jobs import TASKS, ClaimLost, JobContext, load_task_modules, params_of
from app.models import Account, Job, JobStatus
from app.services.transaction import transaction
from app.storage import get_storage, new_name

log = logging.getLogger("app.jobs")


def _now() -> datetime.datetime:
    return datetime.datetime.now()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"[:100]


def _config(name: str, default):
    return type(default)(current_app.config.get(name, default))


def claim(job_id: int, token: str) -> bool:
    """Take the job for this run, waiting out a live run; False when there is nothing (more) to do."""
    stale = _config("JOB_STALE_SECONDS", 30)
    max_attempts = _config("JOB_MAX_ATTEMPTS", 2)
    deadline = time.monotonic() + 2 * stale + 5
    worker = _worker_name()
    while True:
        now = _now()
        with transaction():  # each step its own short transaction: another run must see it at once
            taken = db.session.execute(
                update(Job).where(Job.id == job_id, Job.status == JobStatus.queued)
                .values(status=JobStatus.running, claim=token, worker=worker, attempts=Job.attempts + 1,
                        started_on=now, heartbeat_on=now, done=0)
                .execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            return True
        with transaction():
            row = db.session.execute(
                select(Job.status, Job.claim, Job.heartbeat_on, Job.attempts).where(Job.id == job_id)).first()
        if row is None or row.status in (JobStatus.succeeded, JobStatus.failed):
            return False
        if row.status == JobStatus.running:
            beat = row.heartbeat_on or datetime.datetime.min
            if now - beat > datetime.timedelta(seconds=stale):
                guard = (Job.id == job_id, Job.status == JobStatus.running, Job.claim == row.claim)
                if row.attempts >= max_attempts:
                    with transaction():
                        db.session.execute(update(Job).where(*guard).values(
                            status=JobStatus.failed, finished_on=now, claim=None,
                            message=_worker_died_message()).execution_options(synchronize_session=False))
                    return False
                with transaction():
                    taken = db.session.execute(update(Job).where(*guard).values(
                        claim=token, worker=worker, attempts=Job.attempts + 1, started_on=now, heartbeat_on=now,
                        done=0).execution_options(synchronize_session=False)).rowcount
                if taken == 1:
                    log.warning("job %s taken over after its worker stopped (attempt %s)", job_id, row.attempts + 1)
                    return True
                continue
        if time.monotonic() > deadline:
            return False  # a live run owns it; if it dies, the reaper marks the job failed
        time.sleep(min(1.0, stale / 4))


def _worker_died_message() -> str:
    with force_locale("zh"):
        return _("The worker running this job stopped before it finished; nothing was changed, please start it again")


class Heartbeat(threading.Thread):
    """Writes the run's progress and heartbeat every JOB_HEARTBEAT_SECONDS; notices a lost claim."""

    def __init__(self, app, ctx: JobContext, token: str):
        super().__init__(daemon=True, name=f"job-{ctx.job_id}-heartbeat")
        self.app, self.ctx, self.token = app, ctx, token
        self.interval = float(app.config.get("JOB_HEARTBEAT_SECONDS", 0.5))
        self.stopped = threading.Event()

    def beat(self) -> None:
        with self.app.app_context():
            with db.engine.begin() as conn:
                matched = conn.execute(
                    update(Job).where(Job.id == self.ctx.job_id, Job.claim == self.token,
                                      Job.status == JobStatus.running)
                    .values(done=self.ctx.done, total=self.ctx.total, heartbeat_on=_now())).rowcount
        if matched == 0:
            self.ctx.lost = True

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the database may be busy
                log.debug("heartbeat of job %s failed", self.ctx.job_id, exc_info=True)

    def stop(self) -> None:
        """Stop beating; a beat still in flight is harmless (its UPDATE is guarded by the claim)."""
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=0.2)


def run_job(job_id: int, app=None, request_id: Optional[str] = None) -> str:
    """Run a job to its one result; returns 'succeeded', 'failed' or 'skipped'. Safe to call repeatedly.

    ``request_id``: the request that started it; its log lines and audit rows carry that id.
    """
    from app.logs import request_id_context

    app = app or current_app._get_current_object()
    with request_id_context(request_id), app.app_context():
        try:
            log.info("job %s started", job_id, extra={"job_id": job_id})
            outcome = _run(app, job_id)
            log.info("job %s %s", job_id, outcome, extra={"job_id": job_id, "outcome": outcome})
            from app.metrics import observe_job

            observe_job(outcome)
            return outcome
        finally:
            db.session.remove()


def _run(app, job_id: int) -> str:
    load_task_modules(app)
    token = uuid.uuid4().hex
    if not claim(job_id, token):
        return "skipped"
    with transaction():  # read the job and its owner, then let go of the snapshot before the work starts
        job = db.session.get(Job, job_id)
        owner = db.session.get(Account, job.owner_id) if job.owner_id else None
        ctx = JobContext(job_id=job.id, kind=job.kind, params=params_of(job),
                         actor=Actor.of(owner) if owner is not None else Actor.system(), total=job.total)
    heartbeat = Heartbeat(app, ctx, token)
    heartbeat.start()
    stored: Optional[str] = None
    try:
        with force_locale("zh"), transaction():  # the task's own changes and the result commit together
            outcome = TASKS[job.kind](ctx)
            ctx.check()
            if outcome.file_path:
                stored = new_name(outcome.file_path.rsplit(".", 1)[-1] if "." in outcome.file_path else "")
                get_storage(app).put(stored, outcome.file_path)
            heartbeat.stop()
            finished = db.session.execute(
                update(Job).where(Job.id == job_id, Job.claim == token, Job.status == JobStatus.running)
                .values(status=JobStatus.succeeded, done=max(ctx.done, ctx.total), total=ctx.total,
                        message=(outcome.message or "")[:1000],
                        result=json.dumps(outcome.result, ensure_ascii=False, default=str)
                        if outcome.result is not None else None,
                        result_file=stored, result_name=outcome.file_name if stored else None,
                        finished_on=_now(), heartbeat_on=_now(), claim=None)
                .execution_options(synchronize_session=False)).rowcount
            if finished != 1:
                raise ClaimLost(job_id)
        return "succeeded"
    except ClaimLost:  # transaction() has rolled the task's work back
        if stored:
            get_storage(app).delete(stored)
        log.warning("job %s: claim lost, this run's work was discarded", job_id)
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - every failure ends the job with a message (work rolled back)
        if stored:
            get_storage(app).delete(stored)
        if isinstance(exc, AppError):
            message = exc.message
        else:
            log.exception("job %s (%s) failed", job_id, job.kind)
            with force_locale("zh"):
                message = _("The job failed because of an internal error; nothing was changed. Please retry or contact the administrator")
        with transaction():
            db.session.execute(
                update(Job).where(Job.id == job_id, Job.claim == token)
                .values(status=JobStatus.failed, message=message[:1000], finished_on=_now(), claim=None,
                        done=ctx.done, total=ctx.total)
                .execution_options(synchronize_session=False))
        return "failed"
    finally:
        heartbeat.stop()


def reap_abandoned() -> int:
    """Running jobs nobody has heard of for JOB_ABANDONED_SECONDS end failed (never 'running' forever)."""
    limit = _now() - datetime.timedelta(seconds=_config("JOB_ABANDONED_SECONDS", 300))
    with force_locale("zh"):
        message = _worker_died_message()
    with transaction():
        return db.session.execute(
            update(Job).where(Job.status == JobStatus.running, Job.heartbeat_on < limit)
            .values(status=JobStatus.failed, finished_on=_now(), claim=None, message=message)
            .execution_options(synchronize_session=False)).rowcount
