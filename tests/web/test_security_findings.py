"""One test (or more) per finding of issue 8 (security); each failed on the main branch before the fix.

Findings 4 and 9 (separation of duties in reviews, parent-change sides) belong to the review mechanism
and are tested with it; 7 in test_export_injection.py; 12-14 in test_security_headers.py and the fuzzers.
"""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from app.validators import make_id_number
from tests.conftest import (
    DEMO_PASSWORD,
    EDU_ID,
    HEALTH_ID,
    HOSPITAL_ID,
    WH_HEALTH_ID,
    api_token,
    first_sign_in,
    login,
    org_id,
)

HEALTH = "湖北省卫生健康委员会"
PASSWORD = "Second2026x"


def _account(app, id_number):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        db.session.expire_all()
        account = db.session.scalar(select(Account).where(Account.username == id_number))
        if account is None:
            return None
        return {"id": account.id, "password": account.password, "active": account.active,
                "roles": sorted(r.name for r in account.roles), "org": account.organisation_id,
                "must_change": account.must_change_password, "user_type": account.user_type.value}


def _full_role_id(app) -> str:
    """The department admin template role, the one the 新增管理员 wizard ticks by default."""
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return str(db.session.query(Role.id).filter(Role.name == "主管部门管理员").scalar())


def _plain_admin(app, client_for, seq):
    """A regular (not super) admin of 湖北省卫生健康委员会, appointed by its super admin, signed in."""
    id_number = make_id_number("420103", datetime.date(1992, 2, 2), seq)
    response = client_for(HEALTH_ID).post("/orgadmins/add/register", data={
        "id_type": "id_card", "id_number": id_number, "real_name": "普通管理员", "password": PASSWORD,
        "conf_password": PASSWORD, "roles": [_full_role_id(app)]})
    assert response.status_code == 302
    client = app.test_client()
    first_sign_in(client, id_number, PASSWORD)
    return client, id_number


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------ finding 1
def test_a_regular_admin_cannot_take_over_its_super_admin(app, fresh_world, client_for):
    """Finding 1: reset the super admin's password, empty their roles, disable them, create admins —
    none of FAB's generic account screens is reachable."""
    client, _ = _plain_admin(app, client_for, 11)
    target = _account(app, HEALTH_ID)
    assert client.post(f"/resetpassword/form?pk={target['id']}",
                       data={"password": "Taken2026x", "conf_password": "Taken2026x"}).status_code == 404
    assert client.post(f"/users/edit/{target['id']}", data={"real_name": "x", "roles": [], "active": ""}
                       ).status_code == 404
    new_id = make_id_number("420103", datetime.date(1992, 2, 2), 12)
    assert client.post("/users/add", data={"id_number": new_id, "real_name": "新管理员", "password": PASSWORD,
                                           "conf_password": PASSWORD}).status_code == 404
    assert _account(app, HEALTH_ID) == target
    assert _account(app, new_id) is None
    # and appointing admins stays with the super admin
    assert client.get("/orgadmins/add/register").status_code == 403


def test_a_parent_department_cannot_set_a_subordinate_admins_password(app, fresh_world, client_for):
    """Finding 1: the generic reset screen is gone; 下属机构管理 gives a one-time password and forces a
    change; nobody chooses another person's password."""
    health = client_for(HEALTH_ID)
    hospital_admin = _account(app, HOSPITAL_ID)
    for who in (health, client_for(WH_HEALTH_ID)):
        assert who.get(f"/resetpassword/form?pk={hospital_admin['id']}").status_code == 404
    assert _account(app, HOSPITAL_ID)["password"] == hospital_admin["password"]
    with app.app_context():
        hospital = org_id("湖北省人民医院")
    page = health.post(f"/subordinates/admins/{hospital}/reset/{hospital_admin['id']}").get_data(as_text=True)
    assert 'id="new-password"' in page
    assert _account(app, HOSPITAL_ID)["must_change"] is True


