"""年度学时要求 and 授分标准: settings kept as data, changed by the province admin only, audited.

Changing a year's rule re-checks the qualified flag of that year's summaries (``summary.requalify_year``);
decided verifications keep the hours and rule of their decision (they are never rewritten).
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import CreditRequirement, CreditStandard, LearningMode, OrganisationType, SubjectKind
from app.services import audit
from app.services.credit import summary
from app.services.transaction import transaction

#: the national defaults: 90 学时 a year, 专业科目 at least 2/3
DEFAULT_TOTAL, DEFAULT_NUM, DEFAULT_DEN = 90, 2, 3
#: (code, name, unit, hours per unit, yearly cap, subject kind, mode)
DEFAULT_STANDARDS = [
    ("001", "发表学术论文", "篇", 20, 40, "professional", "offline"),
    ("002", "参加学术会议", "天", 8, 32, "professional", "offline"),
    ("003", "学历教育", "门", 20, 60, "professional", "offline"),
    ("004", "出版专著", "部", 40, 60, "professional", "offline"),
    ("005", "主持科研课题", "项", 30, 60, "professional", "offline"),
    ("006", "举办学术讲座", "次", 6, 24, "professional", "offline"),
]


def _province_only(actor: Actor) -> None:
    org = actor.organisation
    if actor.account is None or org is None or org.type != OrganisationType.province:
        raise NotFound()


def _int(value, field: str, low: int, high: int, required: bool = True) -> Optional[int]:
    if value in (None, "") and not required:
        return None
    text = str(value if value is not None else "").strip()
    if not text.lstrip("-").isdigit() or len(text) > 9:
        raise InvalidInput(_("Please enter a whole number"), field=field)
    number = int(text)
    if not low <= number <= high:
        raise InvalidInput(_("The value must be between %(low)d and %(high)d", low=low, high=high), field=field)
    return number


def _year(value, field: str = "year") -> int:
    return _int(value, field, 2000, 2100)


def save_requirement(actor: Actor, values: dict) -> CreditRequirement:
    """Add or change a year's rule; a changed rule re-qualifies the year's summaries."""
    _province_only(actor)
    year = _year(values.get("year"))
    total = _int(values.get("total_hours"), "total_hours", 1, 1000)
    numerator = _int(values.get("professional_numerator"), "professional_numerator", 0, 100)
    denominator = _int(values.get("professional_denominator"), "professional_denominator", 1, 100)
    if numerator > denominator:
        raise InvalidInput(_("The professional share cannot exceed the whole"), field="professional_numerator")
    closed = str(values.get("closed") or "").lower() in ("1", "y", "on", "true")
    with transaction():
        rule = db.session.get(CreditRequirement, year)
        before = audit.snapshot(rule) if rule is not None else None
        action = "update" if rule is not None else "create"
        if rule is None:
            rule = CreditRequirement(year=year)
            db.session.add(rule)
        rule.total_hours, rule.professional_numerator, rule.professional_denominator = total, numerator, denominator
        rule.closed = closed
        db.session.flush()
        audit.record(action, rule, actor=actor, object_type="credit_requirement", object_id=year,
                     before=before, after=audit.snapshot(rule), org_path_value=actor.organisation.path)
        summary.requalify_year(year)
    return rule


def save_standard(actor: Actor, values: dict, standard_id: Optional[int] = None) -> CreditStandard:
    """Add or change a conversion standard (code unique; valid years first..last)."""
    _province_only(actor)
    code = (values.get("code") or "").strip().upper()
    name = (values.get("name") or "").strip()
    unit = (values.get("unit") or "").strip()
    if not code or len(code) > 20 or not code.isalnum():
        raise InvalidInput(_("Please enter a code of letters and digits (at most 20)"), field="code")
    if not name or len(name) > 100:
        raise InvalidInput(_("Please enter a name (at most 100 characters)"), field="name")
    if not unit or len(unit) > 20:
        raise InvalidInput(_("Please enter a unit (at most 20 characters)"), field="unit")
    hours = _int(values.get("hours_per_unit"), "hours_per_unit", 1, 1000)
    cap = _int(values.get("yearly_cap"), "yearly_cap", 1, 10000, required=False)
    try:
        kind = SubjectKind(values.get("subject_kind"))
        mode = LearningMode(values.get("mode"))
    except ValueError:
        raise InvalidInput(_("Please choose from the list"), field="subject_kind") from None
    first = _year(values.get("first_year"), "first_year")
    last = _int(values.get("last_year"), "last_year", 2000, 2100, required=False)
    if last is not None and last < first:
        raise InvalidInput(_("The last year cannot be before the first year"), field="last_year")
    with transaction():
        clash = db.session.scalar(select(CreditStandard.id).where(CreditStandard.code == code))
        if standard_id is None:
            if clash is not None:
                raise Conflict(_("A standard with this code already exists"), field="code")
            standard, before = CreditStandard(), None
            db.session.add(standard)
        else:
            standard = db.session.get(CreditStandard, standard_id)
            if standard is None:
                raise NotFound()
            if clash is not None and clash != standard.id:
                raise Conflict(_("A standard with this code already exists"), field="code")
            before = audit.snapshot(standard)
        standard.code, standard.name, standard.unit = code, name, unit
        standard.hours_per_unit, standard.yearly_cap = hours, cap
        standard.subject_kind, standard.mode, standard.first_year, standard.last_year = kind, mode, first, last
        db.session.flush()
        audit.record("update" if before else "create", standard, actor=actor, object_type="credit_standard",
                     before=before, after=audit.snapshot(standard), org_path_value=actor.organisation.path)
    return standard


def seed_credit_defaults(today: Optional[datetime.date] = None) -> None:
    """Reference data (production too): the rule of the current and previous year and the standard items,
    inserted only where missing (idempotent; a rule the province changed is kept)."""
    year = (today or datetime.date.today()).year
    for y in (year - 1, year):
        if db.session.get(CreditRequirement, y) is None:
            db.session.add(CreditRequirement(year=y, total_hours=DEFAULT_TOTAL, professional_numerator=DEFAULT_NUM,
                                             professional_denominator=DEFAULT_DEN, closed=False))
    have = set(db.session.scalars(select(CreditStandard.code)))
    for code, name, unit, hours, cap, kind, mode in DEFAULT_STANDARDS:
        if code not in have:
            db.session.add(CreditStandard(code=code, name=name, unit=unit, hours_per_unit=hours, yearly_cap=cap,
                                          subject_kind=SubjectKind(kind), mode=LearningMode(mode),
                                          first_year=year - 1, last_year=None))
    db.session.flush()
