"""State the app hosts share: Redis when ``REDIS_URL`` is set, this process's memory otherwise.

Caches stay per process (they are cheap to rebuild), but each cache key carries a *generation*: a
counter in Redis that ``bump`` increments when the cached facts change. Every host reads the current
generation on use, so a change on one host makes every other host recompute at its next request. Without
Redis (the embedded default: one process) the counter lives in memory. A Redis that stops answering
degrades to the in-memory counter for a few seconds at a time and never fails a request.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Optional

from flask import current_app, g, has_app_context, has_request_context

log = logging.getLogger("app.shared")

#: key prefix of everything the app keeps in Redis
PREFIX = "jijiao:"
#: seconds a host leaves Redis alone after it failed to answer (so an outage costs one timeout, not one per call)
RETRY_AFTER = 5.0
#: seconds Redis may take to connect or answer before a call is given up
TIMEOUT = 0.5

_local: dict[str, int] = {}
_local_lock = threading.Lock()
_counter = itertools.count(1)


def redis_url(app=None) -> str:
    app = app or current_app
    return app.config.get("REDIS_URL") or ""


def client(app=None):
    """The app's Redis client (None without REDIS_URL, or for RETRY_AFTER seconds after a failure)."""
    app = app or current_app._get_current_object()
    url = redis_url(app)
    if not url:
        return None
    state = app.extensions.setdefault("jijiao_redis", {"client": None, "down_until": 0.0})
    if state["down_until"] > time.monotonic():
        return None
    if state["client"] is None:
        import redis

        state["client"] = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
                                               health_check_interval=30)
    return state["client"]


def mark_down(app=None, exc: Optional[BaseException] = None) -> None:
    """Redis did not answer: use process memory for a while and say so once in the log."""
    app = app or current_app._get_current_object()
    state = app.extensions.setdefault("jijiao_redis", {"client": None, "down_until": 0.0})
    if state["down_until"] <= time.monotonic():
        log.warning("Redis unreachable, using process memory for %ss: %s", RETRY_AFTER, exc)
    state["down_until"] = time.monotonic() + RETRY_AFTER


def ping(app=None) -> str:
    """'ok', 'error' or 'off' (no Redis configured): for /readyz."""
    app = app or current_app._get_current_object()
    url = redis_url(app)
    if not url:
        return "off"
    import redis

    try:
        state = app.extensions.setdefault("jijiao_redis", {"client": None, "down_until": 0.0})
        conn = state["client"] or redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
        state["client"] = conn
        conn.ping()
        state["down_until"] = 0.0
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("Redis ping failed: %s", exc)
        return "error"


def _key(name: str) -> str:
    return f"{PREFIX}gen:{name}"


def generation(name: str) -> tuple:
    """The current generation of a cache (a key part): read once per request from Redis, else memory."""
    memo = g.setdefault("_generations", {}) if has_request_context() else {}
    if name in memo:
        return memo[name]
    value: tuple = ("local", _local.get(name, 0))
    conn = client() if has_app_context() else None
    if conn is not None:
        try:
            value = ("redis", int(conn.get(_key(name)) or 0))
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError, TimeoutError...
            mark_down(exc=exc)
    memo[name] = value
    return value


def bump(*names: str) -> None:
    """The facts behind these caches changed: every host recomputes them at its next use."""
    with _local_lock:
        for name in names:
            _local[name] = _local.get(name, 0) + next(_counter)
    if has_request_context():
        memo = g.get("_generations")
        if memo:
            for name in names:
                memo.pop(name, None)
    conn = client() if has_app_context() else None
    if conn is None:
        return
    try:
        pipe = conn.pipeline(transaction=False)
        for name in names:
            pipe.incr(_key(name))
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - the other hosts catch up when their TTL runs out
        mark_down(exc=exc)


def queue_length(app=None) -> Optional[int]:
    """Messages waiting in the Celery queue (Redis list named like the queue), None when unknown."""
    app = app or current_app._get_current_object()
    broker = app.config.get("CELERY_BROKER_URL") or ""
    if not broker.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        conn = redis.Redis.from_url(broker, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
        try:
            return int(conn.llen(app.config.get("CELERY_QUEUE", "jijiao")))
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - metrics never fail
        return None


# ------------------------------------------------------------------ bumps follow the database transaction
_TO_BUMP = "shared_generations_to_bump"


def bump_after_commit(*names: str) -> None:
    """Bump once the current transaction commits (a host recomputing earlier would cache the old facts)."""
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        bump(*names)
        return
    session.info.setdefault(_TO_BUMP, set()).update(names)


def _install_session_events() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _bump_committed(session) -> None:
        names = session.info.pop(_TO_BUMP, None)
        if names and has_app_context():
            bump(*sorted(names))

    @event.listens_for(Session, "after_soft_rollback")
    def _forget_rolled_back(session, previous_transaction) -> None:
        if not session.in_transaction():
            session.info.pop(_TO_BUMP, None)

    @event.listens_for(Session, "after_flush")
    def _reference_changed(session, flush_context) -> None:
        from app.admin.fields import REFERENCE_TABLES

        for obj in itertools.chain(session.new, session.dirty, session.deleted):
            if getattr(obj, "__tablename__", None) in REFERENCE_TABLES:
                session.info.setdefault(_TO_BUMP, set()).add("reference")
                return


_install_session_events()
