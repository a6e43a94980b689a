"""Prometheus metrics: requests by route and status, latency, jobs by status, the job queue's length.

Counters and histograms live in this process; with several gunicorn workers set PROMETHEUS_MULTIPROC_DIR
(an empty folder, wiped at each start; gunicorn.conf.py does both) and prometheus_client writes them to
files there that one scrape of any worker adds up. Job figures are read from the database (and the
queue's length from Redis) at scrape time, so they are the same whichever worker answers.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("app.metrics")

REQUESTS = Counter("jijiao_http_requests_total", "HTTP requests answered, by route template, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("jijiao_http_request_duration_seconds", "Time to produce the response, by route template",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


JOB_RUNS = Counter("jijiao_job_runs_total", "Job runs finished in this process, by outcome", ["outcome"])


def observe_job(outcome: str) -> None:
    JOB_RUNS.labels(outcome).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


class JobCollector:
    """Jobs by status from the database and the Celery queue's length from Redis, read at scrape time."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import Job, JobStatus
        from app.shared import queue_length

        with self.app.app_context():
            try:
                rows = dict(db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
            except Exception as exc:  # noqa: BLE001 - a scrape during an outage leaves the figures out
                log.warning("job figures unavailable: %s", exc)
                rows = None
            finally:
                db.session.remove()
            if rows is not None:
                family = GaugeMetricFamily("jijiao_jobs", "Background jobs by status", labels=["status"])
                for status in JobStatus:
                    family.add_metric([status.value], rows.get(status, 0))
                yield family
            length = queue_length(self.app)
            if length is not None:
                yield GaugeMetricFamily("jijiao_job_queue_length", "Job messages waiting in the Celery queue",
                                        value=length)


class _DefaultRegistry:
    """This process's own metrics (single-process mode)."""

    def collect(self):
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def render(app) -> bytes:
    """The text exposition of every metric, added up over the workers in multiprocess mode."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())
    registry.register(JobCollector(app))
    return generate_latest(registry)
