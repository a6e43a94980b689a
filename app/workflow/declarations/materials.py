"""年度工作材料报送 (manual 5.3): a department's annual materials, reviewed by the departments above it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import WorkMaterial
from app.navigation import WORK_MATERIALS
from app.workflow.kinds import Kind, Menu, declare

CATEGORY = WORK_MATERIALS
AREA = "WorkMaterialReview"

LABELS = {
    "year": _l("Reporting year"), "organisation": _l("Supervisory department"), "title": _l("Title"),
    "remarks": _l("Remarks"), "status": _l("Review status"), "status_text": _l("Review status"),
    "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"), "reviewed_on": _l("Reviewed on"),
    "reviewed_by": _l("Reviewed by"), "reject_reason": _l("Reject reason"),
}

MATERIAL = declare(Kind(
    key="work_material", model=WorkMaterial, label=_l("Work material review"), area=AREA,
    menu=Menu(CATEGORY, "Work material review", "fa-folder-open"),
    list_columns=["year", "organisation", "title", "submitted_on", "status_text", "reviewed_on"],
    show_columns=["year", "organisation", "title", "remarks", "submitted_by", "submitted_on", "status_text",
                  "reviewed_by", "reviewed_on", "reject_reason"],
    search_columns=["year", "organisation", "status", "title", "submitted_on"],
    order_columns=["year", "submitted_on", "status"], label_columns=LABELS,
    describe=lambda m: f"{m.year} {m.organisation.name}：{m.title}",
    audit_label=_l("Annual work material"),
    files=(("guide", _l("Study guide")), ("notice", _l("Work notice"))),
))
