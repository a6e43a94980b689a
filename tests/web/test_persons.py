"""Adding and editing a person through the form: derived fields, pickers, duplicates."""
from __future__ import annotations

import datetime

from app.validators import make_id_number
from tests.conftest import EDU_ID, HEALTH_ID, org_id


def test_add_person_by_form_derives_gender_and_birth_date(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog, Person

    id_number = make_id_number("420111", datetime.date(1988, 8, 8), 17)
    with app.app_context():
        employer = org_id("武汉大学")
    response = client_for(EDU_ID).post("/persons/add", data={
        "id_number": id_number, "name": "林新", "employer": employer, "phone": "13912345678"})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.query(Person).filter_by(id_number=id_number).one()
        assert person.birth_date == datetime.date(1988, 8, 8) and person.gender.value == "male"
        assert db.session.query(AuditLog).filter_by(object_type="person", object_id=person.id,
                                                    action="create").count() == 1


def test_duplicate_person_id_number_is_refused_with_a_message(app, client_for):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        existing = db.session.query(Person).join(Person.employer).filter_by(name="武汉大学").first()
        employer, id_number = existing.employer_id, existing.id_number
        before = db.session.query(Person).count()
    page = client_for(EDU_ID).post("/persons/add", data={"id_number": id_number, "name": "重复",
                                                          "employer": employer}, follow_redirects=True)
    assert "已存在" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Person).count() == before


def test_employer_picker_refuses_a_department_as_employer(app, client_for):
    id_number = make_id_number("420111", datetime.date(1989, 9, 9), 18)
    with app.app_context():
        department = org_id("武汉市卫生健康委员会")
    page = client_for(HEALTH_ID).post("/persons/add", data={
        "id_number": id_number, "name": "错单位", "employer": department}).get_data(as_text=True)
    assert "不存在或不在您的管理范围内" in page


def test_org_path_follows_the_employer(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation, Person

    with app.app_context():
        person = db.session.query(Person).join(Person.employer).filter(Organisation.name == "武汉大学").first()
        assert person.org_path == person.employer.path
        pk, other = person.id, org_id("湖北大学")
    # a move between units is a transfer, not an edit (issue 8): the placement itself keeps org_path
    from app.services.transaction import transaction

    with app.app_context():
        with transaction():
            db.session.get(Person, pk).employer = db.session.get(Organisation, other)
    with app.app_context():
        person = db.session.get(Person, pk)
        assert person.employer_id == other and person.org_path == db.session.get(Organisation, other).path


def test_counts_are_capped_and_shown_with_a_plus(app, client_for, monkeypatch):
    from app import interface

    monkeypatch.setattr(interface, "COUNT_CAP", 50)
    monkeypatch.setattr(interface, "SEARCH_COUNT_CAP", 10)
    client = client_for(EDU_ID)
    assert "50+" in client.get("/persons/list/").get_data(as_text=True)
    page = client.get("/persons/list/?page_PersonView=3").get_data(as_text=True)
    assert page.count("/persons/show/") == 20          # pages beyond the cap still work
    searched = client.get("/persons/list/?_flt_0_status=active").get_data(as_text=True)
    assert "10+" in searched and "50+" not in searched       # a search counts to a lower cap
