"""Statistics aggregates (查询统计): counts per employer unit, kept in the transaction of every change.

Both hold a row per unit and title series (0: none) and one per unit for all series (-1): the table by
department sums one row per unit, the table by series the series rows.

``stat_unit_person``: active persons per employer unit and title series, kept by database
triggers on ``person`` (every path that adds, approves, moves, re-titles or deletes a person: ORM, set-based
UPDATEs, COPY imports).
``stat_unit_credit``: per employer unit, year and title series, the learners and qualified persons summed
from ``credit_summary`` — moved by delta with every change of the summaries (the ``BEFORE_CHANGE`` and
``AFTER_REFRESH`` hooks of ``app/services/credit/summary.py``); a person changing unit or title series moves their contribution (the same
``person`` triggers). The pages sum these rows by organisation path; they never read raw records.
No foreign keys: the rows follow the tree by the join at query time (a moved subtree needs no update), and
deleting an organisation never trips over them.
"""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

#: the series key of persons without a title series
NO_SERIES = 0
#: the series key of a unit's row for all its series (what the table by department sums: one row per unit)
ALL_SERIES = -1

#: stat_unit_credit's counters: column -> SQL over credit_summary ``s`` (a 0/1 flag, or a number)
CREDIT_COUNTERS = {
    "learners": "s.public_online_records + s.public_offline_records + s.professional_online_records"
                " + s.professional_offline_records > 0",
    "online_learners": "s.public_online_records + s.professional_online_records > 0",
    "offline_learners": "s.public_offline_records + s.professional_offline_records > 0",
    "public_learners": "s.public_online_records + s.public_offline_records > 0",
    "public_online_learners": "s.public_online_records > 0",
    "public_offline_learners": "s.public_offline_records > 0",
    "professional_learners": "s.professional_online_records + s.professional_offline_records > 0",
    "professional_online_learners": "s.professional_online_records > 0",
    "professional_offline_learners": "s.professional_offline_records > 0",
    "approved_learners": "s.approved_records > 0",
    "approved_records": None,  # the number itself
    "qualified": "s.qualified",
}


def counter_sql(column: str, alias: str = "s") -> str:
    """What one credit_summary row contributes to a counter (0/1 for persons, the number for records)."""
    condition = CREDIT_COUNTERS[column]
    if condition is None:
        return f"{alias}.{column}"
    return "CASE WHEN " + condition.replace("s.", f"{alias}.") + " THEN 1 ELSE 0 END"


class StatUnitPerson(Model):
    """Active persons of one employer unit and title series."""

    __tablename__ = "stat_unit_person"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    series_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    persons: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StatUnitCredit(Model):
    """Learners, qualified persons and approved records of one employer unit, year and title series."""

    __tablename__ = "stat_unit_credit"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    org_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    series_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    online_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    offline_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    public_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    public_online_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    public_offline_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_online_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_offline_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    approved_learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    approved_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    qualified: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StatUnitTitle(Model):
    """Persons of one employer unit by title series (0: none), title level (0: none) and status (every status):
    what 职称系列分布查询 sums by organisation path. Kept by the ``stat_title_*`` triggers on ``person``
    (migration 0020)."""

    __tablename__ = "stat_unit_title"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    series_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    level_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    persons: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
