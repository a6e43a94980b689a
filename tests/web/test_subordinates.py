"""下属机构管理 (manual 5.1.2): units and bases of the subtree, their admins, 禁用/启用, 重置密码."""
from __future__ import annotations

import re

import pytest

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, login
from tests.web.test_chinese_ui import english_words

HOSPITAL = "湖北省人民医院"
HEALTH_BASE = "湖北省卫生人才继续教育基地"


def _org_id(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation.id).filter_by(name=name).scalar()


def _account(app, id_number):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        account = db.session.query(Account).filter(Account.username == id_number).one()
        return {"id": account.id, "active": account.active, "must_change": account.must_change_password,
                "password": account.password}


def _names(app, page):
    """Names of the organisations listed (one 管理员信息 link per row)."""
    from app.extensions import db
    from app.models import Organisation

    ids = [int(pk) for pk in re.findall(r"/subordinates/admins/(\d+)", page)]
    with app.app_context():
        return {name for (name,) in db.session.query(Organisation.name).filter(Organisation.id.in_(ids))}


def _in_subtree(app, root_name, org_type):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        root = db.session.query(Organisation).filter_by(name=root_name).one()
        return {o.name for o in db.session.query(Organisation).filter(Organisation.path.like(root.path + "%"))
                if o.type.value == org_type}


# ---------------------------------------------------------------- list, filters, details
def test_list_shows_units_and_bases_of_the_subtree_only(app, client_for):
    response = client_for(HEALTH_ID).get("/subordinates/list/?psize_SubordinateView=100")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    names = _names(app, page)
    assert {HOSPITAL, HEALTH_BASE, "武汉市第一医院", "华中科技大学同济医学院附属协和医院"} <= names
    assert "武汉大学" not in page and "湖北省教育干部继续教育基地" not in page      # another department
    assert "武汉市卫生健康委员会" not in names and "湖北省卫生健康委员会" not in names  # departments are not listed
    assert "管理员信息" in page
    assert english_words(page) == set()


def test_child_department_sees_only_its_own_units(app, client_for):
    page = client_for(WH_HEALTH_ID).get("/subordinates/list/").get_data(as_text=True)
    assert "武汉市第一医院" in page and HOSPITAL not in page


def test_filters_by_type_status_name_and_region(app, client_for):
    client = client_for(HEALTH_ID)
    bases = _names(app, client.get("/subordinates/list/?_flt_0_type=training_base").get_data(as_text=True))
    assert HEALTH_BASE in bases and bases == _in_subtree(app, "湖北省卫生健康委员会", "training_base")
    by_name = _names(app, client.get("/subordinates/list/?_flt_2_name=人民").get_data(as_text=True))
    assert by_name == {HOSPITAL}
    approved = client.get("/subordinates/list/?_flt_0_status=approved&psize_SubordinateView=100").get_data(as_text=True)
    assert HOSPITAL in approved
    assert _names(app, client.get("/subordinates/list/?_flt_0_status=rejected").get_data(as_text=True)) == set()
    region = _names(app, client.get("/subordinates/list/?_flt_2_region=武汉市&psize_SubordinateView=100")
                    .get_data(as_text=True))
    assert HOSPITAL in region


def test_details_and_admin_information_pages(app, client_for):
    pk = _org_id(app, HOSPITAL)
    client = client_for(HEALTH_ID)
    show = client.get(f"/subordinates/show/{pk}")
    assert show.status_code == 200
    assert HOSPITAL in show.get_data(as_text=True) and english_words(show.get_data(as_text=True)) == set()
    admins = client.get(f"/subordinates/admins/{pk}")
    page = admins.get_data(as_text=True)
    assert admins.status_code == 200
    assert "陈医院" in page and HOSPITAL_ID in page and "重置密码" in page and "禁用" in page
    assert english_words(page) == set()


