"""继教综合统计查询 (manual 5.4.1): one row per direct subordinate department (its whole subtree), one for the
units and bases attached directly, and 总计 — or one row per title series — for one year.

Everything is summed from the per-unit aggregates (``stat_unit_person``, ``stat_unit_credit``) joined to the
organisation tree by path: a few thousand aggregate rows at most, never raw records or persons.

Definitions (year Y, the row's subtree):

* employers / bases: approved employer units / training bases;
* persons: active persons employed there;
* learners (online, offline): distinct persons with a pending or approved record in Y (online / offline);
  the same for public and professional records;
* approved_learners: persons with an approved record in Y; approved_records: approved records in Y (人次);
* qualified: persons whose approved hours in Y meet the year's rule; qualified_rate = qualified / persons.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from app.errors import AppError, NotFound
from app.extensions import db
from app.models import Organisation, OrganisationType, TitleSeries
from app.models_statistics import ALL_SERIES, NO_SERIES
from app.replica import on_replica
from app.scope import Scope
from app.services.statistics.aggregates import COUNTERS

YEAR_MIN, YEAR_MAX = 2000, 2100

#: the figures of a row, in the table's order (qualified_rate is computed)
FIGURES = ("employers", "bases", "persons",
           "learners", "online_learners", "offline_learners",
           "public_learners", "public_online_learners", "public_offline_learners",
           "professional_learners", "professional_online_learners", "professional_offline_learners",
           "approved_learners", "approved_records", "qualified")

#: the two-row header: (label, sub-labels or None)
HEADER = (
    (_l("No."), None),
    (_l("Supervisory department / title series"), None),
    (_l("Employer units in total"), None),
    (_l("Continuing education institutions in total"), None),
    (_l("Professional personnel in total"), None),
    (_l("Learners of the year"), (_l("Total learners"), _l("Online learners"), _l("Face-to-face learners"))),
    (_l("Public course learners of the year"),
     (_l("Total learners"), _l("Online learners"), _l("Face-to-face learners"))),
    (_l("Professional course learners of the year"),
     (_l("Total learners"), _l("Online learners"), _l("Face-to-face learners"))),
    (_l("Qualified persons in total"), None),
    (_l("Qualified course completions in total"), None),
    (_l("Comprehensively qualified personnel"), None),
    (_l("Qualification rate"), None),
)

#: the organisations a row's subtree counts (a pending, rejected or withdrawn department is no row yet)
_ROW_STATUSES = "('approved', 'disabled')"


@dataclass
class Row:
    key: str
    label: str
    figures: dict = field(default_factory=dict)
    #: the department a 查看 opens (None: the row has no deeper table)
    drill_org_id: Optional[int] = None

    @property
    def qualified_rate(self) -> Optional[float]:
        persons = self.figures.get("persons") or 0
        return None if not persons else self.figures.get("qualified", 0) / persons

    @property
    def rate_text(self) -> str:
        rate = self.qualified_rate
        return "—" if rate is None else f"{rate * 100:.2f}%"

    def values(self) -> list:
        """The figures in column order, then the rate as text."""
        return [self.figures.get(name) for name in FIGURES] + [self.rate_text]


@dataclass
class Table:
    year: int
    organisation: Organisation
    by_series: bool
    rows: list
    total: Row
    #: [(org id, name)] from the viewer's own organisation down to this one
    breadcrumb: list


def current_year() -> int:
    return datetime.date.today().year


def parse_year(value) -> int:
    """The year asked for (default: this year); anything else than a year in range is a 400."""
    if value in (None, ""):
        return current_year()
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise AppError(_("Please give the year as four digits, e.g. %(year)d", year=current_year()), field="year")
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise AppError(_("The year must lie between %(first)d and %(last)d", first=YEAR_MIN, last=YEAR_MAX),
                       field="year")
    return year


def viewer_root(scope: Scope) -> Organisation:
    """The organisation whose table a viewer starts from: their own department (the province for the province)."""
    if scope.is_none:
        raise NotFound()
    if scope.is_all:
        root = db.session.scalar(db.select(Organisation).where(Organisation.type == OrganisationType.province,
                                                               Organisation.parent_id.is_(None)))
    else:
        root = db.session.get(Organisation, scope.org_id)
    if root is None:
        raise NotFound()
    return root


def resolve_org(scope: Scope, value) -> Organisation:
    """The department whose table is asked for: the viewer's own by default; outside the subtree, not a
    department, or not a number: 404 (existence is never revealed)."""
    root = viewer_root(scope)
    if value in (None, ""):
        org = root
    else:
        try:
            org_id = int(str(value).strip())
        except (TypeError, ValueError):
            raise NotFound()
        org = db.session.get(Organisation, org_id) if 0 < org_id < 2**31 else None
    if (org is None or not org.path.startswith(root.path)
            or org.type not in (OrganisationType.province, OrganisationType.supervisory)):
        raise NotFound()
    return org


def _breadcrumb(root: Organisation, org: Organisation) -> list:
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    ids = ids[ids.index(root.id):] if root.id in ids else [org.id]
    names = dict(db.session.execute(db.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
    return [(i, names.get(i, "")) for i in ids]


# ------------------------------------------------------------------ the queries
def _keyed_orgs() -> str:
    """Organisations of the subtree below :org_id with the key of their row: the direct subordinate department
    whose subtree holds them (the path segment right after the prefix, looked up by primary key), or 0 for units
    and bases attached directly."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    rest = "substr(o.path, :skip)"
    segment = (f"CAST(NULLIF(split_part({rest}, '/', 1), '') AS INTEGER)" if postgres
               else f"CAST(substr({rest}, 1, instr({rest}, '/') - 1) AS INTEGER)")
    return (
        "SELECT o.id, o.type, o.status, COALESCE(c.id, 0) AS row_key FROM organisation o "
        f"LEFT JOIN organisation c ON c.id = {segment} AND c.parent_id = :org_id AND c.type = 'supervisory' "
        f"AND c.status IN {_ROW_STATUSES} "
        "WHERE o.path LIKE :prefix AND o.id <> :org_id "
        "AND (c.id IS NOT NULL OR (o.parent_id = :org_id AND o.type IN ('employer', 'training_base')))"
    )


