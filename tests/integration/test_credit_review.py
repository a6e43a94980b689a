"""学时学分审核 and 学时审验: decisions refresh the summaries, scope, deletion, revocation, verification
snapshots, moves, the credit-check command, concurrent batch approvals on PostgreSQL."""
from __future__ import annotations

import datetime
import threading

import pytest
from sqlalchemy import func, select, update

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID


def _actor(id_number):
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account

    return Actor(db.session.scalar(select(Account).where(Account.username == id_number)))


def _person_of(org_name, offset=0):
    from app.extensions import db
    from app.models import Organisation, Person

    return db.session.scalars(select(Person).join(Organisation, Organisation.id == Person.employer_id)
                              .where(Organisation.name == org_name).order_by(Person.id).offset(offset)).first()


def _records(person, year, *specs):
    """specs: (subject kind, hours, status); returns ids, summaries refreshed."""
    from app.extensions import db
    from app.models import CreditDeclarer, CreditRecord, LearningMode, ReviewStatus, SubjectKind
    from app.services.credit import summary
    from app.services.transaction import transaction

    with transaction():
        rows = [CreditRecord(person_id=person.id, employer_id=person.employer_id, org_path=person.org_path,
                             year=year, subject_kind=SubjectKind(kind), mode=LearningMode.offline,
                             activity=f"测试{year}-{i}", activity_key=f"T:test{year}:{i}:{person.id}", hours=hours,
                             completed_on=datetime.date(year, 5, 1 + i), declarer_type=CreditDeclarer.person,
                             status=ReviewStatus(status)) for i, (kind, hours, status) in enumerate(specs)]
        db.session.add_all(rows)
        db.session.flush()
        summary.refresh({(person.id, year)})
    return [r.id for r in rows]


def _summary(person_id, year):
    from app.extensions import db
    from app.models import CreditSummary

    db.session.expire_all()
    return db.session.get(CreditSummary, (person_id, year))


def _no_differences():
    from app.services.credit import summary

    assert summary.differences() == []


def test_approving_and_rejecting_records_refreshes_the_summaries(app, fresh_world):
    from app.workflow.service import decide

    with app.app_context():
        person = _person_of("湖北省人民医院", 20)
        ids = _records(person, 2031, ("public", 30, "pending"), ("professional", 60, "pending"),
                       ("professional", 10, "pending"))
        assert _summary(person.id, 2031).pending_hours == 100
        decide("credit_record", ids[:2], _actor(HEALTH_ID), "approve")
        row = _summary(person.id, 2031)
        assert (row.public_hours, row.professional_hours, row.pending_hours) == (30, 60, 10)
        decide("credit_record", ids[2:], _actor(HEALTH_ID), "reject", "证明不全")
        assert _summary(person.id, 2031).pending_hours == 0
        _no_differences()


def test_another_departments_admin_cannot_decide_delete_or_revoke(app, fresh_world):
    from app.services.credit import review
    from app.workflow.service import NotInScope, decide

    with app.app_context():
        person = _person_of("湖北省人民医院", 21)
        ids = _records(person, 2031, ("public", 30, "pending"), ("professional", 60, "approved"))
        edu = _actor(EDU_ID)
        with pytest.raises(NotInScope):
            decide("credit_record", ids[:1], edu, "approve")
        with pytest.raises(NotInScope):
            review.delete_records(ids[:1], edu)
        with pytest.raises(NotInScope):
            review.revoke_records(ids[1:], edu, "错误")
        # the employer unit is not a reviewer
        with pytest.raises(NotInScope):
            decide("credit_record", ids[:1], _actor(HOSPITAL_ID), "approve")


def test_delete_pending_and_rejected_but_never_approved_records(app, fresh_world):
    from app.errors import InvalidInput
    from app.extensions import db
    from app.models import AuditLog, CreditRecord
    from app.services.credit import review

    with app.app_context():
        person = _person_of("湖北省人民医院", 22)
        ids = _records(person, 2031, ("public", 30, "pending"), ("public", 8, "rejected"),
                       ("professional", 60, "approved"))
        with pytest.raises(InvalidInput):
            review.delete_records(ids, _actor(HEALTH_ID))
        assert review.delete_records(ids[:2], _actor(HEALTH_ID)) == 2
        assert db.session.scalar(select(func.count()).select_from(CreditRecord)
                                 .where(CreditRecord.id.in_(ids))) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.object_type == "credit_record", AuditLog.action == "delete",
            AuditLog.object_id.in_(ids))) == 2
        assert _summary(person.id, 2031).pending_hours == 0
        _no_differences()


