"""Per-person-per-year summaries of credit records, kept in the transaction of every change.

Every change to credit records (a decision, a deletion, a revocation, an import, a person moving) calls
``refresh`` with the (person_id, year) pairs it touched. ``refresh`` recomputes those summary rows from the
raw records, set-based, after locking them in a fixed order: on PostgreSQL a second transaction touching the
same persons waits for the first to commit and then sums what the first committed (READ COMMITTED takes a
new snapshot per statement), so two concurrent batch approvals never lose an update. Pages, verification,
statistics and certificates read the summaries only.

Other aggregates built on the summaries (statistics per organisation) register in ``AFTER_REFRESH`` and are
called in the same transaction with the same pairs.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.sql import Select

from app.extensions import db
from app.sql_ids import ids_in, is_postgresql, values_list

#: callables (pairs: list[tuple[int, int]]) run after the summary rows of ``pairs`` were recomputed
AFTER_REFRESH: list[Callable[[list], None]] = []
#: callables (pairs) run once the summary rows of ``pairs`` exist and are locked, just before they change:
#: with AFTER_REFRESH, an aggregate takes out the rows' old contribution and adds the new one
BEFORE_CHANGE: list[Callable[[list], None]] = []

#: the summary columns: (what is summed, which records count) over credit_record ``r``
_ACTIVE = "r.status IN ('pending', 'approved')"
_SUMS = {
    "public_hours": ("r.hours", "r.status = 'approved' AND r.subject_kind = 'public'"),
    "professional_hours": ("r.hours", "r.status = 'approved' AND r.subject_kind = 'professional'"),
    "online_hours": ("r.hours", "r.status = 'approved' AND r.mode = 'online'"),
    "offline_hours": ("r.hours", "r.status = 'approved' AND r.mode = 'offline'"),
    "pending_hours": ("r.hours", "r.status = 'pending'"),
    "approved_records": ("1", "r.status = 'approved'"),
    "pending_records": ("1", "r.status = 'pending'"),
    "public_online_records": ("1", f"{_ACTIVE} AND r.subject_kind = 'public' AND r.mode = 'online'"),
    "public_offline_records": ("1", f"{_ACTIVE} AND r.subject_kind = 'public' AND r.mode = 'offline'"),
    "professional_online_records": ("1", f"{_ACTIVE} AND r.subject_kind = 'professional' AND r.mode = 'online'"),
    "professional_offline_records": ("1", f"{_ACTIVE} AND r.subject_kind = 'professional' AND r.mode = 'offline'"),
}
COLUMNS = tuple(_SUMS)

#: the year's rule, in integer arithmetic (no requirement for the year: nobody qualifies)
QUALIFIED_SQL = (
    "EXISTS (SELECT 1 FROM credit_requirement q WHERE q.year = {s}.year"
    " AND {s}.public_hours + {s}.professional_hours >= q.total_hours"
    " AND {s}.professional_hours * q.professional_denominator >= q.total_hours * q.professional_numerator)"
)

_CHUNK = 5000
#: on PostgreSQL the pairs travel as two arrays: the statement is the same whatever their number
_PG_CHUNK = 100_000


def aggregate_select(where: str = "") -> str:
    """SELECT person_id, year, <summary columns> FROM credit_record r [WHERE ...] GROUP BY person_id, year."""
    sums = ", ".join(f"COALESCE(SUM(CASE WHEN {cond} THEN {value} ELSE 0 END), 0) AS {name}"
                     for name, (value, cond) in _SUMS.items())
    return f"SELECT r.person_id, r.year, {sums} FROM credit_record r {where} GROUP BY r.person_id, r.year"


def pairs_of_records(record_ids: Select | Sequence[int]) -> list[tuple[int, int]]:
    """The (person_id, year) pairs of some records (read before the records are deleted or moved)."""
    from app.models import CreditRecord

    stmt = db.select(CreditRecord.person_id, CreditRecord.year).distinct()
    if isinstance(record_ids, Select):
        stmt = stmt.where(CreditRecord.id.in_(record_ids))
        return [tuple(row) for row in db.session.execute(stmt)]
    pairs: set = set()
    ids = list(record_ids)
    chunk = _PG_CHUNK if is_postgresql() else _CHUNK
    for start in range(0, len(ids), chunk):
        pairs.update(tuple(row) for row in db.session.execute(
            stmt.where(ids_in(CreditRecord.id, ids[start:start + chunk]))))
    return sorted(pairs)


def refresh(pairs: Iterable[tuple[int, int]]) -> int:
    """Recompute the summary rows of ``pairs`` from the raw records; returns how many pairs."""
    pairs = sorted(set((int(p), int(y)) for p, y in pairs))
    chunk = _PG_CHUNK if is_postgresql() else _CHUNK
    for start in range(0, len(pairs), chunk):
        _refresh_chunk(pairs[start:start + chunk])
    if pairs:
        for hook in AFTER_REFRESH:
            hook(pairs)
    return len(pairs)


def _refresh_chunk(pairs: list) -> None:
    session = db.session
    postgres = is_postgresql()
    if postgres:  # two array parameters: no statement with thousands of bind parameters to compile
        params = {"ps": [p for p, _ in pairs], "ys": [y for _, y in pairs]}
        values = None
    else:
        values, params = values_list(pairs, ("p", "y"))
    src = "unnest(CAST(:ps AS integer[]), CAST(:ys AS integer[]))" if postgres else f"(VALUES {values})"
    # 1. the rows exist (a first record of a person's year creates its summary)
    zeros = ", ".join("0" for _ in COLUMNS)
    cols = ", ".join(COLUMNS)
    conflict = "ON CONFLICT (person_id, year) DO NOTHING"
    session.execute(text(
        f"INSERT INTO credit_summary (person_id, year, {cols}, qualified) "
        f"SELECT v.person_id, v.year, {zeros}, {'false' if postgres else '0'} "
        f"FROM {src} AS v(person_id, year) {conflict}"
        if postgres else
        f"INSERT OR IGNORE INTO credit_summary (person_id, year, {cols}, qualified) "
        f"SELECT v.column1, v.column2, {zeros}, 0 FROM (VALUES {values}) AS v"
    ), params)
    # 2. lock them in a fixed order, so that concurrent refreshes serialise instead of overwriting each other
    if postgres:
        session.execute(text(
            f"SELECT 1 FROM credit_summary s JOIN {src} AS v(person_id, year) "
            f"ON s.person_id = v.person_id AND s.year = v.year "
            f"ORDER BY s.person_id, s.year FOR UPDATE OF s"), params)
    for hook in BEFORE_CHANGE:
        hook(pairs)
    # 3. recompute from the raw records (a new snapshot: it sees what a transaction we waited for committed)
    match = ("(r.person_id, r.year) IN (SELECT v.person_id, v.year FROM {src} AS v(person_id, year))"
             if postgres else
             "(r.person_id, r.year) IN (SELECT v.column1, v.column2 FROM (VALUES {values}) AS v)").format(values=values, src=src)
    assignments = ", ".join(f"{c} = COALESCE(a.{c}, 0)" for c in COLUMNS)
    if postgres:
        # one pass: the sums and the qualified flag (computed from the new sums), one new row version each
        new_hours = {c: f"COALESCE(a.{c}, 0)" for c in ("public_hours", "professional_hours")}
        qualified = (
            "EXISTS (SELECT 1 FROM credit_requirement q WHERE q.year = v.year"
            f" AND {new_hours['public_hours']} + {new_hours['professional_hours']} >= q.total_hours"
            f" AND {new_hours['professional_hours']} * q.professional_denominator"
            " >= q.total_hours * q.professional_numerator)")
        session.execute(text(
            f"UPDATE credit_summary s SET {assignments}, qualified = {qualified} "
            f"FROM {src} AS v(person_id, year) "
            f"LEFT JOIN ({aggregate_select('WHERE ' + match)}) a "
            f"ON a.person_id = v.person_id AND a.year = v.year "
            f"WHERE s.person_id = v.person_id AND s.year = v.year"), params)
        return
    else:
        sets = ", ".join(f"{c} = COALESCE((SELECT a.{c} FROM agg a WHERE a.person_id = credit_summary.person_id "
                         f"AND a.year = credit_summary.year), 0)" for c in COLUMNS)
        session.execute(text(
            f"WITH agg AS ({aggregate_select('WHERE ' + match)}) "
            f"UPDATE credit_summary SET {sets} "
            f"WHERE (person_id, year) IN (SELECT v.column1, v.column2 FROM (VALUES {values}) AS v)"), params)
    # 4. the qualified flag against the year's rule
    target = ("(s.person_id, s.year) IN (SELECT v.person_id, v.year FROM {src} AS v(person_id, year))"
              if postgres else
              "(s.person_id, s.year) IN (SELECT v.column1, v.column2 FROM (VALUES {values}) AS v)").format(values=values, src=src)
    session.execute(text(
        f"UPDATE credit_summary AS s SET qualified = {QUALIFIED_SQL.format(s='s')} WHERE {target}"
    ), params)


#: what a decision moves, per summary column: (approve, reject) as SQL over the decided records ``r``
#: (pending → approved adds the record to the approved sums; both leave the pending sums; a rejection
#: also leaves the active counts of its kind and mode)
_DECISION_DELTAS = {
    "public_hours": ("CASE WHEN r.subject_kind = 'public' THEN r.hours ELSE 0 END", "0"),
    "professional_hours": ("CASE WHEN r.subject_kind = 'professional' THEN r.hours ELSE 0 END", "0"),
    "online_hours": ("CASE WHEN r.mode = 'online' THEN r.hours ELSE 0 END", "0"),
    "offline_hours": ("CASE WHEN r.mode = 'offline' THEN r.hours ELSE 0 END", "0"),
    "pending_hours": ("-r.hours", "-r.hours"),
    "approved_records": ("1", "0"),
    "pending_records": ("-1", "-1"),
    "public_online_records": ("0", "CASE WHEN r.subject_kind = 'public' AND r.mode = 'online' THEN -1 ELSE 0 END"),
    "public_offline_records": ("0", "CASE WHEN r.subject_kind = 'public' AND r.mode = 'offline' THEN -1 ELSE 0 END"),
    "professional_online_records": (
        "0", "CASE WHEN r.subject_kind = 'professional' AND r.mode = 'online' THEN -1 ELSE 0 END"),
    "professional_offline_records": (
        "0", "CASE WHEN r.subject_kind = 'professional' AND r.mode = 'offline' THEN -1 ELSE 0 END"),
}


def apply_decision(record_ids: Sequence[int], approved: bool) -> int:
    """After pending records were decided (approved or rejected, in this transaction): move them in their
    summaries by what they change, read from the decided records only (PostgreSQL).

    The same result as ``refresh`` of their pairs — a pending record counts in the pending sums and the
    active counts; an approved one in the approved sums and the active counts; a rejected one nowhere —
    without re-reading every other record of those persons: the pairs are locked in the fixed order
    first (as ``refresh``), then one UPDATE adds each pair's delta to the row as it is after the lock
    (a concurrent decision on the same persons committed first, or waits). A pair without a summary row
    (never expected: a pending record's refresh created it) is recomputed by ``refresh`` instead.
    Other databases: ``refresh``. The hooks of ``AFTER_REFRESH`` run with the pairs, as after ``refresh``.
    """
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return 0
    pairs = pairs_of_records(ids)
    if not is_postgresql():
        return refresh(pairs)
    session = db.session
    params = {"ps": [p for p, _ in pairs], "ys": [y for _, y in pairs], "ids": ids}
    src = "unnest(CAST(:ps AS integer[]), CAST(:ys AS integer[]))"
    locked = session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM credit_summary s JOIN {src} AS v(person_id, year) "
        f"ON s.person_id = v.person_id AND s.year = v.year "
        f"ORDER BY s.person_id, s.year FOR UPDATE OF s) locked"), params).scalar()
    if locked != len(pairs):
        return refresh(pairs)
    for hook in BEFORE_CHANGE:
        hook(pairs)
    which = 0 if approved else 1
    sums = ", ".join(f"SUM({deltas[which]}) AS {name}" for name, deltas in _DECISION_DELTAS.items())
    assignments = ", ".join(f"{name} = s.{name} + d.{name}" for name in _DECISION_DELTAS)
    new = {c: f"(s.{c} + d.{c})" for c in ("public_hours", "professional_hours")}
    qualified = (
        "EXISTS (SELECT 1 FROM credit_requirement q WHERE q.year = s.year"
        f" AND {new['public_hours']} + {new['professional_hours']} >= q.total_hours"
        f" AND {new['professional_hours']} * q.professional_denominator"
        " >= q.total_hours * q.professional_numerator)")
    session.execute(text(
        f"UPDATE credit_summary s SET {assignments}, qualified = {qualified} "
        f"FROM (SELECT r.person_id, r.year, {sums} FROM credit_record r "
        f"WHERE r.id = ANY(CAST(:ids AS integer[])) GROUP BY r.person_id, r.year) d "
        f"WHERE s.person_id = d.person_id AND s.year = d.year"), params)
    for hook in AFTER_REFRESH:  # the aggregates built on the summaries follow, as after ``refresh``
        hook(pairs)
    return len(pairs)


def requalify_year(year: int) -> None:
    """After the rule of ``year`` changed: every summary of the year re-checks its qualified flag."""
    db.session.execute(text(
        f"UPDATE credit_summary AS s SET qualified = {QUALIFIED_SQL.format(s='s')} WHERE s.year = :year"
    ), {"year": year})


def differences(limit: int = 20) -> list[dict]:
    """Summary rows that differ from a recomputation from the raw records (empty when all agree)."""
    cols = ", ".join(COLUMNS)
    computed = aggregate_select()
    mismatch = " OR ".join(f"COALESCE(s.{c}, 0) <> COALESCE(a.{c}, 0)" for c in COLUMNS)
    qualified = QUALIFIED_SQL.format(s="s")
    rows = db.session.execute(text(
        f"SELECT COALESCE(s.person_id, a.person_id) AS person_id, COALESCE(s.year, a.year) AS year, "
        f"CASE WHEN s.person_id IS NULL THEN 'missing' WHEN a.person_id IS NULL THEN 'no records' "
        f"ELSE 'sums' END AS problem "
        f"FROM credit_summary s FULL OUTER JOIN ({computed}) a "
        f"ON a.person_id = s.person_id AND a.year = s.year "
        f"WHERE (s.person_id IS NULL) "
        f"OR (a.person_id IS NULL AND ({' OR '.join(f's.{c} <> 0' for c in COLUMNS)})) "
        f"OR (a.person_id IS NOT NULL AND ({mismatch})) "
        f"UNION ALL "
        f"SELECT s.person_id, s.year, 'qualified' FROM credit_summary s "
        f"WHERE s.qualified <> ({qualified}) "
        f"LIMIT :limit"
    ), {"limit": limit})
    _ = cols
    return [dict(row._mapping) for row in rows]


def rebuild_all() -> int:
    """Recompute every summary from the raw records (the repair after ``differences`` found any)."""
    session = db.session
    cols = ", ".join(COLUMNS)
    session.execute(text("DELETE FROM credit_summary"))
    session.execute(text(  # the qualified flag in the same pass (not a second UPDATE of every row)
        f"INSERT INTO credit_summary (person_id, year, {cols}, qualified) "
        f"SELECT a.person_id, a.year, {', '.join('a.' + c for c in COLUMNS)}, "
        f"{QUALIFIED_SQL.format(s='a')} FROM ({aggregate_select()}) a"))
    return session.scalar(text("SELECT COUNT(*) FROM credit_summary")) or 0
