"""审计日志: scoped to the viewer's subtree, filtered, paged, exported to Excel; super admins only."""
from __future__ import annotations

import datetime
import io
import re

import pytest

from app.actor import Actor
from openpyxl import load_workbook

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, first_sign_in, login
from tests.web.test_chinese_ui import english_words

HEADERS = ["时间", "操作人", "操作人身份证号", "操作", "对象类型", "对象编号", "变更前", "变更后", "备注", "IP地址"]


def _seed(app):
    """Audit rows in three subtrees, written as the services write them."""
    from app.extensions import db
    from app.models import Account, Organisation
    from app.services import audit

    with app.app_context():
        def org(name):
            return db.session.query(Organisation).filter_by(name=name).one()

        def actor(id_number):
            from app.actor import Actor

            return Actor.of(db.session.query(Account).filter_by(username=id_number).one())

        health, edu, hospital = org("湖北省卫生健康委员会"), org("湖北省教育厅"), org("湖北省人民医院")
        audit.record("update_basic_info", health, before={"contact_person": "甲老师"},
                     after={"contact_person": "乙老师"}, actor=actor(HEALTH_ID))
        audit.record("set_status", hospital, before={"status": "approved"}, after={"status": "disabled"},
                     actor=actor(HEALTH_ID))
        audit.record("update_basic_info", edu, before={"address": "教育路1号"}, after={"address": "教育路2号"},
                     actor=actor(EDU_ID))
        old = audit.record("disable_account", hospital, object_type="account", before={"active": True},
                           after={"active": False}, actor=actor(PROVINCE_ID))
        old.created_on = datetime.datetime(2024, 5, 1, 9, 30)
        db.session.commit()


def _rows(page):
    return re.findall(r"<tr>\s*<td class=\"text-nowrap\">(.*?)</tr>", page, re.S)


def test_audit_log_is_scoped_to_the_subtree(app, fresh_world, client_for):
    _seed(app)
    page = client_for(HEALTH_ID).get("/auditlog/list/").get_data(as_text=True)
    assert "乙老师" in page and "已禁用" in page                 # own department and a unit below
    assert "教育路2号" not in page                              # another department
    assert "李卫健" in page and HEALTH_ID in page              # actor name and ID number
    assert english_words(page) == set()
    edu = client_for(EDU_ID).get("/auditlog/list/").get_data(as_text=True)
    assert "教育路2号" in edu and "乙老师" not in edu
    hospital = client_for(HOSPITAL_ID).get("/auditlog/list/").get_data(as_text=True)
    assert "已禁用" in hospital and "乙老师" not in hospital       # a unit's super admin: its own rows
    everything = client_for(PROVINCE_ID).get("/auditlog/list/").get_data(as_text=True)
    assert "乙老师" in everything and "教育路2号" in everything


def test_filters_by_actor_action_and_date(app, fresh_world, client_for):
    _seed(app)
    client = client_for(PROVINCE_ID)
    by_id = client.get(f"/auditlog/list/?actor={EDU_ID}").get_data(as_text=True)
    assert "教育路2号" in by_id and "乙老师" not in by_id
    by_name = client.get("/auditlog/list/?actor=李卫").get_data(as_text=True)
    assert "乙老师" in by_name and "教育路2号" not in by_name
    by_action = client.get("/auditlog/list/?action=set_status").get_data(as_text=True)
    assert len(_rows(by_action)) == 1 and "已禁用" in by_action
    old = client.get("/auditlog/list/?date_from=2024-05-01&date_to=2024-05-01").get_data(as_text=True)
    assert len(_rows(old)) == 1 and "2024-05-01 09:30:00" in old
    none = client.get("/auditlog/list/?date_from=2024-05-02&date_to=2024-05-03").get_data(as_text=True)
    assert _rows(none) == [] and english_words(none) == set()
    bad = client.get("/auditlog/list/?date_from=yesterday").get_data(as_text=True)
    assert "日期" in bad


