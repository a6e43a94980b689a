"""角色管理 (manual 5.1.1.3.1) through the web client: own roles, own permissions, own admins.

Every escalation path of issue 3 item 4 is tried here and must change nothing.
"""
from __future__ import annotations

import datetime
import re

import pytest

from tests.conftest import DEMO_PASSWORD, EDU_ID, HEALTH_ID, PROVINCE_ID, WH_HEALTH_ID, api_token, login
from tests.web.test_chinese_ui import english_words

HEALTH = "湖北省卫生健康委员会"
EDU = "湖北省教育厅"
#: what a "personnel viewer" role grants: read personnel and see their menu
VIEW_PERSONS = [("can_read", "Person"), ("menu_access", "Subordinate organisations"), ("menu_access", "Persons")]
#: every role also carries the holder's own account and password change
OWN_ACCOUNT = [("can_self", "Account"), ("can_write", "ChangePassword")]
#: the picker's tick for the same: 专技人员档案：查看
READ_PERSONS = "Person:read"


# ------------------------------------------------------------------ helpers
@pytest.fixture()
def world(fresh_world):
    """fresh_world, and every custom role removed afterwards (SQLite does not cascade the wipe)."""
    yield fresh_world
    from app.extensions import db
    from app.models import OrganisationRole
    from app.services.custom_roles import remove_role_rows

    with fresh_world.app_context():
        db.session.rollback()
        for (role_id,) in db.session.query(OrganisationRole.id).filter(OrganisationRole.organisation_id.isnot(None)):
            remove_role_rows(role_id)
        db.session.commit()


def _pv(app, permission: str, view: str) -> int:
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, ViewMenu

    from app.extensions import db

    with app.app_context():
        pk = (db.session.query(PermissionView.id).join(Permission).join(ViewMenu)
              .filter(Permission.name == permission, ViewMenu.name == view).scalar())
    assert pk is not None, (permission, view)
    return pk


def _pvs(app, pairs) -> list[int]:
    return [_pv(app, p, v) for p, v in pairs]


def _org_id(app, name: str) -> int:
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation.id).filter(Organisation.name == name).scalar()


