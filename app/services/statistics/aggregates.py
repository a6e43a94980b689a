"""The per-unit statistics aggregates: kept in the transaction of every change, checked and rebuilt from scratch.

* persons per unit and title series: database triggers on ``person`` (migration 0014);
* persons per unit, title series, title level and status (职称系列分布查询): triggers on ``person`` (migration 0020);
* learners per unit, year and title series: the credit summaries' hooks — ``before_summaries_change``
  (``BEFORE_CHANGE``, once the persons' summary rows are locked) takes their old contribution out of their units'
  rows, ``on_summaries_changed`` (``AFTER_REFRESH``) adds the new one; both set-based over the changed persons
  only, by addition, so the cost follows the change and concurrent changes of one unit lose nothing.
  ``recompute_groups`` recomputes whole (unit, year) groups where a unit's membership changes.

``differences`` recomputes everything from ``person`` and ``credit_summary`` and lists the rows that disagree
(``flask stats-check``); ``rebuild`` replaces both tables (``flask stats-rebuild``, and the scale generator).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import text

from app.extensions import db
from app.models_statistics import ALL_SERIES, CREDIT_COUNTERS, StatUnitCredit, StatUnitPerson, StatUnitTitle, counter_sql  # noqa: F401
from app.sql_ids import is_postgresql, values_list, values_table

COUNTERS = tuple(CREDIT_COUNTERS)
_CHUNK = 2000


def credit_select(where: str = "") -> str:
    """SELECT org_id, year, series_id, <counters> summed from credit_summary s ⨝ person p [WHERE ...]: one row per
    unit, year and series, and one per unit and year for all series (series_id -1)."""
    sums = ", ".join(f"SUM({counter_sql(c)}) AS {c}" for c in COUNTERS)
    return " UNION ALL ".join(
        f"SELECT p.employer_id AS org_id, s.year AS year, {series} AS series_id, {sums} "
        f"FROM credit_summary s JOIN person p ON p.id = s.person_id {where} "
        f"GROUP BY p.employer_id, s.year{'' if series == ALL_SERIES_SQL else ', ' + series}"
        for series in ("COALESCE(p.title_series_id, 0)", ALL_SERIES_SQL))


ALL_SERIES_SQL = str(ALL_SERIES)
PERSON_SELECT = " UNION ALL ".join(
    f"SELECT employer_id AS org_id, {series} AS series_id, COUNT(*) AS persons FROM person "
    f"WHERE status = 'active' GROUP BY employer_id{'' if series == ALL_SERIES_SQL else ', ' + series}"
    for series in ("COALESCE(title_series_id, 0)", ALL_SERIES_SQL))


#: persons per unit, title series, title level and status (every status), as ``stat_unit_title`` holds them
TITLE_SELECT = (
    "SELECT employer_id AS org_id, COALESCE(title_series_id, 0) AS series_id, COALESCE(title_level_id, 0) AS level_id, "
    "status, COUNT(*) AS persons FROM person "
    "GROUP BY employer_id, COALESCE(title_series_id, 0), COALESCE(title_level_id, 0), status")


def groups_of(pairs: list) -> list[tuple[int, int]]:
    """(unit, year) groups of (person_id, year) pairs: the persons' current units."""
    groups: set = set()
    for start in range(0, len(pairs), _CHUNK):
        values, params = values_list(pairs[start:start + _CHUNK], ("p", "y"))
        groups.update(tuple(r) for r in db.session.execute(text(
            f"SELECT DISTINCT person.employer_id, v.year FROM {values_table(values, ('person_id', 'year'))} "
            f"JOIN person ON person.id = v.person_id"), params))
    return sorted(groups)


def recompute_groups(groups: Iterable[tuple[int, int]]) -> int:
    """Recompute the learner counts of (unit, year) groups from the summaries."""
    groups = sorted(set((int(o), int(y)) for o, y in groups))
    postgres = is_postgresql()
    cols = ", ".join(COUNTERS)
    for start in range(0, len(groups), _CHUNK):
        chunk = groups[start:start + _CHUNK]
        values, params = values_list(chunk, ("o", "y"))
        table = values_table(values, ("org_id", "year"))
        if postgres:
            # one lock per (unit, year), in order: concurrent refreshes of one unit take turns
            db.session.execute(text(
                f"SELECT pg_advisory_xact_lock(v.org_id, v.year) FROM {table} ORDER BY v.org_id, v.year"), params)
        db.session.execute(text(
            f"DELETE FROM stat_unit_credit WHERE EXISTS (SELECT 1 FROM {table} "
            f"WHERE v.org_id = stat_unit_credit.org_id AND v.year = stat_unit_credit.year)"), params)
        db.session.execute(text(
            f"INSERT INTO stat_unit_credit (org_id, year, series_id, {cols}) "
            + credit_select(f"JOIN {table} ON p.employer_id = v.org_id AND s.year = v.year")), params)
    return len(groups)