def test_revoking_an_approved_record_needs_a_reason_and_takes_its_hours_away(app, fresh_world):
    from app.errors import InvalidInput
    from app.extensions import db
    from app.models import AuditLog, CreditRecord, ReviewStatus
    from app.services.credit import review

    with app.app_context():
        from sqlalchemy import delete

        from app.models import CreditRequirement

        # no rule for 2031 (other tests may have set one; rules are reference data the demo reset keeps)
        db.session.execute(delete(CreditRequirement).where(CreditRequirement.year == 2031))
        db.session.commit()
        person = _person_of("湖北省人民医院", 23)
        ids = _records(person, 2031, ("public", 30, "approved"), ("professional", 60, "approved"))
        assert _summary(person.id, 2031).qualified is False  # no rule for 2031
        with pytest.raises(InvalidInput):
            review.revoke_records(ids[:1], _actor(HEALTH_ID), "  ")
        outcome = review.revoke_records(ids[:1], _actor(HEALTH_ID), "证明材料系伪造")
        assert outcome.done == 1
        record = db.session.get(CreditRecord, ids[0])
        assert record.status == ReviewStatus.rejected and record.reject_reason == "证明材料系伪造"
        assert _summary(person.id, 2031).public_hours == 0
        assert db.session.scalar(select(AuditLog.to_state).where(AuditLog.object_id == ids[0],
                                                                  AuditLog.action == "revoke")) == "rejected"
        _no_differences()


def test_a_rule_change_for_next_year_leaves_this_years_verification_unchanged(app, fresh_world):
    from app.extensions import db
    from app.models import CreditVerification, ReviewStatus
    from app.services.credit import settings, verification

    with app.app_context():
        person = _person_of("湖北省人民医院", 24)
        year = datetime.date.today().year
        _records(person, year, ("public", 30, "approved"), ("professional", 60, "approved"))
        assert _summary(person.id, year).qualified is True
        verification.confirm_persons(_actor(HEALTH_ID), year, [person.id], "approve")
        settings.save_requirement(_actor(PROVINCE_ID), {"year": year + 1, "total_hours": "120",
                                                        "professional_numerator": "2",
                                                        "professional_denominator": "3"})
        # this year's rule changes too: the summary re-qualifies, the decided snapshot does not change
        settings.save_requirement(_actor(PROVINCE_ID), {"year": year, "total_hours": "100",
                                                        "professional_numerator": "2",
                                                        "professional_denominator": "3"})
        db.session.expire_all()
        row = db.session.scalar(select(CreditVerification).where(CreditVerification.person_id == person.id,
                                                                  CreditVerification.year == year))
        assert row.status == ReviewStatus.approved
        assert (row.required_hours, row.required_professional_hours, row.public_hours) == (90, 60, 30)
        assert _summary(person.id, year).qualified is False
        _no_differences()


def test_verification_of_a_selection_and_of_everything_matching(app, fresh_world):
    from app.errors import InvalidInput
    from app.extensions import db
    from app.models import AuditLog, CreditVerification, ReviewStatus
    from app.services.credit import verification
    from app.workflow.service import NotInScope

    with app.app_context():
        year = datetime.date.today().year - 1
        wuhan = _actor(WH_HEALTH_ID)
        person = _person_of("武汉市第一医院", 1)
        with pytest.raises(InvalidInput):
            verification.confirm_persons(wuhan, year, [person.id], "reject", "")
        with pytest.raises(NotInScope):
            verification.confirm_persons(_actor(EDU_ID), year, [person.id], "approve")
        with pytest.raises(InvalidInput):
            verification.confirm_persons(wuhan, 2099, [person.id], "approve")
        verification.confirm_persons(wuhan, year, [person.id], "reject", "学时不足")
        row = db.session.scalar(select(CreditVerification).where(CreditVerification.person_id == person.id,
                                                                  CreditVerification.year == year))
        assert row.status == ReviewStatus.rejected and row.reject_reason == "学时不足"
        how, outcome = verification.confirm_matching(wuhan, verification.Query(year=year, state="undecided"),
                                                     "approve")
        assert how == "done" and outcome.done > 0
        undecided = verification.persons_select(wuhan.scope, verification.Query(year=year, state="undecided"))
        assert db.session.scalar(select(func.count()).select_from(undecided.subquery())) == 0
        # changed only by a new decision with a reason, audited
        outcome = verification.redecide(wuhan, [row.id], "approve", "补录学时后复核")
        db.session.expire_all()
        assert db.session.get(CreditVerification, row.id).status == ReviewStatus.approved
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.object_type == "credit_verification", AuditLog.object_id == row.id,
            AuditLog.action == "reopen")) == 1