def test_an_admin_registered_by_the_super_admin_must_replace_the_password(app, fresh_world, client_for):
    """Finding 1: the password the super admin typed for a new admin is a one-time password."""
    id_number = make_id_number("420103", datetime.date(1992, 2, 2), 13)
    client_for(HEALTH_ID).post("/orgadmins/add/register", data={
        "id_type": "id_card", "id_number": id_number, "real_name": "新管理员", "password": PASSWORD,
        "conf_password": PASSWORD, "roles": [_full_role_id(app)]})
    assert _account(app, id_number)["must_change"] is True


# ------------------------------------------------------------------------------ finding 2
def test_rest_delete_of_an_organisation_keeps_the_pages_guards(app, fresh_world):
    """Finding 2: DELETE /api/v1/organisation/<id> refuses an organisation with people or units, and a
    department cannot delete itself."""
    from app.extensions import db
    from app.models import Organisation

    client = app.test_client()
    with app.app_context():
        hospital, wh_health = org_id("湖北省人民医院"), org_id("武汉市卫生健康委员会")
    health = _bearer(api_token(client, HEALTH_ID))
    response = client.delete(f"/api/v1/organisation/{hospital}", headers=health)
    assert response.status_code == 422 and "不能删除" in response.json["message"]
    own = client.delete(f"/api/v1/organisation/{wh_health}", headers=_bearer(api_token(client, WH_HEALTH_ID)))
    assert own.status_code == 422 and "本单位" in own.json["message"]
    with app.app_context():
        assert db.session.get(Organisation, hospital) is not None
        assert db.session.get(Organisation, wh_health) is not None


# ------------------------------------------------------------------------------ finding 3
def test_rest_put_cannot_move_an_organisation(app, fresh_world):
    """Finding 3: parent is not writable over REST (no path drift, no cycle, no employer as parent);
    moving is the two-party 更换上级部门 decision."""
    from app.extensions import db
    from app.models import Organisation

    client = app.test_client()
    with app.app_context():
        wh_health, hospital, health = (org_id("武汉市卫生健康委员会"), org_id("湖北省人民医院"), org_id(HEALTH))
        before = db.session.get(Organisation, wh_health)
        before = (before.parent_id, before.path, before.depth)
    headers = _bearer(api_token(client, HEALTH_ID))
    for parent in (hospital, wh_health, health):
        response = client.put(f"/api/v1/organisation/{wh_health}", json={"parent": parent}, headers=headers)
        assert response.status_code in (400, 422), response.json
        assert response.json["message"] and not response.json["message"].isascii()
    # the department cannot be put under its own child either
    response = client.put(f"/api/v1/organisation/{health}", json={"parent": wh_health}, headers=headers)
    assert response.status_code in (400, 422)
    with app.app_context():
        after = db.session.get(Organisation, wh_health)
        assert (after.parent_id, after.path, after.depth) == before
        assert db.session.get(Organisation, health).parent_id != wh_health


def test_writable_fields_of_every_view_and_api_are_an_allow_list(app):
    """Mass assignment: no registered ModelView / ModelRestApi lets a form or body write a status,
    path, organisation, super-admin, role or credential column (app/write_rules.py)."""
    from flask_appbuilder import ModelRestApi, ModelView

    from app.write_rules import writable_column_violations

    views = [v for v in app.appbuilder.baseviews if isinstance(v, (ModelView, ModelRestApi))]
    assert len(views) > 10
    problems = [p for v in views for p in writable_column_violations(v)]
    assert problems == []


def test_a_forbidden_column_in_an_allow_list_is_detected():
    from types import SimpleNamespace

    from app.write_rules import writable_column_violations

    view = SimpleNamespace(add_columns=["name", "status"], edit_columns=["name", "parent"])
    assert len(writable_column_violations(view)) == 2


