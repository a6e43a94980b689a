"""培训计划管理 (manual 5.1.5): annual plans, programme declarations and annual summaries of the bases."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import TrainingPlan, TrainingProgramme, WorkSummary
from app.navigation import TRAINING_PLANS
from app.workflow.kinds import Kind, Menu, declare

CATEGORY = TRAINING_PLANS
AREA = "TrainingPlanReview"

COMMON_LABELS = {
    "year": _l("Year"), "organisation": _l("Submitting organisation"), "status": _l("Review status"),
    "status_text": _l("Review status"), "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"),
    "reviewed_on": _l("Reviewed on"), "reviewed_by": _l("Reviewed by"), "reject_reason": _l("Reject reason"),
}
REVIEW_COLUMNS = ["submitted_by", "submitted_on", "status_text", "reviewed_by", "reviewed_on", "reject_reason"]

PLAN_LABELS = {**COMMON_LABELS, "organisation": _l("Training base"), "title": _l("Plan title"),
               "content": _l("Plan content"), "planned_programmes": _l("Planned programmes"),
               "planned_hours": _l("Planned hours")}
PROGRAMME_LABELS = {**COMMON_LABELS, "code": _l("Programme code"), "name": _l("Programme name"),
                    "subject_kind": _l("Subject kind"), "mode": _l("Learning mode"),
                    "start_date": _l("Start date"), "end_date": _l("End date"), "hours": _l("Planned hours"),
                    "planned_trainees": _l("Planned trainees"), "venue": _l("Venue or platform"),
                    "fee": _l("Fee (yuan)"), "description": _l("Programme description")}
SUMMARY_LABELS = {**COMMON_LABELS, "organisation": _l("Training base"), "text": _l("Summary"),
                  "classes_held": _l("Classes held"), "trainees": _l("Trainees"),
                  "hours_delivered": _l("Hours delivered")}


def _menu(name: str, icon: str) -> Menu:
    return Menu(CATEGORY, name, icon)


PLAN = declare(Kind(
    key="training_plan", model=TrainingPlan, label=_l("Annual training plan review"), area=AREA,
    menu=_menu("Annual training plan review", "fa-calendar"),
    list_columns=["year", "organisation", "title", "planned_programmes", "planned_hours", "submitted_on",
                  "status_text", "reviewed_on"],
    show_columns=["year", "organisation", "title", "content", "planned_programmes", "planned_hours",
                  *REVIEW_COLUMNS],
    search_columns=["year", "organisation", "status", "title", "submitted_on"],
    order_columns=["year", "submitted_on", "status"], label_columns=PLAN_LABELS,
    one_pending_per=("org_id", "year"), describe=lambda p: f"{p.year} {p.organisation.name}：{p.title}",
    audit_label=_l("Annual training plan"),
))

PROGRAMME = declare(Kind(
    key="training_programme", model=TrainingProgramme, label=_l("Training programme review"), area=AREA,
    menu=_menu("Training programme review", "fa-book"),
    list_columns=["code", "name", "organisation", "subject_kind", "mode", "start_date", "hours",
                  "submitted_on", "status_text"],
    show_columns=["code", "name", "organisation", "subject_kind", "mode", "start_date", "end_date", "hours",
                  "planned_trainees", "venue", "fee", "description", *REVIEW_COLUMNS],
    search_columns=["year", "organisation", "status", "subject_kind", "mode", "name", "code", "submitted_on"],
    order_columns=["code", "start_date", "submitted_on", "status"], label_columns=PROGRAMME_LABELS,
    describe=lambda p: f"{p.code or ''} {p.name}（{p.organisation.name}）".strip(),
    audit_label=_l("Training programme"),
))

SUMMARY = declare(Kind(
    key="work_summary", model=WorkSummary, label=_l("Annual work summary review"), area=AREA,
    menu=_menu("Annual work summary review", "fa-file-text-o"),
    list_columns=["year", "organisation", "classes_held", "trainees", "hours_delivered", "submitted_on",
                  "status_text", "reviewed_on"],
    show_columns=["year", "organisation", "text", "classes_held", "trainees", "hours_delivered",
                  *REVIEW_COLUMNS],
    search_columns=["year", "organisation", "status", "submitted_on"],
    order_columns=["year", "submitted_on", "status"], label_columns=SUMMARY_LABELS,
    one_pending_per=("org_id", "year"), describe=lambda s: f"{s.year} {s.organisation.name}",
    audit_label=_l("Annual work summary"),
))
