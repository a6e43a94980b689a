"""Request ids and structured logs: one JSON line per request, the request id on every line it causes.

The request id comes from the ``X-Request-ID`` header (a proxy's, when it is a sane token) or is generated;
it is returned in the response header, written into audit rows (``audit_log.request_id``), sent with the
jobs the request starts (a Celery message header, or the thread's context) and put on every log line of
the request and of its jobs. ``LOG_FORMAT=json`` (the default) writes one JSON object per line to stderr;
``text`` writes plain lines with the request id.
"""
from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional

from flask import Flask, g, has_request_context, request

#: the per-request log line
request_log = logging.getLogger("app.request")
#: what an incoming X-Request-ID may look like (anything else is replaced by a fresh id)
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
HEADER = "X-Request-ID"
#: the request id of work outside a request (a job started by one)
_job_request_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("job_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> Optional[str]:
    """The id of the request (or of the request that started this job) being served, if any."""
    if has_request_context():
        value = g.get("request_id")
        if value:
            return value
    return _job_request_id.get()


@contextmanager
def request_id_context(value: Optional[str]) -> Iterator[None]:
    """Run a job under the id of the request that started it (its log lines and audit rows carry it)."""
    token = _job_request_id.set(value if value and _VALID_ID.fullmatch(value) else None)
    try:
        yield
    finally:
        _job_request_id.reset(token)


# ------------------------------------------------------------------ the request hooks
def _start_request() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _VALID_ID.fullmatch(incoming) else new_request_id()
    g.request_started = time.perf_counter()


def _user_id() -> Optional[int]:
    """The signed-in account's id if this request already loaded it. Never a query: after a rollback (a
    database outage) the account's attributes are expired, so the id comes from its identity key."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import NoInspectionAvailable

    user = g.get("_login_user")
    if user is None:
        candidate = g.get("user")
        user = candidate if candidate is not None and type(candidate).__name__ != "LocalProxy" else None
    if user is None:
        return None
    try:
        identity = inspect(user).identity
    except NoInspectionAvailable:  # the anonymous user
        return None
    return identity[0] if identity else None


def _finish_request(response):
    request_id = g.get("request_id") or new_request_id()
    response.headers[HEADER] = request_id
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    from app.metrics import observe_request

    observe_request(request.method, rule, response.status_code, duration)
    if request.endpoint not in QUIET_ENDPOINTS:
        request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "route": rule,
            "status": response.status_code, "duration_ms": round(duration * 1000, 1), "user_id": _user_id(),
            "remote_addr": request.remote_addr})
    return response


#: probes every few seconds would drown the log: counted in the metrics, not logged
QUIET_ENDPOINTS = {"ops.healthz", "static", "appbuilder.static"}


def register_request_ids(app: Flask) -> None:
    """First before_request (so the id exists for every hook after it) and an after_request."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)


# ------------------------------------------------------------------ every log record carries the request id
def _install_record_factory() -> None:
    """Stamp ``request_id`` on each record when it is made (in the thread that logs), so any handler —
    JSON, text, pytest's capture — sees the id of the request or job that logged it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_jijiao_request_ids", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if getattr(record, "request_id", None) is None:
            try:
                record.request_id = current_request_id()
            except Exception:  # noqa: BLE001 - logging never fails for this
                record.request_id = None
        return record

    factory._jijiao_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


# ------------------------------------------------------------------ formatting
#: LogRecord attributes that are not extra fields
_STANDARD = (set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}) - {
    "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data and not key.startswith("_") and value is not None:
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines, with the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request_id={request_id}]" if request_id else line


def configure_logging(app: Flask) -> None:
    """Production logging on stderr, once per process; the test suite keeps pytest's capture."""
    if app.testing or getattr(logging.getLogger(), "_jijiao_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if app.config.get("LOG_FORMAT", "json") == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root._jijiao_configured = True  # type: ignore[attr-defined]
