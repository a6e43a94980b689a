"""gunicorn settings of an app host: ``gunicorn -c gunicorn.conf.py "app:create_app()"`` (docs/production.md).

Every value comes from the environment with a production default:

* ``BIND`` (127.0.0.1:8000) — the address nginx proxies to;
* ``WEB_CONCURRENCY`` — worker processes, by default 2 × cores + 1;
* ``GUNICORN_TIMEOUT`` (60 s) — a worker silent this long is killed and replaced (large exports run as jobs);
* ``GUNICORN_GRACEFUL_TIMEOUT`` (30 s) — on SIGTERM/SIGHUP, running requests get this long to finish;
* ``GUNICORN_MAX_REQUESTS`` (2000) and ``GUNICORN_MAX_REQUESTS_JITTER`` (200) — workers are recycled after
  that many requests (spread out, so they never all restart at once);
* ``GUNICORN_ACCESS_LOG`` ("-": stderr; empty: off) — one JSON line per request, with the request id;
* ``PROMETHEUS_MULTIPROC_DIR`` — set it to a folder the app may write (e.g. /run/jijiao/metrics) and
  /metrics adds up every worker's counters; the folder is emptied at start and a dead worker's gauges go.
"""
import json
import multiprocessing
import os
import shutil

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 200))
# the app is imported once in the master: workers fork with the code loaded (faster, less memory)
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# the app writes its own JSON lines (app/logs.py); gunicorn's error log stays on stderr too
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = json.dumps({
    "logger": "gunicorn.access",
    "remote_addr": "%(h)s",
    "request_id": "%({x-request-id}o)s",
    "method": "%(m)s",
    "path": "%(U)s",
    "query": "%(q)s",
    "status": "%(s)s",
    "bytes": "%(B)s",
    "duration_ms": "%(M)s",
    "user_agent": "%(a)s",
})
# gunicorn's own lines as JSON too (the access lines are JSON already: written as they are)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "app.logs.JsonFormatter"},
        "raw": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "raw", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["error"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "alembic": {"level": "WARNING"},
    },
}
# behind nginx: the proxy's X-Forwarded-* headers are trusted from these addresses (see TRUSTED_PROXIES)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server):
    """Multiprocess metrics start from an empty folder (old files would add stale counts)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """A worker ended (recycled, killed): its live gauges no longer count."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    """Each worker opens its own database connections (none inherited from the preloaded master)."""
    try:
        from app.extensions import db

        app = server.app.wsgi()
        with app.app_context():
            db.engine.dispose(close=False)
    except Exception:  # noqa: BLE001 - nothing to dispose before the first request
        pass
