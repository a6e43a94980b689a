"""专技人员批量导入: an employer unit (or a department, for the units of its subtree) enters its staff.

Imported persons are active records at once — an admin entering its own staff, as the add form does.
Duplicates are refused: an ID number repeated in the file, or one that already has a record.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.actor import Actor
from app.errors import NotAllowed
from app.extensions import db
from app.io.bulk import insert_rows
from app.io.imports import Column, Importer, RowError, register
from app.models import (Education, Gender, InternalDepartment, Organisation, OrganisationStatus, OrganisationType,
                        Person, PersonStatus, TitleLevel, TitleSeries)
from app.services import audit
from app.validators import normalize_uscc

#: values per IN (...) list
CHUNK = 1000


def _education_labels() -> list[str]:
    return [str(e.label) for e in Education]


def _series_names() -> list[str]:
    return list(db.session.scalars(select(TitleSeries.name).order_by(TitleSeries.sort_order)))


def _level_names() -> list[str]:
    return list(db.session.scalars(select(TitleLevel.name).order_by(TitleLevel.sort_order)))


COLUMNS = [
    Column("id_number", _l("ID number"), "id_number", required=True, width=22,
           note=_l("18-digit resident ID number, entered as text"), example="420106199001010167"),
    Column("name", _l("Full name"), required=True, max_length=50, width=12, example="张三"),
    Column("phone", _l("Mobile phone"), "mobile", width=14, note=_l("11-digit mobile number"), example="13800138000"),
    Column("education", _l("Education"), "choice", choices=_education_labels, width=12, example="大学本科"),
    Column("employer", _l("Employer unit"), width=30, max_length=200,
           note=_l("Name or unified social credit code of an employer unit in your scope; "
                   "an employer unit may leave it blank for itself"), example="湖北省人民医院"),
    Column("department", _l("Internal department"), width=14, max_length=100,
           note=_l("An internal department of that unit (optional)"), example="内科"),
    Column("title_series", _l("Title series"), "choice", choices=_series_names, width=18, example="卫生技术人员"),
    Column("title_level", _l("Title level"), "choice", choices=_level_names, width=10, example="中级"),
    Column("title_name", _l("Title name"), max_length=100, width=16, example="主治医师"),
    Column("title_date", _l("Date obtained"), "date", width=14, note=_l("YYYY-MM-DD"), example="2018-07-01"),
]


def allowed(actor: Actor) -> None:
    if actor.scope.is_none:
        raise NotAllowed(_("Your organisation has not been approved yet"))


def _employers(actor: Actor, keys: set[str]) -> tuple[dict[str, list], dict[str, dict]]:
    """Employer units in the actor's scope named (or coded) in the file: name -> [units], code -> unit."""
    names = [k for k in keys if k]
    codes = [normalize_uscc(k) for k in names if len(normalize_uscc(k)) == 18]
    by_name: dict[str, list] = {}
    by_code: dict[str, dict] = {}
    scope = actor.scope
    for start in range(0, max(len(names), len(codes)), CHUNK):
        part_names, part_codes = names[start:start + CHUNK], codes[start:start + CHUNK]
        condition = Organisation.name.in_(part_names)
        if part_codes:
            condition = or_(condition, Organisation.uscc.in_(part_codes))
        query = select(Organisation.id, Organisation.name, Organisation.uscc, Organisation.path).where(
            Organisation.type == OrganisationType.employer, Organisation.status == OrganisationStatus.approved,
            condition)
        if not scope.is_all:
            query = query.where(Organisation.path.like(scope.prefix + "%"))
        for org_id, name, uscc, path in db.session.execute(query):
            unit = {"id": org_id, "path": path}
            by_name.setdefault(name, [])
            if unit not in by_name[name]:
                by_name[name].append(unit)
            if uscc:
                by_code[uscc] = unit
    return by_name, by_code


