"""年度工作材料报送 (manual 5.3): a department adds, edits and downloads its annual materials (review is generic)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import validators

from app.admin.own_submissions import OwnSubmissionView
from app.interface import EagerInterface
from app.models import WorkMaterial
from app.services import materials
from app.navigation import WORK_MATERIALS, category
from app.workflow.declarations.materials import LABELS


class WorkMaterialView(OwnSubmissionView):
    """The own department's materials: 新增, 编辑 while pending or rejected, 下载, 撤回."""

    spec = materials.MATERIAL
    route_base = "/work-materials"
    class_permission_name = "WorkMaterial"
    datamodel = EagerInterface(WorkMaterial)
    list_title = _l("Annual work material submission")
    show_title = _l("Annual work material")
    add_title = _l("New annual work material")
    edit_title = _l("Edit annual work material")
    label_columns = LABELS
    list_columns = ["year", "title", "submitted_on", "status_text", "reviewed_on"]
    show_columns = ["year", "organisation", "title", "remarks", "submitted_by", "submitted_on", "status_text",
                    "reviewed_by", "reviewed_on", "reject_reason"]
    add_columns = edit_columns = ["year", "title", "remarks"]
    search_columns = ["year", "status", "title"]
    validators_columns = {"year": [validators.InputRequired(), validators.NumberRange(min=2000, max=2100)],
                          "title": [validators.DataRequired()]}


def register(appbuilder) -> None:
    appbuilder.add_view(WorkMaterialView, "Annual work material submission",
                        label=_l("Annual work material submission"), icon="fa-upload", **category(WORK_MATERIALS))
