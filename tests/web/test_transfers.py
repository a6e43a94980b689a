"""人员调转 (manual 5.1.6) end to end: 人员调出 → 人员调入审核 (确认调转) → 调转记录, scope and placement."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, api_token
from tests.web.test_chinese_ui import english_words

TODAY = datetime.date.today().isoformat()


def _org(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation.id).filter_by(name=name).scalar()


def _hospital_person(app, offset=10, with_login=False):
    """An active 湖北省人民医院 person without a pending transfer."""
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus

    with app.app_context():
        query = (select(Person.id).join(Organisation, Organisation.id == Person.employer_id)
                 .where(Organisation.name == "湖北省人民医院", Person.status == PersonStatus.active)
                 .order_by(Person.id))
        query = query.where(Person.account_id.isnot(None) if with_login else Person.account_id.is_(None))
        return db.session.scalars(query.offset(offset).limit(1)).one()


def _person(app, pk):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        db.session.expire_all()
        p = db.session.get(Person, pk)
        account = p.account
        return {"employer": p.employer.name, "org_path": p.org_path, "path": p.employer.path,
                "department": p.internal_department.name if p.internal_department else None,
                "account_org": account.organisation.name if account else None, "status": p.status.value}


def _transfer(app, pk):
    from app.extensions import db
    from app.models import Transfer

    with app.app_context():
        db.session.expire_all()
        t = db.session.get(Transfer, pk)
        return {"status": t.status.value, "reason": t.reject_reason, "to_department_id": t.to_department_id,
                "reviewed_by_id": t.reviewed_by_id}


def _file(client, person_id, to_org_id, **extra):
    data = {"person_id": person_id, "to_org_id": to_org_id, "reason": "工作调动", "effective_date": TODAY}
    data.update(extra)
    return client.post("/transfers/out/add", data=data)


def _latest_transfer(app):
    from app.extensions import db
    from app.models import Transfer

    with app.app_context():
        return db.session.scalar(select(func.max(Transfer.id)))


def _audit_count(app):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditLog))


def _assert_placed(app):
    from app.services.placement import misplaced_persons

    with app.app_context():
        assert misplaced_persons() == []


# ------------------------------------------------------------------ the whole flow
def test_transfer_across_departments_end_to_end(app, fresh_world, client_for):
    person_id = _hospital_person(app, 0, with_login=True)
    hubu = _org(app, "湖北大学")
    hospital = client_for(HOSPITAL_ID)
    # 人员调出: the form fills the person's data in from the scoped card
    form = hospital.get("/transfers/out/add").get_data(as_text=True)
    assert 'id="person-card"' in form and english_words(form) == set()
    card = hospital.get(f"/transfers/out/person/{person_id}").json
    assert card["employer"] == "湖北省人民医院" and len(card["id_number"]) == 18 and not card["pending"]
    response = _file(hospital, person_id, hubu)
    assert response.status_code == 302
    transfer_id = _latest_transfer(app)
    assert "工作调动" in hospital.get(f"/transfers/out/show/{transfer_id}").get_data(as_text=True)
    # while pending: the person stays with the sending side, the receiving side sees only the transfer
    assert hospital.get(f"/persons/show/{person_id}").status_code == 200
    edu = client_for(EDU_ID)
    assert edu.get(f"/persons/show/{person_id}").status_code == 404
    listing = edu.get("/review/transfer/list/").get_data(as_text=True)
    assert f"/review/transfer/show/{transfer_id}" in listing and "湖北省人民医院" in listing
    detail = edu.get(f"/review/transfer/show/{transfer_id}").get_data(as_text=True)
    assert card["id_number"] in detail and "确认调转" in detail and "文学院" in detail
    assert english_words(detail) == set()
    # 确认调转 with an internal department of the receiving unit
    from app.extensions import db
    from app.models import InternalDepartment

    with app.app_context():
        department = db.session.query(InternalDepartment.id).filter_by(
            organisation_id=hubu, name="商学院").scalar()
    response = edu.post(f"/transfers/incoming/confirm/{transfer_id}", data={"department_id": department},
                        follow_redirects=True)
    assert "已处理 1 条" in response.get_data(as_text=True)
    assert _transfer(app, transfer_id)["status"] == "approved"
    moved = _person(app, person_id)
    assert moved["employer"] == "湖北大学" and moved["department"] == "商学院"
    assert moved["org_path"] == moved["path"] and moved["account_org"] == "湖北大学"
    _assert_placed(app)
    # afterwards only the receiving side sees the person; both keep seeing the record
    assert edu.get(f"/persons/show/{person_id}").status_code == 200
    assert hospital.get(f"/persons/show/{person_id}").status_code == 404
    for client, direction in ((hospital, "out"), (edu, "in")):
        records = client.get(f"/transfers/records/list/?direction={direction}").get_data(as_text=True)
        assert f"/transfers/records/show/{transfer_id}" in records
        assert ("调出" if direction == "out" else "调入") in records and english_words(records) == set()
        record = client.get(f"/transfers/records/show/{transfer_id}").get_data(as_text=True)
        assert "已通过" in record and "确认调转" not in record
    # the person's page shows the history
    history = edu.get(f"/persons/show/{person_id}").get_data(as_text=True)
    assert 'id="transfer-history"' in history and "湖北省人民医院" in history and "工作调动" in history
    # the decision and the submission are audited on the transfer
    from app.models import AuditLog

    with app.app_context():
        actions = [a.action for a in db.session.scalars(select(AuditLog).where(
            AuditLog.object_type == "transfer", AuditLog.object_id == transfer_id).order_by(AuditLog.id))]
    assert actions == ["submit", "approve"]


def test_a_transfer_within_one_department_is_confirmed_by_a_department_above_the_receiver(app, fresh_world,
                                                                                          client_for):
    person_id = _hospital_person(app)
    union = _org(app, "华中科技大学同济医学院附属协和医院")
    health = client_for(HEALTH_ID)
    assert _file(health, person_id, union).status_code == 302
    transfer_id = _latest_transfer(app)
    # the department that filed it may not confirm it; the province may
    detail = health.get(f"/review/transfer/show/{transfer_id}").get_data(as_text=True)
    assert 'id="approve-one"' not in detail
    assert health.post(f"/transfers/incoming/confirm/{transfer_id}").status_code == 403
    client_for(PROVINCE_ID).post("/review/transfer/action_post", data={"action": "approve", "rowid": [transfer_id]})
    assert _person(app, person_id)["employer"] == "华中科技大学同济医学院附属协和医院"
    assert _person(app, person_id)["department"] is None       # cleared in a batch confirmation
    _assert_placed(app)


def test_batch_confirmation_moves_every_person(app, fresh_world, client_for):
    whu, hubu = _org(app, "武汉大学"), _org(app, "湖北大学")
    hospital = client_for(HOSPITAL_ID)
    people = [_hospital_person(app, offset) for offset in (11, 12, 13)]
    for person_id, target in zip(people, (whu, hubu, whu)):
        assert _file(hospital, person_id, target).status_code == 302
    from app.extensions import db
    from app.models import ReviewStatus, Transfer

    with app.app_context():
        ids = list(db.session.scalars(select(Transfer.id).where(Transfer.person_id.in_(people))))
        pending_demo = db.session.scalar(select(Transfer.id).where(Transfer.status == ReviewStatus.pending,
                                                                   Transfer.id.notin_(ids)))
    response = client_for(EDU_ID).post("/review/transfer/action_post",
                                       data={"action": "approve", "rowid": ids + [pending_demo]},
                                       follow_redirects=True)
    assert "已处理 4 条" in response.get_data(as_text=True)
    assert [_person(app, p)["employer"] for p in people] == ["武汉大学", "湖北大学", "武汉大学"]
    _assert_placed(app)


def test_a_second_pending_transfer_for_the_same_person_is_refused_in_chinese(app, fresh_world, client_for):
    person_id = _hospital_person(app)
    hospital = client_for(HOSPITAL_ID)
    assert _file(hospital, person_id, _org(app, "武汉大学")).status_code == 302
    card = hospital.get(f"/transfers/out/person/{person_id}").json
    assert "已有一条待确认的调转申请" in card["pending"]
    before = _latest_transfer(app)
    response = _file(hospital, person_id, _org(app, "湖北大学"))
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "该人员已有一条待确认的调转申请" in page
    assert _latest_transfer(app) == before
    # a department above files it too: refused the same way
    assert "该人员已有一条待确认的调转申请" in _file(client_for(HEALTH_ID), person_id,
                                                 _org(app, "湖北大学")).get_data(as_text=True)


def test_the_database_keeps_one_pending_transfer_per_person(app_ctx):
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from app.models import ReviewStatus, Transfer

    pending = db.session.scalars(select(Transfer).where(Transfer.status == ReviewStatus.pending)).first()
    db.session.add(Transfer(person_id=pending.person_id, from_org_id=pending.from_org_id, to_org_id=pending.to_org_id,
                            reason="重复", effective_date=datetime.date.today(), person_name=pending.person_name,
                            id_number=pending.id_number, status=ReviewStatus.pending,
                            submitted_on=datetime.datetime.now()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_confirming_a_person_who_meanwhile_left_fails_cleanly_and_changes_nothing(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Person

    person_id = _hospital_person(app)
    hospital = client_for(HOSPITAL_ID)
    _file(hospital, person_id, _org(app, "武汉大学"))
    transfer_id = _latest_transfer(app)
    # meanwhile the person moved to another unit (placed there by another way than this transfer)
    from app.services.placement import move_persons

    with app.app_context():
        move_persons([person_id], _org(app, "武汉市中心医院"))
        db.session.commit()
        assert db.session.get(Person, person_id).employer.name == "武汉市中心医院"
    before = (_person(app, person_id), _audit_count(app))
    edu = client_for(EDU_ID)
    response = edu.post(f"/transfers/incoming/confirm/{transfer_id}", data={"department_id": ""},
                        follow_redirects=True)
    assert "部分人员已不在原调出单位，未做任何更改" in response.get_data(as_text=True)
    response = edu.post("/review/transfer/action_post", data={"action": "approve", "rowid": [transfer_id]},
                        follow_redirects=True)
    assert "未做任何更改" in response.get_data(as_text=True)
    token = api_token(app.test_client(), EDU_ID)
    api = app.test_client().post("/api/v1/review/transfer/approve", json={"ids": [transfer_id]},
                                 headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 409 and "未做任何更改" in api.json["message"]
    assert _transfer(app, transfer_id)["status"] == "pending"
    assert (_person(app, person_id), _audit_count(app)) == before
    # the receiving side rejects it instead
    edu.post("/review/transfer/reject", data={"ids": str(transfer_id), "reason": "人员已不在原单位"})
    assert _transfer(app, transfer_id)["status"] == "rejected"


def test_confirming_a_person_who_left_the_workforce_fails_cleanly(app, fresh_world, client_for):
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Person, PersonStatus

    person_id = _hospital_person(app)
    _file(client_for(HOSPITAL_ID), person_id, _org(app, "武汉大学"))
    transfer_id = _latest_transfer(app)
    with app.app_context():
        db.session.execute(update(Person).where(Person.id == person_id).values(status=PersonStatus.left))
        db.session.commit()
    client_for(EDU_ID).post(f"/transfers/incoming/confirm/{transfer_id}")
    assert _transfer(app, transfer_id)["status"] == "pending"
    assert _person(app, person_id)["employer"] == "湖北省人民医院"


def test_the_submitter_withdraws_a_pending_transfer(app, fresh_world, client_for):
    person_id = _hospital_person(app)
    hospital = client_for(HOSPITAL_ID)
    _file(hospital, person_id, _org(app, "武汉大学"))
    transfer_id = _latest_transfer(app)
    assert client_for(HEALTH_ID).post(f"/transfers/out/action/withdraw/{transfer_id}",
                                      follow_redirects=True).status_code == 200
    assert _transfer(app, transfer_id)["status"] == "pending"          # only its submitter withdraws it
    hospital.post(f"/transfers/out/action/withdraw/{transfer_id}")
    assert _transfer(app, transfer_id)["status"] == "withdrawn"
    assert f"/review/transfer/show/{transfer_id}" not in client_for(EDU_ID).get(
        "/review/transfer/list/?_flt_0_status=pending").get_data(as_text=True)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("change, status, message", [
    ({"to_org_id": ""}, 400, "请选择调入单位"),
    ({"reason": ""}, 400, ""),
    ({"effective_date": "昨天"}, 400, ""),
    ({"effective_date": "2001-01-01"}, 422, "调转日期须在今天前后一年之内"),
    ({"to_org_id": "supervisory"}, 400, ""),
    ({"to_org_id": "9999999"}, 422, "请选择调入单位"),
    ({"person_id": "9999999"}, 404, ""),
    ({"person_id": "abc"}, 400, ""),
])
def test_bad_transfer_input_is_refused_and_changes_nothing(app, client_for, change, status, message):
    before = _latest_transfer(app)
    data = {"person_id": _hospital_person(app, 20), "to_org_id": _org(app, "武汉大学")}
    if change.get("to_org_id") == "supervisory":
        change = {"to_org_id": _org(app, "湖北省教育厅")}
        status, message = 422, "请选择调入单位"
    response = _file(client_for(HOSPITAL_ID), **{**data, **change})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert english_words(response.get_data(as_text=True)) == set()
    assert _latest_transfer(app) == before


def test_the_own_unit_is_not_a_receiving_unit(app, client_for):
    response = _file(client_for(HOSPITAL_ID), _hospital_person(app, 21), _org(app, "湖北省人民医院"))
    assert response.status_code == 422 and "该人员已在此单位工作" in response.get_data(as_text=True)


# ------------------------------------------------------------------ scope, pickers, roles
def test_pickers_person_in_scope_and_receivers_by_name_and_type_only(app, client_for):
    hospital = client_for(HOSPITAL_ID)
    people = hospital.get("/lookup/person?status=active&q=").json["results"]
    assert people and len(people) <= 20
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        employers = {db.session.get(Person, r["id"]).employer.name for r in people}
    assert employers == {"湖北省人民医院"}
    assert hospital.get("/lookup/person?status=nonsense").status_code == 422
    receivers = hospital.get("/transfers/out/receivers?q=大学").json["results"]
    assert {r["name"] for r in receivers} >= {"武汉大学", "湖北大学"}
    assert all(set(r) == {"id", "text", "name", "type"} and r["type"] == "用人单位" for r in receivers)
    assert hospital.get("/transfers/out/receivers?q=教育厅").json["results"] == []
    # another unit's person cannot be picked or shown
    whu_person = _whu_person(app)
    assert hospital.get(f"/transfers/out/person/{whu_person}").status_code == 404
    assert _file(hospital, whu_person, _org(app, "湖北大学")).status_code == 404


def _whu_person(app):
    from app.extensions import db
    from app.models import Organisation, Person

    with app.app_context():
        return db.session.scalar(select(Person.id).join(Organisation, Organisation.id == Person.employer_id)
                                 .where(Organisation.name == "武汉大学").limit(1))


def _demo_pending(app):
    from app.extensions import db
    from app.models import ReviewStatus, Transfer

    with app.app_context():
        return db.session.scalar(select(Transfer.id).where(Transfer.status == ReviewStatus.pending).limit(1))


def test_outsiders_get_404_on_every_transfer_page_and_endpoint(app, client_for, api_for):
    pk = _demo_pending(app)                          # 湖北省人民医院 → 武汉大学
    wuhan = client_for(WH_HEALTH_ID)                 # neither side
    for url in (f"/transfers/records/show/{pk}", f"/transfers/out/show/{pk}", f"/review/transfer/show/{pk}",
                f"/review/transfer/reject?ids={pk}"):
        assert wuhan.get(url).status_code == 404, url
    assert wuhan.post(f"/transfers/incoming/confirm/{pk}").status_code == 404
    assert wuhan.post("/review/transfer/action_post", data={"action": "approve", "rowid": [pk]}).status_code == 404
    assert wuhan.post(f"/transfers/out/action/withdraw/{pk}").status_code == 404
    assert f"/transfers/records/show/{pk}\"" not in wuhan.get("/transfers/records/list/").get_data(as_text=True)
    headers = api_for(WH_HEALTH_ID)
    assert app.test_client().post("/api/v1/review/transfer/approve", json={"ids": [pk]},
                                  headers=headers).status_code == 404
    # the sending side sees it but does not decide it
    health = client_for(HEALTH_ID)
    assert health.get(f"/transfers/records/show/{pk}").status_code == 200
    assert health.get(f"/review/transfer/show/{pk}").status_code == 404
    assert health.post(f"/transfers/incoming/confirm/{pk}").status_code == 404
    pending = app.test_client().get("/api/v1/review/transfer/pending", headers=api_for(HEALTH_ID)).json
    assert pk not in [r["id"] for r in pending["result"]]
    assert pk in [r["id"] for r in app.test_client().get("/api/v1/review/transfer/pending",
                                                         headers=api_for(EDU_ID)).json["result"]]
    assert _transfer(app, pk)["status"] == "pending"


def test_a_department_of_another_unit_is_refused_when_confirming(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import InternalDepartment

    pk = _demo_pending(app)
    with app.app_context():
        foreign = db.session.scalar(select(InternalDepartment.id).where(
            InternalDepartment.organisation_id == _org(app, "湖北大学")).limit(1))
    response = client_for(EDU_ID).post(f"/transfers/incoming/confirm/{pk}", data={"department_id": foreign},
                                       follow_redirects=True)
    assert "请选择调入单位的内设部门" in response.get_data(as_text=True)
    assert _transfer(app, pk)["status"] == "pending"


def test_wrong_roles_cannot_transfer(client_for):
    base = client_for(BASE_ID)
    for url in ("/transfers/out/list/", "/transfers/out/add", "/transfers/records/list/", "/review/transfer/list/"):
        assert base.get(url).status_code == 403, url


def test_transfer_pages_are_chinese(client_for):
    for who, url in ((HOSPITAL_ID, "/transfers/out/list/"), (HEALTH_ID, "/transfers/records/list/"),
                     (EDU_ID, "/review/transfer/list/"), (HOSPITAL_ID, "/transfers/records/list/?direction=in")):
        page = client_for(who).get(url).get_data(as_text=True)
        assert english_words(page) == set(), url


def _sheet(response):
    import io

    from openpyxl import load_workbook

    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_transfer_records_export_follows_scope_direction_and_filters(app, client_for):
    pk = _demo_pending(app)
    from app.extensions import db
    from app.models import Transfer

    with app.app_context():
        id_number = db.session.get(Transfer, pk).id_number
    rows = _sheet(client_for(EDU_ID).get("/transfers/records/export/?direction=in"))
    assert rows[0][:3] == ["调转方向", "姓名", "身份证号"]
    assert any(row[2] == id_number and row[0] == "调入" and row[8] == "待审核" for row in rows[1:])
    assert all(row[0] == "调入" for row in rows[1:])
    rows = _sheet(client_for(HEALTH_ID).get("/transfers/records/export/?direction=out&_flt_0_status=pending"))
    assert any(row[2] == id_number and row[0] == "调出" for row in rows[1:])
    assert all(row[8] == "待审核" for row in rows[1:])
    rows = _sheet(client_for(WH_HEALTH_ID).get("/transfers/records/export/"))
    assert all(row[2] != id_number for row in rows[1:])
    assert client_for(BASE_ID).get("/transfers/records/export/").status_code == 403


def test_the_person_sees_the_own_transfers_in_the_personal_centre(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account, Person
    from tests.conftest import login

    person_id = _hospital_person(app, 0, with_login=True)
    _file(client_for(HOSPITAL_ID), person_id, _org(app, "武汉大学"))
    with app.app_context():
        username = db.session.get(Account, db.session.get(Person, person_id).account_id).username
    client = app.test_client()
    assert login(client, username, "Demo@2026", "personnel").status_code == 302
    page = client.get("/me/").get_data(as_text=True)
    assert 'id="my-transfers"' in page and "武汉大学" in page and "待审核" in page
