"""The one path of declaring credit hours: the forms, the Excel import and the REST import all call it.

``check(declarer, rows)`` validates parsed rows (``rules.parse_row``) against the database in a few
set-based queries per 1,000 rows — the persons by ID number, the programmes and standards by code, the
years' requirements, the persons' active records (duplicates, hours already counted towards a standard's
yearly cap) — and returns the records ready to insert plus every problem by row. ``insert`` writes them
(COPY on PostgreSQL), one audit row per record in one INSERT … SELECT, and recomputes the summaries of the
touched (person, year) pairs, all in the caller's transaction. ``declare`` does both in one transaction and
refuses the whole batch when a row is bad (forms); the imports commit the good rows.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy import Integer, String, any_, bindparam, literal, select, text
from sqlalchemy import insert as sql_insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.io.bulk import _copy_text, copy_lines, insert_rows
from app.logs import current_request_id
from app.models import (AuditLog, CreditDeclarer, CreditRecord, CreditRequirement, CreditStandard,
                        Organisation, OrganisationType, Person, PersonStatus, ReviewStatus, TrainingProgramme)
from app.services.credit import summary
from app.services.credit.rules import Declarer, Problem, activity_key, duplicate_message, parse_row
from app.services.transaction import transaction
from app.sql_ids import is_postgresql

#: values per IN (...) list
CHUNK = 1000
#: most records one call takes (the REST batch limit; the Excel import is bounded by IMPORT_MAX_ROWS)
MAX_BATCH = 100_000

_ACTIVE = (ReviewStatus.pending, ReviewStatus.approved)


@dataclass
class Checked:
    """The outcome of checking a batch: records ready to insert (with their row index) and the problems."""

    good: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def bad_indexes(self) -> list[int]:
        return sorted({p.index for p in self.problems})


# ------------------------------------------------------------------ reference data, set-based
def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    """Parts of a list for IN (...) lists; on PostgreSQL one part (the ids travel as one array parameter)."""
    if is_postgresql():
        size = max(size, MAX_BATCH)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _in(column, values: list):
    """SQL: ``column`` is one of ``values`` (an array parameter on PostgreSQL)."""
    if is_postgresql():
        element = String() if values and isinstance(values[0], str) else Integer()
        return column == any_(bindparam("values", list(values), type_=ARRAY(element), unique=True))
    return column.in_(values)


def _persons(numbers: list[str]) -> dict[str, tuple]:
    found = {}
    for part in _chunks(sorted(set(numbers))):
        for row in db.session.execute(select(
                Person.id_number, Person.id, Person.name, Person.employer_id, Person.org_path, Person.status)
                .where(_in(Person.id_number, part))):
            found[row.id_number] = row
    return found


def _programmes(codes: list[str]) -> dict[str, tuple]:
    found = {}
    for part in _chunks(sorted(set(codes))):
        for row in db.session.execute(
                select(TrainingProgramme.code, TrainingProgramme.id, TrainingProgramme.org_id,
                       TrainingProgramme.name, TrainingProgramme.subject_kind, TrainingProgramme.mode,
                       TrainingProgramme.start_date, TrainingProgramme.end_date, TrainingProgramme.hours,
                       TrainingProgramme.status, Organisation.type.label("org_type"), Organisation.path.label("org_path"))
                .join(Organisation, Organisation.id == TrainingProgramme.org_id)
                .where(TrainingProgramme.code.in_(part))):
            found[row.code] = row
    return found


def _standards(codes: list[str]) -> dict[str, CreditStandard]:
    found = {}
    for part in _chunks(sorted(set(codes))):
        for row in db.session.scalars(select(CreditStandard).where(CreditStandard.code.in_(part))):
            found[row.code] = row
    return found


def _requirements(years: set[int]) -> dict[int, CreditRequirement]:
    if not years:
        return {}
    return {r.year: r for r in db.session.scalars(select(CreditRequirement).where(CreditRequirement.year.in_(years)))}


def _active_records(person_ids: list[int], years: set[int]) -> tuple[set, dict]:
    """(person, activity_key, date) of the persons' active records, and hours per (person, standard, year)."""
    keys: set = set()
    standard_hours: dict = defaultdict(int)
    if not years:
        return keys, standard_hours
    for part in _chunks(sorted(set(person_ids))):
        for row in db.session.execute(select(
                CreditRecord.person_id, CreditRecord.activity_key, CreditRecord.completed_on,
                CreditRecord.standard_id, CreditRecord.year, CreditRecord.hours)
                .where(_in(CreditRecord.person_id, part), CreditRecord.year.in_(sorted(years)),
                       CreditRecord.status.in_(_ACTIVE))):
            keys.add((row.person_id, row.activity_key, row.completed_on))
            if row.standard_id is not None:
                standard_hours[(row.person_id, row.standard_id, row.year)] += row.hours
    return keys, standard_hours


