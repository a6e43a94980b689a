"""新增管理员 as a department admin meets it (issue 9): every way succeeds as the page posts it, the
first way offers the people of the units below, and an admin may hold only the custom roles given."""
from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, first_sign_in, login
from tests.web.test_chinese_ui import english_words

HEALTH = "湖北省卫生健康委员会"
HOSPITAL = "湖北省人民医院"
PASSWORD = "Admin2026x"


class FormFields(HTMLParser):
    """What a browser submits for one form: its inputs, ticked boxes and chosen options."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.data: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self.select = [attrs.get("name"), None, None]   # name, first option, selected option
        elif tag == "option" and self.select is not None:
            if self.select[1] is None:
                self.select[1] = attrs.get("value", "")
            if "selected" in attrs:
                self.select[2] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select" and self.select is not None:
            name, first, chosen = self.select
            if name and (chosen is not None or first is not None):
                self.data.append((name, chosen if chosen is not None else first))
            self.select = None


def form_data(page: str, form_id: str) -> dict:
    parser = FormFields(form_id)
    parser.feed(page)
    assert parser.data, f"form {form_id} not found"
    data: dict = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    return data


def _new_id(seq: int) -> str:
    from app.validators import make_id_number

    return make_id_number("420105", datetime.date(1990, 5, 6), seq)


def _account(app, id_number):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        db.session.expire_all()
        account = db.session.query(Account).filter(Account.username == id_number).one_or_none()
        if account is None:
            return None
        return {"id": account.id, "org": account.organisation.name, "user_type": account.user_type.value,
                "roles": sorted(r.name for r in account.roles)}


def _person_login(app, employer_name):
    """An approved person of the unit who has their own login (the demo gives a few of them one)."""
    from app.extensions import db
    from app.models import Account, Organisation, Person, PersonStatus

    with app.app_context():
        row = (db.session.query(Account.id, Account.username, Account.real_name)
               .join(Person, Person.account_id == Account.id).join(Organisation, Person.employer_id == Organisation.id)
               .filter(Organisation.name == employer_name, Person.status == PersonStatus.active)
               .order_by(Account.id).first())
        assert row is not None
        return row


def _role_id(app, name):
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return db.session.query(Role.id).filter(Role.name == name).scalar()


def _custom_role(app, client, label, grants):
    from app.extensions import db
    from app.models import OrganisationRole

    assert client.post("/customroles/add", data={"label": label, "grants": grants}).status_code == 302
    with app.app_context():
        role = db.session.query(OrganisationRole).filter_by(label=label).order_by(OrganisationRole.id.desc()).first()
        return role.id, role.name


@pytest.fixture()
def world(fresh_world):
    """fresh_world, custom roles removed afterwards (SQLite does not cascade the wipe)."""
    yield fresh_world
    from app.extensions import db
    from app.models import OrganisationRole
    from app.services.custom_roles import remove_role_rows

    with fresh_world.app_context():
        db.session.rollback()
        for (role_id,) in db.session.query(OrganisationRole.id).filter(OrganisationRole.organisation_id.isnot(None)):
            remove_role_rows(role_id)
        db.session.commit()


# ------------------------------------------------------------------ the three ways, as the pages post them
def test_third_way_succeeds_when_confirmed_from_the_page(world, client_for):
    """The confirm step used to answer 不是有效的选择。 under 证件类型 and add nobody."""
    app = world
    person_id, id_number, name = _person_login(app, HOSPITAL)
    client = client_for(HEALTH_ID)
    search = client.get("/orgadmins/add/existing").get_data(as_text=True)
    step = client.post("/orgadmins/add/existing", data=form_data(search, "existing-form")
                       | {"id_number": [id_number]}).get_data(as_text=True)
    assert 'id="existing-confirm"' in step and name in step
    confirmed = client.post("/orgadmins/add/existing", data=form_data(step, "existing-form"))
    assert "不是有效的选择" not in confirmed.get_data(as_text=True)
    assert confirmed.status_code == 302 and "/orgadmins/done/" in confirmed.headers["Location"]
    assert _account(app, id_number) == {"id": person_id, "org": HEALTH, "user_type": "supervisory",
                                        "roles": ["专技人员", "主管部门管理员"]}


def test_second_way_succeeds_from_the_page(world, client_for):
    app = world
    client = client_for(HEALTH_ID)
    page = client.get("/orgadmins/add/register").get_data(as_text=True)
    id_number = _new_id(11)
    data = form_data(page, "register-form") | {"id_number": [id_number], "real_name": ["冯新管"],
                                               "password": [PASSWORD], "conf_password": [PASSWORD]}
    response = client.post("/orgadmins/add/register", data=data)
    assert response.status_code == 302
    assert _account(app, id_number)["roles"] == ["主管部门管理员"]   # the full role is ticked by default


def test_first_way_offers_a_department_the_people_of_its_units(world, client_for):
    """For a 主管部门 the list was always empty: a department employs nobody itself."""
    app = world
    person_id, id_number, name = _person_login(app, HOSPITAL)
    client = client_for(HEALTH_ID)
    everyone = client.get("/orgadmins/candidates?q=").json["results"]
    assert everyone and person_id in [r["id"] for r in everyone]
    by_name = client.get(f"/orgadmins/candidates?q={name[:1]}").json["results"]
    assert person_id in [r["id"] for r in by_name]
    by_number = client.get(f"/orgadmins/candidates?q={id_number[:10]}").json["results"]
    assert [r["id"] for r in by_number] == [person_id]
    # another department's people are not offered, and cannot be posted
    assert person_id not in [r["id"] for r in client_for(EDU_ID).get("/orgadmins/candidates?q=").json["results"]]
    assert client_for(EDU_ID).post("/orgadmins/add/member", data={
        "account_id": person_id, "roles": [str(_role_id(app, "主管部门管理员"))]}).status_code == 404
    page = client.get("/orgadmins/add/member").get_data(as_text=True)
    response = client.post("/orgadmins/add/member", data=form_data(page, "member-form") | {"account_id": [person_id]})
    assert response.status_code == 302
    assert _account(app, id_number)["org"] == HEALTH
    assert person_id not in [r["id"] for r in client.get("/orgadmins/candidates?q=").json["results"]]


def test_candidate_search_is_for_super_admins_only(world, client_for):
    app = world
    client = client_for(HEALTH_ID)
    page = client.get("/orgadmins/add/register").get_data(as_text=True)
    id_number = _new_id(12)
    client.post("/orgadmins/add/register", data=form_data(page, "register-form") | {
        "id_number": [id_number], "real_name": ["褚新管"], "password": [PASSWORD], "conf_password": [PASSWORD]})
    other = app.test_client()
    first_sign_in(other, id_number, PASSWORD)
    assert other.get("/orgadmins/candidates?q=").status_code == 403


# ------------------------------------------------------------------ only the custom roles given
def test_an_admin_can_hold_only_the_custom_roles_given(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    role_id, internal = _custom_role(app, health, "人员查询员", ["Person:read"])
    page = health.get("/orgadmins/add/register").get_data(as_text=True)
    assert re.search(rf'value="{role_id}"', page) and "人员查询员" in page
    id_number = _new_id(21)
    data = form_data(page, "register-form") | {"id_number": [id_number], "real_name": ["卫查询"],
                                               "password": [PASSWORD], "conf_password": [PASSWORD],
                                               "roles": [str(role_id)]}
    assert health.post("/orgadmins/add/register", data=data).status_code == 302
    assert _account(app, id_number)["roles"] == [internal]

    restricted = app.test_client()
    first_sign_in(restricted, id_number, PASSWORD)
    assert restricted.get("/persons/list/").status_code == 200
    for url in ("/persons/add", "/orgadmins/list/", "/customroles/list/", "/organisations/list/",
                "/review/person_registration/list/"):
        response = restricted.get(url)
        assert response.status_code in (302, 403, 404) and (
            response.status_code != 302 or "/login" in response.headers["Location"]), url
    home = restricted.get("/").get_data(as_text=True)
    assert "专技人员档案" in home and "/orgadmins/list/" not in home and "/review/" not in home

    # the admin list shows the name people gave the role, never the internal one
    listing = health.get("/orgadmins/list/").get_data(as_text=True)
    assert "人员查询员" in listing and internal not in listing


def test_no_role_or_a_role_not_offered_is_refused(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    edu_role, _ = _custom_role(app, client_for(EDU_ID), "教育查询员", ["Person:read"])
    page = health.get("/orgadmins/add/register").get_data(as_text=True)
    base = form_data(page, "register-form") | {"real_name": ["蒋新管"], "password": [PASSWORD],
                                               "conf_password": [PASSWORD]}
    for seq, roles, message in ((31, [], "请至少选择一个角色"),
                                (32, [str(edu_role)], "无效的选项"),
                                (33, [str(_role_id(app, "省级管理员"))], "无效的选项"),
                                (34, ["abc"], "无效的选项"),
                                (35, ["99999999999"], "无效的选项")):
        response = health.post("/orgadmins/add/register", data=base | {"id_number": [_new_id(seq)], "roles": roles})
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and message in text, (roles, text[-2000:])
        assert english_words(text) == set()
        assert _account(app, _new_id(seq)) is None


def test_set_roles_of_an_existing_admin(world, client_for):
    from app.extensions import db
    from app.models import AuditLog

    app = world
    health = client_for(HEALTH_ID)
    role_id, internal = _custom_role(app, health, "人员查询员", ["Person:read"])
    page = health.get("/orgadmins/add/register").get_data(as_text=True)
    id_number = _new_id(41)
    health.post("/orgadmins/add/register", data=form_data(page, "register-form") | {
        "id_number": [id_number], "real_name": ["沈新管"], "password": [PASSWORD], "conf_password": [PASSWORD]})
    account = _account(app, id_number)
    assert account["roles"] == ["主管部门管理员"]

    form_page = health.get(f"/orgadmins/roles/{account['id']}").get_data(as_text=True)
    assert english_words(form_page) == set()
    data = form_data(form_page, "roles-form")
    assert data["roles"] == [str(_role_id(app, "主管部门管理员"))]     # what the admin holds is ticked
    response = health.post(f"/orgadmins/roles/{account['id']}", data=data | {"roles": [str(role_id)]})
    assert response.status_code == 302
    assert _account(app, id_number)["roles"] == [internal]
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(action="set_roles", object_id=account["id"]).one()
        assert "人员查询员" in row.after and internal not in row.after
    audit_page = health.get("/auditlog/list/?action=set_roles").get_data(as_text=True)
    assert "设置角色" in audit_page and "人员查询员" in audit_page and internal not in audit_page

    # refusals change nothing: no role, the super admin, another organisation's admin, not super admin
    assert "请至少选择一个角色" in health.post(f"/orgadmins/roles/{account['id']}",
                                            data=data | {"roles": []}).get_data(as_text=True)
    health_id = _account(app, HEALTH_ID)["id"]
    assert health.post(f"/orgadmins/roles/{health_id}", data=data).status_code == 403
    assert client_for(EDU_ID).get(f"/orgadmins/roles/{account['id']}").status_code == 404
    assert client_for(EDU_ID).post(f"/orgadmins/roles/{account['id']}", data=data).status_code == 404
    assert health.get("/orgadmins/roles/abc").status_code == 404
    assert health.get("/orgadmins/roles/99999999999").status_code == 404
    restricted = app.test_client()
    first_sign_in(restricted, id_number, PASSWORD)
    assert restricted.post(f"/orgadmins/roles/{account['id']}", data=data).status_code in (302, 403)
    assert _account(app, id_number)["roles"] == [internal]


def test_a_new_super_admin_gets_every_permission(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    role_id, internal = _custom_role(app, health, "人员查询员", ["Person:read"])
    page = health.get("/orgadmins/add/register").get_data(as_text=True)
    id_number = _new_id(51)
    health.post("/orgadmins/add/register", data=form_data(page, "register-form") | {
        "id_number": [id_number], "real_name": ["韩新管"], "password": [PASSWORD], "conf_password": [PASSWORD],
        "roles": [str(role_id)]})
    account = _account(app, id_number)
    assert health.post(f"/orgadmins/super/{account['id']}").status_code == 302
    assert _account(app, id_number)["roles"] == sorted(["主管部门管理员", internal])


def test_the_employer_unit_wizard_offers_its_own_full_role(world, client_for):
    app = world
    page = client_for(HOSPITAL_ID).get("/orgadmins/add/register").get_data(as_text=True)
    data = form_data(page, "register-form")
    assert data["roles"] == [str(_role_id(app, "用人单位管理员"))]
    assert data["id_type"] == ["id_card"]