def _role(app, org_name: str, label: str):
    """(id, internal name, {(permission, view)}) of an organisation's custom role, or None."""
    from app.extensions import db
    from app.models import OrganisationRole

    with app.app_context():
        role = (db.session.query(OrganisationRole)
                .filter_by(organisation_id=_org_id(app, org_name), label=label).one_or_none())
        if role is None:
            return None
        return role.id, role.name, {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def _role_id_by_name(app, name: str) -> int:
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return db.session.query(Role.id).filter(Role.name == name).scalar()


def _role_count(app) -> int:
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return db.session.query(Role).count()


def _roles_of(app, id_number: str) -> set[str]:
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        db.session.expire_all()
        account = db.session.query(Account).filter_by(username=id_number).one()
        return {r.name for r in account.roles}


def _account_number(app, account_id: int) -> str:
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        return db.session.query(Account.username).filter_by(id=account_id).scalar()


def _account_id(app, id_number: str) -> int:
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        return db.session.query(Account.id).filter_by(username=id_number).scalar()


def _make_admin(app, org_name: str, seq: int, role_names=()) -> tuple[int, str]:
    """Another admin of the organisation, made the way the 新增管理员 service makes them."""
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db
    from app.models import Organisation, UserType
    from app.services.accounts import new_account
    from app.services.transaction import transaction
    from app.validators import make_id_number

    id_number = make_id_number("420106", datetime.date(1987, 7, 17), seq)
    with app.app_context():
        org = db.session.query(Organisation).filter_by(name=org_name).one()
        roles = [db.session.query(Role).filter_by(name=n).one() for n in role_names]
        with transaction():
            account = new_account(id_number=id_number, real_name=f"测试管理员{seq}", password=DEMO_PASSWORD,
                                  organisation=org, user_type=UserType.supervisory, roles=roles)
            db.session.add(account)
        return account.id, id_number


def _client(app, id_number: str):
    client = app.test_client()
    response = login(client, id_number, DEMO_PASSWORD, user_type="supervisory")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def _create(client, label: str, grants) -> object:
    return client.post("/customroles/add", data={"label": label, "grants": list(grants)})


def _offered(page: str) -> set[str]:
    """The ticks the permission picker offers ("Person:read", "Person:write", ...)."""
    picker = re.search(r'<div class="grant-picker".*?</div>', page, re.S).group(0)
    return set(re.findall(r'name="grants" value="([^"]+)"', picker))


def _grant_pvs(app, id_number: str) -> dict[str, set[int]]:
    from app.extensions import db
    from app.models import Account
    from app.services.custom_roles import offered_grants

    with app.app_context():
        actor = db.session.query(Account).filter_by(username=id_number).one()
        return {grant.token: set(grant.permission_ids) for grant in offered_grants(actor.id)}


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _denied(response) -> bool:
    """FAB refuses a missing permission by sending the user to the login page."""
    return response.status_code in (302, 403, 404) and (
        response.status_code != 302 or "/login" in response.headers["Location"])


def _audit_actions(app, object_type: str, object_id: int) -> list[str]:
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return [a for (a,) in db.session.query(AuditLog.action).filter_by(
            object_type=object_type, object_id=object_id).order_by(AuditLog.id)]


# ------------------------------------------------------------------ the feature
def _held(app, id_number: str) -> set[int]:
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        account = db.session.query(Account).filter_by(username=id_number).one()
        return {pv.id for role in account.roles for pv in role.permissions}


def test_offered_permissions_are_exactly_the_admins_own(app, client_for):
    page = client_for(HEALTH_ID).get("/customroles/add").get_data(as_text=True)
    offered = _offered(page)
    grants = _grant_pvs(app, HEALTH_ID)
    assert offered == set(grants)
    held = _held(app, HEALTH_ID)
    assert all(pvs <= held for pvs in grants.values())
    # together the ticks cover everything the admin holds, besides their own account
    assert set().union(*grants.values()) | set(_pvs(app, OWN_ACCOUNT)) == held
    assert {READ_PERSONS, "Person:write", "RegistrationReview:write"} <= offered
    assert "Role:write" not in offered and "ApiDocs:read" not in offered


def test_permissions_are_grouped_by_module_in_plain_words(app, client_for):
    page = client_for(HEALTH_ID).get("/customroles/add").get_data(as_text=True)
    picker = re.search(r'<div class="grant-picker".*?</div>', page, re.S).group(0)
    # the manual's modules and sub-modules head the groups, in the menu's order
    headings = re.findall(r'<h5 class="grant-module">([^<]+)</h5>', picker)
    assert headings[0] == "账户管理"
    captions = re.findall(r"<caption>([^<]+)</caption>", picker)
    assert captions[:2] == ["本级机构管理", "下属机构管理"]
    assert captions.index("注册审核管理") < captions.index("变更审核管理")
    # one row per screen, ticks in plain words; no raw permission entries
    assert re.search(r"<th[^>]*>专技人员档案</th>", picker)
    assert "查看" in picker and "维护" in picker and "审核" in picker
    for raw in ("菜单：", "：维护<", "审核接口：", "can_", "menu_access"):
        assert raw not in picker, raw
    assert len(re.findall(r"<tr>", picker)) < 30   # one row per screen (about 20), not every raw permission entry

def test_create_role_give_it_to_an_own_admin_and_their_access_changes(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    response = _create(health, "人员查询员", [READ_PERSONS])
    assert response.status_code == 302
    role_id, name, pairs = _role(app, HEALTH, "人员查询员")
    assert pairs == set(VIEW_PERSONS) | set(OWN_ACCOUNT)
    assert name == f"org{_org_id(app, HEALTH)}:人员查询员"
    listing = health.get("/customroles/list/").get_data(as_text=True)
    assert "人员查询员" in listing and "专技人员档案：查看" in listing
    assert name not in listing   # never the internal name

    # an admin who holds another role of the organisation only
    _create(health, "信息查看员", ["OwnOrganisation:read"])
    other_id, other_number = _make_admin(app, HEALTH, 931)
    health.post(f"/customroles/assign/{_role(app, HEALTH, '信息查看员')[0]}", data={"accounts": [str(other_id)]})
    other = _client(app, other_number)
    assert _denied(other.get("/persons/list/"))

    page = health.get(f"/customroles/assign/{role_id}").get_data(as_text=True)
    assert other_number in page and "人员查询员" in page
    response = health.post(f"/customroles/assign/{role_id}", data={"accounts": [str(other_id)]})
    assert response.status_code == 302
    assert name in _roles_of(app, other_number)

    # a role change ends the account's sessions (issue 8): the admin signs in again with the new role
    assert _denied(other.get("/persons/list/"))
    other = _client(app, other_number)
    assert other.get("/persons/list/").status_code == 200
    assert _denied(other.get("/persons/add"))           # read only: no 维护
    assert _denied(other.get("/customroles/list/"))     # and nothing else
    assert _denied(other.get("/organisations/list/"))
    assert _audit_actions(app, "custom_role", role_id) == ["create"]
    assert _audit_actions(app, "account", other_id) == ["grant_role", "grant_role"]

    # taking it back takes the access away again
    assert health.post(f"/customroles/assign/{role_id}", data={}).status_code == 302
    assert name not in _roles_of(app, other_number)
    assert _denied(other.get("/persons/list/"))
    assert _denied(_client(app, other_number).get("/persons/list/"))
    assert _audit_actions(app, "account", other_id) == ["grant_role", "grant_role", "revoke_role"]


def test_taking_back_an_admins_last_role_is_refused(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    _create(health, "人员查询员", [READ_PERSONS])
    role_id, name, _ = _role(app, HEALTH, "人员查询员")
    other_id, other_number = _make_admin(app, HEALTH, 937)
    health.post(f"/customroles/assign/{role_id}", data={"accounts": [str(other_id)]})
    page = health.post(f"/customroles/assign/{role_id}", data={}).get_data(as_text=True)
    assert "将没有任何角色" in page
    assert _roles_of(app, other_number) == {name}      # still an administrator, still this role


def test_roles_are_never_given_through_a_generic_account_form(world, client_for):
    """Issue 8, finding 1: FAB's account add / edit screens do not exist; roles go through 分配角色."""
    app = world
    other_id, _ = _make_admin(app, HEALTH, 932, role_names=["主管部门管理员"])
    for who in (HEALTH_ID, PROVINCE_ID):
        client = client_for(who)
        assert client.get(f"/users/edit/{other_id}").status_code == 404
        assert client.post(f"/users/edit/{other_id}", data={"roles": [], "active": ""}).status_code == 404
        assert client.get("/users/add").status_code == 404
    assert _roles_of(app, _account_number(app, other_id)) == {"主管部门管理员"}


def test_edit_and_delete_own_role(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    _create(health, "人员查询员", [READ_PERSONS])
    role_id, _, _ = _role(app, HEALTH, "人员查询员")

    page = health.get(f"/customroles/edit/{role_id}").get_data(as_text=True)
    assert 'value="人员查询员"' in page
    assert re.search(r'value="Person:read"[^>]*checked', page)          # the role's ticks are shown
    assert not re.search(r'value="Person:write"[^>]*checked', page)
    wanted = VIEW_PERSONS + [("can_write", "Person")]
    response = health.post(f"/customroles/edit/{role_id}", data={"label": "人员维护员", "grants": ["Person:write"]})
    assert response.status_code == 302
    assert _role(app, HEALTH, "人员查询员") is None
    new_id, name, pairs = _role(app, HEALTH, "人员维护员")
    assert new_id == role_id and pairs == set(wanted) | set(OWN_ACCOUNT) and name.endswith(":人员维护员")

    # a role still given to someone is not deleted
    other_id, _ = _make_admin(app, HEALTH, 933, role_names=["主管部门管理员"])
    health.post(f"/customroles/assign/{role_id}", data={"accounts": [str(other_id)]})
    page = health.post(f"/customroles/delete/{role_id}", follow_redirects=True).get_data(as_text=True)
    assert "请先" in page and _role(app, HEALTH, "人员维护员") is not None
    health.post(f"/customroles/assign/{role_id}", data={})
    assert health.post(f"/customroles/delete/{role_id}").status_code == 302
    assert _role(app, HEALTH, "人员维护员") is None
    assert _audit_actions(app, "custom_role", role_id) == ["create", "update", "delete"]


def test_same_role_name_in_two_organisations(world, client_for):
    app = world
    health, edu = client_for(HEALTH_ID), client_for(EDU_ID)
    assert _create(health, "审核员", [READ_PERSONS]).status_code == 302
    assert _create(edu, "审核员", [READ_PERSONS]).status_code == 302
    health_role, edu_role = _role(app, HEALTH, "审核员"), _role(app, EDU, "审核员")
    assert health_role[0] != edu_role[0] and health_role[1] != edu_role[1]

    # each sees its own only
    health_list = health.get("/customroles/list/").get_data(as_text=True)
    assert f"/customroles/show/{health_role[0]}" in health_list
    assert f"/customroles/show/{edu_role[0]}" not in health_list

    # but twice in one organisation is refused next to the field, nothing saved
    before = _role_count(app)
    page = _create(health, "审核员", [READ_PERSONS]).get_data(as_text=True)
    assert "已有同名角色" in page
    assert _role_count(app) == before


def test_another_organisations_role_answers_404_everywhere(world, client_for):
    app = world
    _create(client_for(HEALTH_ID), "人员查询员", [READ_PERSONS])
    role_id, name, pairs = _role(app, HEALTH, "人员查询员")
    for id_number in (EDU_ID, WH_HEALTH_ID):  # another department, and a child of the owner
        client = client_for(id_number)
        for url in (f"/customroles/show/{role_id}", f"/customroles/edit/{role_id}",
                    f"/customroles/assign/{role_id}"):
            assert client.get(url).status_code == 404, (id_number, url)
        assert client.post(f"/customroles/edit/{role_id}", data={
            "label": "改名", "grants": [READ_PERSONS]}).status_code == 404
        assert client.post(f"/customroles/delete/{role_id}").status_code == 404
        assert client.post(f"/customroles/assign/{role_id}", data={
            "accounts": [str(_account_id(app, id_number))]}).status_code == 404
        assert f"/customroles/show/{role_id}" not in client.get("/customroles/list/").get_data(as_text=True)
    assert _role(app, HEALTH, "人员查询员") == (role_id, name, pairs)
    assert name not in _roles_of(app, EDU_ID)


# ------------------------------------------------------------------ escalation paths
def test_posting_a_permission_that_was_not_offered_is_refused(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    before = _role_count(app)
    for extra in ("Role:write", "ApiDocs:read", "Nothing:read", str(_pv(app, "can_write", "Role")), ""):
        response = _create(health, "越权角色", [READ_PERSONS, extra])
        assert response.status_code == 200
        assert "无效的选项" in response.get_data(as_text=True)
    assert _role_count(app) == before

    # nor by editing an existing role
    _create(health, "人员查询员", [READ_PERSONS])
    role_id, name, pairs = _role(app, HEALTH, "人员查询员")
    response = health.post(f"/customroles/edit/{role_id}", data={
        "label": "人员查询员", "grants": [READ_PERSONS, "Role:write"]})
    assert response.status_code == 200
    assert _role(app, HEALTH, "人员查询员") == (role_id, name, pairs)


def test_copy_role_is_for_the_province_only(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    _create(health, "人员查询员", [READ_PERSONS])
    own_id = _role(app, HEALTH, "人员查询员")[0]
    province_role = _role_id_by_name(app, "省级管理员")
    before = _role_count(app)
    for rowid in (province_role, own_id):
        response = health.post("/roles/action_post", data={"action": "copyrole", "rowid": [str(rowid)]})
        assert response.status_code in (403, 404)      # refused outright: a 403 page, nothing changed
    # the custom-roles screen has no copy action either
    response = health.post("/customroles/action_post", data={"action": "copyrole", "rowid": [str(own_id)]})
    assert response.status_code == 404
    assert _role_count(app) == before

    # the path is real: the province can copy
    province = client_for(PROVINCE_ID)
    response = province.post("/roles/action_post", data={"action": "copyrole", "rowid": [str(province_role)]})
    assert response.status_code == 302
    assert _role_count(app) == before + 1
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        db.session.query(Role).filter(Role.name == "省级管理员 copy").delete()
        db.session.commit()


@pytest.mark.parametrize("name", ["省级管理员", "主管部门管理员", "用人单位管理员", "继教基地管理员", "专技人员", "公共访问"])
def test_built_in_roles_answer_404_on_the_custom_role_screens(world, client_for, name):
    app = world
    role_id = _role_id_by_name(app, name)
    health = client_for(HEALTH_ID)
    for url in (f"/customroles/show/{role_id}", f"/customroles/edit/{role_id}", f"/customroles/assign/{role_id}"):
        assert health.get(url).status_code == 404, url
    assert health.post(f"/customroles/edit/{role_id}",
                       data={"label": name, "grants": [READ_PERSONS]}).status_code == 404
    assert health.post(f"/customroles/delete/{role_id}").status_code == 404
    assert health.post(f"/customroles/assign/{role_id}",
                       data={"accounts": [str(_account_id(app, HEALTH_ID))]}).status_code == 404
    assert _role_id_by_name(app, name) == role_id
    assert f"/customroles/show/{role_id}" not in health.get("/customroles/list/").get_data(as_text=True)


def test_assign_never_grants_a_role_of_another_organisation(world, client_for):
    app = world
    health, edu = client_for(HEALTH_ID), client_for(EDU_ID)
    other_id, other_number = _make_admin(app, HEALTH, 934, role_names=["主管部门管理员"])
    _create(edu, "教育厅审核员", [READ_PERSONS])
    edu_role = _role(app, EDU, "教育厅审核员")[0]
    # nor through 分配角色: an EDU role is not HEALTH's, an EDU admin is not HEALTH's admin
    assert health.post(f"/customroles/assign/{edu_role}", data={"accounts": [str(other_id)]}).status_code == 404
    _create(health, "人员查询员", [READ_PERSONS])
    own_role = _role(app, HEALTH, "人员查询员")
    page = health.post(f"/customroles/assign/{own_role[0]}",
                       data={"accounts": [str(_account_id(app, EDU_ID))]}).get_data(as_text=True)
    assert "无效的选项" in page
    assert own_role[1] not in _roles_of(app, EDU_ID)


def test_a_limited_admin_cannot_reach_a_wider_role_of_their_organisation(world, client_for):
    """An admin who manages roles and accounts with fewer permissions than the super admin
    cannot hand themselves (or edit, or delete) a role that grants more than they hold."""
    app = world
    health = client_for(HEALTH_ID)
    manager_grants = ["CustomRole:write", "Account:write"]
    _create(health, "角色管理员", manager_grants)
    _create(health, "人员维护员", ["Person:write"])
    manager_role, manager_name, _ = _role(app, HEALTH, "角色管理员")
    wide_role, wide_name, wide_pairs = _role(app, HEALTH, "人员维护员")
    limited_id, limited_number = _make_admin(app, HEALTH, 935)
    health.post(f"/customroles/assign/{manager_role}", data={"accounts": [str(limited_id)]})
    limited = _client(app, limited_number)

    page = limited.get("/customroles/add").get_data(as_text=True)
    assert _offered(page) == {"CustomRole:read", "CustomRole:write", "Account:read", "Account:write"}
    assert limited.get(f"/users/edit/{limited_id}").status_code == 404

    for response in (
        limited.post(f"/customroles/assign/{wide_role}", data={"accounts": [str(limited_id)]},
                     follow_redirects=True),
        limited.post(f"/customroles/edit/{wide_role}", data={"label": "人员维护员", "grants": manager_grants},
                     follow_redirects=True),
        limited.post(f"/customroles/delete/{wide_role}", follow_redirects=True),
    ):
        assert "您自己不具备的权限" in response.get_data(as_text=True)
    assert _roles_of(app, limited_number) == {manager_name}
    assert _role(app, HEALTH, "人员维护员") == (wide_role, wide_name, wide_pairs)


def test_there_is_no_rest_endpoint_for_roles(app, api_for):
    headers = api_for(PROVINCE_ID)
    for url in ("/api/v1/role/", "/api/v1/roles/", "/api/v1/customrole/", "/api/v1/security/roles/"):
        assert app.test_client().get(url, headers=headers).status_code == 404, url
    client = app.test_client()
    token = api_token(client, HEALTH_ID)
    response = client.post("/api/v1/role/", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


# ------------------------------------------------------------------ Chinese everywhere
def test_custom_role_pages_are_chinese(world, client_for):
    app = world
    health = client_for(HEALTH_ID)
    _create(health, "人员查询员", [READ_PERSONS])
    role_id = _role(app, HEALTH, "人员查询员")[0]
    for url in ("/customroles/list/", "/customroles/add", f"/customroles/edit/{role_id}",
                f"/customroles/show/{role_id}", f"/customroles/assign/{role_id}"):
        response = health.get(url)
        assert response.status_code == 200, url
        assert english_words(response.get_data(as_text=True)) == set(), url
    for response in (_create(health, "", []), _create(health, "人员查询员", [READ_PERSONS]),
                     _create(health, "x" * 41, [READ_PERSONS])):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert english_words(page) == set(), sorted(english_words(page))
    page = health.get("/").get_data(as_text=True)
    assert "/customroles/list/" in page  # in the 账户管理 menu