def test_pages_hold_at_most_100_rows(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog, Organisation
    from app.services import audit

    with app.app_context():
        health = db.session.query(Organisation).filter_by(name="湖北省卫生健康委员会").one()
        for i in range(130):
            audit.record("update_basic_info", health, after={"address": f"地址{i}"}, actor=Actor.system())
        db.session.commit()
        total = db.session.query(AuditLog).filter(AuditLog.org_path.like(health.path + "%")).count()
    pages = (total + 49) // 50
    client = client_for(HEALTH_ID)
    big = client.get("/auditlog/list/?psize=100000").get_data(as_text=True)
    assert len(_rows(big)) == 100
    first = client.get("/auditlog/list/").get_data(as_text=True)
    assert len(_rows(first)) == 50 and f"第 1 页，共 {pages} 页" in first and f"共 {total} 条记录" in first
    last = client.get(f"/auditlog/list/?page={pages - 1}").get_data(as_text=True)
    assert len(_rows(last)) == total - 50 * (pages - 1)


def test_export_to_excel_has_chinese_headers_and_scoped_rows(app, fresh_world, client_for):
    _seed(app)
    response = client_for(HEALTH_ID).get("/auditlog/export/?action=update_basic_info")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert len(rows) == 2   # header and the one HEALTH row of that action; EDU's is out of scope
    row = rows[1]
    assert row[1] == "李卫健" and row[2] == HEALTH_ID and row[3] == "修改基本信息" and row[4] == "机构"
    assert row[6] == "联系人：甲老师" and row[7] == "联系人：乙老师"


def test_export_of_everything_for_the_province(app, fresh_world, client_for):
    _seed(app)
    response = client_for(PROVINCE_ID).get("/auditlog/export/")
    rows = list(load_workbook(io.BytesIO(response.get_data()), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) - 1 >= 4
    assert any(r[7] == "地址：教育路2号" for r in rows[1:])


def test_non_super_admins_are_refused(app, fresh_world, client_for):
    from app.actor import Actor
    from app.services import org_admins
    from app.extensions import db
    from app.models import Account
    from app.validators import make_id_number

    id_number = make_id_number("420103", datetime.date(1990, 1, 2), 808)
    with app.app_context():
        actor = db.session.query(Account).filter_by(username=HEALTH_ID).one()
        org_admins.register_admin(Actor.of(actor), id_number=id_number, real_name="普通管理员", password="Plain2026x")
    client = app.test_client()
    first_sign_in(client, id_number, "Plain2026x")
    for url in ("/auditlog/list/", "/auditlog/export/"):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "超级管理员" in page and english_words(page) == set()


@pytest.mark.parametrize("id_number", [HEALTH_ID, PROVINCE_ID])
def test_audit_rows_of_account_management_read_in_chinese(app, fresh_world, client_for, id_number):
    """Rows the screens of this area write are labelled, not shown as raw codes."""
    from app.extensions import db
    from app.models import Organisation
    from app.validators import make_id_number

    client = client_for(HEALTH_ID)
    with app.app_context():
        hospital = db.session.query(Organisation.id).filter_by(name="湖北省人民医院").scalar()
        from app.models import Account

        unit_admin = db.session.query(Account.id).filter_by(username=HOSPITAL_ID).scalar()
    client.post(f"/subordinates/admins/{hospital}/active/{unit_admin}", data={"active": "0"})
    client.post(f"/subordinates/admins/{hospital}/reset/{unit_admin}")
    with app.app_context():
        from flask_appbuilder.security.sqla.models import Role

        full_role = db.session.query(Role.id).filter_by(name="主管部门管理员").scalar()
    response = client.post("/orgadmins/add/register", data={
        "id_type": "id_card", "id_number": make_id_number("420103", datetime.date(1991, 3, 4), 909),
        "real_name": "审计测", "password": "Audit2026x", "conf_password": "Audit2026x", "roles": [str(full_role)]})
    assert response.status_code == 302
    page = client_for(id_number).get("/auditlog/list/").get_data(as_text=True)
    rows = "".join(_rows(page))
    assert "禁用账号" in rows and "重置密码" in rows and "注册管理员" in rows
    assert "角色：主管部门管理员" in rows
    assert english_words(page) == set(), sorted(english_words(page))


def test_rows_of_other_areas_read_in_chinese(app, fresh_world, client_for):
    """Role changes, account grants and generic edits are labelled field by field."""
    from app.extensions import db
    from app.models import Account, Organisation
    from app.services import audit

    with app.app_context():
        health = db.session.query(Organisation).filter_by(name="湖北省卫生健康委员会").one()
        account = db.session.query(Account).filter_by(username=HEALTH_ID).one()
        audit.record("create", None, actor=Actor.system(), object_type="custom_role", object_id=1,
                     org_path_value=health.path,
                     after={"label": "审核员", "name": f"org{health.id}:审核员", "organisation_id": health.id,
                            "permissions": ["can_read Organisation", "can_write Person", "menu_access Organisations"]})
        audit.record("grant_role", account, actor=Actor.system(), object_type="account", after={"role": "审核员"},
                     comment="审核员")
        audit.record("update", health, actor=Actor.system(), before={"status": "approved", "type": "supervisory"},
                     after={"status": "disabled", "type": "supervisory"})
        db.session.commit()
        health_id = health.id
    page = client_for(HEALTH_ID).get("/auditlog/list/").get_data(as_text=True)
    assert "分配角色" in page and "角色名称：审核员" in page and "机构类型：主管部门" in page
    assert english_words(page) == set(), sorted(english_words(page))
    # the internal name (org<id>:审核员) exists only to keep FAB's role names unique: never shown
    assert f"org{health_id}:" not in page
    # permissions read as the role screen shows them, one screen per entry, no menu entries
    assert "机构档案（含下级主管部门）：查看" in page and "专技人员档案：维护" in page and "菜单：" not in page


def test_role_lists_of_accounts_read_as_people_named_the_roles(app, fresh_world, client_for):
    """Account edits store role ids, older rows internal names: both read as the names people gave."""
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db
    from app.models import Account, Organisation, OrganisationRole
    from app.services import audit
    from app.services.custom_roles import remove_role_rows

    with app.app_context():
        health = db.session.query(Organisation).filter_by(name="湖北省卫生健康委员会").one()
        custom = OrganisationRole(name=f"org{health.id}:注册审核员", label="注册审核员", organisation_id=health.id)
        db.session.add(custom)
        db.session.flush()
        full = db.session.query(Role).filter_by(name="主管部门管理员").one()
        account = db.session.query(Account).filter_by(username=HEALTH_ID).one()
        audit.record("update", account, actor=Actor.system(), object_type="ab_user",
                     before={"roles": [full.id]}, after={"roles": [full.id, custom.id]})
        audit.record("remove_admin", account, actor=Actor.system(), object_type="account",
                     before={"roles": [f"org{health.id}:注册审核员"]}, after={"roles": []})
        db.session.commit()
        custom_id, health_id = custom.id, health.id
    try:
        page = client_for(HEALTH_ID).get("/auditlog/list/").get_data(as_text=True)
        rows = "".join(_rows(page))
        assert "角色：主管部门管理员、注册审核员" in rows and "角色：注册审核员" in rows
        assert f"org{health_id}:" not in page
    finally:
        with app.app_context():
            remove_role_rows(custom_id)
            db.session.commit()