@pytest.mark.parametrize("url", ["/subordinates/show/{pk}", "/subordinates/admins/{pk}"])
def test_out_of_scope_units_are_404(app, client_for, url):
    hospital = _org_id(app, HOSPITAL)
    assert client_for(EDU_ID).get(url.format(pk=hospital)).status_code == 404
    assert client_for(WH_HEALTH_ID).get(url.format(pk=hospital)).status_code == 404   # attached to the parent
    # a department below is not listed as a unit, but its administrators are reachable (its record links here)
    department = client_for(HEALTH_ID).get(url.format(pk=_org_id(app, "武汉市卫生健康委员会"))).status_code
    assert department == (404 if "/show/" in url else 200)
    # the own organisation is never "below"
    assert client_for(HEALTH_ID).get(url.format(pk=_org_id(app, "湖北省卫生健康委员会"))).status_code == 404
    assert client_for(HEALTH_ID).get(url.format(pk="x")).status_code == 404


def test_out_of_scope_operations_are_404_and_change_nothing(app, client_for):
    hospital, base = _org_id(app, HOSPITAL), _org_id(app, HEALTH_BASE)
    account = _account(app, HOSPITAL_ID)
    edu = client_for(EDU_ID)
    assert edu.post(f"/subordinates/admins/{hospital}/active/{account['id']}", data={"active": "0"}).status_code == 404
    assert edu.post(f"/subordinates/admins/{hospital}/reset/{account['id']}").status_code == 404
    health = client_for(HEALTH_ID)
    # an account of another unit under a unit id in scope
    assert health.post(f"/subordinates/admins/{base}/reset/{account['id']}").status_code == 404
    # a child department cannot act upwards on its parent's admins
    health_admin = _account(app, HEALTH_ID)
    health_org = _org_id(app, "湖北省卫生健康委员会")
    assert client_for(WH_HEALTH_ID).post(f"/subordinates/admins/{health_org}/active/{health_admin['id']}",
                                         data={"active": "0"}).status_code == 404
    assert _account(app, HOSPITAL_ID) == account
    assert _account(app, HEALTH_ID) == health_admin


def test_units_without_the_area_cannot_open_it(app, client_for):
    response = client_for(HOSPITAL_ID).get("/subordinates/list/")
    assert response.status_code in (302, 403)


