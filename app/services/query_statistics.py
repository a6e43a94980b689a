"""查询统计 (manual 5.4): 职称系列分布查询 and 专技人员信息查询, in the viewer's scope.

Both read request arguments through one parser that refuses what a filter cannot hold (422) and an
organisation outside the viewer's subtree (404, as if it did not exist). Counts are SQL aggregates
over ``person`` limited by ``org_path`` (one index range per subtree), the distribution's from the per-unit
aggregate ``stat_unit_title``;
hours by year come from ``credit_summary`` (never re-summed from the raw records) against the year's
``credit_requirement``, with the year's ``credit_verification``.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Optional

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import String, and_, exists, func, literal, select, type_coerce
from sqlalchemy.orm import aliased

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.interface import parse_id
from app.models import (CreditRequirement, CreditSummary, CreditVerification, Gender, InternalDepartment,
                        Organisation, Person, PersonStatus, ReviewKind, ReviewRequest, ReviewStatus, TitleLevel,
                        TitleSeries)
from app.models_statistics import StatUnitTitle
from app.replica import on_replica
from app.scope import Scope, apply_scope

#: page sizes the person query offers (bounded: a page never reads more than 100 rows)
PAGE_SIZES = (20, 50, 100)
#: browsing a subtree counts at most this many rows, a search at most SEARCH_COUNT_CAP (as the lists
#: do, app/interface.py): beyond it the page says "more than N" and asks to narrow the search
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000
#: years a filter may name
MIN_YEAR, MAX_YEAR = 2000, 2100
#: the longest name or ID-number prefix searched
MAX_TERM = 50


def _bad() -> InvalidInput:
    return InvalidInput(_("A search value is not valid; please check the search conditions"))


def _id_arg(args, name: str) -> Optional[int]:
    raw = str(args.get(name, "") or "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise _bad()
    return value


def _status_arg(args) -> Optional[str]:
    raw = str(args.get("status", "") or "").strip()
    if not raw:
        return None
    if raw not in {m.value for m in PersonStatus}:
        raise _bad()
    return raw


@dataclass(frozen=True)
class TitleNames:
    """职称系列 and 职称级别 (27 and 5 rows) in their national order: the filter forms' choices, the labels of
    the result rows and the distribution's columns, read in one statement once per request."""

    series: list  # [(id, name)]
    levels: list  # [(id, name)]
    series_order: dict  # id -> (sort order, name)

    @property
    def series_names(self) -> dict:
        return dict(self.series)

    @property
    def level_names(self) -> dict:
        return dict(self.levels)


def title_names() -> TitleNames:
    """Kept for the request only (g): a CLI, worker or test context reads them afresh each time."""
    cached = g.get("_title_names") if has_request_context() else None
    if cached is not None:
        return cached
    rows = db.session.execute(
        select(literal("s").label("kind"), TitleSeries.id, TitleSeries.name, TitleSeries.sort_order)
        .union_all(select(literal("l"), TitleLevel.id, TitleLevel.name, TitleLevel.sort_order))).all()
    series = sorted((r for r in rows if r[0] == "s"), key=lambda r: (r[3], r[1]))
    levels = sorted((r for r in rows if r[0] == "l"), key=lambda r: (r[3], r[1]))
    names = TitleNames(series=[(r[1], r[2]) for r in series], levels=[(r[1], r[2]) for r in levels],
                       series_order={r[1]: (r[3], r[2]) for r in series})
    if has_request_context():
        g._title_names = names
    return names


def _reference(model, value: Optional[int]) -> Optional[int]:
    """A series or level id must name one (checked against the names read once)."""
    if value is None:
        return value
    names = title_names()
    known = names.series_order if model is TitleSeries else dict(names.levels)
    if value not in known:
        raise _bad()
    return value


@dataclass(frozen=True)
class ScopedOrganisation:
    id: int
    name: str
    path: str


