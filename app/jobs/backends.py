"""Where jobs run: Celery workers on Redis in production, a thread pool in the embedded default.

Both call the same ``runner.run_job(job_id)``. The embedded backend needs nothing installed: a
``ThreadPoolExecutor`` of ``JOB_THREADS`` threads in the web process, with the job table as the queue
(jobs left queued or running by a stopped process are picked up again by ``recover``). With a broker
URL, the web process only sends ``jijiao.run_job(job_id)`` to the ``CELERY_QUEUE`` queue and
``celery -A app.jobs.worker worker`` processes on any number of hosts run it.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from flask import current_app

log = logging.getLogger("app.jobs")
TASK_NAME = "jijiao.run_job"
#: the Celery message header carrying the id of the request that started the job (app/logs.py)
REQUEST_ID_HEADER = "x_request_id"
_lock = threading.Lock()


def uses_celery(app=None) -> bool:
    app = app or current_app
    return bool(app.config.get("CELERY_BROKER_URL"))


def celery_config(app) -> dict:
    """The Celery settings both the sender (web) and the workers use."""
    return dict(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_default_queue=app.config.get("CELERY_QUEUE", "jijiao"),
        # a message is acknowledged only after its job ran; a killed worker's message is delivered again
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(app.config.get("CELERY_VISIBILITY_TIMEOUT", 3600))},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )


def request_id_of(task_request) -> Optional[str]:
    """The id of the request that started a job, from its Celery message header (None from older senders)."""
    value = getattr(task_request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(task_request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return value if isinstance(value, str) else None


def _celery_client(app):
    """A sender-only Celery app per Flask app (the web process never runs tasks itself)."""
    client = app.extensions.get("jijiao_celery")
    if client is None:
        from celery import Celery

        client = Celery("jijiao", set_as_current=False)
        client.conf.update(celery_config(app))
        app.extensions["jijiao_celery"] = client
    return client


def _executor(app) -> ThreadPoolExecutor:
    with _lock:
        executor: Optional[ThreadPoolExecutor] = app.extensions.get("jijiao_job_threads")
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=int(app.config.get("JOB_THREADS", 2)),
                                          thread_name_prefix="job")
            app.extensions["jijiao_job_threads"] = executor
        return executor


def _run_in_thread(app, job_id: int, request_id: Optional[str] = None) -> None:
    from app.jobs.runner import run_job

    try:
        run_job(job_id, app, request_id=request_id)
    except Exception:  # noqa: BLE001 - a thread must not die silently
        log.exception("job %s crashed its thread", job_id)


def dispatch(job_id: int, app=None) -> None:
    """Hand a committed job to the backend; a broker that cannot be reached fails the job with a message."""
    from app.logs import current_request_id

    app = app or current_app._get_current_object()
    request_id = current_request_id()
    if not uses_celery(app):
        future = _executor(app).submit(_run_in_thread, app, job_id, request_id)
        futures = app.extensions.setdefault("jijiao_job_futures", [])
        futures[:] = [f for f in futures if not f.done()] + [future]
        return
    try:
        # the request id travels as a message header: workers of any version accept the message
        _celery_client(app).send_task(TASK_NAME, args=[job_id], queue=app.config.get("CELERY_QUEUE", "jijiao"),
                                      headers={REQUEST_ID_HEADER: request_id} if request_id else None)
    except Exception:  # noqa: BLE001 - kombu raises several kinds when Redis is down
        log.exception("job %s could not be sent to the broker", job_id)
        _fail_unsent(app, job_id)


def _fail_unsent(app, job_id: int) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Job, JobStatus

    with force_locale("zh"):
        message = _("The job queue is unreachable; the job was not started. Please retry in a moment")
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.queued)
                     .values(status=JobStatus.failed, message=message))


def wait_idle(app, timeout: float = 30.0) -> None:
    """Embedded backend: wait until every job submitted so far has run (tests, commands)."""
    import concurrent.futures

    pending = [f for f in app.extensions.get("jijiao_job_futures", []) if not f.done()]
    done, not_done = concurrent.futures.wait(pending, timeout=timeout)
    if not_done:
        raise concurrent.futures.TimeoutError("jobs still running")


def recover(app) -> int:
    """Embedded backend at start-up: jobs a stopped process left queued or running are run again."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Job, JobStatus

    if uses_celery(app):
        return 0
    with app.app_context():
        ids = list(db.session.scalars(select(Job.id).where(Job.status.in_([JobStatus.queued, JobStatus.running]))
                                      .order_by(Job.id)))
        db.session.remove()
    for job_id in ids:
        dispatch(job_id, app)
    return len(ids)
