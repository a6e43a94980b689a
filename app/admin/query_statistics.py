"""查询统计 (manual 5.4): 职称系列分布查询 (charts and table) and 专技人员信息查询 (search, details, export).

Thin views: the filters are parsed and the data read by ``app/services/query_statistics.py``; exports go
through the shared exporter (``app/io/query_statistics.py``), in the request or as a job when large.
"""
from __future__ import annotations

from flask import request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from app.errors import NotFound
from app.models import PersonStatus
from app.navigation import STATISTICS, category
from app.scope import current_scope
from app.services import query_statistics as service


def _choices():
    """The filter forms' choices: the series and levels the page read already (one statement a request)."""
    names = service.title_names()
    statuses = [(m.value, str(m.label)) for m in PersonStatus]
    return names.series, names.levels, statuses


def _query_string() -> str:
    return ("?" + request.query_string.decode()) if request.query_string else ""


def _chart_text() -> dict:
    """The words the page script writes into the charts (translated here, never in the script)."""
    return {"bar_title": _("Persons by title series and level"), "pie_title": _("Share of each title series"),
            "persons_axis": _("Persons"), "series": _("Title series"), "persons": _("persons"),
            "of_total": _("share of all"), "of_series": _("share of the series"),
            "others": _("Other series")}


class TitleDistributionView(BaseView):
    """职称系列分布查询: persons of the subtree by series × level, a bar and a pie chart beside the table."""

    route_base = "/statistics/title-series"
    default_view = "index"
    class_permission_name = "TitleStatistics"
    method_permission_name = {"index": "read", "export": "read"}

    @expose("/")
    @has_access
    def index(self):
        scope = current_scope()
        if scope.is_none:
            raise NotFound()
        filters = service.parse_distribution_filters(request.args, scope)
        distribution = service.title_distribution(scope, filters)
        _series, levels, statuses = _choices()
        return self.render_template(
            "query_statistics/distribution.html", title=_("Title series distribution"), filters=filters,
            distribution=distribution, chart={**distribution.chart_data(), "text": _chart_text()}, levels=levels, statuses=statuses,
            export_url=url_for("TitleDistributionView.export") + _query_string())

    @expose("/export/")
    @has_access
    def export(self):
        from app.admin.exporting import export_response

        scope = current_scope()
        if scope.is_none:
            raise NotFound()
        filters = service.parse_distribution_filters(request.args, scope)
        return export_response("title_distribution", filters.params())


class PersonQueryView(BaseView):
    """专技人员信息查询: persons of the subtree by name / ID-number prefix, unit, title, status, verification."""

    route_base = "/statistics/persons"
    default_view = "list"
    class_permission_name = "PersonQuery"
    method_permission_name = {"list": "read", "show": "read", "export": "read"}

    @expose("/list/")
    @has_access
    def list(self):
        scope = current_scope()
        if scope.is_none:
            raise NotFound()
        filters = service.parse_person_filters(request.args, scope)
        try:
            size = int(request.args.get("psize", service.PAGE_SIZES[0]))
            page = int(request.args.get("page", 0))
        except ValueError:
            size, page = service.PAGE_SIZES[0], 0
        size = size if size in service.PAGE_SIZES else service.PAGE_SIZES[0]
        # deep pages are for narrowing the search, not for paging a province: at most the counted rows
        cap = service.count_cap(filters)
        page = max(0, min(page, cap // size))
        count, rows = service.person_page(scope, filters, cap, page * size, size)
        with_year = filters.year is not None
        results = list(zip((row[0] for row in rows), service.Labels().rows(rows, with_year)))
        pages = max(1, (min(count, cap) + size - 1) // size)
        series, levels, statuses = _choices()
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return self.render_template(
            "query_statistics/persons.html", title=_("Personnel information query"), filters=filters,
            results=results, with_year=with_year, count=count, capped=count > cap, cap=cap, page=page, pages=pages, size=size, sizes=service.PAGE_SIZES, args=args,
            series=series, levels=levels, statuses=statuses,
            export_url=url_for("PersonQueryView.export") + _query_string())

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        scope = current_scope()
        person = service.person_in_scope(scope, pk)
        from app.services.transfers import person_transfers

        return self.render_template(
            "query_statistics/person_show.html", title=_("Person details"), person=person,
            department=service.department_name(person), changes=service.title_changes(person.id),
            transfers=person_transfers(person.id, scope), years=service.hours_by_year(person.id),
            verification_text=service.verification_text)

    @expose("/export/")
    @has_access
    def export(self):
        from app.admin.exporting import export_response

        scope = current_scope()
        if scope.is_none:
            raise NotFound()
        filters = service.parse_person_filters(request.args, scope)
        return export_response("person_query", filters.params())


def register(appbuilder) -> None:
    menu = category(STATISTICS)
    appbuilder.add_view(TitleDistributionView, "Title series distribution", label=_l("Title series distribution"),
                        icon="fa-pie-chart", **menu)
    appbuilder.add_view(PersonQueryView, "Personnel information query", label=_l("Personnel information query"),
                        icon="fa-search", **menu)