# ------------------------------------------------------------------------------ finding 5
def _pending_registrations(app):
    from tests.web.test_public_registration import org_form, register_person

    person_id, person_request = register_person(app, seq=61)
    response = app.test_client().post("/register/base", data=org_form(
        app, "待审核测试基地", uscc_body="12420100MB765499", admin_id_number=make_id_number(
            "420115", datetime.date(1990, 5, 17), 961)))
    assert response.status_code == 302
    with app.app_context():
        base_id = org_id("待审核测试基地")
    return person_id, person_request, base_id


def test_status_is_never_written_by_a_form_or_a_rest_body(app, fresh_world, client_for):
    """Finding 5: an employer admin cannot activate a pending person by editing it, a department cannot
    approve a pending training base by editing it; the review stays pending, no decision recorded."""
    from app.extensions import db
    from app.models import Organisation, Person, ReviewRequest

    person_id, person_request, base_id = _pending_registrations(app)
    hospital = client_for(HOSPITAL_ID)
    hospital.post(f"/persons/edit/{person_id}", data={"name": "欧阳测试", "status": "active"})
    client_for(HEALTH_ID).post(f"/organisations/edit/{base_id}", data={
        "name": "待审核测试基地", "status": "approved", "contact_person": "钱老师"})
    client = app.test_client()
    response = client.put(f"/api/v1/person/{person_id}", json={"status": "active"},
                          headers=_bearer(api_token(client, HOSPITAL_ID)))
    assert response.status_code in (400, 422)
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Person, person_id).status.value == "pending"
        assert db.session.get(Organisation, base_id).status.value == "pending"
        assert db.session.get(ReviewRequest, person_request).status.value == "pending"


def test_a_generic_update_touching_a_protected_attribute_is_refused(app_ctx):
    """Finding 5, second line of defence: whatever sets status on a loaded row, check_update refuses."""
    from app.errors import NotAllowed
    from app.extensions import db
    from app.models import Person
    from app.write_rules import check_update

    person = db.session.scalar(select(Person).limit(1))
    person.status = "left"
    with pytest.raises(NotAllowed):
        check_update(person)
    db.session.rollback()


# ------------------------------------------------------------------------------ finding 6
def _person_login_elsewhere(app):
    """A person of 武汉大学 (under 湖北省教育厅) with an active login."""
    from tests.web.test_org_admins import _person_with_login

    return _person_with_login(app, "武汉大学", 606, name="吴外人")


def test_adding_an_existing_user_finds_nobody_outside_the_own_scope(app, fresh_world, client_for):
    """Finding 6: /orgadmins/add/existing shows nothing about another department's people or admins,
    and confirm=1 does not move them."""
    outsider = _person_login_elsewhere(app)
    before, edu_admin = _account(app, outsider), _account(app, EDU_ID)
    client = client_for(HEALTH_ID)
    unknown = make_id_number("420103", datetime.date(1992, 2, 2), 66)
    answers = []
    for number in (outsider, EDU_ID, unknown):
        for confirm in ("", "1"):
            page = client.post("/orgadmins/add/existing", data={"id_type": "id_card", "id_number": number,
                                                                "confirm": confirm}).get_data(as_text=True)
            assert "吴外人" not in page and "武汉大学" not in page and "湖北省教育厅" not in page
            assert "其他单位的管理员" not in page
            answers.append("未找到该证件号的用户" in page)
    assert all(answers)
    assert _account(app, outsider) == before and _account(app, EDU_ID) == edu_admin


# ------------------------------------------------------------------------------ finding 8
def test_a_password_change_ends_other_sessions_and_every_token(app, fresh_world, client_for):
    """Finding 8: after a password change the old access and refresh tokens and the other web sessions
    are refused; the session that changed the password goes on."""
    mine, other = client_for(HEALTH_ID), client_for(HEALTH_ID)
    api = app.test_client()
    tokens = api.post("/api/v1/security/login", json={"username": HEALTH_ID, "password": DEMO_PASSWORD,
                                                      "provider": "db", "refresh": True}).json
    assert api.get("/api/v1/person/", headers=_bearer(tokens["access_token"])).status_code == 200
    response = mine.post("/resetmypassword/form", data={
        "old_password": DEMO_PASSWORD, "password": PASSWORD, "conf_password": PASSWORD})
    assert response.status_code == 302
    assert mine.get("/").status_code == 200
    assert "/login" in other.get("/").headers["Location"]
    old = api.get("/api/v1/person/", headers=_bearer(tokens["access_token"]))
    assert old.status_code == 401 and "重新登录" in old.json["message"]
    assert api.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401


