"""Per-person-year credit summaries: recomputed from raw records, checked by ``differences``, repaired whole."""
from __future__ import annotations

import datetime

from sqlalchemy import delete, select, update


def _person(id_number=None):
    from app.extensions import db
    from app.models import Person

    stmt = select(Person).order_by(Person.id)
    return db.session.scalars(stmt).first()


def _record(person, *, year, kind, mode, hours, status, key):
    from app.models import CreditDeclarer, CreditRecord, ReviewStatus

    return CreditRecord(person_id=person.id, employer_id=person.employer_id, org_path=person.org_path, year=year,
                        subject_kind=kind, mode=mode, activity=key, activity_key=key, hours=hours,
                        completed_on=datetime.date(year, 3, 1), declarer_type=CreditDeclarer.person,
                        status=ReviewStatus(status))


def test_refresh_sums_by_kind_mode_and_status_and_checks_the_rule(app, fresh_world):
    from app.extensions import db
    from app.models import CreditRequirement, CreditSummary, LearningMode, SubjectKind
    from app.services.credit import summary
    from app.services.transaction import transaction

    with app.app_context():
        person = _person()
        with transaction():
            db.session.merge(CreditRequirement(year=2031, total_hours=90, professional_numerator=2,
                                               professional_denominator=3))
            db.session.add_all([
                _record(person, year=2031, kind=SubjectKind.public, mode=LearningMode.online, hours=30,
                        status="approved", key="T:a"),
                _record(person, year=2031, kind=SubjectKind.professional, mode=LearningMode.offline, hours=50,
                        status="approved", key="T:b"),
                _record(person, year=2031, kind=SubjectKind.professional, mode=LearningMode.online, hours=10,
                        status="pending", key="T:c"),
                _record(person, year=2031, kind=SubjectKind.public, mode=LearningMode.offline, hours=99,
                        status="rejected", key="T:d"),
            ])
            db.session.flush()
            assert summary.refresh([(person.id, 2031)]) == 1
        row = db.session.get(CreditSummary, (person.id, 2031))
        assert (row.public_hours, row.professional_hours, row.online_hours, row.offline_hours) == (30, 50, 30, 50)
        assert (row.pending_hours, row.approved_records, row.pending_records) == (10, 2, 1)
        assert (row.public_online_records, row.public_offline_records) == (1, 0)
        assert (row.professional_online_records, row.professional_offline_records) == (1, 1)
        assert row.qualified is False  # 80 < 90
        assert summary.differences() == []

        from app.models import CreditRecord, ReviewStatus
        with transaction():
            db.session.execute(update(CreditRecord).where(CreditRecord.activity_key == "T:c")
                               .values(status=ReviewStatus.approved))
            summary.refresh([(person.id, 2031)])
        db.session.expire_all()
        row = db.session.get(CreditSummary, (person.id, 2031))
        assert (row.professional_hours, row.pending_records, row.qualified) == (60, 0, True)

        # a tampered row is found, and a rebuild repairs it
        with transaction():
            db.session.execute(update(CreditSummary).where(CreditSummary.person_id == person.id)
                               .values(public_hours=1))
        assert {d["person_id"] for d in summary.differences()} == {person.id}
        with transaction():
            summary.rebuild_all()
        assert summary.differences() == []

        # the rule of the year changes: the flag follows (verification keeps its own snapshot)
        with transaction():
            db.session.execute(update(CreditRequirement).where(CreditRequirement.year == 2031)
                               .values(total_hours=120))
            summary.requalify_year(2031)
        db.session.expire_all()
        assert db.session.get(CreditSummary, (person.id, 2031)).qualified is False

        # records deleted: the pair's summary drops to zero
        with transaction():
            pairs = summary.pairs_of_records(select(CreditRecord.id).where(CreditRecord.person_id == person.id))
            db.session.execute(delete(CreditRecord).where(CreditRecord.person_id == person.id))
            summary.refresh(pairs)
        db.session.expire_all()
        row = db.session.get(CreditSummary, (person.id, 2031))
        assert (row.public_hours, row.professional_hours, row.pending_records) == (0, 0, 0)
        assert summary.differences() == []


def test_requirement_rounds_the_professional_share_up():
    from app.models import CreditRequirement

    rule = CreditRequirement(year=2030, total_hours=90, professional_numerator=2, professional_denominator=3)
    assert rule.professional_hours == 60
    assert rule.is_met(30, 60) and not rule.is_met(31, 59) and not rule.is_met(20, 60)
    odd = CreditRequirement(year=2030, total_hours=100, professional_numerator=2, professional_denominator=3)
    assert odd.professional_hours == 67 and not odd.is_met(34, 66) and odd.is_met(33, 67)