def _collect(rows, key: str) -> dict:
    figures: dict = {}
    for row in rows:
        m = dict(row._mapping)
        figures[int(m.pop(key))] = {k: int(v or 0) for k, v in m.items()}
    return figures


def _by_department(org: Organisation, year: int) -> dict:
    """One statement: the subtree's organisations keyed to their row once (a CTE), then the organisation counts,
    the persons and the learners summed per row."""
    params = {"org_id": org.id, "prefix": org.path + "_%", "year": year, "skip": len(org.path) + 1}
    sums = ", ".join(f"SUM(u.{c}) AS {c}" for c in COUNTERS)
    picked = ", ".join(f"cc.{c}" for c in COUNTERS)
    return _collect(db.session.execute(text(
        f"WITH k AS ({_keyed_orgs()}), "
        f"oc AS (SELECT k.row_key, "
        f"SUM(CASE WHEN k.type = 'employer' AND k.status = 'approved' THEN 1 ELSE 0 END) AS employers, "
        f"SUM(CASE WHEN k.type = 'training_base' AND k.status = 'approved' THEN 1 ELSE 0 END) AS bases "
        f"FROM k GROUP BY k.row_key), "
        f"pc AS (SELECT k.row_key, SUM(u.persons) AS persons FROM stat_unit_person u JOIN k ON k.id = u.org_id "
        f"WHERE u.series_id = {ALL_SERIES} GROUP BY k.row_key), "
        f"cc AS (SELECT k.row_key, {sums} FROM stat_unit_credit u JOIN k ON k.id = u.org_id "
        f"WHERE u.year = :year AND u.series_id = {ALL_SERIES} GROUP BY k.row_key) "
        f"SELECT oc.row_key, oc.employers, oc.bases, pc.persons, {picked} FROM oc "
        f"LEFT JOIN pc ON pc.row_key = oc.row_key LEFT JOIN cc ON cc.row_key = oc.row_key"), params), "row_key")


def _by_series(org: Organisation, year: int) -> dict:
    """One statement: per title series, the persons, the approved units employing someone of it, the learners."""
    params = {"prefix": org.path + "_%", "year": year}
    sums = ", ".join(f"SUM(u.{c}) AS {c}" for c in COUNTERS)
    picked = ", ".join(f"cc.{c}" for c in COUNTERS)
    return _collect(db.session.execute(text(
        f"WITH o AS (SELECT id, type, status FROM organisation WHERE path LIKE :prefix), "
        f"pc AS (SELECT u.series_id, SUM(u.persons) AS persons, "
        f"COUNT(DISTINCT CASE WHEN o.type = 'employer' AND o.status = 'approved' AND u.persons > 0 "
        f"THEN u.org_id END) AS employers "
        f"FROM stat_unit_person u JOIN o ON o.id = u.org_id WHERE u.series_id >= 0 GROUP BY u.series_id), "
        f"cc AS (SELECT u.series_id, {sums} FROM stat_unit_credit u JOIN o ON o.id = u.org_id "
        f"WHERE u.year = :year AND u.series_id >= 0 GROUP BY u.series_id), "
        f"s AS (SELECT series_id FROM pc UNION SELECT series_id FROM cc) "
        f"SELECT s.series_id, pc.persons, pc.employers, {picked} FROM s "
        f"LEFT JOIN pc ON pc.series_id = s.series_id LEFT JOIN cc ON cc.series_id = s.series_id"), params), "series_id")


