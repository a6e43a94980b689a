"""Export sources of the pages that export today: the 专技人员 list and the audit log.

Each reads its query in the actor's scope with the page's filters (the request's ``_flt_*`` arguments
for a list view, the search form for the audit log), so the same parameters give the same rows whether
the export runs in the request or in a worker.
"""
from __future__ import annotations

import datetime
import re
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, select, type_coerce

from app.actor import Actor
from app.extensions import db
from app.io.export import ExportSpec, capped_count, source
from app.models import (Education, Gender, InternalDepartment, Organisation, OrganisationType, Person, PersonStatus,
                        TitleLevel, TitleSeries)
from app.scope import apply_scope

FILTER_ARG = re.compile(r"_flt_(\d)_(.*)")
CHUNK = 2000


def list_filter_args(args) -> dict[str, list[str]]:
    """The filter arguments of a list page's URL (what the user searched for), as plain data."""
    return {key: list(args.getlist(key)) for key in args if FILTER_ARG.fullmatch(key)}


def view_named(name: str):
    for view in current_app.appbuilder.baseviews:
        if view.__class__.__name__ == name:
            return view
    raise LookupError(name)


def filtered_ids(view, model, filter_args: dict, actor: Actor):
    """Ids of the rows a list view shows for these filter arguments, in the actor's scope."""
    filters = view.datamodel.get_filters(view.search_columns, getattr(view, "search_filters", None))
    for key, values in (filter_args or {}).items():
        match = FILTER_ARG.fullmatch(key)
        if not match or match.group(2) not in view.search_columns:
            continue
        index, column = int(match.group(1)), match.group(2)
        if index < len(filters.get_search_filters().get(column, [])):
            filters.add_filter_index(column, index, [str(v) for v in values][:10])
    query = db.session.query(model)
    query = filters.apply_all(query)
    query = apply_scope(query, model, actor.scope)
    return query.with_entities(model.id)


def _labels(enum_class) -> dict:
    return {member.value: str(member.label) for member in enum_class}


# ------------------------------------------------------------------ 专技人员
PERSON_HEADERS = [_l("Full name"), _l("ID number"), _l("Gender"), _l("Birth date"), _l("Mobile phone"),
                  _l("Education"), _l("Employer unit"), _l("Internal department"), _l("Title series"),
                  _l("Title level"), _l("Title name"), _l("Date obtained"), _l("Status")]


@source("persons")
def person_export(actor: Actor, params: dict) -> ExportSpec:
    """The 专技人员 list as the viewer filtered it."""
    view = view_named("PersonView")
    filter_args = params.get("filters") or {}
    scope = actor.scope
    # enum columns as their stored strings and references as ids: labels and names come from dicts
    # loaded once, so the query is one ordered range scan of person with no joins
    stmt = select(Person.name, Person.id_number, type_coerce(Person.gender, String), Person.birth_date, Person.phone,
                  type_coerce(Person.education, String), Person.employer_id, Person.internal_department_id,
                  Person.title_series_id, Person.title_level_id, Person.title_name, Person.title_date,
                  type_coerce(Person.status, String))
    if filter_args:
        ids = filtered_ids(view, Person, filter_args, actor)
        stmt = stmt.where(Person.id.in_(ids.subquery().select()))
        counted = ids
    else:
        stmt = apply_scope(stmt, Person, scope)
        counted = apply_scope(select(Person.id), Person, scope)
    stmt = stmt.order_by(Person.org_path, Person.id)
    genders, educations, statuses = _labels(Gender), _labels(Education), _labels(PersonStatus)

    def names(query) -> dict:
        return dict(db.session.execute(query).all())

    def rows():
        units = names(apply_scope(select(Organisation.id, Organisation.name)
                                  .where(Organisation.type == OrganisationType.employer), Organisation, scope))
        departments = names(apply_scope(select(InternalDepartment.id, InternalDepartment.name)
                                        .join(Organisation, Organisation.id == InternalDepartment.organisation_id)
                                        .where(Organisation.type == OrganisationType.employer), Organisation, scope))
        series = names(select(TitleSeries.id, TitleSeries.name))
        levels = names(select(TitleLevel.id, TitleLevel.name))
        result = db.session.connection().execute(stmt.execution_options(stream_results=True, max_row_buffer=CHUNK))
        for (name, number, gender, birth, phone, education, unit, dept, series_id, level_id, title, obtained,
             status) in result:
            yield (name, number, genders.get(gender, ""), birth.isoformat() if birth else "", phone or "",
                   educations.get(education, ""), units.get(unit, ""), departments.get(dept, ""),
                   series.get(series_id, ""), levels.get(level_id, ""), title or "",
                   obtained.isoformat() if obtained else "", statuses.get(status, ""))

    return ExportSpec(title=_("Professional personnel"), headers=[str(h) for h in PERSON_HEADERS], rows=rows,
                      count=lambda cap: capped_count(counted, cap), widths=[10, 21, 6, 12, 14, 10, 28, 14, 16, 10, 16, 12, 8])


# ------------------------------------------------------------------ 审计日志
def _date(value) -> Optional[datetime.date]:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@source("audit_log")
def audit_export(actor: Actor, params: dict) -> ExportSpec:
    """The audit log of the viewer's subtree, with the page's search applied."""
    from app.admin import audit as audit_page
    from app.services import exports

    filters = exports.AuditFilters(actor=str(params.get("actor") or "")[:50], action=str(params.get("action") or "")[:50],
                                   date_from=_date(params.get("date_from")), date_to=_date(params.get("date_to")))
    query = exports.audit_log_query(actor.scope, filters)

    def rows():
        yield from exports.iter_audit_rows(query, audit_page.export_row, limit=None)

    return ExportSpec(title=_("Audit log"), headers=[str(h) for h in audit_page.EXPORT_HEADERS], rows=rows,
                      count=lambda cap: capped_count(query, cap), widths=[20, 12, 22, 16, 12, 10, 50, 50, 20, 16])


# ------------------------------------------------------------------ 调转记录 (registers its source)
from app.io import transfer_records  # noqa: E402,F401

# ------------------------------------------------------------------ 查询统计 (registers its sources)
from app.io import query_statistics  # noqa: E402,F401
