"""Public registration of personnel, employer units and training bases, and the progress query."""
from __future__ import annotations

import datetime
import re

import pytest
from sqlalchemy import func, select

from app.validators import make_id_number, make_uscc
from tests.conftest import EDU_ID, HEALTH_ID, login, org_id
from tests.web.test_chinese_ui import english_words

PASSWORD = "Register2026"
#: a district no demo ID number uses, so these numbers are new
REGION = "420115"


def new_id_number(seq: int) -> str:
    return make_id_number(REGION, datetime.date(1990, 5, 17), seq)


def reference_ids(app) -> tuple[int, int, int]:
    """(title series id, title level id, another level id)."""
    from app.extensions import db
    from app.models import TitleLevel, TitleSeries

    with app.app_context():
        series = db.session.scalar(select(TitleSeries.id).where(TitleSeries.name == "卫生技术人员"))
        levels = list(db.session.scalars(select(TitleLevel.id).order_by(TitleLevel.sort_order)))
        return series, levels[2], levels[1]


def department_id(app, employer: str, name: str) -> int:
    from app.extensions import db
    from app.models import InternalDepartment, Organisation

    with app.app_context():
        return db.session.scalar(
            select(InternalDepartment.id).join(Organisation)
            .where(Organisation.name == employer, InternalDepartment.name == name))


def person_form(app, seq: int = 1, **changes) -> dict:
    series, level, _ = reference_ids(app)
    with app.app_context():
        employer = org_id("湖北省人民医院")
    data = {
        "id_number": new_id_number(seq), "name": "欧阳测试", "phone": "13800138000", "education": "bachelor",
        "employer_id": employer, "internal_department_id": department_id(app, "湖北省人民医院", "内科"),
        "title_series_id": series, "title_level_id": level, "title_name": "主治医师",
        "title_date": "2018-07-01", "password": PASSWORD, "conf_password": PASSWORD,
    }
    data.update(changes)
    return data


def org_form(app, name: str, uscc_body: str = "12420100MB765432", **changes) -> dict:
    with app.app_context():
        parent = org_id("湖北省卫生健康委员会")
    data = {
        "name": name, "uscc": make_uscc(uscc_body + "1"), "parent_id": parent, "region": "湖北省武汉市",
        "contact_person": "钱老师", "phone": "13911112222", "address": "武汉市洪山区珞喻路1号",
        "admin_id_number": new_id_number(900), "admin_name": "钱管理", "admin_phone": "13933334444",
        "password": PASSWORD, "conf_password": PASSWORD,
    }
    data.update(changes)
    return data


def register_person(app, seq: int = 1, **changes) -> tuple[int, int]:
    """Register through the public page; returns (person id, request id)."""
    from app.extensions import db
    from app.models import Person, ReviewKind, ReviewRequest, ReviewStatus

    data = person_form(app, seq, **changes)
    response = app.test_client().post("/register/person", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.id_number == data["id_number"]))
        request_id = db.session.scalar(
            select(ReviewRequest.id).where(ReviewRequest.kind == ReviewKind.person_registration,
                                           ReviewRequest.subject_id == person.id,
                                           ReviewRequest.status == ReviewStatus.pending))
        return person.id, request_id


def progress_client(app, id_number: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/register/progress", data={"id_number": id_number, "password": password})
    assert response.status_code == 302
    return client


def request_state(app, request_id: int):
    from app.extensions import db
    from app.models import ReviewRequest

    with app.app_context():
        db.session.expire_all()
        item = db.session.get(ReviewRequest, request_id)
        return item.status.value, item.reject_reason


def reject(client, kind: str, request_id: int, reason: str):
    response = client.post(f"/review/{kind}/reject", data={"ids": str(request_id), "reason": reason})
    assert response.status_code == 302


def approve(client, kind: str, request_id: int):
    response = client.post(f"/review/{kind}/action_post", data={"action": "approve", "rowid": [request_id]})
    assert response.status_code == 302


def count_persons(app, id_number: str) -> int:
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person).where(Person.id_number == id_number))


def count_orgs(app, name: str) -> int:
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == name))