# ------------------------------------------------------------------ the check
def check(declarer: Declarer, rows: list[tuple[int, dict]], today: Optional[datetime.date] = None) -> Checked:
    """Validate parsed rows [(index, row)]; nothing is written."""
    today = today or datetime.date.today()
    out = Checked()
    if len(rows) > MAX_BATCH:
        raise InvalidInput(_("At most %(n)d records at a time", n=MAX_BATCH))
    if declarer.is_person:
        own_number = db.session.scalar(select(Person.id_number).where(Person.id == declarer.person_id))
        rows = [(i, dict(r, id_number=r.get("id_number") or own_number)) for i, r in rows]
    persons = _persons([r["id_number"] for _, r in rows if r.get("id_number")])
    programmes = _programmes([r["programme_code"] for _, r in rows if r.get("programme_code")])
    standards = _standards([r["standard_code"] for _, r in rows if r.get("standard_code")])
    years = {r["completed_on"].year for _, r in rows if r.get("completed_on")}
    requirements = _requirements(years)
    existing, standard_hours = _active_records([p.id for p in persons.values()], years)
    in_batch: dict[tuple, int] = {}
    for index, row in rows:
        problems = _check_row(declarer, index, row, persons, programmes, standards, requirements, today)
        if isinstance(problems, list):
            out.problems.extend(problems)
            continue
        record = problems
        key = (record["person_id"], record["activity_key"], record["completed_on"])
        if key in in_batch:
            out.problems.append(Problem(index, "id_number", _(
                "Duplicate in the file: the same person, activity and date as row %(row)s", row=in_batch[key])))
            continue
        if key in existing:
            out.problems.append(Problem(index, "id_number", duplicate_message()))
            continue
        standard = record.pop("_standard", None)
        if standard is not None and standard.yearly_cap is not None:
            cap_key = (record["person_id"], standard.id, record["year"])
            already = standard_hours[cap_key]
            if already + record["hours"] > standard.yearly_cap:
                out.problems.append(Problem(index, "quantity", _(
                    "Hours over the cap: “%(name)s” gives at most %(cap)d hours a year; this person already has "
                    "%(have)d, this row would add %(add)d", name=standard.name, cap=standard.yearly_cap,
                    have=already, add=record["hours"])))
                continue
            standard_hours[cap_key] = already + record["hours"]
        in_batch[key] = index
        out.good.append((index, record))
    return out


