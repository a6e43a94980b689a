"""A base's 年度培训计划 and 年度工作总结, and the 培训计划申报 of bases and units, as they file them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, validators

from app.admin.own_submissions import OwnSubmissionView
from app.interface import EagerInterface
from app.models import TrainingPlan, TrainingProgramme, WorkSummary
from app.services import training
from app.workflow.declarations.training import PLAN_LABELS, PROGRAMME_LABELS, SUMMARY_LABELS

LIST_TAIL = ["submitted_on", "status_text", "reviewed_on"]


def _whole(minimum=0, maximum=10_000_000):
    return [validators.InputRequired(), validators.NumberRange(min=minimum, max=maximum)]


class PlanView(OwnSubmissionView):
    """年度培训计划 of the own base."""

    spec = training.PLAN
    route_base = "/training/plans"
    class_permission_name = "TrainingPlanSubmission"
    datamodel = EagerInterface(TrainingPlan)
    list_title = _l("Annual training plan submission")
    show_title = _l("Annual training plan")
    add_title = _l("New annual training plan")
    edit_title = _l("Edit annual training plan")
    label_columns = PLAN_LABELS
    list_columns = ["year", "title", "planned_programmes", "planned_hours", *LIST_TAIL]
    show_columns = ["year", "organisation", "title", "content", "planned_programmes", "planned_hours",
                    "submitted_by", "submitted_on", "status_text", "reviewed_by", "reviewed_on", "reject_reason"]
    add_columns = edit_columns = ["year", "title", "content", "planned_programmes", "planned_hours"]
    search_columns = ["year", "status", "title"]
    validators_columns = {"year": _whole(2000, 2100), "title": [validators.DataRequired()],
                          "content": [validators.DataRequired()], "planned_programmes": _whole(0, 10_000),
                          "planned_hours": _whole()}


class ProgrammeView(OwnSubmissionView):
    """培训计划申报 of the own base or unit; approved programmes keep their code for credit records."""

    spec = training.PROGRAMME
    route_base = "/training/programmes"
    class_permission_name = "ProgrammeSubmission"
    datamodel = EagerInterface(TrainingProgramme)
    list_title = _l("Training programme declaration")
    show_title = _l("Training programme")
    add_title = _l("Declare a training programme")
    edit_title = _l("Edit training programme")
    label_columns = PROGRAMME_LABELS
    list_columns = ["code", "name", "subject_kind", "mode", "start_date", "hours", *LIST_TAIL]
    show_columns = ["code", "name", "organisation", "subject_kind", "mode", "start_date", "end_date", "hours",
                    "planned_trainees", "venue", "fee", "description", "submitted_by", "submitted_on",
                    "status_text", "reviewed_by", "reviewed_on", "reject_reason"]
    add_columns = edit_columns = ["name", "subject_kind", "mode", "start_date", "end_date", "hours",
                                  "planned_trainees", "venue", "fee", "description"]
    search_columns = ["year", "status", "name", "code", "subject_kind", "mode"]
    validators_columns = {"name": [validators.DataRequired()], "start_date": [validators.DataRequired()],
                          "end_date": [validators.DataRequired()], "hours": _whole(1, training.MAX_HOURS),
                          "planned_trainees": _whole(0, 1_000_000), "venue": [validators.DataRequired()]}
    add_form_extra_fields = edit_form_extra_fields = {
        "fee": DecimalField(_l("Fee (yuan)"), places=2, default=0,
                            validators=[validators.InputRequired(), validators.NumberRange(min=0, max=1_000_000)]),
    }


class SummaryView(OwnSubmissionView):
    """年度工作总结 of the own base."""

    spec = training.SUMMARY
    route_base = "/training/summaries"
    class_permission_name = "TrainingPlanSubmission"
    datamodel = EagerInterface(WorkSummary)
    list_title = _l("Annual work summary submission")
    show_title = _l("Annual work summary")
    add_title = _l("New annual work summary")
    edit_title = _l("Edit annual work summary")
    label_columns = SUMMARY_LABELS
    list_columns = ["year", "classes_held", "trainees", "hours_delivered", *LIST_TAIL]
    show_columns = ["year", "organisation", "text", "classes_held", "trainees", "hours_delivered",
                    "submitted_by", "submitted_on", "status_text", "reviewed_by", "reviewed_on", "reject_reason"]
    add_columns = edit_columns = ["year", "text", "classes_held", "trainees", "hours_delivered"]
    search_columns = ["year", "status"]
    validators_columns = {"year": _whole(2000, 2100), "text": [validators.DataRequired()],
                          "classes_held": _whole(0, 100_000), "trainees": _whole(),
                          "hours_delivered": _whole(0, 100_000_000)}