def test_a_session_cookie_captured_before_logout_is_worthless(app, fresh_world, client_for):
    """Finding 8: logout (a POST) ends the session everywhere; replaying the old cookie fails."""
    client = client_for(HEALTH_ID)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.post("/logout/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert "/login" in thief.get("/").headers["Location"]


def test_a_forced_password_change_applies_to_the_api(app, fresh_world, client_for):
    """Finding 8: after a reset, the one-time password gets no API token, and older tokens are dead."""
    client = app.test_client()
    old_token = api_token(client, HOSPITAL_ID)
    with app.app_context():
        hospital = org_id("湖北省人民医院")
    account = _account(app, HOSPITAL_ID)
    page = client_for(HEALTH_ID).post(f"/subordinates/admins/{hospital}/reset/{account['id']}").get_data(as_text=True)
    import re

    one_time = re.search(r'id="new-password"[^>]*>([^<]+)<', page).group(1)
    response = client.post("/api/v1/security/login", json={"username": HOSPITAL_ID, "password": one_time,
                                                           "provider": "db"})
    assert response.status_code == 403 and "修改密码" in response.json["message"]
    assert client.get("/api/v1/person/", headers=_bearer(old_token)).status_code == 401


def test_disabling_an_account_ends_its_sessions_and_tokens(app, fresh_world, client_for):
    """Finding 8: 禁用 in 下属机构管理 logs the account out of the web and the API at once."""
    unit = client_for(HOSPITAL_ID)
    api = app.test_client()
    token = api_token(api, HOSPITAL_ID)
    with app.app_context():
        hospital = org_id("湖北省人民医院")
    account = _account(app, HOSPITAL_ID)
    client_for(HEALTH_ID).post(f"/subordinates/admins/{hospital}/active/{account['id']}", data={"active": "0"})
    assert "/login" in unit.get("/").headers["Location"]
    assert api.get("/api/v1/person/", headers=_bearer(token)).status_code == 401


# ------------------------------------------------------------------------------ finding 10
def _count_hash_checks(monkeypatch):
    import app.security as security

    calls = []
    real = security.check_password_hash

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(security, "check_password_hash", counting)
    return calls


def _login_message(app, id_number, password):
    client = app.test_client()
    login(client, id_number, password, "employer")
    page = client.get("/login/").get_data(as_text=True)
    import re

    return re.findall(r'<div class="alert[^"]*">\s*(?:<[^>]+>\s*)*([^<]+)', page)


def test_known_and_unknown_id_numbers_get_the_same_answer_and_work(app, fresh_world, monkeypatch):
    """Finding 10: web login, API login and /register/progress answer a known and an unknown ID number
    alike, also after five failures (no "locked" only for real accounts), with one hash check each."""
    calls = _count_hash_checks(monkeypatch)
    unknown = make_id_number("420103", datetime.date(1992, 2, 2), 10)
    answers = {}
    for number in (HOSPITAL_ID, unknown):
        calls.clear()
        web = [_login_message(app, number, "Wrong2026x") for _ in range(6)]
        api = [app.test_client().post("/api/v1/security/login", json={
            "username": number, "password": "Wrong2026x", "provider": "db"}) for _ in range(2)]
        progress = app.test_client().post("/register/progress", data={
            "id_number": number, "password": "Wrong2026x"}, follow_redirects=True).get_data(as_text=True)
        assert len(calls) == 6 + 2 + 1
        answers[number] = (web, [(r.status_code, r.json["message"]) for r in api], "身份证号或密码错误" in progress)
    assert answers[HOSPITAL_ID] == answers[unknown]
    # the real account is locked all the same: its right password is refused with the same answer
    assert _login_message(app, HOSPITAL_ID, DEMO_PASSWORD) == answers[unknown][0][0]


# ------------------------------------------------------------------------------ finding 11
def test_anonymous_pages_never_echo_an_organisation_that_is_not_offered(app, fresh_world):
    """Finding 11: a pending department, an employer where a department is asked for (and the other
    way round) are not named back by the public registration pages."""
    from tests.web.test_registration import GOOD, _form

    response = app.test_client().post("/register/supervisory", data=_form(app))
    assert response.status_code == 302
    with app.app_context():
        pending = org_id(GOOD["name"])
        hospital, health = org_id("湖北省人民医院"), org_id(HEALTH)
    client = app.test_client()
    page = client.post("/register/supervisory", data={"parent_id": pending, "name": ""}).get_data(as_text=True)
    assert GOOD["name"] not in page
    page = client.post("/register/supervisory", data={"parent_id": hospital}).get_data(as_text=True)
    assert "湖北省人民医院" not in page
    page = client.post("/register/unit", data={"parent_id": hospital}).get_data(as_text=True)
    assert "湖北省人民医院" not in page
    page = client.post("/register/person", data={"employer_id": health}).get_data(as_text=True)
    assert HEALTH not in page
    # an approved department is still shown back, as before
    page = client.post("/register/supervisory", data={"parent_id": health}).get_data(as_text=True)
    assert HEALTH in page


# ------------------------------------------------------------------------------ finding 15
def test_rest_info_descriptions_are_not_the_catalog_header(app):
    """Finding 15: gettext("") is the .po header; descriptions of fields without one are empty."""
    client = app.test_client()
    headers = _bearer(api_token(client, HEALTH_ID))
    for resource in ("organisation", "person"):
        body = client.get(f"/api/v1/{resource}/_info", headers=headers).get_data(as_text=True)
        assert "Project-Id-Version" not in body and "Content-Type: text/plain" not in body
        info = client.get(f"/api/v1/{resource}/_info", headers=headers).json
        for field in info["add_columns"] + info["edit_columns"]:
            assert "Project-Id" not in field["description"] and not field["label"].isascii(), field


# ------------------------------------------------------------------------------ finding 14
BIG = 2**63


def test_malformed_html_requests_answer_4xx_in_chinese(app, client_for):
    """Finding 14: huge ids, bad enum filters, unknown sort columns, non-numeric paging, bad picker
    filters: 400/404/422 with a Chinese message, never a 500."""
    client = client_for(HEALTH_ID)
    for url in (f"/persons/show/{BIG}", f"/organisations/edit/{BIG}", f"/orgadmins/done/{BIG}",
                f"/subordinates/admins/{BIG}", f"/review/person_registration/show/{BIG}",
                "/persons/list/?_flt_0_status=bogus", "/organisations/list/?_flt_0_type=foo",
                "/persons/list/?_oc_PersonView=bogus", "/persons/list/?page_PersonView=abc",
                "/persons/list/?psize_PersonView=abc", f"/persons/list/?page_PersonView={BIG}",
                f"/persons/list/?_flt_0_employer={BIG}", "/lookup/organisation?type=foo",
                f"/lookup/organisation?id={BIG}", f"/register/departments?employer_id={BIG}",
                f"/auditlog/list/?page={BIG}", f"/review/person_registration/reject?ids={BIG}",
                "/orgadmins/candidates?q=%00", "/register/employers?q=%00", "/persons/list/?_flt_0_name=%00"):
        response = client.get(url)
        assert response.status_code in (200, 400, 404, 422), (url, response.status_code)
        if response.status_code != 200 and response.mimetype == "text/html":
            assert 'id="error-message"' in response.get_data(as_text=True), url
    for url, data in ((f"/persons/action_post", {"action": "x", "rowid": [str(BIG)]}),
                      ("/organisations/action_post", {"action": "disable", "rowid": [str(BIG)]}),
                      ("/register/supervisory", {"parent_id": str(BIG)}),
                      ("/register/person", {"employer_id": str(BIG), "internal_department_id": str(BIG)}),
                      (f"/subordinates/admins/1/reset/{BIG}", {})):
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, response.status_code)


