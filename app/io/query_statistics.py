"""查询统计 exports (manual 5.4): the title-series distribution table and the 专技人员信息查询 result.

Everything comes from (actor, params), so the same parameters give the same rows in the request and in a
worker; the filters are parsed again here (an organisation outside the actor's scope is refused).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.actor import Actor
from app.extensions import db
from app.io.export import ExportSpec, capped_count, source
from app.services import query_statistics as service


@source("title_distribution")
def distribution_export(actor: Actor, params: dict) -> ExportSpec:
    """One row per series (most persons first): persons per level, total and share; a total row last."""
    filters = service.parse_distribution_filters(params, actor.scope)
    distribution = service.title_distribution(actor.scope, filters)
    headers = [_("Title series"), *[name for _id, name in distribution.levels], _("Total"), _("Share")]

    def rows():
        for row in distribution.rows:
            yield [row.name, *row.counts, row.total, f"{row.share:.2%}"]
        yield [_("Total"), *distribution.level_totals, distribution.total, "100.00%" if distribution.total else ""]

    return ExportSpec(title=_("Title series distribution"), headers=headers, rows=rows,
                      count=lambda cap: min(cap, len(distribution.rows) + 1),
                      widths=[24, *[10] * len(distribution.levels), 10, 10])


HEADERS = [_l("Full name"), _l("ID number"), _l("Gender"), _l("Employer unit"), _l("Title series"),
           _l("Title level"), _l("Title name"), _l("Status")]


@source("person_query")
def person_query_export(actor: Actor, params: dict) -> ExportSpec:
    """专技人员信息查询 as the viewer searched: the list's rows and columns, in the list's order."""
    scope = actor.scope
    filters = service.parse_person_filters(params, scope)
    with_year = filters.year is not None
    headers = [str(h) for h in HEADERS]
    if with_year:
        headers.append(_("%(year)d verification", year=filters.year))
    query = service.person_rows(scope, filters)

    def rows():
        # as the 专技人员 list export (app/io/sources.py): every value from a small dict read once (the scope's
        # unit names in one statement, labels and verification words translated once), no per-row lookups
        labels = service.Labels()
        labels.load_scope_units(scope)
        genders, statuses, series, levels, units = (labels.genders, labels.statuses, labels.series, labels.levels,
                                                    labels.units)
        words = service.verification_words()
        not_verified = words[None]
        result = db.session.connection().execute(query.execution_options(stream_results=True, max_row_buffer=2000))
        if with_year:
            for _id, name, number, gender, unit, series_id, level_id, title, status, verification in result:
                yield (name, number, genders.get(gender, ""), units.get(unit, ""), series.get(series_id, ""),
                       levels.get(level_id, ""), title or "", statuses.get(status, ""),
                       words.get(verification, not_verified))
        else:
            for _id, name, number, gender, unit, series_id, level_id, title, status in result:
                yield (name, number, genders.get(gender, ""), units.get(unit, ""), series.get(series_id, ""),
                       levels.get(level_id, ""), title or "", statuses.get(status, ""))

    return ExportSpec(title=_("Personnel information query"), headers=headers, rows=rows,
                      count=lambda cap: capped_count(service.person_ids(scope, filters), cap),
                      widths=[10, 21, 6, 28, 16, 10, 16, 8, 14][:len(headers)])