# ---------------------------------------------------------------- 禁用 / 启用
def test_disable_and_enable_an_admin_and_login_follows(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog

    hospital = _org_id(app, HOSPITAL)
    account = _account(app, HOSPITAL_ID)
    client = client_for(HEALTH_ID)
    response = client.post(f"/subordinates/admins/{hospital}/active/{account['id']}", data={"active": "0"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert _account(app, HOSPITAL_ID)["active"] is False
    assert english_words(response.get_data(as_text=True)) == set()
    # refused on the web and on the API
    web = app.test_client()
    assert "/login" in login(web, HOSPITAL_ID).headers["Location"]
    assert "禁用" in web.get("/login/").get_data(as_text=True)
    api = web.post("/api/v1/security/login", json={"username": HOSPITAL_ID, "password": "Demo@2026",
                                                   "provider": "db"})
    assert api.status_code == 401
    # disabling twice says so and changes nothing
    again = client.post(f"/subordinates/admins/{hospital}/active/{account['id']}", data={"active": "0"},
                        follow_redirects=True).get_data(as_text=True)
    assert "已是禁用" in again or "已禁用" in again
    client.post(f"/subordinates/admins/{hospital}/active/{account['id']}", data={"active": "1"})
    assert _account(app, HOSPITAL_ID)["active"] is True
    assert "/login" not in login(app.test_client(), HOSPITAL_ID).headers["Location"]
    with app.app_context():
        actions = [r.action for r in db.session.query(AuditLog).filter_by(
            object_type="account", object_id=account["id"]).order_by(AuditLog.id)]
    assert actions == ["disable_account", "enable_account"]


def test_a_logged_in_admin_is_signed_out_once_disabled(app, fresh_world, client_for):
    hospital = _org_id(app, HOSPITAL)
    unit = client_for(HOSPITAL_ID)
    client_for(HEALTH_ID).post(f"/subordinates/admins/{hospital}/active/{_account(app, HOSPITAL_ID)['id']}",
                               data={"active": "0"})
    response = unit.get("/persons/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- 重置密码
def test_reset_password_shows_a_generated_password_once_and_forces_a_change(app, fresh_world, client_for):
    base = _org_id(app, HEALTH_BASE)
    before = _account(app, BASE_ID)
    client = client_for(HEALTH_ID)
    response = client.post(f"/subordinates/admins/{base}/reset/{before['id']}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert english_words(page) == set()
    password = re.search(r'id="new-password"[^>]*>([^<]+)<', page).group(1)
    assert re.fullmatch(r"[A-Za-z0-9]{10}", password)
    assert re.search("[A-Za-z]", password) and re.search("[0-9]", password)
    after = _account(app, BASE_ID)
    assert after["must_change"] is True and after["password"] != before["password"]
    assert password not in after["password"]
    # shown once: the admin list never shows it again
    assert password not in client.get(f"/subordinates/admins/{base}").get_data(as_text=True)
    # the old password no longer works; the new one must be changed at once
    assert "/login" in login(app.test_client(), BASE_ID).headers["Location"]
    user = app.test_client()
    assert "/login" not in login(user, BASE_ID, password=password).headers["Location"]
    home = user.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/resetmypassword/form")
    # the page says why: an administrator reset the password
    reason = user.get(home.headers["Location"]).get_data(as_text=True)
    assert "管理员已重置您的密码" in reason and "新密码" in reason
    assert user.get("/persons/list/").headers["Location"].endswith("/resetmypassword/form")
    changed = user.post("/resetmypassword/form", data={"old_password": password, "password": "Fresh2026x",
                                                       "conf_password": "Fresh2026x"})
    assert changed.status_code == 302
    assert _account(app, BASE_ID)["must_change"] is False
    assert user.get("/").status_code == 200


def test_reset_passwords_differ(app, fresh_world, client_for):
    base = _org_id(app, HEALTH_BASE)
    account = _account(app, BASE_ID)
    client = client_for(PROVINCE_ID)
    seen = set()
    for _ in range(3):
        page = client.post(f"/subordinates/admins/{base}/reset/{account['id']}").get_data(as_text=True)
        seen.add(re.search(r'id="new-password"[^>]*>([^<]+)<', page).group(1))
    assert len(seen) == 3


def test_admins_of_a_unit_not_yet_approved_cannot_be_enabled(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account, Organisation, OrganisationStatus

    hospital = _org_id(app, HOSPITAL)
    with app.app_context():
        db.session.get(Organisation, hospital).status = OrganisationStatus.pending
        db.session.query(Account).filter_by(username=HOSPITAL_ID).one().active = False
        db.session.commit()
    account = _account(app, HOSPITAL_ID)
    page = client_for(HEALTH_ID).post(f"/subordinates/admins/{hospital}/active/{account['id']}",
                                      data={"active": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "尚未审核通过" in page
    assert _account(app, HOSPITAL_ID)["active"] is False


def test_a_parent_department_gives_a_subordinate_departments_admin_a_one_time_password(app, fresh_world, client_for):
    """A department admin who forgot the password is helped by a department above, never by anyone else."""
    from app.extensions import db
    from app.models import Account, Organisation

    with app.app_context():
        wh = db.session.query(Organisation).filter_by(name="武汉市卫生健康委员会").one().id
        health = db.session.query(Organisation).filter_by(name="湖北省卫生健康委员会").one().id
        admin = db.session.query(Account).filter_by(username=WH_HEALTH_ID).one().id
        health_admin = db.session.query(Account).filter_by(username=HEALTH_ID).one().id
    parent = client_for(HEALTH_ID)
    page = parent.get(f"/organisations/show/{wh}").get_data(as_text=True)
    assert f"/subordinates/admins/{wh}" in page
    assert WH_HEALTH_ID in parent.get(f"/subordinates/admins/{wh}").get_data(as_text=True)
    # another department, the child itself (upwards), the own organisation: 404
    assert client_for(EDU_ID).post(f"/subordinates/admins/{wh}/reset/{admin}").status_code == 404
    assert client_for(WH_HEALTH_ID).post(f"/subordinates/admins/{health}/reset/{health_admin}").status_code == 404
    assert parent.post(f"/subordinates/admins/{health}/reset/{health_admin}").status_code == 404
    page = parent.post(f"/subordinates/admins/{wh}/reset/{admin}").get_data(as_text=True)
    assert 'id="new-password"' in page
    with app.app_context():
        assert db.session.get(Account, admin).must_change_password is True
    # the province sees no such link on its own record
    own = client_for(HEALTH_ID).get(f"/organisations/show/{health}").get_data(as_text=True)
    assert "department-admins" not in own
