"""The one transaction helper: the outermost unit of work commits whole or rolls back whole.

``transaction()`` nests: a service that opens one may be called from another service's transaction,
and only the outermost block commits (or, on any exception, rolls everything back). Views never
commit; they call services, which run in ``transaction()``.
"""
from contextlib import contextmanager

from app.errors import InvalidInput
from app.extensions import db

#: key in the session's info dict counting open transaction() blocks
_DEPTH = "transaction_depth"

#: kept for existing imports: a business rule refused the operation (the message is shown as is)
ServiceError = InvalidInput


@contextmanager
def transaction():
    """Run a unit of work; only the outermost block commits, any failure rolls back the whole."""
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def in_transaction() -> bool:
    """Whether a transaction() block is open (tests and invariants use it)."""
    return db.session().info.get(_DEPTH, 0) > 0


def commit() -> None:
    """Commit work a tool staged statement by statement (benchmark resets, bulk loads)."""
    db.session.commit()
