"""The Celery worker entry point: ``celery -A app.jobs.worker worker`` (needs CELERY_BROKER_URL or REDIS_URL).

Like a WSGI entry point, importing this module builds the app: the worker runs each job inside it.
"""
from __future__ import annotations

from celery import Celery

from app import create_app
from app.jobs.backends import TASK_NAME, celery_config, request_id_of

flask_app = create_app()
if not flask_app.config.get("CELERY_BROKER_URL"):
    raise RuntimeError("set CELERY_BROKER_URL (or REDIS_URL), e.g. redis://127.0.0.1:6379/0, to run a worker")

celery = Celery("jijiao")
celery.conf.update(celery_config(flask_app))
app = celery


@celery.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job_task(self, job_id: int) -> str:
    """One job, run to its one result (see app/jobs/runner.py), its log lines under the request's id."""
    from app.jobs.runner import run_job

    return run_job(int(job_id), flask_app, request_id=request_id_of(self.request))