def _check_row(declarer: Declarer, index: int, row: dict, persons, programmes, standards, requirements,
               today: datetime.date):
    """The record of one row, or the list of its problems."""
    problems: list[Problem] = []

    def bad(field: str, message: str) -> list:
        problems.append(Problem(index, field, message))
        return problems

    person = persons.get(row.get("id_number"))
    if person is None or person.status != PersonStatus.active:
        return bad("id_number", _("No active professional with this ID number is registered"))
    if row.get("name") and row["name"] != person.name:
        return bad("name", _("The name does not match the ID number"))
    if declarer.is_person and person.id != declarer.person_id:
        return bad("id_number", _("You may declare hours for yourself only"))
    if declarer.type == CreditDeclarer.employer and not person.org_path.startswith(declarer.org_path):
        return bad("id_number", _("The person is outside your scope: not on the staff of your unit"))
    completed = row["completed_on"]
    if completed > today:
        return bad("completed_on", _("The completion date cannot be in the future"))
    requirement = requirements.get(completed.year)
    if requirement is None:
        return bad("completed_on", _("No credit-hour requirement is set for %(year)d", year=completed.year))
    if requirement.closed:
        return bad("completed_on", _("The year %(year)d is closed: it takes no more declarations", year=completed.year))
    code, standard_code = row.get("programme_code"), row.get("standard_code")
    if code and standard_code:
        return bad("programme_code", _("Enter a programme code or a standard code, not both"))
    record = {"person_id": person.id, "employer_id": person.employer_id, "org_path": person.org_path,
              "year": completed.year, "completed_on": completed, "programme_id": None, "standard_id": None,
              "quantity": None, "provider_id": None}
    if code:
        programme = programmes.get(code)
        if programme is None or programme.status != ReviewStatus.approved:
            return bad("programme_code", _("“%(code)s” is not an approved training programme", code=code))
        if declarer.type == CreditDeclarer.training_base and programme.org_id != declarer.org_id:
            return bad("programme_code", _("“%(code)s” is not one of your approved programmes", code=code))
        if programme.org_type == OrganisationType.employer and not person.org_path.startswith(programme.org_path):
            return bad("id_number", _("Not a trainee of the programme: it is held by an employer unit for its own staff"))
        if not programme.start_date <= completed <= programme.end_date:
            return bad("completed_on", _("The date is outside the programme (%(start)s to %(end)s)",
                                         start=programme.start_date.isoformat(), end=programme.end_date.isoformat()))
        if row.get("hours") and row["hours"] > programme.hours:
            return bad("hours", _("The programme gives at most %(n)d hours", n=programme.hours))
        if row.get("quantity"):
            return bad("quantity", _("A quantity is entered for a conversion standard only"))
        if _differs(row, "subject_kind", programme.subject_kind) or _differs(row, "mode", programme.mode):
            return bad("subject_kind", _("The subject kind and mode are those of the programme: %(kind)s, %(mode)s",
                                         kind=programme.subject_kind.label, mode=programme.mode.label))
        record.update(programme_id=programme.id, subject_kind=programme.subject_kind, mode=programme.mode,
                      hours=row.get("hours") or programme.hours, activity=programme.name[:200],
                      provider_id=programme.org_id if programme.org_type == OrganisationType.training_base else None,
                      activity_key=activity_key(programme.id, None, None))
        return record
    if declarer.type == CreditDeclarer.training_base:
        return bad("programme_code", _("A training base declares the hours of its approved programmes: "
                                       "enter the programme code"))
    if standard_code:
        standard = standards.get(standard_code)
        if standard is None:
            return bad("standard_code", _("“%(code)s” is not a conversion standard", code=standard_code[:20]))
        if not standard.applies_to(completed.year):
            return bad("standard_code", _("The standard “%(name)s” does not apply in %(year)d",
                                          name=standard.name, year=completed.year))
        if not row.get("quantity"):
            return bad("quantity", _("Enter how many %(unit)s", unit=standard.unit))
        if row.get("hours"):
            return bad("hours", _("The hours of a conversion standard are its quantity times %(n)d; leave them blank",
                                  n=standard.hours_per_unit))
        if _differs(row, "subject_kind", standard.subject_kind) or _differs(row, "mode", standard.mode):
            return bad("subject_kind", _("The subject kind and mode are those of the standard: %(kind)s, %(mode)s",
                                         kind=standard.subject_kind.label, mode=standard.mode.label))
        text = row.get("activity")
        record.update(standard_id=standard.id, quantity=row["quantity"], subject_kind=standard.subject_kind,
                      mode=standard.mode, hours=row["quantity"] * standard.hours_per_unit,
                      activity=(f"{standard.name}：{text}" if text else standard.name)[:200],
                      activity_key=activity_key(None, standard.id, text), _standard=standard)
        return record
    if not declarer.is_person:
        return bad("programme_code", _("Enter a programme code or a standard code"))
    if not row.get("activity"):
        return bad("activity", _("Enter the activity, or choose a programme or a standard"))
    if not row.get("hours"):
        return bad("hours", _("Enter the hours"))
    if row.get("subject_kind") is None:
        return bad("subject_kind", _("Choose the subject kind"))
    if row.get("mode") is None:
        return bad("mode", _("Choose the learning mode"))
    record.update(subject_kind=row["subject_kind"], mode=row["mode"], hours=row["hours"],
                  activity=row["activity"][:200], activity_key=activity_key(None, None, row["activity"]))
    return record


def _differs(row: dict, field: str, value) -> bool:
    return row.get(field) is not None and row[field] != value


