"""Read-only report work on a replica: ``on_replica()`` sends the session's reads to DATABASE_REPLICA_URL.

Exports (``app/io/export.py``) and the statistics pages read many rows and tolerate a replica's lag of a
few seconds; everything else — writes, and any read that must see the request's own writes — stays on the
primary. Use it as a context manager or a decorator around the read-only part::

    from app.replica import on_replica

    @on_replica()
    def statistics_rows(actor, params): ...        # every SELECT inside runs on the replica

    with on_replica():
        rows = db.session.execute(query).all()

Inside the block ``db.session`` stays the same object: its SELECTs go to the replica engine (a second
connection of the same session transaction), while INSERT/UPDATE/DELETE, flushes, and every read after a
write in the same transaction go to the primary. Without DATABASE_REPLICA_URL it does nothing: the primary
answers. Blocks nest; the reader thread of an export opens its own block.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator, Optional

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session

log = logging.getLogger("app.replica")

#: keys in the session's info dict
_DEPTH = "replica_depth"
_WROTE = "replica_wrote"
_EXTENSION = "jijiao_replica_engine"


def configure(app, url: Optional[str]) -> None:
    """Create (or with no URL, drop) the app's replica engine, with the primary's pool options."""
    from config import database_url, engine_options

    old = app.extensions.pop(_EXTENSION, None)
    if old is not None:
        old.dispose()
    if url:
        url = database_url(url)
        options = {**engine_options(url), **{k: v for k, v in (app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).items()
                                              if k != "connect_args"}}
        app.extensions[_EXTENSION] = sa.create_engine(url, **options)


def replica_engine(app=None) -> Optional[sa.engine.Engine]:
    """The replica engine, or None when no replica is configured."""
    if app is None:
        if not has_app_context():
            return None
        app = current_app
    return app.extensions.get(_EXTENSION)


@contextmanager
def on_replica() -> Iterator[Session]:
    """Within the block the session's reads use the replica (when configured); yields the session."""
    from app.extensions import db

    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
    finally:
        session.info[_DEPTH] = depth


def reading_replica(session: Optional[Session] = None) -> bool:
    """Whether the session's next SELECT goes to the replica (tests and logs use it)."""
    from app.extensions import db

    session = session or db.session()
    return bool(session.info.get(_DEPTH)) and not session.info.get(_WROTE) and replica_engine() is not None


class ReplicaAwareSession(FlaskSession):
    """Flask-SQLAlchemy's session, whose SELECTs inside ``on_replica()`` go to the replica engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.info.get(_DEPTH) and not self.info.get(_WROTE) and _is_read(mapper, clause):
            engine = replica_engine()
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _is_read(mapper, clause) -> bool:
    """Plain SELECTs (ORM queries too) and a bare ``session.connection()`` inside the block (a streamed
    export); a flush (a mapper without a statement) and anything that writes stay on the primary."""
    if clause is None:
        return mapper is None
    if isinstance(clause, (sa.sql.Select, sa.sql.CompoundSelect)):
        return not clause._for_update_arg  # SELECT ... FOR UPDATE locks rows on the primary
    return False


def _install_session_events() -> None:
    """Note a write in the current transaction (reads after it stay on the primary until it ends)."""
    from sqlalchemy import event

    @event.listens_for(Session, "after_flush")
    def _flushed(session, flush_context) -> None:
        session.info[_WROTE] = True

    @event.listens_for(Session, "do_orm_execute")
    def _executed(state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[_WROTE] = True

    @event.listens_for(Session, "after_transaction_end")
    def _ended(session, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(_WROTE, None)


_install_session_events()