def shift(pairs: list, sign: int) -> None:
    """Add (+1) or take out (-1) the contribution of the (person_id, year) summaries to their units' rows:
    the cost follows the persons changed, not the size of their units. Rows are upserted in key order and
    changed by addition, so concurrent shifts of one unit serialise on its rows and lose nothing."""
    cols = ", ".join(COUNTERS)
    signed = ", ".join(f"{sign} * x.{c}" for c in COUNTERS)
    added = ", ".join(f"{c} = stat_unit_credit.{c} + excluded.{c}" for c in COUNTERS)
    for start in range(0, len(pairs), _CHUNK):
        values, params = values_list(pairs[start:start + _CHUNK], ("p", "y"))
        table = values_table(values, ("person_id", "year"))
        db.session.execute(text(
            f"INSERT INTO stat_unit_credit (org_id, year, series_id, {cols}) "
            f"SELECT x.org_id, x.year, x.series_id, {signed} FROM ("
            + credit_select(f"JOIN {table} ON s.person_id = v.person_id AND s.year = v.year")
            + ") x WHERE true ORDER BY x.year, x.org_id, x.series_id "
            f"ON CONFLICT (year, org_id, series_id) DO UPDATE SET {added}"), params)


def before_summaries_change(pairs: list) -> None:
    """``BEFORE_CHANGE`` hook: the old contribution of the persons' years leaves their units' rows."""
    shift(pairs, -1)


def on_summaries_changed(pairs: list) -> None:
    """``AFTER_REFRESH`` hook: the new contribution of the persons' years joins their units' rows."""
    shift(pairs, +1)


def rebuild() -> dict:
    """Replace the aggregates by a recomputation (set-based)."""
    cols = ", ".join(COUNTERS)
    db.session.execute(text("DELETE FROM stat_unit_person"))
    db.session.execute(text(f"INSERT INTO stat_unit_person (org_id, series_id, persons) {PERSON_SELECT}"))
    db.session.execute(text("DELETE FROM stat_unit_title"))
    db.session.execute(text(f"INSERT INTO stat_unit_title (org_id, series_id, level_id, status, persons) {TITLE_SELECT} "
                            "ORDER BY 1, 2, 3, 4"))
    db.session.execute(text("DELETE FROM stat_unit_credit"))
    db.session.execute(text(f"INSERT INTO stat_unit_credit (org_id, year, series_id, {cols}) {credit_select()}"))
    return {"stat_unit_person": db.session.scalar(text("SELECT COUNT(*) FROM stat_unit_person")),
            "stat_unit_title": db.session.scalar(text("SELECT COUNT(*) FROM stat_unit_title")),
            "stat_unit_credit": db.session.scalar(text("SELECT COUNT(*) FROM stat_unit_credit"))}


def clear() -> None:
    """Empty the aggregates (the demo reset removes every person and summary)."""
    db.session.execute(text("DELETE FROM stat_unit_person"))
    db.session.execute(text("DELETE FROM stat_unit_title"))
    db.session.execute(text("DELETE FROM stat_unit_credit"))


def differences(limit: int = 20) -> list[dict]:
    """Rows whose stored counts differ from a recomputation (zero rows and missing rows are the same)."""
    found = []
    person = db.session.execute(text(
        f"SELECT org_id, series_id, SUM(persons) AS diff FROM ("
        f"SELECT org_id, series_id, persons FROM ({PERSON_SELECT}) e "
        f"UNION ALL SELECT org_id, series_id, -persons FROM stat_unit_person) d "
        f"GROUP BY org_id, series_id HAVING SUM(persons) <> 0 ORDER BY org_id, series_id LIMIT :limit"),
        {"limit": limit})
    found += [{"table": "stat_unit_person", "org_id": r.org_id, "series_id": r.series_id,
               "differences": {"persons": int(r.diff)}} for r in person]
    title = db.session.execute(text(
        f"SELECT org_id, series_id, level_id, status, SUM(persons) AS diff FROM ("
        f"SELECT org_id, series_id, level_id, status, persons FROM ({TITLE_SELECT}) e "
        f"UNION ALL SELECT org_id, series_id, level_id, status, -persons FROM stat_unit_title) d "
        f"GROUP BY org_id, series_id, level_id, status HAVING SUM(persons) <> 0 "
        f"ORDER BY org_id, series_id, level_id, status LIMIT :limit"), {"limit": limit})
    found += [{"table": "stat_unit_title", "org_id": r.org_id, "series_id": r.series_id, "level_id": r.level_id,
               "status": r.status, "differences": {"persons": int(r.diff)}} for r in title]
    negated = ", ".join(f"-{c}" for c in COUNTERS)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in COUNTERS)
    nonzero = " OR ".join(f"SUM({c}) <> 0" for c in COUNTERS)
    credit = db.session.execute(text(
        f"SELECT org_id, year, series_id, {sums} FROM ("
        f"SELECT org_id, year, series_id, {', '.join(COUNTERS)} FROM ({credit_select()}) e "
        f"UNION ALL SELECT org_id, year, series_id, {negated} FROM stat_unit_credit) d "
        f"GROUP BY org_id, year, series_id HAVING {nonzero} ORDER BY org_id, year, series_id LIMIT :limit"),
        {"limit": limit})
    for r in credit:
        m = r._mapping
        found.append({"table": "stat_unit_credit", "org_id": m["org_id"], "year": m["year"],
                      "series_id": m["series_id"],
                      "differences": {c: int(m[c]) for c in COUNTERS if m[c]}})
    return found[:limit]


def register() -> None:
    from app.services.credit import summary

    if on_summaries_changed not in summary.AFTER_REFRESH:
        summary.AFTER_REFRESH.append(on_summaries_changed)
    if before_summaries_change not in summary.BEFORE_CHANGE:
        summary.BEFORE_CHANGE.append(before_summaries_change)