def organisation_in_scope(scope: Scope, org_id: Optional[int]) -> Optional[ScopedOrganisation]:
    """The sub-organisation a filter names: it must lie in the viewer's subtree, else 404."""
    if org_id is None:
        return None
    row = db.session.execute(select(Organisation.id, Organisation.name, Organisation.path)
                             .where(Organisation.id == org_id)).first()
    if row is None or not scope.covers_path(row.path):
        raise NotFound()
    return ScopedOrganisation(row.id, row.name, row.path)


def _restrict(stmt, scope: Scope, org: Optional[ScopedOrganisation]):
    """Persons of the scope, and of the chosen sub-organisation's subtree (a prefix of the same index)."""
    stmt = apply_scope(stmt, Person, scope)
    if org is not None:  # checked in scope: its subtree is a narrower prefix of the same index
        stmt = stmt.where(Person.org_path.startswith(org.path, autoescape=True))
    return stmt


# ------------------------------------------------------------------ 职称系列分布
@dataclass(frozen=True)
class DistributionFilters:
    org: Optional[ScopedOrganisation] = None
    level_id: Optional[int] = None
    status: Optional[str] = None

    def params(self) -> dict:
        return {"org_id": str(self.org.id) if self.org else "", "level_id": str(self.level_id or ""),
                "status": self.status or ""}


def parse_distribution_filters(args, scope: Scope) -> DistributionFilters:
    """Filters of the distribution page (also the export's params): 422 for bad values, 404 outside scope."""
    level_id = _reference(TitleLevel, _id_arg(args, "level_id"))
    status = _status_arg(args)
    org = organisation_in_scope(scope, _id_arg(args, "org_id"))
    return DistributionFilters(org=org, level_id=level_id, status=status)


@dataclass
class SeriesRow:
    series_id: Optional[int]
    name: str
    counts: list[int]
    total: int = 0
    share: float = 0.0


@dataclass
class Distribution:
    levels: list[tuple[Optional[int], str]]
    rows: list[SeriesRow] = field(default_factory=list)
    total: int = 0
    level_totals: list[int] = field(default_factory=list)

    def chart_data(self) -> dict:
        """What the page script draws (sorted as the table: most persons first)."""
        return {
            "levels": [name for _id, name in self.levels],
            "series": [{"name": r.name, "counts": r.counts, "total": r.total} for r in self.rows],
            "total": self.total,
        }


def count_by_series_level(scope: Scope, filters: DistributionFilters) -> list[tuple]:
    """(series id, level id, persons) in scope, summed from ``stat_unit_title`` (persons per unit, series, level
    and status, kept by the person triggers of migration 0020): the province sums some 100,000 rows instead of
    reading a million index entries; a subtree reads its units' rows (organisation path index, then the key)."""
    if scope.is_none:
        return []
    unit = StatUnitTitle
    stmt = select(unit.series_id, unit.level_id, func.sum(unit.persons)).group_by(unit.series_id, unit.level_id)
    paths = []
    if not scope.is_all:
        paths.append(Organisation.path.like(scope.prefix + "%"))
    if filters.org is not None:  # checked in scope: its subtree is a narrower prefix
        paths.append(Organisation.path.startswith(filters.org.path, autoescape=True))
    if paths:
        stmt = stmt.where(unit.org_id.in_(select(Organisation.id).where(*paths)))
    if filters.level_id is not None:
        stmt = stmt.where(unit.level_id == filters.level_id)
    if filters.status is not None:
        stmt = stmt.where(unit.status == filters.status)
    return [(series or None, level or None, int(n)) for series, level, n in db.session.execute(stmt) if n]


