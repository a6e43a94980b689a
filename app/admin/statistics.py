"""查询统计 (manual 5.4): 继教综合统计查询 — the table, its drill-down, its export — and its REST endpoint."""
from __future__ import annotations

from flask import request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi, expose as api_expose, protect
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.actor import current_actor
from app.api.base import safe
from app.errors import AppError
from app.navigation import STATISTICS, category
from app.scope import current_scope
from app.services.statistics import comprehensive as stats


def _params() -> dict:
    args = request.args
    return {"year": args.get("year", ""), "org": args.get("org", ""),
            "by": "series" if args.get("by") == "series" else ""}


class ComprehensiveStatisticsView(BaseView):
    """继教综合统计查询: the year's table of the viewer's department (or a subordinate one), by department or series."""

    route_base = "/statistics/comprehensive"
    default_view = "index"
    class_permission_name = "Statistics"
    method_permission_name = {"index": "read", "export": "read"}

    @expose("/")
    @has_access
    def index(self):
        params = _params()
        table = stats.comprehensive(current_scope(), params["year"], params["org"], by_series=params["by"] == "series")
        this_year = stats.current_year()
        return self.render_template(
            "statistics/comprehensive.html", title=_("Comprehensive continuing education statistics"),
            table=table, header=stats.HEADER, figures=stats.FIGURES,
            years=list(range(this_year, this_year - 10, -1)),
            export_url=url_for(".export", **{k: v for k, v in {**params, "year": table.year,
                                                                 "org": table.organisation.id}.items() if v}),
        )

    @expose("/export/")
    @has_access
    def export(self):
        from app.admin.exporting import export_response

        params = _params()
        # checked here, so a bad year or an unknown department answers 400 / 404 before any file is made
        stats.comprehensive(current_scope(), params["year"], params["org"], by_series=params["by"] == "series")
        return export_response("statistics_comprehensive", params)


class StatisticsApi(BaseApi):
    """GET /api/v1/statistics/comprehensive: the same table as JSON."""

    resource_name = "statistics"
    class_permission_name = "Statistics"
    method_permission_name = {"comprehensive": "read"}
    openapi_spec_tag = "Statistics"
    allow_browser_login = False

    @api_expose("/comprehensive", methods=["GET"])
    @protect()
    @safe
    def comprehensive(self):
        """继教综合统计查询
        ---
        get:
          summary: Comprehensive continuing-education statistics of a department's subtree for one year
          parameters:
          - in: query
            name: year
            schema: {type: integer, minimum: 2000, maximum: 2100}
            description: the year (default this year)
          - in: query
            name: org
            schema: {type: integer}
            description: a department in the caller's subtree (default the caller's own)
          - in: query
            name: by
            schema: {type: string, enum: [department, series]}
            description: rows per direct subordinate department (default) or per title series
          responses:
            200:
              description: one row per direct subordinate department (plus units and bases attached directly) or
                per title series, and the total
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      year: {type: integer}
                      org_id: {type: integer}
                      org_name: {type: string}
                      by: {type: string}
                      rows:
                        type: array
                        items: {$ref: '#/components/schemas/StatisticsRow'}
                      total: {$ref: '#/components/schemas/StatisticsRow'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        by = request.args.get("by", "department")
        if by not in ("department", "series"):
            raise AppError(_("Group the rows by department or by series"), field="by")
        try:
            table = stats.comprehensive(current_actor().scope, request.args.get("year"), request.args.get("org"),
                                        by_series=by == "series")
        except AppError as exc:
            return self.response(exc.status_code, message=exc.message)
        return self.response(200, **stats.as_dict(table))

    def add_apispec_components(self, api_spec):
        super().add_apispec_components(api_spec)
        integer = {"type": "integer"}
        properties = {"no": {"type": "integer", "nullable": True}, "key": {"type": "string"},
                      "label": {"type": "string"}, "org_id": {"type": "integer", "nullable": True},
                      **{name: integer for name in stats.FIGURES},
                      "qualified_rate": {"type": "number", "nullable": True}}
        properties["bases"] = {"type": "integer", "nullable": True}
        if "StatisticsRow" not in api_spec.components.schemas:
            api_spec.components.schema("StatisticsRow", {"type": "object", "properties": properties})


def register(appbuilder) -> None:
    from app import io as _io  # noqa: F401
    from app.io import statistics as _export  # noqa: F401 - registers the export source
    from app.services.statistics import aggregates

    aggregates.register()
    appbuilder.add_view(ComprehensiveStatisticsView, "Comprehensive statistics",
                        label=_l("Comprehensive continuing education statistics"), icon="fa-table",
                        **category(STATISTICS))
    appbuilder.add_api(StatisticsApi)
    from app.services.statistics import cli

    from flask import current_app

    cli.register(current_app._get_current_object())
