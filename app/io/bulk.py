"""Set-based inserts of many rows in the session's transaction: COPY on PostgreSQL, executemany elsewhere.

No ORM object per row: the committer of an import hands plain dicts (column name -> value) to
``insert_rows``; mapper events do not run, so the dicts carry every derived column themselves.
"""
from __future__ import annotations

import datetime
import enum
import io
from typing import Iterable, Sequence

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES)
    if value is None:
        return "\\N"
    if kind is int:
        return str(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def copy_lines(table: Table, columns: Sequence[str], lines: Iterable[str]) -> int:
    """PostgreSQL: COPY ready-made lines (COPY text format, no newline) into the current transaction."""
    buffer = io.StringIO()
    count = 0
    for line in lines:
        buffer.write(line)
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor:
        try:
            cursor.copy_expert(statement, buffer, size=1 << 20)
        except connection.dialect.dbapi.IntegrityError as exc:  # the same error executemany raises
            raise IntegrityError(statement, None, exc) from exc
    return count


def insert_rows(table: Table, rows: Sequence[dict]) -> int:
    """Insert the rows (all with the same keys) into the current transaction; returns how many."""
    if not rows:
        return 0
    session = db.session
    connection = session.connection()
    columns = list(rows[0])
    if connection.dialect.name == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_text(row[c]) for c in columns))
            buffer.write("\n")
        buffer.seek(0)
        raw = connection.connection.dbapi_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor:
            try:
                cursor.copy_expert(statement, buffer, size=1 << 20)
            except connection.dialect.dbapi.IntegrityError as exc:  # the same error executemany raises
                raise IntegrityError(statement, None, exc) from exc
        return len(rows)
    for start in range(0, len(rows), 5000):
        connection.execute(insert(table), list(rows[start:start + 5000]))
    return len(rows)