@on_replica()
def title_distribution(scope: Scope, filters: DistributionFilters) -> Distribution:
    """Persons by 职称系列 × 职称级别, series sorted by persons (then the national order), with shares."""
    counts = count_by_series_level(scope, filters)
    names = title_names()
    levels = list(names.levels)
    if filters.level_id is not None:
        levels = [lv for lv in levels if lv[0] == filters.level_id]
    if any(level is None for _s, level, n in counts if n):
        levels.append((None, _("No title level")))
    column = {level_id: i for i, (level_id, _name) in enumerate(levels)}
    order = names.series_order
    series_names = names.series_names
    by_series: dict[Optional[int], SeriesRow] = {}
    for series_id, level_id, n in counts:
        if series_id not in by_series:
            label = series_names.get(series_id) if series_id is not None else _("No title series")
            by_series[series_id] = SeriesRow(series_id, label or str(series_id), [0] * len(levels))
        row = by_series[series_id]
        row.counts[column[level_id]] += n
        row.total += n
    rows = sorted(by_series.values(),
                  key=lambda r: (-r.total, r.series_id is None, order.get(r.series_id, (0, r.name))))
    total = sum(r.total for r in rows)
    for r in rows:
        r.share = r.total / total if total else 0.0
    level_totals = [sum(r.counts[i] for r in rows) for i in range(len(levels))]
    return Distribution(levels=levels, rows=rows, total=total, level_totals=level_totals)


# ------------------------------------------------------------------ 专技人员信息查询
VERIFIED_CHOICES = ("yes", "no")


@dataclass(frozen=True)
class PersonFilters:
    term: str = ""
    org: Optional[ScopedOrganisation] = None
    series_id: Optional[int] = None
    level_id: Optional[int] = None
    status: Optional[str] = None
    year: Optional[int] = None
    verified: Optional[str] = None

    def params(self) -> dict:
        """The filters as plain strings: the export (maybe a job in a worker) parses them again."""
        return {"q": self.term, "org_id": str(self.org.id) if self.org else "",
                "series_id": str(self.series_id or ""), "level_id": str(self.level_id or ""),
                "status": self.status or "", "year": str(self.year or ""), "verified": self.verified or ""}


def parse_person_filters(args, scope: Scope) -> PersonFilters:
    term = str(args.get("q", "") or "").strip()
    if len(term) > MAX_TERM:
        raise _bad()
    raw_year = str(args.get("year", "") or "").strip()
    year = None
    if raw_year:
        if not raw_year.isdigit() or not MIN_YEAR <= int(raw_year) <= MAX_YEAR:
            raise InvalidInput(_("Please enter a year between %(a)d and %(b)d", a=MIN_YEAR, b=MAX_YEAR))
        year = int(raw_year)
    verified = str(args.get("verified", "") or "").strip() or None
    if verified is not None and verified not in VERIFIED_CHOICES:
        raise _bad()
    if verified is not None and year is None:
        raise InvalidInput(_("Please choose the year of the verification"))
    return PersonFilters(term=term, org=organisation_in_scope(scope, _id_arg(args, "org_id")),
                         series_id=_reference(TitleSeries, _id_arg(args, "series_id")),
                         level_id=_reference(TitleLevel, _id_arg(args, "level_id")),
                         status=_status_arg(args), year=year, verified=verified)


def _verification_passed(year: int):
    return exists().where(CreditVerification.person_id == Person.id, CreditVerification.year == year,
                          CreditVerification.status == ReviewStatus.approved)


def person_ids(scope: Scope, filters: PersonFilters):
    """SELECT of the ids of the matching persons in scope (what the list shows and the export writes)."""
    stmt = _restrict(select(Person.id), scope, filters.org)
    term = filters.term
    if term:
        # a number is an ID-number prefix, anything else a name prefix: one indexed column each
        column = Person.id_number if term[:1].isdigit() else Person.name
        stmt = stmt.where(column.startswith(term.upper() if term[:1].isdigit() else term, autoescape=True))
    if filters.series_id is not None:
        stmt = stmt.where(Person.title_series_id == filters.series_id)
    if filters.level_id is not None:
        stmt = stmt.where(Person.title_level_id == filters.level_id)
    if filters.status is not None:
        stmt = stmt.where(Person.status == PersonStatus(filters.status))
    if filters.verified == "yes":
        stmt = stmt.where(_verification_passed(filters.year))
    elif filters.verified == "no":
        stmt = stmt.where(~_verification_passed(filters.year))
    return stmt