def _org_totals(org: Organisation) -> dict:
    row = db.session.execute(text(
        "SELECT SUM(CASE WHEN type = 'employer' AND status = 'approved' THEN 1 ELSE 0 END) AS employers, "
        "SUM(CASE WHEN type = 'training_base' AND status = 'approved' THEN 1 ELSE 0 END) AS bases "
        "FROM organisation WHERE path LIKE :prefix"), {"prefix": org.path + "_%"}).one()
    return {"employers": int(row.employers or 0), "bases": int(row.bases or 0)}


def _filled(figures: Optional[dict], blank=()) -> dict:
    figures = figures or {}
    return {name: (None if name in blank else int(figures.get(name, 0) or 0)) for name in FIGURES}


@on_replica()
def comprehensive(scope: Scope, year, org=None, by_series: bool = False) -> Table:
    """The table a viewer asked for (year and department checked: 400 / 404)."""
    year = parse_year(year)
    root = viewer_root(scope)
    target = resolve_org(scope, org)
    rows: list[Row] = []
    if by_series:
        figures = _by_series(target, year)
        series = db.session.execute(db.select(TitleSeries.id, TitleSeries.name)
                                    .order_by(TitleSeries.sort_order, TitleSeries.id)).all()
        for series_id, name in list(series) + [(NO_SERIES, _("No title series"))]:
            rows.append(Row(key=f"s{series_id}", label=name, figures=_filled(figures.get(series_id), ("bases",))))
        total = Row(key="total", label=_("Grand total"), figures=_filled(
            {name: sum(r.figures[name] or 0 for r in rows) for name in FIGURES}))
        total.figures.update(_org_totals(target))
    else:
        figures = _by_department(target, year)
        children = db.session.execute(text(
            f"SELECT id, name FROM organisation WHERE parent_id = :org_id AND type = 'supervisory' "
            f"AND status IN {_ROW_STATUSES} ORDER BY name, id"), {"org_id": target.id}).all()
        for child_id, name in children:
            rows.append(Row(key=f"o{child_id}", label=name, figures=_filled(figures.get(child_id)),
                            drill_org_id=child_id))
        rows.append(Row(key="direct", label=_("Units and bases attached directly"), figures=_filled(figures.get(0))))
        total = Row(key="total", label=_("Grand total"), figures=_filled(
            {name: sum(r.figures[name] for r in rows) for name in FIGURES}))
    return Table(year=year, organisation=target, by_series=by_series, rows=rows, total=total,
                 breadcrumb=_breadcrumb(root, target))


def as_dict(table: Table) -> dict:
    """The table as the REST endpoint answers it."""
    def row(r: Row, number) -> dict:
        return {"no": number, "key": r.key, "label": r.label, "org_id": r.drill_org_id,
                **{name: r.figures.get(name) for name in FIGURES},
                "qualified_rate": None if r.qualified_rate is None else round(r.qualified_rate, 4)}

    return {"year": table.year, "org_id": table.organisation.id, "org_name": table.organisation.name,
            "by": "series" if table.by_series else "department",
            "rows": [row(r, i + 1) for i, r in enumerate(table.rows)], "total": row(table.total, None)}


def header_cells() -> list[tuple]:
    """The two-row header as merged cells (first_row, first_col, last_row, last_col, text) for the exporter."""
    cells, col = [], 0
    for label, subs in HEADER:
        if subs is None:
            cells.append((0, col, 1, col, str(label)))
            col += 1
        else:
            cells.append((0, col, 0, col + len(subs) - 1, str(label)))
            for i, sub in enumerate(subs):
                cells.append((1, col + i, 1, col + i, str(sub)))
            col += len(subs)
    return cells


def export_rows(table: Table):
    """The table's rows as the export writes them: 序号, label, the figures, the rate (no 操作)."""
    for i, r in enumerate(table.rows):
        yield [i + 1, r.label] + [("—" if v is None else v) for v in r.values()]
    yield ["", table.total.label] + [("—" if v is None else v) for v in table.total.values()]


@on_replica()
def qualification_chart(scope: Scope) -> dict | None:
    """The dashboard chart: this year's 合格率 (percent, 2 decimals) of each direct subordinate department."""
    if scope.is_none:
        return None
    try:
        table = comprehensive(scope, current_year())
    except NotFound:
        return None
    rows = [r for r in table.rows if r.drill_org_id is not None]
    return {"year": table.year, "names": [r.label for r in rows],
            "rates": [None if r.qualified_rate is None else round(r.qualified_rate * 100, 2) for r in rows],
            "link": table.organisation.id}
