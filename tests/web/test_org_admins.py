"""管理单位管理员 (manual 5.1.1.3): list, the three ways of 新增管理员, super admin, 删除."""
from __future__ import annotations

import datetime
import re

import pytest

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, first_sign_in, login
from tests.web.test_chinese_ui import english_words

HEALTH = "湖北省卫生健康委员会"
HOSPITAL = "湖北省人民医院"
NEW_PASSWORD = "Admin2026x"


def _new_id(seq: int) -> str:
    from app.validators import make_id_number

    return make_id_number("420103", datetime.date(1991, 3, 4), seq)


def _account(app, id_number):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        account = db.session.query(Account).filter(Account.username == id_number).one_or_none()
        if account is None:
            return None
        return {
            "id": account.id, "org": account.organisation.name if account.organisation else None,
            "user_type": account.user_type.value if account.user_type else None,
            "super": account.is_super_admin, "active": account.active,
            "roles": sorted(r.name for r in account.roles),
            "dept": account.internal_department.name if account.internal_department else None,
        }


def _accounts_count(app):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        return db.session.query(Account).count()


def _super_admins(app, org_name):
    from app.extensions import db
    from app.models import Account, Organisation

    with app.app_context():
        return [a.username for a in db.session.query(Account).join(Organisation, Account.organisation_id == Organisation.id)
                .filter(Organisation.name == org_name, Account.is_super_admin.is_(True))]


def _dept_id(app, org_name, dept_name):
    from app.extensions import db
    from app.models import InternalDepartment, Organisation

    with app.app_context():
        return (db.session.query(InternalDepartment.id).join(Organisation)
                .filter(Organisation.name == org_name, InternalDepartment.name == dept_name).scalar())


def _audit_actions(app, object_id):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return [r.action for r in db.session.query(AuditLog).filter_by(object_type="account", object_id=object_id)
                .order_by(AuditLog.id)]


def _role_id(app, name):
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return db.session.query(Role.id).filter(Role.name == name).scalar()


def _full(app, name="主管部门管理员"):
    """The roles field as the wizard posts it by default: the organisation's full administrator role."""
    return [str(_role_id(app, name))]


def _register(client, app, id_number, name="钱新管", dept="人事处", password=NEW_PASSWORD, **extra):
    data = {"id_type": "id_card", "id_number": id_number, "real_name": name, "phone": "13800001111",
            "password": password, "conf_password": password,
            "department_id": _dept_id(app, HEALTH, dept) if dept else "", "roles": _full(app)}
    data.update(extra)
    return client.post("/orgadmins/add/register", data=data)


def _person_with_login(app, employer_name, seq, name="孙专技"):
    """An approved person of an employer unit with their own (personnel) login."""
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus, UserType
    from app.roles import ROLE_FOR_USER_TYPE
    from app.services.accounts import new_account
    from app.services.persons import fill_from_id_number
    from flask_appbuilder.security.sqla.models import Role

    id_number = _new_id(seq)
    with app.app_context():
        employer = db.session.query(Organisation).filter_by(name=employer_name).one()
        role = db.session.query(Role).filter_by(name=ROLE_FOR_USER_TYPE["personnel"]).one()
        account = new_account(id_number=id_number, real_name=name, password=NEW_PASSWORD, organisation=employer,
                              user_type=UserType.personnel, roles=[role])
        db.session.add(account)
        db.session.flush()
        person = Person(id_number=id_number, name=name, employer=employer, status=PersonStatus.active,
                        account_id=account.id)
        fill_from_id_number(person)
        db.session.add(person)
        db.session.commit()
    return id_number


