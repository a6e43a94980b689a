"""Background jobs: long work (exports, imports, batch printing) with progress, run by workers.

A job is a row of ``job`` (owner, kind, parameters, status, progress, message, result file) and a task
function registered here by kind. ``submit`` adds the row; once the surrounding transaction commits,
the job is dispatched to the configured backend (``backends.py``): Celery workers on Redis when
``CELERY_BROKER_URL``/``REDIS_URL`` is set (production), otherwise a small thread pool inside the web
process (the embedded default). Both run the same ``runner.run_job``, which claims the row with a
guarded UPDATE, so a job runs to one result however often its message is delivered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.actor import Actor
from app.extensions import db
from app.models import Job, JobStatus
from app.services.transaction import transaction

#: kind -> task function(ctx) -> JobOutcome
TASKS: dict[str, Callable[["JobContext"], "JobOutcome"]] = {}
_TO_DISPATCH = "jobs_to_dispatch"


def task(kind: str):
    """Register the function that runs jobs of a kind."""
    def decorator(fn):
        TASKS[kind] = fn
        return fn
    return decorator


class ClaimLost(Exception):
    """Another run took the job over (this worker was presumed dead): stop without writing anything."""


@dataclass
class JobOutcome:
    """What a finished task leaves: a message, optional JSON for later pages, an optional result file."""

    message: str = ""
    result: Optional[dict] = None
    #: a local file the runner moves into the file store, and the name it is downloaded under
    file_path: Optional[str] = None
    file_name: Optional[str] = None


@dataclass
class JobContext:
    """What a task gets: its job's id and parameters, the acting owner, and a progress reporter."""

    job_id: int
    kind: str
    params: dict
    actor: Actor
    done: int = 0
    total: int = 0
    #: set by the heartbeat when the claim was lost
    lost: bool = False
    _listeners: list = field(default_factory=list, repr=False)

    def progress(self, done: int, total: Optional[int] = None) -> None:
        """Cheap: only remembers the figures; the heartbeat thread writes them (and notices a lost claim)."""
        self.done = done
        if total is not None:
            self.total = total
        if self.lost:
            raise ClaimLost(self.job_id)

    def check(self) -> None:
        if self.lost:
            raise ClaimLost(self.job_id)


def submit(kind: str, *, actor: Actor, title: str, params: Optional[dict] = None, total: int = 0,
           dispatch: bool = True) -> Job:
    """Add a queued job (in the caller's transaction); it is dispatched once that commits.

    With ``dispatch=False`` the caller runs it itself, at once (``runner.run_job``): small work keeps its
    answer in the request but goes through the same task code and the same result handling.
    """
    if kind not in TASKS:
        from flask import current_app

        load_task_modules(current_app)
    if kind not in TASKS:
        raise KeyError(kind)
    with transaction():
        job = Job(owner_id=actor.id, kind=kind, title=title[:200],
                  params=json.dumps(params or {}, ensure_ascii=False, default=str), status=JobStatus.queued,
                  total=total, done=0, attempts=0)
        db.session.add(job)
        db.session.flush()
        if dispatch:
            db.session.info.setdefault(_TO_DISPATCH, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session) -> None:
    ids = session.info.pop(_TO_DISPATCH, None)
    if ids:
        from app.jobs.backends import dispatch

        for job_id in ids:
            dispatch(job_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_TO_DISPATCH, None)


def load_task_modules(app) -> None:
    """Import the modules whose @task functions the product runs (and any a deployment adds)."""
    import importlib

    for name in ["app.io.jobs", "app.services.credit.jobs", "app.services.certificate_pdf",
                 *app.config.get("JOB_MODULES", [])]:
        importlib.import_module(name)


def params_of(job: Job) -> dict[str, Any]:
    try:
        value = json.loads(job.params or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
