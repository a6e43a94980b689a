"""继教综合统计查询 export: the table the page shows (same year, department and grouping), two-row header."""
from __future__ import annotations

from flask_babel import gettext as _

from app.actor import Actor
from app.io.export import ExportSpec, source
from app.services.statistics import comprehensive as stats


@source("statistics_comprehensive")
def comprehensive_export(actor: Actor, params: dict) -> ExportSpec:
    table = stats.comprehensive(actor.scope, params.get("year"), params.get("org"),
                                by_series=params.get("by") == "series")
    rows = list(stats.export_rows(table))
    title = _("Comprehensive continuing education statistics") + f" {table.year} {table.organisation.name}"
    cells = stats.header_cells()
    return ExportSpec(title=title, headers=[c[4] for c in cells if c[0] == 0], rows=lambda: iter(rows),
                      count=lambda cap: min(len(rows), cap), header_cells=cells,
                      widths=[6, 30] + [12] * (len(stats.FIGURES) + 1))