#: the columns of the list and the export, in order
RESULT_COLUMNS = ("name", "id_number", "gender", "employer", "title_series", "title_level", "title_name",
                  "status", "verification")


def person_rows(scope: Scope, filters: PersonFilters, offset: int = 0, limit: Optional[int] = None):
    """The matching persons, by unit then id (the order ix_person_org_path returns): one SELECT of person
    (and the year's verification), no other joins: names come from ``Labels`` (small tables, read once)."""
    columns = [Person.id, Person.name, Person.id_number, type_coerce(Person.gender, String).label("gender"),
               Person.employer_id, Person.title_series_id, Person.title_level_id, Person.title_name,
               type_coerce(Person.status, String).label("status")]
    stmt = person_ids(scope, filters).with_only_columns(*columns, maintain_column_froms=False)
    if filters.year is not None:
        verification = aliased(CreditVerification)
        stmt = stmt.outerjoin(verification, and_(verification.person_id == Person.id,
                                                 verification.year == filters.year))
        stmt = stmt.add_columns(type_coerce(verification.status, String).label("verification"))
    stmt = stmt.order_by(Person.org_path, Person.id)
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def verification_text(status: Optional[str]) -> str:
    if status == ReviewStatus.approved.value:
        return _("Verification passed")
    if status == ReviewStatus.rejected.value:
        return _("Verification failed")
    if status == ReviewStatus.pending.value:
        return _("Verification pending")
    return _("Not verified")


def verification_words() -> dict:
    """verification status -> its words, translated once (an export writes them on every row)."""
    words = {m.value: verification_text(m.value) for m in ReviewStatus}
    words[None] = verification_text(None)
    return words


class Labels:
    """What the ids and stored values of a result row read as: series and levels (27 and 5 rows) read
    once, employer names by the ids met (a page's 20, or an export's units chunk by chunk)."""

    def __init__(self):
        self.genders = {m.value: str(m.label) for m in Gender}
        self.statuses = {m.value: str(m.label) for m in PersonStatus}
        names = title_names()
        self.series = names.series_names
        self.levels = names.level_names
        self.units: dict[int, str] = {}

    def load_units(self, ids) -> None:
        missing = {i for i in ids if i not in self.units}
        if missing:
            self.units.update(db.session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(missing)))).all())

    def load_scope_units(self, scope: Scope) -> None:
        """Every unit name of the scope in one statement (an export meets most of them)."""
        self.units.update(db.session.execute(
            apply_scope(select(Organisation.id, Organisation.name), Organisation, scope)).all())

    def row(self, row, with_year: bool) -> list:
        """One result row as the list and the export show it (same values, same order)."""
        values = [row[1], row[2], self.genders.get(row[3], ""), self.units.get(row[4], ""),
                  self.series.get(row[5], ""), self.levels.get(row[6], ""), row[7] or "",
                  self.statuses.get(row[8], "")]
        if with_year:
            values.append(verification_text(row[9]))
        return values

    def rows(self, rows, with_year: bool) -> list[list]:
        self.load_units(r[4] for r in rows)
        return [self.row(r, with_year) for r in rows]


def count_cap(filters: PersonFilters) -> int:
    """How far a result is counted: a search (a term, a title, a status, a verification) is for finding."""
    searching = filters.term or filters.series_id or filters.level_id or filters.status or filters.verified
    return SEARCH_COUNT_CAP if searching else COUNT_CAP


def count_persons(scope: Scope, filters: PersonFilters, cap: Optional[int] = None) -> int:
    """Matching persons, counted up to ``cap`` + 1 (the page shows "more than cap" beyond it)."""
    cap = count_cap(filters) if cap is None else cap
    limited = person_ids(scope, filters).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited)) or 0