# ------------------------------------------------------------------------------------ pages
@pytest.mark.parametrize("url", ["/register/person", "/register/unit", "/register/base", "/register/progress"])
def test_public_pages_render_in_chinese_without_login(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 200
    assert english_words(response.get_data(as_text=True)) == set()


def test_login_page_links_to_every_public_page(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    for url, label in [("/register/person", "专技人员注册"), ("/register/unit", "用人单位注册"),
                       ("/register/base", "继续教育基地注册"), ("/register/progress", "注册审核进度查询")]:
        assert f'href="{url}"' in page and label in page
    assert english_words(page) == set()


def test_person_page_marks_required_fields_and_searches_employers_as_you_type(app):
    page = app.test_client().get("/register/person").get_data(as_text=True)
    assert page.count('class="text-danger">*') == 9
    assert 'data-url="/register/employers"' in page
    assert 'data-departments-url="/register/departments"' in page
    assert "<option" not in page.split('id="employer_id"')[1].split("</select>")[0]
    assert "卫生技术人员" in page and "正高级" in page and "大学本科" in page


# ------------------------------------------------------------------------------------ lookups
def test_employer_lookup_returns_at_most_twenty_approved_employer_units(app, fresh_world):
    from app.extensions import db
    from app.models import Organisation, OrganisationStatus, OrganisationType
    from app.services.transaction import transaction

    with app.app_context():
        parent = db.session.get(Organisation, org_id("湖北省卫生健康委员会"))
        with transaction():
            for i in range(25):
                org = Organisation(type=OrganisationType.employer, name=f"查找测试单位{i:02d}",
                                   status=OrganisationStatus.approved)
                db.session.add(org)
                db.session.flush()
                org.place_under(parent)
    client = app.test_client()
    results = client.get("/register/employers?q=查找测试").json["results"]
    assert len(results) == 20
    assert all(set(row) == {"id", "text"} and row["text"].startswith("查找测试单位") for row in results)
    names = [row["text"] for row in client.get("/register/employers?q=湖北省").json["results"]]
    assert "湖北省人民医院" in names
    assert "湖北省卫生健康委员会" not in names         # a department, not an employer
    assert "湖北省卫生人才继续教育基地" not in names     # a training base
    assert "武汉市第三医院" not in [row["text"] for row in client.get("/register/employers?q=第三").json["results"]]
    assert len(client.get("/register/employers").json["results"]) <= 20


def test_department_lookup_lists_the_departments_of_an_approved_employer_only(app):
    client = app.test_client()
    with app.app_context():
        hospital, health = org_id("湖北省人民医院"), org_id("湖北省卫生健康委员会")
    names = {row["text"] for row in client.get(f"/register/departments?employer_id={hospital}").json["results"]}
    assert names == {"内科", "外科", "护理部", "医务处"}
    assert client.get(f"/register/departments?employer_id={health}").json["results"] == []
    assert client.get("/register/departments?employer_id=abc").json["results"] == []


# ------------------------------------------------------------------------------------ personnel
def test_person_registration_creates_pending_person_inactive_account_and_request(app, fresh_world):
    from app.extensions import db
    from app.models import Account, Person, ReviewKind, ReviewRequest

    person_id, request_id = register_person(app)
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.status.value == "pending" and person.name == "欧阳测试"
        assert person.employer.name == "湖北省人民医院" and person.internal_department.name == "内科"
        assert person.title_series.name == "卫生技术人员" and person.title_date == datetime.date(2018, 7, 1)
        assert person.education.value == "bachelor" and person.gender.value == "male"
        account = db.session.get(Account, person.account_id)
        assert not account.active and account.user_type.value == "personnel"
        item = db.session.get(ReviewRequest, request_id)
        assert item.kind == ReviewKind.person_registration and item.submitted_by_id == account.id
        assert item.org_id == person.employer_id
    response = login(app.test_client(), person_form(app)["id_number"], PASSWORD, "personnel")
    assert "/login" in response.headers["Location"]


def test_bad_id_number_is_reported_in_chinese_and_typed_values_stay(app):
    data = person_form(app, id_number="420115199005170013")
    response = app.test_client().post("/register/person", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "身份证号校验位错误" in page
    assert 'value="欧阳测试"' in page and 'value="13800138000"' in page
    assert "湖北省人民医院" in page.split('id="employer_id"')[1].split("</select>")[0]
    assert " selected>内科</option>" in page
    assert count_persons(app, data["id_number"]) == 0


def test_weak_password_and_missing_employer_are_refused_with_chinese_messages(app):
    data = person_form(app, 2, password="abc", conf_password="abc", employer_id="")
    page = app.test_client().post("/register/person", data=data).get_data(as_text=True)
    assert "密码至少8位" in page and "请选择工作单位" in page
    assert count_persons(app, data["id_number"]) == 0


def test_department_of_another_employer_is_refused(app):
    data = person_form(app, 3, internal_department_id=department_id(app, "武汉大学", "医学部"))
    page = app.test_client().post("/register/person", data=data).get_data(as_text=True)
    assert "所选内设部门不属于该用人单位" in page
    assert count_persons(app, data["id_number"]) == 0


def test_an_existing_person_cannot_register_again(app):
    from app.extensions import db
    from app.models import Person, PersonStatus

    with app.app_context():
        existing = db.session.scalar(select(Person.id_number).where(Person.status == PersonStatus.active).limit(1))
    page = app.test_client().post("/register/person", data=person_form(app, id_number=existing)).get_data(as_text=True)
    assert "该身份证号的人员已存在" in page


# ------------------------------------------------------------------------------------ organisations
@pytest.mark.parametrize("page, org_type, kind, user_type", [
    ("unit", "employer", "unit_registration", "employer"),
    ("base", "training_base", "base_registration", "training_base"),
])
def test_organisation_registration_creates_pending_organisation_and_inactive_super_admin(
        app, fresh_world, page, org_type, kind, user_type):
    from app.extensions import db
    from app.models import Account, Organisation, ReviewRequest

    name = f"注册测试{org_type}机构"
    response = app.test_client().post(f"/register/{page}", data=org_form(app, name))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        assert org.type.value == org_type and org.status.value == "pending"
        assert org.parent.name == "湖北省卫生健康委员会" and org.path.endswith(f"/{org.id}/")
        admin = db.session.scalar(select(Account).where(Account.organisation_id == org.id))
        assert admin.is_super_admin and not admin.active and admin.user_type.value == user_type
        item = db.session.scalar(select(ReviewRequest).where(ReviewRequest.subject_id == org.id,
                                                             ReviewRequest.kind == kind))
        assert item.status.value == "pending" and item.submitted_by_id == admin.id
    assert "/login" in login(app.test_client(), new_id_number(900), PASSWORD, user_type).headers["Location"]


@pytest.mark.parametrize("url, own, admin", [
    ("/register/unit", "单位信息", "管理员（注册后为本单位超级管理员）"),
    ("/register/base", "继续教育基地信息", "管理员（注册后为本基地超级管理员）"),
])
def test_registration_form_heads_the_applicants_own_details(app, url, own, admin):
    page = app.test_client().get(url).get_data(as_text=True)
    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    assert legends == [own, admin]
    assert "所属机构" not in page and "本部门超级管理员" not in page


def test_bad_uscc_is_refused_and_nothing_saved(app):
    data = org_form(app, "信用代码错误单位", uscc="12420100MB7654321Z")
    page = app.test_client().post("/register/unit", data=data).get_data(as_text=True)
    assert "统一社会信用代码" in page and ("校验位错误" in page or "非法字符" in page)
    assert 'value="信用代码错误单位"' in page
    assert count_orgs(app, "信用代码错误单位") == 0


def test_organisation_registration_requires_a_supervisory_department(app):
    data = org_form(app, "没有上级单位", parent_id="")
    page = app.test_client().post("/register/base", data=data).get_data(as_text=True)
    assert "请选择主管部门" in page
    with app.app_context():
        hospital = org_id("湖北省人民医院")
    page = app.test_client().post("/register/base", data=org_form(app, "没有上级单位", parent_id=hospital)).get_data(as_text=True)
    assert "请从列表中选择已审核通过的机构" in page
    assert count_orgs(app, "没有上级单位") == 0


# ------------------------------------------------------------------------------------ progress
def test_progress_query_needs_the_right_password(app):
    client = app.test_client()
    page = client.post("/register/progress", data={"id_number": new_id_number(77), "password": "Wrong2026"},
                       follow_redirects=True).get_data(as_text=True)
    assert "身份证号或密码错误" in page
    assert 'id="progress-table"' not in page


def test_progress_shows_status_and_withdraw_writes_an_audit_row(app, fresh_world):
    from app.extensions import db
    from app.models import AuditLog, Person

    person_id, request_id = register_person(app)
    client = progress_client(app, person_form(app)["id_number"])
    page = client.get("/register/progress").get_data(as_text=True)
    assert "专技人员注册" in page and "待审核" in page and "欧阳测试" in page
    assert f"/register/progress/withdraw/{request_id}" in page and "data-confirm" in page
    assert english_words(page) == set()

    response = client.post(f"/register/progress/withdraw/{request_id}", follow_redirects=True)
    assert "已撤回" in response.get_data(as_text=True)
    assert request_state(app, request_id)[0] == "withdrawn"
    with app.app_context():
        assert db.session.get(Person, person_id).status.value == "withdrawn"
        audit = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "review_request",
                                                         AuditLog.object_id == request_id,
                                                         AuditLog.action == "withdraw"))
        assert audit is not None and audit.from_state == "pending" and audit.to_state == "withdrawn"

    # withdrawn: the same person simply registers again
    again_person, again_request = register_person(app, name="欧阳再注册")
    assert again_person == person_id and again_request != request_id
    assert request_state(app, again_request)[0] == "pending"


def test_withdrawing_someone_elses_request_answers_404(app, fresh_world):
    _, mine = register_person(app, 1)
    _, theirs = register_person(app, 2)
    client = progress_client(app, new_id_number(1))
    assert client.post(f"/register/progress/withdraw/{theirs}").status_code == 404
    assert client.get(f"/register/progress/resubmit/{theirs}").status_code == 404
    assert request_state(app, theirs)[0] == "pending"
    # without a verified registrant nothing happens either
    assert app.test_client().post(f"/register/progress/withdraw/{mine}").status_code == 302
    assert request_state(app, mine)[0] == "pending"


def test_rejected_person_registration_shows_the_reason_and_can_be_resubmitted(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Person, ReviewRequest

    person_id, request_id = register_person(app)
    reject(client_for(HEALTH_ID), "person_registration", request_id, "职称名称填写有误")
    assert request_state(app, request_id) == ("rejected", "职称名称填写有误")

    client = progress_client(app, person_form(app)["id_number"])
    page = client.get("/register/progress").get_data(as_text=True)
    assert "已驳回" in page and "职称名称填写有误" in page
    assert f"/register/progress/resubmit/{request_id}" in page

    form_page = client.get(f"/register/progress/resubmit/{request_id}").get_data(as_text=True)
    assert 'value="欧阳测试"' in form_page and 'value="主治医师"' in form_page and "职称名称填写有误" in form_page
    assert english_words(form_page) == set()

    _, _, senior_level = reference_ids(app)
    with app.app_context():
        union = org_id("华中科技大学同济医学院附属协和医院")
    changed = {key: value for key, value in person_form(app).items()
               if key not in ("id_number", "password", "conf_password")}
    changed.update(name="欧阳改正", title_name="副主任医师", title_level_id=senior_level, employer_id=union,
                   internal_department_id=department_id(app, "华中科技大学同济医学院附属协和医院", "骨科"))
    response = client.post(f"/register/progress/resubmit/{request_id}", data=changed)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert request_state(app, request_id) == ("pending", None)
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.status.value == "pending" and person.name == "欧阳改正"
        assert person.title_name == "副主任医师" and person.title_level_id == senior_level
        assert person.employer_id == union and person.internal_department.name == "骨科"
        assert person.account.organisation_id == union
        item = db.session.get(ReviewRequest, request_id)
        assert item.org_id == union and item.subject_name == "欧阳改正"


def test_resubmission_with_bad_data_changes_nothing(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Person

    person_id, request_id = register_person(app)
    reject(client_for(HEALTH_ID), "person_registration", request_id, "请补充信息")
    client = progress_client(app, person_form(app)["id_number"])
    changed = {key: value for key, value in person_form(app).items()
               if key not in ("id_number", "password", "conf_password")}
    changed.update(name="改了名字", phone="12345")
    page = client.post(f"/register/progress/resubmit/{request_id}", data=changed).get_data(as_text=True)
    assert "手机号码" in page and 'value="改了名字"' in page
    assert request_state(app, request_id)[0] == "rejected"
    with app.app_context():
        assert db.session.get(Person, person_id).name == "欧阳测试"


def test_rejected_unit_registration_can_be_corrected_and_resubmitted(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation, ReviewKind, ReviewRequest

    assert app.test_client().post("/register/unit", data=org_form(app, "驳回测试单位")).status_code == 302
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "驳回测试单位"))
        org_pk = org.id
        request_id = db.session.scalar(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.unit_registration, ReviewRequest.subject_id == org_pk))
    # another department's admin cannot decide it
    client_for(EDU_ID).post("/review/unit_registration/reject", data={"ids": str(request_id), "reason": "x"})
    assert request_state(app, request_id)[0] == "pending"
    reject(client_for(HEALTH_ID), "unit_registration", request_id, "单位名称应为全称")

    client = progress_client(app, new_id_number(900))
    page = client.get("/register/progress").get_data(as_text=True)
    assert "下属单位注册" in page and "单位名称应为全称" in page
    form_page = client.get(f"/register/progress/resubmit/{request_id}").get_data(as_text=True)
    assert 'value="驳回测试单位"' in form_page and english_words(form_page) == set()
    data = {key: value for key, value in org_form(app, "驳回测试单位有限公司").items()
            if key in ("name", "uscc", "region", "contact_person", "phone", "address")}
    data["contact_person"] = "孙老师"
    assert client.post(f"/register/progress/resubmit/{request_id}", data=data).status_code == 302
    assert request_state(app, request_id) == ("pending", None)
    with app.app_context():
        org = db.session.get(Organisation, org_pk)
        assert org.name == "驳回测试单位有限公司" and org.contact_person == "孙老师"
        assert org.status.value == "pending"
        assert db.session.get(ReviewRequest, request_id).subject_name == "驳回测试单位有限公司"

    approve(client_for(HEALTH_ID), "unit_registration", request_id)
    assert request_state(app, request_id)[0] == "approved"
    assert "/login" not in login(app.test_client(), new_id_number(900), PASSWORD, "employer").headers["Location"]


def test_a_pending_request_cannot_be_resubmitted(app, fresh_world):
    _, request_id = register_person(app)
    client = progress_client(app, person_form(app)["id_number"])
    response = client.get(f"/register/progress/resubmit/{request_id}", follow_redirects=True)
    assert "该申请当前状态下不能重新提交" in response.get_data(as_text=True)
    assert request_state(app, request_id)[0] == "pending"


# ------------------------------------------------------------------------------------ protections
@pytest.fixture()
def strict_app(app, database_url):
    """Same database, production-like protections: CSRF and rate limits on."""
    from app import create_app
    from tests.conftest import make_config

    return create_app(make_config(database_url, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True,
                                  AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute"))


def test_public_posts_need_a_csrf_token_and_are_rate_limited(strict_app):
    client = strict_app.test_client()
    assert client.post("/register/progress", data={"id_number": new_id_number(5), "password": "x"},
                       environ_base={"REMOTE_ADDR": "10.8.8.1"}).status_code == 400
    codes = [client.post("/register/progress", data={}, environ_base={"REMOTE_ADDR": "10.8.8.2"}).status_code
             for _ in range(5)]
    assert codes[-1] == 429
    assert client.get("/register/person", environ_base={"REMOTE_ADDR": "10.8.8.2"}).status_code == 200
    assert client.post("/register/person", data={}, environ_base={"REMOTE_ADDR": "10.8.8.3"}).status_code != 429


def test_a_password_change_ends_the_progress_view(app, fresh_world):
    """The progress page trusts the password check only until the account's credentials change."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Account

    register_person(app)
    number = person_form(app)["id_number"]
    client = progress_client(app, number)
    assert 'id="progress-table"' in client.get("/register/progress").get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(Account).where(Account.username == number)
                           .values(credential_version=Account.credential_version + 1))
        db.session.commit()
    assert 'id="progress-table"' not in client.get("/register/progress").get_data(as_text=True)
