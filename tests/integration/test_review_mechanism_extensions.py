"""What issue 11 added to the shared mechanism, tested on its own: a side the organisation itself decides,
employer units as reviewers, a kind's own detail template, approve word and menu category label, and the
set-based placement of many persons to many employers."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Integer, cast, event, select

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID


def _actor(id_number):
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.query(Account).filter(Account.username == id_number).one(), "127.0.0.1")


def _org(name):
    from app.extensions import db
    from app.models import Organisation

    return db.session.query(Organisation).filter_by(name=name).one()


@pytest.fixture()
def ctx(app, fresh_world):
    with app.test_request_context():
        yield app


def _incoming_to_hospital():
    """A transfer from 武汉大学 (教育厅) to 湖北省人民医院, filed by the province."""
    from app.extensions import db
    from app.models import Person
    from app.services.transfers import file_transfer

    whu = _org("武汉大学")
    person_id = db.session.scalar(select(Person.id).where(Person.employer_id == whu.id, Person.account_id.is_(None))
                                  .order_by(Person.id).limit(1))
    return file_transfer(_actor(PROVINCE_ID), person_id=person_id, to_org_id=_org("湖北省人民医院").id,
                         reason="调入", effective_date=datetime.date.today()), person_id


def test_a_side_that_is_not_strictly_above_lets_the_organisation_itself_decide(ctx):
    """Side(strictly_above=False) with employer units among the reviewer types: the receiving unit confirms."""
    from app.extensions import db
    from app.models import Person
    from app.workflow.kinds import kind_for
    from app.workflow.service import decide, may_review

    kind = kind_for("transfer")
    hospital = _actor(HOSPITAL_ID)
    assert may_review(hospital, kind)
    assert not may_review(hospital, kind_for("training_plan"))      # the default kinds stay departmental
    item, person_id = _incoming_to_hospital()
    decidable = set(db.session.scalars(select(kind.model.id).where(kind.decidable(hospital.scope, hospital.id))))
    assert item.id in decidable
    assert decide("transfer", [item.id], hospital, "approve").done == 1
    assert db.session.get(Person, person_id).employer.name == "湖北省人民医院"


def test_an_employer_unit_never_decides_for_another_unit(ctx):
    from app.workflow.service import NotInScope, decide

    from app.extensions import db
    from app.models import ReviewStatus, Transfer

    pending = db.session.scalar(select(Transfer.id).where(Transfer.status == ReviewStatus.pending))  # → 武汉大学
    with pytest.raises(NotInScope):
        decide("transfer", [pending], _actor(HOSPITAL_ID), "approve")
    with pytest.raises(NotInScope):                                   # the sending side's department neither
        decide("transfer", [pending], _actor(HEALTH_ID), "approve")


def test_the_employer_template_gets_the_receiving_kinds_area_and_menu(app_ctx):
    from app.roles import EMPLOYER, TRAINING_BASE, template_pairs

    pairs = template_pairs(EMPLOYER)
    assert ("can_write", "TransferReview") in pairs and ("menu_access", "Incoming transfers") in pairs
    assert ("can_write", "TrainingPlanReview") not in pairs
    assert ("can_write", "TransferReview") not in template_pairs(TRAINING_BASE)


def test_a_kind_names_its_own_detail_template_approve_word_and_category_label(app, client_for):
    from app.workflow.kinds import kind_for

    edu = client_for(EDU_ID)
    listing = edu.get("/review/transfer/list/").get_data(as_text=True)
    assert "确认调转" in listing and "人员调转" in listing           # the approve action and the category
    other = edu.get("/review/training_plan/list/").get_data(as_text=True)
    assert "确认调转" not in other and "审核通过" in other and "培训计划管理" in other
    with app.app_context():
        from app.extensions import db
        from app.models import ReviewStatus, Transfer

        pending = db.session.scalar(select(Transfer.id).where(Transfer.status == ReviewStatus.pending))
    detail = edu.get(f"/review/transfer/show/{pending}").get_data(as_text=True)
    assert 'id="department_id"' in detail and 'id="history-table"' in detail
    assert kind_for("transfer").show_template == "transfers/review_show.html"
    assert kind_for("training_plan").show_template is None


def test_relocate_persons_moves_many_to_many_in_one_update_and_logins_follow(ctx):
    from sqlalchemy import literal, union_all

    from app.extensions import db
    from app.models import Account, Person, UserType
    from app.services.placement import misplaced_persons, relocate_persons

    hospital, whu, hubu = _org("湖北省人民医院"), _org("武汉大学"), _org("湖北大学")
    movers = list(db.session.scalars(select(Person.id).where(Person.employer_id == hospital.id)
                                     .order_by(Person.account_id.is_(None), Person.id).limit(4)))
    with_login = db.session.get(Person, movers[0])
    assert with_login.account is not None and with_login.account.user_type == UserType.personnel
    targets = [whu.id, hubu.id, whu.id, hubu.id]
    moves = union_all(*(select(literal(p).label("person_id"), literal(t).label("employer_id"),
                               cast(None, Integer).label("internal_department_id")) for p, t in zip(movers, targets)))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert relocate_persons(select(moves.subquery())) == 4
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE PERSON")) == 1
    assert sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE AB_USER")) == 1
    assert [db.session.get(Person, p).employer_id for p in movers] == targets
    assert db.session.get(Account, with_login.account_id).organisation_id == whu.id
    assert misplaced_persons() == []
    db.session.rollback()


def test_relocate_persons_refuses_a_target_that_is_not_an_employer_unit(ctx):
    from sqlalchemy import literal

    from app.errors import InvalidInput
    from app.extensions import db
    from app.models import Person
    from app.services.placement import relocate_persons

    person = db.session.scalars(select(Person)).first()
    moves = select(literal(person.id).label("person_id"), literal(_org("湖北省教育厅").id).label("employer_id"),
                   cast(None, Integer).label("internal_department_id"))
    with pytest.raises(InvalidInput):
        relocate_persons(moves)
    db.session.rollback()


def test_an_admin_login_of_a_transferred_person_stays_with_its_department(ctx):
    """A person appointed admin of a department keeps that admin login's organisation when transferred."""
    from app.extensions import db
    from app.models import Account, Person, UserType
    from app.services.placement import move_persons

    person = db.session.scalars(select(Person).where(Person.account_id.isnot(None))).first()
    account = db.session.get(Account, person.account_id)
    account.user_type, account.organisation_id = UserType.supervisory, _org("湖北省卫生健康委员会").id
    db.session.flush()
    move_persons([person.id], _org("武汉大学").id)
    assert db.session.get(Account, account.id).organisation.name == "湖北省卫生健康委员会"
    db.session.rollback()