def test_a_large_filter_wide_decision_runs_as_a_job(app, fresh_world):
    from app.extensions import db
    from app.models import CreditRecord, Job, ReviewStatus
    from app.services.credit import review
    from app.workflow.kinds import kind_for

    with app.app_context():
        app.config["CREDIT_SYNC_MAX"] = 3
        try:
            person = _person_of("湖北省人民医院", 25)
            ids = _records(person, 2031, *[("public", 2, "pending")] * 6)
            health = _actor(HEALTH_ID)
            selection = select(CreditRecord.id).where(CreditRecord.id.in_(ids))
            how, job = review.decide_matching("credit_record", selection, health, "approve")
            assert how == "job"
            from app.jobs.runner import run_job

            run_job(job.id, app)
            db.session.expire_all()
            assert db.session.get(Job, job.id).status.value == "succeeded"
            assert {r for r in db.session.scalars(select(CreditRecord.status).where(CreditRecord.id.in_(ids)))} \
                == {ReviewStatus.approved}
            assert _summary(person.id, 2031).public_hours == 12
            _no_differences()
            _ = kind_for
        finally:
            app.config.pop("CREDIT_SYNC_MAX", None)


def test_records_and_verifications_follow_a_transferred_person_and_credit_check_finds_nothing(app, fresh_world):
    from app.extensions import db
    from app.models import CreditRecord, CreditVerification, Organisation
    from app.services.placement import move_persons, move_subtree
    from app.services.transaction import transaction

    with app.app_context():
        person = _person_of("湖北省人民医院", 26)
        ids = _records(person, 2031, ("public", 30, "pending"))
        hubu = db.session.scalar(select(Organisation).where(Organisation.name == "湖北大学"))
        with transaction():
            move_persons([person.id], hubu.id)
        record = db.session.get(CreditRecord, ids[0])
        assert (record.employer_id, record.org_path) == (hubu.id, hubu.path)
        from app.workflow.service import NotInScope, decide

        with pytest.raises(NotInScope):
            decide("credit_record", ids, _actor(HEALTH_ID), "approve")
        decide("credit_record", ids, _actor(EDU_ID), "approve")
        # a subtree move rewrites the paths of records and verifications
        wuhan = db.session.scalar(select(Organisation).where(Organisation.name == "武汉市卫生健康委员会"))
        edu = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省教育厅"))
        with transaction():
            move_subtree(wuhan.id, edu.id)
        db.session.expire_all()
        wrong = db.session.scalar(select(func.count()).select_from(CreditRecord)
                                  .join(Organisation, Organisation.id == CreditRecord.employer_id)
                                  .where(CreditRecord.org_path != Organisation.path))
        wrong_v = db.session.scalar(select(func.count()).select_from(CreditVerification)
                                    .join(Organisation, Organisation.id == CreditVerification.employer_id)
                                    .where(CreditVerification.org_path != Organisation.path))
        assert (wrong, wrong_v) == (0, 0)
    result = app.test_cli_runner().invoke(args=["credit-check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.models import CreditSummary

        with transaction():
            db.session.execute(update(CreditSummary).values(public_hours=CreditSummary.public_hours + 1))
    result = app.test_cli_runner().invoke(args=["credit-check"])
    assert result.exit_code == 1 and "person" in result.output


def test_concurrent_batch_approvals_leave_the_summaries_right(app, fresh_world):
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises every writer; row locks and concurrent batches need PostgreSQL")
        persons = [_person_of("湖北省人民医院", 30 + i) for i in range(5)]
        first, second = [], []
        for person in persons:
            ids = _records(person, 2032, *[("professional", 5, "pending")] * 6)
            first += ids[:3]
            second += ids[3:]
        person_ids = [p.id for p in persons]
    errors = []
    barrier = threading.Barrier(2)

    def approve(ids, who):
        with app.app_context():
            from app.workflow.service import decide

            barrier.wait()
            for attempt in range(5):
                try:
                    decide("credit_record", ids, _actor(who), "approve")
                    return
                except Exception as exc:  # noqa: BLE001 - a conflict is retried like a user would
                    db.session.rollback()
                    last = exc
            errors.append(last)

    threads = [threading.Thread(target=approve, args=(first, HEALTH_ID)),
               threading.Thread(target=approve, args=(second, PROVINCE_ID))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        for person_id in person_ids:
            row = _summary(person_id, 2032)
            assert (row.professional_hours, row.pending_records) == (30, 0)
        _no_differences()
