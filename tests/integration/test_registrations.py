"""Registration services: withdrawn registrations can be made again, resubmission follows the employer."""
from __future__ import annotations

import datetime

import pytest

from app.models import OrganisationType, ReviewKind, ReviewStatus
from app.validators import make_id_number, make_uscc


@pytest.fixture()
def ctx(app, fresh_world):
    with app.test_request_context():
        yield app


def _org_id(name):
    from app.extensions import db
    from app.models import Organisation

    return db.session.query(Organisation.id).filter_by(name=name).scalar()


def _register_unit(parent, uscc, admin):
    from app.services.registrations import register_organisation

    from app.actor import Actor

    return register_organisation(Actor(None, "127.0.0.1"), org_type=OrganisationType.employer, name="荆门市人民医院", uscc=uscc,
                                 parent_id=_org_id(parent), contact_person="王", phone="13900000000",
                                 admin_id_number=admin, admin_name="王一", admin_phone="13900000001",
                                 password="Jingmen2026")


def _submitter(item):
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.get(Account, item.submitted_by_id))


def test_a_withdrawn_unit_registration_can_be_made_again_to_the_right_department(ctx):
    from app.extensions import db
    from app.models import ReviewRequest
    from app.services.transaction import ServiceError
    from app.workflow.submissions import withdraw

    uscc = make_uscc("12420800MB0000001")
    admin = make_id_number("420800", datetime.date(1980, 2, 2), 11)
    org = _register_unit("湖北省教育厅", uscc, admin)
    first = db.session.query(ReviewRequest).filter_by(kind=ReviewKind.unit_registration, subject_id=org.id).one()
    withdraw(ReviewKind.unit_registration, first.id, _submitter(first))
    again = _register_unit("湖北省卫生健康委员会", uscc, admin)
    assert again.id == org.id and again.parent.name == "湖北省卫生健康委员会"
    assert again.path == f"{again.parent.path}{again.id}/"
    requests = db.session.query(ReviewRequest).filter_by(subject_id=org.id,
                                                         kind=ReviewKind.unit_registration).all()
    assert sorted(r.status.value for r in requests) == ["pending", "withdrawn"]
    # someone else cannot take over the withdrawn credit code
    withdraw(ReviewKind.unit_registration, next(r for r in requests if r.status == ReviewStatus.pending).id,
             _submitter(first))
    with pytest.raises(ServiceError):
        _register_unit("湖北省卫生健康委员会", uscc, make_id_number("420800", datetime.date(1981, 3, 3), 12))


def test_a_resubmitted_person_registration_goes_to_the_new_employers_chain(ctx):
    from app.extensions import db
    from app.models import Account, ReviewRequest
    from app.services.registrations import register_person, resubmit_person_registration
    from app.workflow.service import decide
    from app.workflow.states import Decision
    from tests.conftest import EDU_ID

    id_number = make_id_number("420111", datetime.date(1992, 4, 4), 44)
    from app.actor import Actor

    person = register_person(Actor(None, "127.0.0.1"), id_number=id_number, name="赵重", phone="13700000000", password="Again2026x",
                             employer_id=_org_id("武汉大学"))
    item = db.session.query(ReviewRequest).filter_by(kind=ReviewKind.person_registration,
                                                     subject_id=person.id).one()
    edu = Actor.of(db.session.query(Account).filter_by(username=EDU_ID).one())
    decide(ReviewKind.person_registration, [item.id], edu, Decision.reject, "单位选错")
    resubmit_person_registration(_submitter(item), item.id, employer_id=_org_id("湖北省人民医院"),
                                 name="赵重", phone="13700000000")
    db.session.refresh(item)
    assert item.status == ReviewStatus.pending and item.org_id == _org_id("湖北省人民医院")
    assert item.reject_reason is None
    with pytest.raises(LookupError):
        resubmit_person_registration(edu, item.id, employer_id=_org_id("武汉大学"), name="x")