# ------------------------------------------------------------------ the insert
def insert(declarer: Declarer, records: list[dict], now: Optional[datetime.datetime] = None) -> list[int]:
    """Insert checked records in the caller's transaction; returns their ids in the given order."""
    if not records:
        return []
    now = now or datetime.datetime.now().replace(microsecond=0)
    actor = declarer.actor
    actor_id = actor.id  # read once: an attribute of the account, not a constant, for every row
    constant = {"declarer_type": declarer.type, "declarer_org_id": declarer.org_id, "channel": declarer.channel,
                "status": ReviewStatus.pending, "submitted_by_id": actor_id, "submitted_on": now}
    variable = ("person_id", "employer_id", "org_path", "year", "subject_kind", "mode", "programme_id",
                "standard_id", "quantity", "activity", "activity_key", "hours", "completed_on", "provider_id")
    try:
        if is_postgresql():
            # the ids first (one statement), then one COPY: nothing is read back
            result = list(db.session.scalars(text(
                "SELECT nextval(pg_get_serial_sequence('credit_record', 'id')) FROM generate_series(1, :n)"),
                {"n": len(records)}))
            suffix = "\t" + "\t".join(_copy_text(v) for v in constant.values())
            lines = ("\t".join([str(pk), *[_copy_text(r[c]) for c in variable]]) + suffix
                     for pk, r in zip(result, records))
            copy_lines(CreditRecord.__table__, ["id", *variable, *constant], lines)
        else:
            insert_rows(CreditRecord.__table__, [{**{c: r[c] for c in variable}, **constant} for r in records])
    except IntegrityError as exc:
        raise Conflict(_("Some of these hours were declared by someone else meanwhile; nothing was saved. "
                         "Please check again")) from exc
    rows = records
    if not is_postgresql():
        # the new ids, by the unique (person, activity, date) of active records
        ids: dict[tuple, int] = {}
        for part in _chunks(sorted({r["person_id"] for r in rows})):
            for row in db.session.execute(select(
                    CreditRecord.id, CreditRecord.person_id, CreditRecord.activity_key, CreditRecord.completed_on)
                    .where(CreditRecord.person_id.in_(part), CreditRecord.submitted_on == now,
                           CreditRecord.status == ReviewStatus.pending)):
                ids[(row.person_id, row.activity_key, row.completed_on)] = row.id
        result = [ids[(r["person_id"], r["activity_key"], r["completed_on"])] for r in rows]
    for part in _chunks(result, 5000):
        db.session.execute(sql_insert(AuditLog).from_select(
            ["actor_id", "action", "object_type", "object_id", "org_path", "comment", "to_state", "ip", "created_on",
             "request_id"],
            select(literal(actor.id), literal("submit"), literal("credit_record"), CreditRecord.id,
                   CreditRecord.org_path, literal(declarer.channel.value, String),
                   literal(ReviewStatus.pending.value), literal(actor.ip, String), literal(now),
                   literal(current_request_id(), String))
            .where(_in(CreditRecord.id, part))))
    summary.refresh({(r["person_id"], r["year"]) for r in rows})
    return result


def declare(declarer: Declarer, raw_rows: list) -> list[int]:
    """Forms: check every row and insert them all in one transaction, or raise InvalidInput naming the rows."""
    parsed, problems = [], []
    for index, raw in enumerate(raw_rows, start=1):
        row, row_problems = parse_row(index, raw)
        problems.extend(row_problems)
        if row is not None:
            parsed.append((index, row))
    checked = check(declarer, parsed)
    problems.extend(checked.problems)
    if problems:
        raise DeclarationRefused(sorted(problems, key=lambda p: p.index))
    with transaction():
        return insert(declarer, [record for _, record in checked.good])


class DeclarationRefused(InvalidInput):
    """A form's rows were refused; ``problems`` names each row's reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0]
        super().__init__(first.message if len(problems) == 1 else _(
            "%(n)d rows were refused; nothing was saved", n=len({p.index for p in problems})), field=first.field)


def declared_by(declarer: Declarer):
    """The records this declarer entered (its list), newest first: a query to page and filter."""
    query = select(CreditRecord)
    if declarer.is_person:
        query = query.where(CreditRecord.person_id == declarer.person_id)
    else:
        query = query.where(CreditRecord.declarer_org_id == declarer.org_id)
    return query.order_by(CreditRecord.id.desc())



# ------------------------------------------------------------------ what a declarer may choose
def declarable_programmes(declarer: Declarer, limit: int = 2000) -> list[tuple[str, str]]:
    """(code, name) of approved programmes the declarer may declare, recent first: a base its own; a unit or a
    person those of the training bases and the unit's (the person's employer's) own."""
    query = (select(TrainingProgramme.code, TrainingProgramme.name)
             .where(TrainingProgramme.status == ReviewStatus.approved, TrainingProgramme.code.is_not(None),
                    TrainingProgramme.year >= datetime.date.today().year - 1))
    if declarer.type == CreditDeclarer.training_base:
        query = query.where(TrainingProgramme.org_id == declarer.org_id)
    else:
        own = declarer.org_id
        if declarer.is_person:
            own = db.session.scalar(select(Person.employer_id).where(Person.id == declarer.person_id))
        bases = select(Organisation.id).where(Organisation.type == OrganisationType.training_base)
        query = query.where((TrainingProgramme.org_id == own) | TrainingProgramme.org_id.in_(bases))
    return [tuple(r) for r in db.session.execute(
        query.order_by(TrainingProgramme.start_date.desc(), TrainingProgramme.id.desc()).limit(limit))]


def current_standards() -> list[CreditStandard]:
    """Conversion standards that apply this year or last year."""
    year = datetime.date.today().year
    return list(db.session.scalars(select(CreditStandard).where(
        CreditStandard.first_year <= year,
        (CreditStandard.last_year.is_(None)) | (CreditStandard.last_year >= year - 1)).order_by(CreditStandard.code)))
