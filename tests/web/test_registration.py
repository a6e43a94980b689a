"""Public registration of a supervisory department (manual 1)."""
from __future__ import annotations

from tests.conftest import PROVINCE_ID, login
from app.validators import make_uscc

GOOD = {
    "name": "荆州市卫生健康委员会", "region": "湖北省荆州市", "contact_person": "周主任",
    "phone": "13912345678", "address": "荆州市沙市区", "admin_id_number": "42010619900101001X",
    "admin_name": "周一", "admin_phone": "13987654321", "password": "Jingzhou2026",
    "conf_password": "Jingzhou2026",
}


def _form(app, **changes):
    from tests.conftest import org_id

    with app.app_context():
        parent = org_id("湖北省卫生健康委员会")
    data = {**GOOD, "parent_id": parent, "uscc": make_uscc("11421000MB1234567")}
    data.update(changes)
    return data


def _count_orgs(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation).filter_by(name=name).count()


def test_registration_page_marks_required_fields_and_uses_a_search_picker(app):
    page = app.test_client().get("/register/supervisory").get_data(as_text=True)
    assert page.count('class="text-danger">*') >= 8
    assert 'data-url="/register/parents"' in page
    assert "<option" not in page.split('id="parent_id"')[1].split("</select>")[0]


def test_parent_lookup_returns_at_most_twenty_approved_departments(app):
    data = app.test_client().get("/register/parents?q=卫生").json["results"]
    names = [r["text"] for r in data]
    assert "湖北省卫生健康委员会" in names
    assert "黄石市卫生健康委员会" not in names        # still pending
    assert "湖北省人民医院" not in names              # not a department
    assert len(app.test_client().get("/register/parents").json["results"]) <= 20


def test_bad_id_number_is_reported_next_to_the_field_and_nothing_saved(app):
    response = app.test_client().post("/register/supervisory", data=_form(app, admin_id_number="420106199001010013"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "身份证号校验位错误" in page
    assert GOOD["name"] in page                       # what was typed is kept
    assert _count_orgs(app, GOOD["name"]) == 0


def test_legacy_15_digit_id_number_gets_a_clear_message(app):
    page = app.test_client().post("/register/supervisory", data=_form(app, admin_id_number="420106900101001")).get_data(as_text=True)
    assert "不支持15位旧身份证号" in page


def test_bad_uscc_is_refused(app):
    page = app.test_client().post("/register/supervisory", data=_form(app, uscc="11421000MB1234567Z")).get_data(as_text=True)
    assert "统一社会信用代码" in page and ("校验位错误" in page or "非法字符" in page)
    assert _count_orgs(app, GOOD["name"]) == 0


def test_weak_password_and_bad_mobile_are_refused(app):
    page = app.test_client().post("/register/supervisory", data=_form(app, password="abc", conf_password="abc", phone="12345")).get_data(as_text=True)
    assert "密码至少8位" in page and "手机号码" in page
    assert _count_orgs(app, GOOD["name"]) == 0


def test_registrant_becomes_super_admin_and_sees_nothing_until_approved(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account, Organisation

    response = app.test_client().post("/register/supervisory", data=_form(app))
    assert response.status_code == 302
    with app.app_context():
        org = db.session.query(Organisation).filter_by(name=GOOD["name"]).one()
        admin = db.session.query(Account).filter_by(username=GOOD["admin_id_number"]).one()
        assert org.status.value == "pending" and admin.is_super_admin and admin.organisation_id == org.id
        assert org.path.endswith(f"/{org.id}/") and org.parent.name == "湖北省卫生健康委员会"
        org_pk = org.id
    client = app.test_client()
    assert "/login" not in login(client, GOOD["admin_id_number"], GOOD["password"], "supervisory").headers["Location"]
    home = client.get("/").get_data(as_text=True)
    assert "尚未通过审核" in home
    assert client.get(f"/organisations/show/{org_pk}").status_code == 404
    assert "/organisations/show/" not in client.get("/organisations/list/").get_data(as_text=True)

    # the status is not a form field (issue 8): editing cannot approve; the review decision does
    province = client_for(PROVINCE_ID)
    province.post(f"/organisations/edit/{org_pk}", data={
        "name": GOOD["name"], "status": "approved", "uscc": _form(app)["uscc"],
        "contact_person": GOOD["contact_person"], "phone": GOOD["phone"]})
    with app.app_context():
        assert db.session.get(Organisation, org_pk).status.value == "pending"
        from app.models import ReviewKind, ReviewRequest
        request_id = db.session.query(ReviewRequest.id).filter_by(
            kind=ReviewKind.supervisory_registration, subject_id=org_pk).scalar()
    response = province.post("/review/supervisory_registration/action_post",
                             data={"action": "approve", "rowid": [request_id]})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, org_pk).status.value == "approved"
    assert client.get(f"/organisations/show/{org_pk}").status_code == 200


def test_duplicate_registration_of_an_id_number_is_refused(app):
    from tests.conftest import HEALTH_ID

    page = app.test_client().post("/register/supervisory", data=_form(app, admin_id_number=HEALTH_ID)).get_data(as_text=True)
    assert "该身份证号已注册账号" in page
    assert _count_orgs(app, GOOD["name"]) == 0
