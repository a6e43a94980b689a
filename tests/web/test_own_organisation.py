"""基本信息管理 (manual 5.1.1.1) and 管理内设部门 deletion (5.1.1.2), through the web client."""
from __future__ import annotations

import json

import pytest

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, WH_HEALTH_ID
from tests.web.test_chinese_ui import english_words

HEALTH = "湖北省卫生健康委员会"
WH_HEALTH = "武汉市卫生健康委员会"
HOSPITAL = "湖北省人民医院"
PROVINCE_ORG = "湖北省人力资源和社会保障厅"


def _org(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        org = db.session.query(Organisation).filter_by(name=name).one()
        db.session.expunge(org)
        return org


def _form(org, **changes):
    data = {"name": org.name, "uscc": org.uscc, "region": org.region or "",
            "contact_person": org.contact_person or "", "phone": org.phone or "", "address": org.address or ""}
    data.update(changes)
    return data


def _requests(app, kind, subject_id):
    from app.extensions import db
    from app.models import ReviewRequest

    with app.app_context():
        return [(r.status.value, r.target_org_id, r.after) for r in
                db.session.query(ReviewRequest).filter_by(kind=kind, subject_id=subject_id)]


# ---------------------------------------------------------------- viewing
@pytest.mark.parametrize("id_number", [HEALTH_ID, HOSPITAL_ID, BASE_ID])
def test_own_organisation_page_is_chinese_and_shows_the_own_organisation(app, client_for, id_number):
    response = client_for(id_number).get("/ownorganisation/show/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert english_words(page) == set()
    assert "基本信息" in page


def test_department_sees_its_data_and_a_parent_change_form(app, client_for):
    page = client_for(HEALTH_ID).get("/ownorganisation/show/").get_data(as_text=True)
    assert HEALTH in page and PROVINCE_ORG in page   # name and current parent
    assert 'id="parent-form"' in page and "/ownorganisation/parents" in page


def test_employer_unit_files_requests_and_has_no_parent_change(app, client_for):
    page = client_for(HOSPITAL_ID).get("/ownorganisation/show/").get_data(as_text=True)
    assert HOSPITAL in page
    assert 'id="parent-form"' not in page
    assert "审核" in page  # changes are reviewed by the department


# ---------------------------------------------------------------- editing
def test_department_edits_its_basic_information_directly_and_it_is_audited(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog, Organisation

    org = _org(app, HEALTH)
    response = client_for(HEALTH_ID).post("/ownorganisation/edit",
                                          data=_form(org, contact_person="周老师", phone="13912345678"))
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Organisation, org.id)
        assert (stored.contact_person, stored.phone) == ("周老师", "13912345678")
        row = db.session.query(AuditLog).filter_by(action="update_basic_info", object_id=org.id).one()
        assert json.loads(row.before)["contact_person"] == org.contact_person
        assert json.loads(row.after) == {"contact_person": "周老师", "phone": "13912345678"}
        assert row.org_path == org.path


@pytest.mark.parametrize("field,value,message", [
    ("uscc", "91420100MA4KX0000X", "统一社会信用代码"),
    ("phone", "12345", "手机号码"),
    ("name", "", "必填"),
])
def test_invalid_basic_information_is_refused_in_chinese_and_changes_nothing(app, client_for, field, value,
                                                                              message):
    from app.extensions import db
    from app.models import Organisation

    org = _org(app, HEALTH)
    response = client_for(HEALTH_ID).post("/ownorganisation/edit", data=_form(org, **{field: value}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert english_words(page) == set()
    with app.app_context():
        assert getattr(db.session.get(Organisation, org.id), field) == getattr(org, field)


def test_credit_code_of_another_organisation_is_refused(app, client_for):
    from app.extensions import db
    from app.models import Organisation

    org, other = _org(app, HEALTH), _org(app, "湖北省教育厅")
    response = client_for(HEALTH_ID).post("/ownorganisation/edit", data=_form(org, uscc=other.uscc))
    assert response.status_code == 400
    assert "已被注册" in response.get_data(as_text=True) or "已注册" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organisation, org.id).uscc == org.uscc


def test_employer_unit_change_becomes_a_pending_request(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation

    org = _org(app, HOSPITAL)
    client = client_for(HOSPITAL_ID)
    response = client.post("/ownorganisation/edit", data=_form(org, address="武汉市解放大道1277号"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, org.id).address == org.address  # not applied yet
    (status, _, after), = _requests(app, "organisation_change", org.id)
    assert status == "pending" and json.loads(after) == {"address": "武汉市解放大道1277号"}
    page = client.get("/ownorganisation/show/").get_data(as_text=True)
    assert "待审核" in page and "武汉市解放大道1277号" in page
    assert english_words(page) == set()


# ---------------------------------------------------------------- parent change
def test_parent_lookup_offers_at_most_20_departments_outside_the_own_subtree(app, client_for):
    results = client_for(HEALTH_ID).get("/ownorganisation/parents?q=").json["results"]
    names = {r["text"] for r in results}
    assert len(results) <= 20
    assert PROVINCE_ORG in names and "湖北省教育厅" in names
    assert HEALTH not in names and WH_HEALTH not in names          # own subtree
    assert HOSPITAL not in names                                     # not a department
    searched = client_for(HEALTH_ID).get("/ownorganisation/parents?q=教育").json["results"]
    assert {r["text"] for r in searched} == {"湖北省教育厅", "武汉市教育局"}


def test_parent_change_is_filed_as_pending_and_shown(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation

    org, edu = _org(app, WH_HEALTH), _org(app, "湖北省教育厅")
    client = client_for(WH_HEALTH_ID)
    response = client.post("/ownorganisation/parent", data={"parent_id": edu.id})
    assert response.status_code == 302
    [(status, target, _)] = _requests(app, "parent_change", org.id)
    assert status == "pending" and target == edu.id
    with app.app_context():
        assert db.session.get(Organisation, org.id).parent.name == HEALTH  # moves only when both approve
    page = client.get("/ownorganisation/show/").get_data(as_text=True)
    assert 'id="parent-status">待审核' in page and "湖北省教育厅" in page
    assert 'id="parent-form"' not in page  # one pending request at a time
    assert english_words(page) == set()


def test_parent_change_into_the_own_subtree_is_refused(app, client_for):
    org, child = _org(app, HEALTH), _org(app, WH_HEALTH)
    response = client_for(HEALTH_ID).post("/ownorganisation/parent", data={"parent_id": child.id})
    assert response.status_code == 400
    assert "下级" in response.get_data(as_text=True)
    assert _requests(app, "parent_change", org.id) == []


def test_employer_unit_cannot_change_its_parent(app, client_for):
    org, edu = _org(app, HOSPITAL), _org(app, "湖北省教育厅")
    response = client_for(HOSPITAL_ID).post("/ownorganisation/parent", data={"parent_id": edu.id})
    assert response.status_code == 403
    assert english_words(response.get_data(as_text=True)) == set()
    assert _requests(app, "parent_change", org.id) == []


def test_withdraw_of_another_organisations_request_is_404(app, fresh_world, client_for):
    org, edu = _org(app, WH_HEALTH), _org(app, "湖北省教育厅")
    client_for(WH_HEALTH_ID).post("/ownorganisation/parent", data={"parent_id": edu.id})
    from app.extensions import db
    from app.models import ReviewRequest

    with app.app_context():
        pk = db.session.query(ReviewRequest.id).filter_by(kind="parent_change", subject_id=org.id).scalar()
    assert client_for(EDU_ID).post(f"/ownorganisation/withdraw/{pk}").status_code == 404
    assert [s for s, _, _ in _requests(app, "parent_change", org.id)] == ["pending"]
    assert client_for(WH_HEALTH_ID).post(f"/ownorganisation/withdraw/{pk}").status_code == 302
    assert [s for s, _, _ in _requests(app, "parent_change", org.id)] == ["withdrawn"]


# ---------------------------------------------------------------- 管理内设部门
def test_department_with_people_cannot_be_deleted(app, client_for):
    from app.extensions import db
    from app.models import InternalDepartment, Organisation, Person

    with app.app_context():
        dept = (db.session.query(InternalDepartment).join(Organisation)
                .filter(Organisation.name == HOSPITAL, InternalDepartment.name == "内科").one())
        pk = dept.id
        people = db.session.query(Person).filter_by(internal_department_id=pk).count()
    assert people > 0
    client = client_for(HOSPITAL_ID)
    response = client.post(f"/departments/delete/{pk}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "不能删除" in page or "无法删除" in page
    with app.app_context():
        assert db.session.get(InternalDepartment, pk) is not None
        assert db.session.query(Person).filter_by(internal_department_id=pk).count() == people


def test_other_department_cannot_delete_the_department(app, client_for):
    from app.extensions import db
    from app.models import InternalDepartment, Organisation

    with app.app_context():
        pk = (db.session.query(InternalDepartment.id).join(Organisation)
              .filter(Organisation.name == HOSPITAL, InternalDepartment.name == "医务处").scalar())
    assert client_for(EDU_ID).post(f"/departments/delete/{pk}").status_code == 404
    with app.app_context():
        assert db.session.get(InternalDepartment, pk) is not None


def test_manage_internal_departments_is_the_own_organisations_only(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import InternalDepartment, Organisation

    client = client_for(HEALTH_ID)
    listing = client.get("/departments/list/").get_data(as_text=True)
    assert "科技教育处" in listing and "护理部" not in listing and "人事科" not in listing
    # a department added here belongs to the own organisation, whatever is posted
    with app.app_context():
        hospital = db.session.query(Organisation.id).filter_by(name=HOSPITAL).scalar()
    assert client.post("/departments/add", data={"name": "继续教育处", "remark": "",
                                                 "organisation": hospital}).status_code == 302
    with app.app_context():
        added = db.session.query(InternalDepartment).filter_by(name="继续教育处").one()
        assert added.organisation.name == HEALTH
        nursing = (db.session.query(InternalDepartment.id).join(Organisation)
                   .filter(Organisation.name == HOSPITAL, InternalDepartment.name == "护理部").scalar())
    # a subordinate's departments are not reached here: 404 on every path
    for url in (f"/departments/show/{nursing}", f"/departments/edit/{nursing}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/departments/edit/{nursing}", data={"name": "改名"}).status_code == 404
    assert client.post(f"/departments/delete/{nursing}").status_code == 404
    with app.app_context():
        assert db.session.get(InternalDepartment, nursing).name == "护理部"


def test_a_subordinates_departments_are_shown_with_it(app, client_for):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        hospital = db.session.query(Organisation.id).filter_by(name=HOSPITAL).scalar()
    page = client_for(HEALTH_ID).get(f"/subordinates/show/{hospital}").get_data(as_text=True)
    assert "内设部门" in page and "护理部" in page and "医务处" in page
    assert client_for(EDU_ID).get(f"/subordinates/show/{hospital}").status_code == 404


def test_bad_department_input_is_refused_and_changes_nothing(app, client_for):
    from app.extensions import db
    from app.models import InternalDepartment

    def count():
        with app.app_context():
            return db.session.query(InternalDepartment).count()

    client = client_for(HEALTH_ID)
    before = count()
    for data in ({"name": ""}, {"name": "办公室"}, {"name": "x" * 300}):   # empty, a duplicate, too long
        response = client.post("/departments/add", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, data
        assert "alert-danger" in page or "has-error" in page or "field-error" in page, data
        assert english_words(page) == set(), data
    assert count() == before
