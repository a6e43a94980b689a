"""The one transaction helper: commit on success, roll back everything on failure."""
from contextlib import contextmanager

from app.extensions import db


class ServiceError(Exception):
    """A business rule refused the operation; the message is shown to the user as is."""


@contextmanager
def transaction():
    """Run a unit of work; commit it whole or roll it back whole."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def commit() -> None:
    """Commit work a tool staged statement by statement (benchmark resets, bulk loads)."""
    db.session.commit()
