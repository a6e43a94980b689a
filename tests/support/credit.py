"""The credit-hour settings and programmes the declaring tests need (the reviewing side seeds its own defaults)."""
from __future__ import annotations

import datetime

from sqlalchemy import select

OPEN_YEAR = 2026
CLOSED_YEAR = 2025
PAPER = "TLW01"          # 10 hours a paper, at most 20 a year
CONFERENCE = "THY01"     # 8 hours a day, no cap
UNIT_PROGRAMME = "PXT2026UNIT"
BASE_PROGRAMME_NAME = "急诊急救技能提升培训班"    # the demo base's approved programme, 2026-03-09..13, 40 hours
CREDIT_HEADERS = ["身份证号", "姓名", "项目编号", "授分标准编号", "数量", "活动说明", "科目类别", "学习方式", "学时",
                  "完成日期"]


def ensure_credit_settings() -> dict:
    """Requirements for 2026 (open) and 2025 (closed), two standards, an approved programme of 湖北省人民医院."""
    from app.extensions import db
    from app.models import (CreditRequirement, CreditStandard, LearningMode, Organisation, ReviewStatus,
                            SubjectKind, TrainingProgramme)

    for year, closed in ((OPEN_YEAR, False), (CLOSED_YEAR, True)):
        row = db.session.get(CreditRequirement, year) or CreditRequirement(year=year)
        row.total_hours, row.professional_numerator, row.professional_denominator, row.closed = 90, 2, 3, closed
        db.session.add(row)
    for code, name, unit, per, cap in ((PAPER, "发表论文", "篇", 10, 20), (CONFERENCE, "学术会议", "天", 8, None)):
        std = db.session.scalar(select(CreditStandard).where(CreditStandard.code == code)) or CreditStandard(code=code)
        std.name, std.unit, std.hours_per_unit, std.yearly_cap = name, unit, per, cap
        std.subject_kind, std.mode, std.first_year, std.last_year = SubjectKind.professional, LearningMode.offline, 2020, None
        db.session.add(std)
    hospital = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省人民医院"))
    if db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.code == UNIT_PROGRAMME)) is None:
        db.session.add(TrainingProgramme(
            code=UNIT_PROGRAMME, org_id=hospital.id, year=2026, name="院内护理规范化培训",
            subject_kind=SubjectKind.professional, mode=LearningMode.offline, start_date=datetime.date(2026, 2, 1),
            end_date=datetime.date(2026, 2, 28), hours=30, status=ReviewStatus.approved))
    db.session.commit()
    base_code = db.session.scalar(select(TrainingProgramme.code).where(
        TrainingProgramme.name == BASE_PROGRAMME_NAME, TrainingProgramme.status == ReviewStatus.approved))
    return {"base_programme": base_code, "unit_programme": UNIT_PROGRAMME}


def staff_numbers(org_name: str, n: int = 5, with_login: bool = False) -> list[str]:
    """Active staff of a unit; those without a login have no credit records yet (a test sees only its own)."""
    from app.extensions import db
    from app.models import CreditRecord, Organisation, Person, PersonStatus

    # persons without records of their own (the demo world gives some persons records)
    query = (select(Person.id_number).join(Organisation, Organisation.id == Person.employer_id)
             .where(Organisation.name == org_name, Person.status == PersonStatus.active))
    if not with_login:
        query = query.where(~select(CreditRecord.id).where(CreditRecord.person_id == Person.id).exists())
    query = (query
             .order_by(Person.id))
    query = query.where(Person.account_id.is_not(None) if with_login else Person.account_id.is_(None))
    return list(db.session.scalars(query.limit(n)))


def records_of(id_number: str) -> list:
    from app.extensions import db
    from app.models import CreditRecord, Person

    return list(db.session.scalars(select(CreditRecord).join(Person, Person.id == CreditRecord.person_id)
                                   .where(Person.id_number == id_number).order_by(CreditRecord.id)))
