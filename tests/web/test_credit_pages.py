"""学时学分审核 / 学时审验 pages per role: lists, details, bulk confirmation, settings, the person's progress;
another department's admin gets 404, wrong roles are refused, bad input is a 400 (never a 500)."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, api_token, login


def _health_record(app, status="pending"):
    from app.extensions import db
    from app.models import CreditRecord, Organisation, ReviewStatus

    with app.app_context():
        return db.session.scalar(select(CreditRecord.id).join(Organisation, Organisation.id == CreditRecord.employer_id)
                                 .where(Organisation.name == "湖北省人民医院",
                                        CreditRecord.status == ReviewStatus(status)).order_by(CreditRecord.id))


def test_a_department_reviews_the_records_of_its_subtree(app, client_for):
    client = client_for(HEALTH_ID)
    page = client.get("/review/credit_record/list/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "学时学分审核" in text and "按当前条件全部通过" in text
    record = _health_record(app)
    detail = client.get(f"/review/credit_record/show/{record}")
    assert detail.status_code == 200 and "证明材料" in detail.get_data(as_text=True)
    pending = client.get("/review/credit_record/list/?_flt_0_status=pending&_flt_0_year=%d"
                         % datetime.date.today().year)
    assert pending.status_code == 200
    bulk = client.get("/review/credit_record/bulk?decision=approve&_flt_0_status=pending")
    assert bulk.status_code == 200 and "条可由您审核" in bulk.get_data(as_text=True)


def test_searching_by_a_name_prefix_and_bad_search_values(app, client_for):
    from app.extensions import db
    from app.models import CreditRecord, Person

    with app.app_context():
        name = db.session.scalar(select(Person.name).join(CreditRecord, CreditRecord.person_id == Person.id)
                                 .order_by(CreditRecord.id))
    client = client_for(HEALTH_ID)
    found = client.get(f"/review/credit_record/list/?_flt_0_person={name[:1]}")
    assert found.status_code == 200
    assert client.get("/review/credit_record/list/?_flt_0_year=abc").status_code in (400, 422)
    assert client.get("/review/credit_record/list/?_flt_0_person=" + "张" * 60).status_code in (400, 422)
    assert client.get("/review/credit_record/bulk?decision=maybe").status_code in (400, 422)
    assert client.get("/credit/verification/?year=abc").status_code in (400, 422)
    assert client.get("/credit/verification/?state=nonsense").status_code in (400, 422)


def test_another_departments_admin_gets_404_everywhere(app, client_for):
    record = _health_record(app)
    approved = _health_record(app, "approved")
    client = client_for(EDU_ID)
    assert client.get(f"/review/credit_record/show/{record}").status_code == 404
    assert client.post(f"/review/credit_record/action/approve/{record}").status_code == 404
    assert client.get(f"/review/credit_record/revoke?ids={approved}").status_code == 404
    assert client.get(f"/review/credit_record/reject?ids={record}").status_code == 404
    listed = client.get("/review/credit_record/list/").get_data(as_text=True)
    assert "湖北省人民医院" not in listed
    token = api_token(app.test_client(), EDU_ID)
    answer = app.test_client().post("/api/v1/review/credit_record/approve", json={"ids": [record]},
                                    headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
    from app.extensions import db
    from app.models import CreditVerification

    with app.app_context():
        verification = db.session.scalar(select(CreditVerification.id).order_by(CreditVerification.id))
    assert client.get(f"/review/credit_verification/show/{verification}").status_code == 404
    assert client.post(f"/review/credit_verification/redecide/{verification}",
                       data={"decision": "reject", "reason": "x"}).status_code == 404


def test_units_and_bases_see_what_they_declared_but_do_not_review(app, client_for):
    unit = client_for(HOSPITAL_ID)
    assert unit.get("/review/credit_record/list/").status_code in (302, 403)
    assert unit.get("/credit/declared/list/").status_code == 200
    base = client_for(BASE_ID)
    listed = base.get("/credit/declared/list/")
    assert listed.status_code == 200 and "急诊急救技能提升培训班" in listed.get_data(as_text=True)
    assert base.get("/credit/verification/").status_code in (302, 403)


def test_the_verification_page_and_confirming_a_selection(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import CreditVerification, Organisation, Person, ReviewStatus

    year = datetime.date.today().year - 1
    client = client_for(WH_HEALTH_ID)
    page = client.get(f"/credit/verification/?year={year}")
    assert page.status_code == 200 and "建议" in page.get_data(as_text=True)
    with app.app_context():
        person = db.session.scalar(select(Person.id).join(Organisation, Organisation.id == Person.employer_id)
                                   .where(Organisation.name == "武汉市第一医院").order_by(Person.id))
    refused = client.post(f"/credit/verification/confirm?year={year}",
                          data={"person": [person], "decision": "reject", "reason": ""})
    assert refused.status_code == 302
    done = client.post(f"/credit/verification/confirm?year={year}",
                       data={"person": [person], "decision": "approve"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(CreditVerification.status).where(
            CreditVerification.person_id == person, CreditVerification.year == year)) == ReviewStatus.approved
    confirm = client.get(f"/credit/verification/confirm_all?year={year}&decision=approve&state=undecided")
    assert confirm.status_code == 200
    assert client.post(f"/credit/verification/confirm_all?year={year}&state=undecided",
                       data={"decision": "approve"}).status_code == 302
    assert client_for(EDU_ID).post(f"/credit/verification/confirm?year={year}",
                                   data={"person": [person], "decision": "approve"}).status_code == 404


def test_a_person_sees_the_progress_of_each_year(app, client_for):
    from app.extensions import db
    from app.models import Account, CreditSummary, Person

    with app.app_context():
        username = db.session.scalar(select(Account.username).join(Person, Person.account_id == Account.id)
                                     .join(CreditSummary, CreditSummary.person_id == Person.id).limit(1))
    client = app.test_client()
    assert login(client, username, user_type="personnel").status_code == 302
    page = client.get("/me/credit/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "公需科目学时" in text and str(datetime.date.today().year) in text
    assert client.get("/review/credit_record/list/").status_code in (302, 403)


def test_only_the_province_edits_the_settings_and_bad_input_is_400(app, fresh_world, client_for):
    province = client_for(PROVINCE_ID)
    assert province.get("/credit/requirements/").status_code == 200
    assert "授分标准" in province.get("/credit/standards/").get_data(as_text=True)
    bad = province.post("/credit/requirements/save", data={"year": "abc", "total_hours": "90",
                                                           "professional_numerator": "2",
                                                           "professional_denominator": "3"})
    assert bad.status_code in (400, 422)
    over = province.post("/credit/requirements/save", data={"year": "2030", "total_hours": "90",
                                                            "professional_numerator": "4",
                                                            "professional_denominator": "3"})
    assert over.status_code in (400, 422)
    ok = province.post("/credit/requirements/save", data={"year": "2030", "total_hours": "96",
                                                          "professional_numerator": "2",
                                                          "professional_denominator": "3"})
    assert ok.status_code == 302
    assert province.post("/credit/standards/save", data={"code": "", "name": "x"}).status_code in (400, 422)
    assert province.post("/credit/standards/save", data={
        "code": "101", "name": "技能竞赛", "unit": "次", "hours_per_unit": "10", "yearly_cap": "",
        "subject_kind": "professional", "mode": "offline", "first_year": "2025", "last_year": ""}).status_code == 302
    for who in (HEALTH_ID, HOSPITAL_ID):
        assert client_for(who).get("/credit/requirements/").status_code in (302, 403)
        assert client_for(who).post("/credit/standards/save", data={}).status_code in (302, 403)
    from app.extensions import db
    from app.models import AuditLog, CreditRequirement

    with app.app_context():
        assert db.session.get(CreditRequirement, 2030).total_hours == 96
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.object_type == "credit_requirement",
                                                            AuditLog.object_id == 2030)) is not None


def test_deleting_and_revoking_on_the_page(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import CreditRecord, ReviewStatus

    client = client_for(HEALTH_ID)
    pending = _health_record(app)
    approved = _health_record(app, "approved")
    assert client.post("/review/credit_record/action_post",
                       data={"action": "delete_records", "rowid": [pending]}).status_code == 302
    assert client.post("/review/credit_record/action_post",
                       data={"action": "delete_records", "rowid": [approved]}).status_code == 302
    empty = client.post(f"/review/credit_record/revoke", data={"ids": str(approved), "reason": ""})
    assert empty.status_code == 200 and "请填写原因" in empty.get_data(as_text=True)
    assert client.post("/review/credit_record/revoke", data={"ids": str(approved), "reason": "材料不实"}
                       ).status_code == 302
    with app.app_context():
        assert db.session.get(CreditRecord, pending) is None
        assert db.session.get(CreditRecord, approved).status == ReviewStatus.rejected


def test_a_person_with_credit_records_cannot_be_deleted_on_the_page_or_the_api(app, fresh_world, client_for,
                                                                               api_for):
    from app.extensions import db
    from app.models import CreditRecord, Organisation, Person

    with app.app_context():  # a person of 湖北省人民医院 (HOSPITAL_ID's unit) with the demo's credit records
        person_id = db.session.scalar(
            select(CreditRecord.person_id).join(Organisation, Organisation.id == CreditRecord.employer_id)
            .where(Organisation.name == "湖北省人民医院").order_by(CreditRecord.person_id).limit(1))
    response = app.test_client().delete(f"/api/v1/person/{person_id}", headers=api_for(HOSPITAL_ID))
    assert response.status_code == 409 and "学时" in response.get_json()["message"]
    page = client_for(HOSPITAL_ID).post(f"/persons/delete/{person_id}", follow_redirects=True)
    assert page.status_code in (200, 409)
    with app.app_context():
        assert db.session.get(Person, person_id) is not None
