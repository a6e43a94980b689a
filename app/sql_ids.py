"""Long lists of ids and rows in SQL: one array parameter on PostgreSQL instead of thousands of bind parameters,
and VALUES lists that read the same on PostgreSQL and SQLite.

``column.in_(ids)`` with 5,000 ids renders 5,000 placeholders on every execution (SQLAlchemy's expanding IN)
and psycopg2 formats each of them; ``column = ANY(:ids)`` sends one array, whatever its length, and the
planner treats both the same way (a ScalarArrayOp: index scan by the list). Other databases (SQLite in the
tests) keep ``IN``; callers there pass lists no longer than their chunk size.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def ids_in(column, ids: Iterable[int]):
    """SQL: ``column`` is one of ``ids`` (an array parameter on PostgreSQL)."""
    values = [int(i) for i in ids]
    if is_postgresql():
        return column == any_(bindparam("id_list", values, type_=ARRAY(Integer), unique=True))
    return column.in_(values)


def values_list(rows: Iterable[tuple], names: tuple) -> tuple[str, dict]:
    """``(:a0, :b0), (:a1, :b1) ...`` and its parameters, for integer rows named by ``names``."""
    params, parts = {}, []
    for i, row in enumerate(rows):
        keys = []
        for name, value in zip(names, row):
            params[f"{name}{i}"] = int(value)
            keys.append(f":{name}{i}")
        parts.append(f"({', '.join(keys)})")
    return ", ".join(parts), params


def values_table(values: str, names: tuple, alias: str = "v") -> str:
    """A VALUES list as a table with named columns on both dialects."""
    if is_postgresql():
        return f"(VALUES {values}) AS {alias}({', '.join(names)})"
    cols = ", ".join(f"column{i + 1} AS {n}" for i, n in enumerate(names))
    return f"(SELECT {cols} FROM (VALUES {values})) AS {alias}"