# ---------------------------------------------------------------- list and pages
def test_admin_list_shows_the_organisations_admins_in_chinese(app, client_for):
    response = client_for(HEALTH_ID).get("/orgadmins/list/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "李卫健" in page and HEALTH_ID in page and "超级管理员" in page
    assert "赵教育" not in page and "陈医院" not in page   # other organisations' admins
    assert 'id="add-admin"' in page
    assert english_words(page) == set()


@pytest.mark.parametrize("url", ["/orgadmins/add", "/orgadmins/add/member", "/orgadmins/add/register",
                                 "/orgadmins/add/existing"])
def test_wizard_pages_are_chinese(app, client_for, url):
    response = client_for(HEALTH_ID).get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "步骤" in page
    assert english_words(page) == set()


def test_register_form_offers_only_the_own_internal_departments(app, client_for):
    page = client_for(HEALTH_ID).get("/orgadmins/add/register").get_data(as_text=True)
    assert "科技教育处" in page and "身份证" in page
    assert "教师工作处" not in page and "护理部" not in page


# ---------------------------------------------------------------- (b) register a new user
def test_register_a_new_admin(app, fresh_world, client_for):
    id_number = _new_id(101)
    client = client_for(HEALTH_ID)
    response = _register(client, app, id_number)
    assert response.status_code == 302 and "/orgadmins/done/" in response.headers["Location"]
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "钱新管" in done and "步骤" in done and english_words(done) == set()
    account = _account(app, id_number)
    assert account["org"] == HEALTH and account["user_type"] == "supervisory"
    assert account["roles"] == ["主管部门管理员"] and account["active"] and not account["super"]
    assert account["dept"] == "人事处"
    assert _audit_actions(app, account["id"]) == ["register_admin"]
    # the new admin signs in as 主管部门, must first replace the password the super admin chose
    # (nobody sets another person's password for good), then sees the department's data
    fresh = app.test_client()
    assert "/login" not in login(fresh, id_number, password=NEW_PASSWORD).headers["Location"]
    assert "/resetmypassword/form" in fresh.get("/").headers["Location"]
    first_sign_in(app.test_client(), id_number, NEW_PASSWORD)
    fresh = app.test_client()
    login(fresh, id_number, password=NEW_PASSWORD)
    assert HEALTH in fresh.get("/").get_data(as_text=True)


@pytest.mark.parametrize("id_number,password,message", [
    (HOSPITAL_ID, NEW_PASSWORD, "已注册"),                      # duplicate ID number
    ("420103199103040000", NEW_PASSWORD, "校验位"),             # bad checksum
    ("420103199113040011", NEW_PASSWORD, "出生日期"),            # month 13
    (None, "abcdefgh", "密码至少8位"),                          # weak password
])
def test_bad_registration_input_is_refused_in_chinese_and_changes_nothing(app, client_for, id_number, password,
                                                                         message):
    before = _accounts_count(app)
    response = _register(client_for(HEALTH_ID), app, id_number or _new_id(102), password=password)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert english_words(page) == set()
    assert _accounts_count(app) == before
    if id_number == HOSPITAL_ID:
        assert _account(app, HOSPITAL_ID)["org"] == HOSPITAL


def test_mismatched_password_confirmation_is_refused(app, client_for):
    before = _accounts_count(app)
    page = _register(client_for(HEALTH_ID), app, _new_id(103), conf_password="Other2026x").get_data(as_text=True)
    assert "密码" in page and english_words(page) == set()
    assert _accounts_count(app) == before


def test_department_of_another_organisation_is_404(app, client_for):
    before = _accounts_count(app)
    response = _register(client_for(HEALTH_ID), app, _new_id(104), dept=None,
                         department_id=_dept_id(app, "湖北省教育厅", "办公室"))
    assert response.status_code == 404
    assert _accounts_count(app) == before


# ---------------------------------------------------------------- (c) an existing system user
def test_add_an_existing_user_by_id_number_after_confirming_the_name(app, fresh_world, client_for):
    id_number = _person_with_login(app, HOSPITAL, 201)
    client = client_for(HEALTH_ID)
    step = client.post("/orgadmins/add/existing", data={"id_type": "id_card", "id_number": id_number})
    page = step.get_data(as_text=True)
    assert 'id="found-name">孙专技<' in page and 'id="existing-confirm"' in page
    assert english_words(page) == set()
    assert _account(app, id_number)["user_type"] == "personnel"    # nothing changed before confirming
    response = client.post("/orgadmins/add/existing", data={
        "id_type": "id_card", "id_number": id_number, "confirm": "1",
        "department_id": _dept_id(app, HEALTH, "办公室"), "roles": _full(app)})
    assert response.status_code == 302
    account = _account(app, id_number)
    assert account["org"] == HEALTH and account["user_type"] == "supervisory" and account["dept"] == "办公室"
    assert "主管部门管理员" in account["roles"]
    assert _audit_actions(app, account["id"]) == ["appoint_admin"]
    # 删除 gives the person their own login back
    assert client.post(f"/orgadmins/remove/{account['id']}").status_code == 302
    account = _account(app, id_number)
    assert account["org"] == HOSPITAL and account["user_type"] == "personnel" and account["roles"] == ["专技人员"]


@pytest.mark.parametrize("id_number,message", [
    (HOSPITAL_ID, "其他单位的管理员"),
    (HEALTH_ID, "已是本单位的管理员"),
    ("unregistered", "未找到该证件号的用户"),
    ("420103199103040000", "校验位"),
])
def test_existing_user_refusals(app, client_for, id_number, message):
    if id_number == "unregistered":
        id_number = _new_id(777)
    before = _account(app, HOSPITAL_ID)
    response = client_for(HEALTH_ID).post("/orgadmins/add/existing",
                                          data={"id_type": "id_card", "id_number": id_number, "confirm": "1"})
    page = response.get_data(as_text=True)
    assert message in page, page[-3000:]
    assert english_words(page) == set()
    assert _account(app, HOSPITAL_ID) == before


# ---------------------------------------------------------------- (a) a member of the organisation
def test_employer_unit_makes_one_of_its_people_an_admin(app, fresh_world, client_for):
    id_number = _person_with_login(app, HOSPITAL, 301, name="周护士")
    client = client_for(HOSPITAL_ID)
    results = client.get("/orgadmins/candidates?q=周").json["results"]
    assert [r["text"] for r in results] == [f"周护士（{id_number}）"]
    account_id = results[0]["id"]
    response = client.post("/orgadmins/add/member", data={
        "account_id": account_id, "department_id": _dept_id(app, HOSPITAL, "护理部"),
        "roles": _full(app, "用人单位管理员")})
    assert response.status_code == 302
    account = _account(app, id_number)
    assert account["user_type"] == "employer" and account["org"] == HOSPITAL and account["dept"] == "护理部"
    assert "用人单位管理员" in account["roles"]
    assert client.get("/orgadmins/candidates?q=周").json["results"] == []   # an admin now


def test_member_of_another_organisation_is_404(app, fresh_world, client_for):
    id_number = _person_with_login(app, HOSPITAL, 302)
    account_id = _account(app, id_number)["id"]
    response = client_for(EDU_ID).post("/orgadmins/add/member", data={"account_id": account_id,
                                                                       "roles": _full(app)})
    assert response.status_code == 404
    assert _account(app, id_number)["user_type"] == "personnel"
    assert account_id not in [r["id"] for r in client_for(EDU_ID).get("/orgadmins/candidates?q=").json["results"]]


def test_removed_admin_can_be_chosen_again_as_member(app, fresh_world, client_for):
    id_number = _new_id(303)
    client = client_for(HEALTH_ID)
    _register(client, app, id_number)
    account_id = _account(app, id_number)["id"]
    # the new admin acts once (history refers to them), so removal disables rather than deletes
    own = app.test_client()
    login(own, id_number, password=NEW_PASSWORD)
    own.post("/resetmypassword/form", data={"old_password": NEW_PASSWORD, "password": "Second2026x",
                                            "conf_password": "Second2026x"})
    assert client.post(f"/orgadmins/remove/{account_id}").status_code == 302
    account = _account(app, id_number)
    assert account["roles"] == [] and not account["active"]
    assert f'id="admin-{account_id}"' not in client.get("/orgadmins/list/").get_data(as_text=True)
    assert "/login" in login(app.test_client(), id_number, password="Second2026x").headers["Location"]
    results = client.get("/orgadmins/candidates?q=钱").json["results"]
    assert [r["id"] for r in results] == [account_id]
    assert client.post("/orgadmins/add/member", data={"account_id": account_id,
                                                      "roles": _full(app)}).status_code == 302
    account = _account(app, id_number)
    assert account["active"] and account["roles"] == ["主管部门管理员"]


# ---------------------------------------------------------------- 删除
def test_remove_deletes_an_admin_nobody_refers_to(app, fresh_world, client_for):
    id_number = _new_id(401)
    client = client_for(HEALTH_ID)
    _register(client, app, id_number)
    account_id = _account(app, id_number)["id"]
    response = client.post(f"/orgadmins/remove/{account_id}", follow_redirects=True)
    assert "删除" in response.get_data(as_text=True)
    assert _account(app, id_number) is None
    assert _audit_actions(app, account_id) == ["register_admin", "remove_admin"]


def test_the_super_admin_cannot_be_removed(app, client_for):
    health = _account(app, HEALTH_ID)
    response = client_for(HEALTH_ID).post(f"/orgadmins/remove/{health['id']}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "超级管理员不能删除" in page
    assert _account(app, HEALTH_ID) == health


# ---------------------------------------------------------------- 设为超级管理员
def test_set_super_admin_moves_the_flag(app, fresh_world, client_for):
    id_number = _new_id(501)
    client = client_for(HEALTH_ID)
    _register(client, app, id_number)
    new_id = _account(app, id_number)["id"]
    assert client.post(f"/orgadmins/super/{new_id}").status_code == 302
    assert _super_admins(app, HEALTH) == [id_number]
    assert _account(app, HEALTH_ID)["super"] is False
    assert _audit_actions(app, new_id)[-1] == "set_super_admin"
    assert _audit_actions(app, _account(app, HEALTH_ID)["id"])[-1] == "revoke_super_admin"
    # the previous super admin may no longer appoint or remove anyone
    before = _accounts_count(app)
    refused = client.post("/orgadmins/add/register", data={
        "id_type": "id_card", "id_number": _new_id(502), "real_name": "吴某", "password": NEW_PASSWORD,
        "conf_password": NEW_PASSWORD})
    assert refused.status_code == 403
    assert "只有本单位超级管理员" in refused.get_data(as_text=True)
    assert english_words(refused.get_data(as_text=True)) == set()
    assert _accounts_count(app) == before
    assert client.post(f"/orgadmins/super/{_account(app, HEALTH_ID)['id']}").status_code == 403
    assert client.post(f"/orgadmins/remove/{new_id}").status_code == 403
    assert _super_admins(app, HEALTH) == [id_number]
    list_page = client.get("/orgadmins/list/").get_data(as_text=True)
    assert 'id="add-admin"' not in list_page and 'id="not-super-admin"' in list_page


def test_set_super_admin_is_all_or_nothing(app, fresh_world, client_for, monkeypatch):
    from app.services import audit

    id_number = _new_id(503)
    client = client_for(HEALTH_ID)
    _register(client, app, id_number)
    new_id = _account(app, id_number)["id"]
    real_record = audit.record

    def failing(action, *args, **kwargs):
        if action == "set_super_admin":
            raise RuntimeError("audit failure")
        return real_record(action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    response = client.post(f"/orgadmins/super/{new_id}")
    monkeypatch.undo()
    assert response.status_code == 500
    assert _super_admins(app, HEALTH) == [HEALTH_ID]   # the old flag was not lost


def test_non_super_admin_is_refused_everywhere(app, fresh_world, client_for):
    id_number = _new_id(504)
    _register(client_for(HEALTH_ID), app, id_number)
    client = app.test_client()
    first_sign_in(client, id_number, NEW_PASSWORD)
    before = _accounts_count(app)
    for url in ("/orgadmins/add", "/orgadmins/add/member", "/orgadmins/add/register", "/orgadmins/add/existing"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "只有本单位超级管理员" in response.get_data(as_text=True)
    assert _register(client, app, _new_id(505)).status_code == 403
    health_id = _account(app, HEALTH_ID)["id"]
    assert client.post(f"/orgadmins/remove/{health_id}").status_code == 403
    assert client.post(f"/orgadmins/super/{_account(app, id_number)['id']}").status_code == 403
    assert _accounts_count(app) == before
    assert _super_admins(app, HEALTH) == [HEALTH_ID]
    assert client.get("/orgadmins/list/").status_code == 200   # may still look


# ---------------------------------------------------------------- scope
def test_another_department_gets_404_on_every_admin_id(app, client_for):
    health = _account(app, HEALTH_ID)
    client = client_for(EDU_ID)
    assert client.post(f"/orgadmins/super/{health['id']}").status_code == 404
    assert client.post(f"/orgadmins/remove/{health['id']}").status_code == 404
    assert client.get(f"/orgadmins/done/{health['id']}").status_code == 404
    assert client.post("/orgadmins/remove/abc").status_code == 404
    assert _account(app, HEALTH_ID) == health
    assert "李卫健" not in client.get("/orgadmins/list/").get_data(as_text=True)


def test_province_admin_manages_the_provinces_admins(app, fresh_world, client_for):
    id_number = _new_id(601)
    client = client_for(PROVINCE_ID)
    response = client.post("/orgadmins/add/register", data={
        "id_type": "id_card", "id_number": id_number, "real_name": "省新管", "password": NEW_PASSWORD,
        "conf_password": NEW_PASSWORD, "roles": _full(app, "省级管理员")})
    assert response.status_code == 302
    account = _account(app, id_number)
    assert account["org"] == "湖北省人力资源和社会保障厅" and account["roles"] == ["省级管理员"]


def test_a_disabled_admin_cannot_become_super_admin(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account

    id_number = _new_id(602)
    client = client_for(HEALTH_ID)
    _register(client, app, id_number)
    with app.app_context():
        account = db.session.query(Account).filter_by(username=id_number).one()
        account.active = False
        db.session.commit()
        pk = account.id
    page = client.post(f"/orgadmins/super/{pk}", follow_redirects=True).get_data(as_text=True)
    assert "已禁用" in page or "禁用" in page
    assert _super_admins(app, HEALTH) == [HEALTH_ID]


def test_done_page_shows_only_own_admins(app, client_for):
    health = _account(app, HEALTH_ID)
    page = client_for(HEALTH_ID).get(f"/orgadmins/done/{health['id']}").get_data(as_text=True)
    assert re.search("李卫健", page)