def validate(rows: list[tuple[int, dict]], actor: Actor) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """References, scope and duplicates against the database, in a few set-based queries."""
    errors: list[RowError] = []
    header = {c.key: str(c.header) for c in COLUMNS}
    own = actor.organisation
    own_unit = ({"id": own.id, "path": own.path} if own is not None and own.type == OrganisationType.employer
                and not actor.scope.is_none else None)
    by_name, by_code = _employers(actor, {r["employer"] for _, r in rows if r.get("employer")})
    numbers = [r["id_number"] for _, r in rows]
    existing: set[str] = set()
    for start in range(0, len(numbers), CHUNK):
        existing.update(db.session.scalars(select(Person.id_number).where(
            Person.id_number.in_(numbers[start:start + CHUNK]))))
    series = dict(db.session.execute(select(TitleSeries.name, TitleSeries.id)).all())
    levels = dict(db.session.execute(select(TitleLevel.name, TitleLevel.id)).all())
    education = {str(e.label): e for e in Education}
    today = datetime.date.today()
    now = datetime.datetime.now()
    resolved: list[tuple[int, dict, dict]] = []
    for row_number, row in rows:
        problems = []
        unit: Optional[dict] = None
        key = row.get("employer")
        if not key:
            unit = own_unit
            if unit is None:
                problems.append(RowError(row_number, header["employer"], _("This column is required")))
        else:
            unit = by_code.get(normalize_uscc(key))
            if unit is None:
                matches = by_name.get(key, [])
                if len(matches) > 1:
                    problems.append(RowError(row_number, header["employer"], _(
                        "Several units in your scope have this name; enter the unified social credit code instead")))
                elif matches:
                    unit = matches[0]
                else:
                    problems.append(RowError(row_number, header["employer"], _(
                        "“%(unit)s” is not an approved employer unit in your scope", unit=key[:40])))
        if row["id_number"] in existing:
            problems.append(RowError(row_number, header["id_number"], _("A person with this ID number already exists")))
        if row.get("title_date") and row["title_date"] > today:
            problems.append(RowError(row_number, header["title_date"], _("The date obtained cannot be in the future")))
        if problems:
            errors.extend(problems)
            continue
        number = row["id_number"]  # validated by its column already: read birth date and sex directly
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        gender = "male" if int(number[16]) % 2 else "female"
        resolved.append((row_number, row, {
            "id_number": row["id_number"], "name": row["name"], "gender": Gender(gender), "birth_date": birth,
            "phone": row.get("phone"), "education": education.get(row.get("education") or ""),
            "employer_id": unit["id"], "org_path": unit["path"], "internal_department_id": None,
            "title_series_id": series.get(row.get("title_series")), "title_level_id": levels.get(row.get("title_level")),
            "title_name": row.get("title_name"), "title_date": row.get("title_date"),
            "status": PersonStatus.active, "created_on": now,
        }))
    wanted = {(values["employer_id"], row["department"]) for _, row, values in resolved if row.get("department")}
    departments: dict[tuple[int, str], int] = {}
    employer_ids = sorted({e for e, _ in wanted})
    for start in range(0, len(employer_ids), CHUNK):
        for dept_id, org_id, name in db.session.execute(select(
                InternalDepartment.id, InternalDepartment.organisation_id, InternalDepartment.name)
                .where(InternalDepartment.organisation_id.in_(employer_ids[start:start + CHUNK]))):
            departments[(org_id, name)] = dept_id
    good = []
    for row_number, row, values in resolved:
        if row.get("department"):
            dept = departments.get((values["employer_id"], row["department"]))
            if dept is None:
                errors.append(RowError(row_number, header["department"], _(
                    "“%(dept)s” is not an internal department of that unit", dept=row["department"][:40])))
                continue
            values["internal_department_id"] = dept
        good.append((row_number, values))
    return good, errors


def commit(rows: list[dict], actor: Actor, file_name: str) -> int:
    """One COPY (PostgreSQL) or executemany of all rows, and one audit row for the batch."""
    insert_rows(Person.__table__, rows)
    own = actor.organisation
    audit.record("import", None, actor=actor, object_type="person",
                 org_path_value=own.path if own is not None else None,
                 after={"count": len(rows), "file": file_name}, comment=None)
    return len(rows)


PERSON_IMPORT = register(Importer(
    name="persons", title=_l("Professional personnel"), columns=COLUMNS, validate=validate, commit=commit,
    unique=("id_number",), allowed=allowed,
    instructions=[
        _l("Fill in one person per row on the first sheet; keep the header row as it is."),
        _l("Columns with a red header are required. ID numbers and mobile numbers must be entered as text."),
        _l("Imported persons become active records of the chosen employer unit at once."),
        _l("Rows with errors are listed before anything is imported; you may import the correct rows only, "
           "and download the rejected rows with their reasons."),
    ],
))