def test_rest_business_errors_are_4xx_with_chinese_messages(app, fresh_world):
    """Finding 14: REST refusals go through the error model (400/404/422, Chinese message)."""
    from app.validators import make_uscc

    client = app.test_client()
    health = _bearer(api_token(client, HEALTH_ID))
    province = _bearer(api_token(client, "420106198001010015", "Hubei@2026"))
    with app.app_context():
        hospital, base, health_id = org_id("湖北省人民医院"), org_id("湖北省卫生人才继续教育基地"), org_id(HEALTH)
        from app.extensions import db
        from app.models import InternalDepartment, Organisation

        other_dept = db.session.scalar(select(InternalDepartment.id).join(Organisation).where(
            Organisation.name == "湖北省卫生人才继续教育基地").limit(1)) or db.session.scalar(
            select(InternalDepartment.id).where(InternalDepartment.organisation_id != hospital).limit(1))
        used_uscc = db.session.scalar(select(Organisation.uscc).where(Organisation.uscc.is_not(None)).limit(1))
        from app.models import Person

        existing = db.session.scalar(select(Person.id_number).limit(1))
    person = {"name": "接口测试", "employer": hospital}
    cases = [
        ("post", "/api/v1/person/", health, {**person, "id_number": "420103199103040000"}),   # checksum
        ("post", "/api/v1/person/", health, {**person, "id_number": existing}),               # duplicate
        ("post", "/api/v1/person/", health, {**person, "id_number": make_id_number(
            "420103", datetime.date(1990, 1, 1), 141), "employer": base}),                    # a training base
        ("post", "/api/v1/person/", health, {**person, "id_number": make_id_number(
            "420103", datetime.date(1990, 1, 1), 142), "internal_department": other_dept}),   # another unit's
        ("post", "/api/v1/organisation/", province, {"name": "省级二号", "type": "province", "parent": health_id}),
        ("post", "/api/v1/organisation/", province, {"name": "挂错单位", "type": "employer", "parent": hospital}),
        ("post", "/api/v1/organisation/", province, {"name": "重复代码", "type": "employer", "parent": health_id,
                                                     "uscc": used_uscc or make_uscc("12420100MB76540011")[:18]}),
        ("post", "/api/v1/person/", health, {**person, "id_number": "x", "employer": BIG}),
        ("post", "/api/v1/review/person_registration/reject", health, {"ids": [1], "reason": 5}),
        ("post", "/api/v1/review/person_registration/approve", health, {"ids": [BIG]}),
        ("post", "/api/v1/review/person_registration/approve", health, ["not", "an", "object"]),
        ("get", f"/api/v1/person/{BIG}", health, None),
        ("put", f"/api/v1/person/{BIG}", health, {"name": "x"}),
        ("delete", f"/api/v1/organisation/{BIG}", health, None),
        ("get", f"/api/v1/person/?q=(page:{BIG},page_size:10)", health, None),
        ("get", "/api/v1/person/?q=((", health, None),
        ("post", "/api/v1/security/login", None, {"username": "4201\x00", "password": "x\x00"}),
        ("get", "/api/v1/person/?q=(filters:!((col:status,opr:eq,value:bogus)))", health, None),
    ]
    for method, url, headers, body in cases:
        response = getattr(client, method)(url, headers=headers, json=body)
        assert response.status_code in (200, 400, 404, 409, 422), (url, body, response.status_code, response.json)
        if response.status_code >= 400:
            assert not response.json["message"].isascii(), (url, response.json)