# ------------------------------------------------------------------ a person's details
@dataclass
class YearHours:
    year: int
    public_hours: int = 0
    professional_hours: int = 0
    pending_hours: int = 0
    required_hours: Optional[int] = None
    required_professional: Optional[int] = None
    qualified: Optional[bool] = None
    verification: Optional[str] = None
    verified_on: Optional[datetime.datetime] = None

    @property
    def total_hours(self) -> int:
        return self.public_hours + self.professional_hours


@on_replica()
def person_page(scope: Scope, filters: PersonFilters, cap: int, offset: int, size: int) -> tuple[int, list]:
    """The (capped) count and one page of rows: report reads, answered by the replica when there is one."""
    count = count_persons(scope, filters, cap)
    return count, db.session.execute(person_rows(scope, filters, offset=offset, limit=size)).all()


def person_in_scope(scope: Scope, person_id) -> Person:
    pk = parse_id(person_id)
    person = db.session.scalar(apply_scope(select(Person).where(Person.id == pk), Person, scope)) \
        if pk is not None else None
    if person is None:
        raise NotFound()
    return person


def title_changes(person_id: int) -> list[tuple[ReviewRequest, list]]:
    """Approved 人员信息修改 requests of the person (职称变更记录), oldest first, each with its changed fields."""
    from app.workflow.declarations.common import change_rows

    items = db.session.scalars(
        select(ReviewRequest).where(ReviewRequest.kind == ReviewKind.person_change,
                                    ReviewRequest.subject_id == person_id,
                                    ReviewRequest.status == ReviewStatus.approved)
        .order_by(ReviewRequest.reviewed_on, ReviewRequest.id)).all()
    return [(item, change_rows(item)) for item in items]


def hours_by_year(person_id: int) -> list[YearHours]:
    """The person's years: approved hours (credit_summary) against the year's rule, and the verification."""
    years: dict[int, YearHours] = {}
    rule = CreditRequirement
    for summary, requirement in db.session.execute(
            select(CreditSummary, rule).outerjoin(rule, rule.year == CreditSummary.year)
            .where(CreditSummary.person_id == person_id)):
        item = years.setdefault(summary.year, YearHours(summary.year))
        item.public_hours, item.professional_hours = summary.public_hours or 0, summary.professional_hours or 0
        item.pending_hours = summary.pending_hours or 0
        item.qualified = bool(summary.qualified)
        if requirement is not None:
            item.required_hours, item.required_professional = requirement.total_hours, requirement.professional_hours
    for v in db.session.scalars(select(CreditVerification).where(CreditVerification.person_id == person_id)):
        item = years.setdefault(v.year, YearHours(v.year))
        item.verification, item.verified_on = v.status.value, v.reviewed_on
        if item.required_hours is None:
            item.required_hours, item.required_professional = v.required_hours, v.required_professional_hours
    missing = [y for y, item in years.items() if item.required_hours is None]
    if missing:
        for requirement in db.session.scalars(select(rule).where(rule.year.in_(missing))):
            years[requirement.year].required_hours = requirement.total_hours
            years[requirement.year].required_professional = requirement.professional_hours
    return [years[y] for y in sorted(years, reverse=True)]


def department_name(person: Person) -> str:
    if person.internal_department_id is None:
        return ""
    return db.session.scalar(select(InternalDepartment.name)
                             .where(InternalDepartment.id == person.internal_department_id)) or ""


__all__ = ["COUNT_CAP", "SEARCH_COUNT_CAP", "count_cap", "PAGE_SIZES", "Distribution", "DistributionFilters", "PersonFilters", "count_persons",
           "Labels", "hours_by_year", "parse_distribution_filters", "parse_person_filters",
           "person_in_scope", "person_rows", "title_changes", "title_distribution", "title_names"]
