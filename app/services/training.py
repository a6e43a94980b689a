"""培训计划管理 (manual 5.1.5): what a base files — annual plan, programme declarations, annual summary.

A programme may also be declared by an employer unit for its own staff. Approved programmes are the
courses later credit-hour records refer to, by their stable code (``PX<year><id>``).
"""
from __future__ import annotations

import datetime
import decimal

from flask_babel import gettext as _
from app.errors import InvalidInput
from app.extensions import db
from app.models import LearningMode, OrganisationType, SubjectKind, TrainingProgramme
from app.services.own_submissions import OwnSubmission, check_count, check_text, check_year

BASES = frozenset({OrganisationType.training_base})
DECLARERS = frozenset({OrganisationType.training_base, OrganisationType.employer})
#: longest programme a declaration may cover, and most hours a programme may give
MAX_PROGRAMME_DAYS = 366
MAX_HOURS = 1000
MAX_FEE_YUAN = decimal.Decimal("1000000")


def clean_plan(values: dict) -> dict:
    return {
        "year": check_year(values.get("year")),
        "title": check_text(values.get("title"), "title", 200),
        "content": check_text(values.get("content"), "content", 20_000),
        "planned_programmes": check_count(values.get("planned_programmes"), "planned_programmes", 10_000),
        "planned_hours": check_count(values.get("planned_hours"), "planned_hours"),
    }


def clean_summary(values: dict) -> dict:
    return {
        "year": check_year(values.get("year")),
        "text": check_text(values.get("text"), "text", 20_000),
        "classes_held": check_count(values.get("classes_held"), "classes_held", 100_000),
        "trainees": check_count(values.get("trainees"), "trainees"),
        "hours_delivered": check_count(values.get("hours_delivered"), "hours_delivered", 100_000_000),
    }


def _enum_value(enum_class, value, field_name: str):
    try:
        return value if isinstance(value, enum_class) else enum_class(value)
    except ValueError:
        raise InvalidInput(_("Please choose one of the options"), field=field_name) from None


def fee_in_fen(value) -> int:
    """Yuan with at most two decimals (a number or its text) -> fen."""
    try:
        amount = decimal.Decimal(str(value if value not in (None, "") else 0))
    except decimal.InvalidOperation:
        raise InvalidInput(_("Enter an amount in yuan"), field="fee") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_FEE_YUAN or amount != amount.quantize(decimal.Decimal("0.01")):
        raise InvalidInput(_("Enter an amount from 0 to 1,000,000 yuan with at most two decimals"), field="fee")
    return int(amount * 100)


def clean_programme(values: dict) -> dict:
    start, end = values.get("start_date"), values.get("end_date")
    if not isinstance(start, datetime.date):
        raise InvalidInput(_("This field is required"), field="start_date")
    if not isinstance(end, datetime.date):
        raise InvalidInput(_("This field is required"), field="end_date")
    if end < start:
        raise InvalidInput(_("The end date may not be before the start date"), field="end_date")
    if (end - start).days > MAX_PROGRAMME_DAYS:
        raise InvalidInput(_("A programme lasts at most one year"), field="end_date")
    hours = values.get("hours")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(_("Enter a whole number between 1 and %(n)d", n=MAX_HOURS), field="hours")
    return {
        "year": check_year(start.year, "start_date"),
        "name": check_text(values.get("name"), "name", 200),
        "subject_kind": _enum_value(SubjectKind, values.get("subject_kind"), "subject_kind"),
        "mode": _enum_value(LearningMode, values.get("mode"), "mode"),
        "start_date": start,
        "end_date": end,
        "hours": hours,
        "planned_trainees": check_count(values.get("planned_trainees"), "planned_trainees", 1_000_000),
        "venue": check_text(values.get("venue"), "venue", 200),
        "fee_fen": fee_in_fen(values.get("fee")),
        "description": check_text(values.get("description"), "description", 20_000, required=False),
    }


def programme_code(item: TrainingProgramme) -> str:
    """The stable code of a programme: PX, the year it was first filed for, its number."""
    return f"PX{item.year}{item.id:06d}"


def _give_code(item: TrainingProgramme) -> None:
    item.code = programme_code(item)
    db.session.flush()


PLAN = OwnSubmission(
    "training_plan", BASES, clean_plan, one_per_year=True,
    duplicate_message=lambda: _("Your base already has a pending or approved annual training plan for this year"),
)
PROGRAMME = OwnSubmission("training_programme", DECLARERS, clean_programme, after_create=_give_code)
SUMMARY = OwnSubmission(
    "work_summary", BASES, clean_summary, one_per_year=True,
    duplicate_message=lambda: _("Your base already has a pending or approved annual work summary for this year"),
)
