"""培训计划管理 (manual 5.1.5) end to end: bases and units file, departments review, the effect is visible."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, api_token
from tests.web.test_chinese_ui import english_words

NEXT_YEAR = datetime.date.today().year + 1


def _plan_form(**overrides):
    data = {"year": str(NEXT_YEAR), "title": "来年卫生人才培训计划", "content": "举办十期培训班",
            "planned_programmes": "10", "planned_hours": "800"}
    data.update(overrides)
    return data


def _programme_form(**overrides):
    data = {"name": "心电图判读提高班", "subject_kind": "professional", "mode": "offline",
            "start_date": "2026-10-12", "end_date": "2026-10-16", "hours": "40", "planned_trainees": "60",
            "venue": "基地二楼教室", "fee": "650.50", "description": "面向基层医生"}
    data.update(overrides)
    return data


def _latest(app, model, **where):
    from sqlalchemy.orm import joinedload

    from app.extensions import db

    with app.app_context():
        query = select(model).options(joinedload(model.organisation)).order_by(model.id.desc())
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        item = db.session.scalars(query.limit(1)).first()
        db.session.expunge_all()
        return item


def _status(app, model, pk):
    from app.extensions import db

    with app.app_context():
        db.session.expire_all()
        item = db.session.get(model, pk)
        return item.status.value, item.reject_reason


def _history(app, object_type, pk):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return [a.action for a in db.session.scalars(select(AuditLog).where(
            AuditLog.object_type == object_type, AuditLog.object_id == pk).order_by(AuditLog.id))]


# ------------------------------------------------------------------ 年度培训计划
def test_base_files_a_plan_the_department_approves_and_the_base_sees_it(app, fresh_world, client_for):
    from app.models import TrainingPlan

    base = client_for(BASE_ID)
    response = base.post("/training/plans/add", data=_plan_form())
    assert response.status_code == 302
    plan = _latest(app, TrainingPlan)
    assert (plan.year, plan.status.value) == (NEXT_YEAR, "pending")
    assert "来年卫生人才培训计划" in base.get("/training/plans/list/").get_data(as_text=True)
    health = client_for(HEALTH_ID)
    listing = health.get("/review/training_plan/list/?_flt_0_status=pending").get_data(as_text=True)
    assert f"/review/training_plan/show/{plan.id}" in listing
    detail = health.get(f"/review/training_plan/show/{plan.id}").get_data(as_text=True)
    assert "举办十期培训班" in detail and 'id="approve-one"' in detail and english_words(detail) == set()
    health.post(f"/review/training_plan/action/approve/{plan.id}")
    assert _status(app, TrainingPlan, plan.id) == ("approved", None)
    page = base.get(f"/training/plans/show/{plan.id}").get_data(as_text=True)
    assert "已通过" in page and 'id="edit-submission"' not in page and "撤回" not in page
    assert _history(app, "training_plan", plan.id) == ["submit", "approve"]


def test_a_second_plan_for_the_same_year_is_refused_unless_the_first_was_rejected(app, fresh_world, client_for):
    from app.models import TrainingPlan

    base = client_for(BASE_ID)
    refused = base.post("/training/plans/add", data=_plan_form(year="2026"))   # the demo's pending 2026 plan
    assert refused.status_code == 200 and "本基地该年度已有待审核或已通过的年度培训计划" in refused.get_data(as_text=True)
    refused = base.post("/training/plans/add", data=_plan_form(year="2024"))   # approved
    assert "本基地该年度已有" in refused.get_data(as_text=True)
    assert base.post("/training/plans/add", data=_plan_form(year="2023")).status_code == 302  # only a withdrawn one
    assert _latest(app, TrainingPlan).year == 2023


def test_the_database_keeps_one_holding_plan_per_base_and_year(app_ctx):
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from app.models import ReviewStatus, TrainingPlan

    existing = db.session.scalars(select(TrainingPlan).where(TrainingPlan.status == ReviewStatus.approved)).first()
    db.session.add(TrainingPlan(org_id=existing.org_id, year=existing.year, title="重复", content="",
                                status=ReviewStatus.pending, submitted_on=datetime.datetime.now()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_rejected_plan_shows_its_reason_and_is_corrected_and_resubmitted(app, fresh_world, client_for):
    from app.models import TrainingPlan

    base, health = client_for(BASE_ID), client_for(HEALTH_ID)
    base.post("/training/plans/add", data=_plan_form())
    plan = _latest(app, TrainingPlan)
    health.post("/review/training_plan/reject", data={"ids": str(plan.id), "reason": "学时安排不合理"})
    assert _status(app, TrainingPlan, plan.id) == ("rejected", "学时安排不合理")
    page = base.get(f"/training/plans/show/{plan.id}").get_data(as_text=True)
    assert "学时安排不合理" in page and 'id="edit-submission"' in page and "修改并重新提交" in page
    assert base.get(f"/training/plans/edit/{plan.id}").status_code == 200
    response = base.post(f"/training/plans/edit/{plan.id}", data=_plan_form(planned_hours="600"))
    assert response.status_code == 302
    assert _status(app, TrainingPlan, plan.id) == ("pending", None)
    assert _latest(app, TrainingPlan).planned_hours == 600
    assert _history(app, "training_plan", plan.id) == ["submit", "reject", "resubmit"]
    history = health.get(f"/review/training_plan/show/{plan.id}").get_data(as_text=True)
    assert "重新提交" in history


def test_a_pending_plan_cannot_be_edited_but_can_be_withdrawn(app, fresh_world, client_for):
    from app.models import TrainingPlan

    base = client_for(BASE_ID)
    base.post("/training/plans/add", data=_plan_form())
    plan = _latest(app, TrainingPlan)
    assert "撤回" in base.get(f"/training/plans/show/{plan.id}").get_data(as_text=True)
    base.post(f"/training/plans/edit/{plan.id}", data=_plan_form(title="偷偷修改"))
    assert _latest(app, TrainingPlan).title == "来年卫生人才培训计划"
    base.post(f"/training/plans/action/withdraw/{plan.id}")
    assert _status(app, TrainingPlan, plan.id)[0] == "withdrawn"
    # withdrawn: the year is free again
    assert base.post("/training/plans/add", data=_plan_form()).status_code == 302


def test_plan_form_errors_are_chinese_and_change_nothing(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import TrainingPlan

    def count():
        with app.app_context():
            return db.session.query(TrainingPlan).count()

    before = count()
    base = client_for(BASE_ID)
    for bad in (_plan_form(year="1990"), _plan_form(title=""), _plan_form(planned_hours="-3"),
                _plan_form(planned_programmes="很多")):
        response = base.post("/training/plans/add", data=bad)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "has-error" in page or "help-block" in page
        assert english_words(page) == set()
    assert count() == before


# ------------------------------------------------------------------ 培训计划申报
def test_programmes_get_a_stable_code_and_approved_ones_are_served_over_rest(app, fresh_world, client_for):
    from app.models import TrainingProgramme

    base = client_for(BASE_ID)
    assert base.post("/training/programmes/add", data=_programme_form()).status_code == 302
    item = _latest(app, TrainingProgramme)
    assert item.code == f"PX2026{item.id:06d}" and item.fee_fen == 65050 and item.status.value == "pending"
    health = client_for(HEALTH_ID)
    token = {"Authorization": f"Bearer {api_token(app.test_client(), HEALTH_ID)}"}
    before = app.test_client().get("/api/v1/training_programme/", headers=token).json
    assert item.code not in [r["code"] for r in before["result"]]
    response = app.test_client().post("/api/v1/review/training_programme/approve", json={"ids": [item.id]},
                                      headers=token)
    assert response.status_code == 200 and response.json["done"] == 1
    after = app.test_client().get("/api/v1/training_programme/", headers=token).json
    row = next(r for r in after["result"] if r["code"] == item.code)
    assert row["hours"] == 40 and row["subject_kind"] == "professional" and row["fee_fen"] == 65050
    one = app.test_client().get(f"/api/v1/training_programme/{item.id}", headers=token)
    assert one.status_code == 200 and one.json["result"]["code"] == item.code
    # the code stays when the programme is listed again
    assert _latest(app, TrainingProgramme).code == item.code
    assert "PX2026" in health.get("/review/training_programme/list/").get_data(as_text=True)


def test_the_programme_api_is_scoped_read_only_and_documented(app, api_for):
    from app.extensions import db
    from app.models import Organisation, ReviewStatus, TrainingProgramme

    with app.app_context():
        health_path = db.session.query(Organisation.path).filter_by(name="湖北省卫生健康委员会").scalar()
        approved = db.session.scalars(select(TrainingProgramme).where(
            TrainingProgramme.status == ReviewStatus.approved)).first()
        pending = db.session.scalars(select(TrainingProgramme).where(
            TrainingProgramme.status == ReviewStatus.pending)).first()
        assert approved.organisation.path.startswith(health_path)
        approved_id, pending_id = approved.id, pending.id
    client = app.test_client()
    edu = api_for(EDU_ID)
    assert client.get(f"/api/v1/training_programme/{approved_id}", headers=edu).status_code == 404
    assert approved_id not in [r["id"] for r in client.get("/api/v1/training_programme/", headers=edu).json["result"]]
    health = api_for(HEALTH_ID)
    assert client.get(f"/api/v1/training_programme/{pending_id}", headers=health).status_code == 404
    assert client.post("/api/v1/training_programme/", json={"name": "x"}, headers=health).status_code in (404, 405)
    assert client.delete(f"/api/v1/training_programme/{approved_id}", headers=health).status_code in (404, 405)
    paged = client.get("/api/v1/training_programme/?q=(page:0,page_size:1)", headers=health).json
    assert len(paged["result"]) == 1 and paged["count"] >= 2
    spec = client.get("/api/v1/_openapi", headers=api_for(PROVINCE_ID)).json
    assert "/api/v1/training_programme/" in spec["paths"] and "get" in spec["paths"]["/api/v1/training_programme/"]


def test_an_employer_unit_declares_a_programme_for_its_staff(app, fresh_world, client_for):
    from app.models import TrainingProgramme

    hospital = client_for(HOSPITAL_ID)
    assert hospital.post("/training/programmes/add", data=_programme_form(name="本院护理骨干培训")).status_code == 302
    item = _latest(app, TrainingProgramme)
    assert item.organisation.name == "湖北省人民医院"
    assert hospital.get("/training/plans/list/").status_code == 403       # plans are the bases' only
    page = client_for(HEALTH_ID).get("/review/training_programme/list/").get_data(as_text=True)
    assert "本院护理骨干培训" in page


@pytest.mark.parametrize("field, value, message", [
    ("end_date", "2026-10-01", "结束日期不能早于开始日期"),
    ("hours", "0", ""),
    ("fee", "-1", ""),
    ("subject_kind", "secret", ""),
    ("start_date", "明天", ""),
])
def test_programme_form_refuses_bad_input(app, client_for, field, value, message):
    from app.extensions import db
    from app.models import TrainingProgramme

    with app.app_context():
        before = db.session.query(TrainingProgramme).count()
    response = client_for(BASE_ID).post("/training/programmes/add", data=_programme_form(**{field: value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and english_words(page) == set()
    with app.app_context():
        assert db.session.query(TrainingProgramme).count() == before


# ------------------------------------------------------------------ 年度工作总结
def test_base_files_a_summary_and_the_department_rejects_then_approves(app, fresh_world, client_for):
    from app.models import WorkSummary

    base, health = client_for(BASE_ID), client_for(HEALTH_ID)
    form = {"year": str(NEXT_YEAR), "text": "全年举办培训班十二期", "classes_held": "12", "trainees": "960",
            "hours_delivered": "30000"}
    assert base.post("/training/summaries/add", data=form).status_code == 302
    item = _latest(app, WorkSummary)
    health.post("/review/work_summary/action_post", data={"action": "reject", "rowid": [item.id]})
    health.post("/review/work_summary/reject", data={"ids": str(item.id), "reason": "数据有误"})
    assert _status(app, WorkSummary, item.id) == ("rejected", "数据有误")
    base.post(f"/training/summaries/edit/{item.id}", data={**form, "trainees": "980"})
    health.post("/review/work_summary/action_post", data={"action": "approve", "rowid": [item.id]})
    assert _status(app, WorkSummary, item.id)[0] == "approved"
    assert "已通过" in base.get("/training/summaries/list/").get_data(as_text=True)


# ------------------------------------------------------------------ scope and roles
def _demo_item(app, model, org_name, status="pending"):
    from app.extensions import db
    from app.models import Organisation, ReviewStatus

    with app.app_context():
        return db.session.scalar(select(model.id).join(Organisation, Organisation.id == model.org_id)
                                 .where(Organisation.name == org_name, model.status == ReviewStatus(status))
                                 .order_by(model.id).limit(1))


@pytest.mark.parametrize("kind, model_name", [("training_plan", "TrainingPlan"),
                                              ("training_programme", "TrainingProgramme"),
                                              ("work_summary", "WorkSummary")])
def test_another_departments_admin_gets_404_everywhere(app, client_for, api_for, kind, model_name):
    from app import models

    model = getattr(models, model_name)
    pk = _demo_item(app, model, "湖北省卫生人才继续教育基地")
    edu = client_for(EDU_ID)
    assert edu.get(f"/review/{kind}/show/{pk}").status_code == 404
    assert edu.get(f"/review/{kind}/action/approve/{pk}").status_code in (302, 404, 405)
    assert edu.post(f"/review/{kind}/action/approve/{pk}").status_code == 404
    assert edu.post(f"/review/{kind}/action_post", data={"action": "approve", "rowid": [pk]}).status_code == 404
    assert edu.get(f"/review/{kind}/reject?ids={pk}").status_code == 404
    assert f"/review/{kind}/show/{pk}\"" not in edu.get(f"/review/{kind}/list/").get_data(as_text=True)
    response = app.test_client().post(f"/api/v1/review/{kind}/approve", json={"ids": [pk]}, headers=api_for(EDU_ID))
    assert response.status_code == 404
    assert _status(app, model, pk)[0] == "pending"
    # the base's own pages do not open for another base either, nor for a department
    route = {"training_plan": "plans", "training_programme": "programmes", "work_summary": "summaries"}[kind]
    assert client_for(HEALTH_ID).get(f"/training/{route}/show/{pk}").status_code == 403
    assert client_for(WH_HEALTH_ID).get(f"/review/{kind}/show/{pk}").status_code == 404


def test_another_base_cannot_see_or_change_this_bases_plans(app, fresh_world):
    from app.extensions import db
    from app.models import Account, Organisation, TrainingPlan
    from tests.conftest import login

    pk = _demo_item(app, TrainingPlan, "湖北省卫生人才继续教育基地", "rejected")
    with app.app_context():
        other = db.session.scalars(select(Account.username).join(Organisation, Organisation.id == Account.organisation_id)
                                   .where(Organisation.name == "湖北省教育干部继续教育基地")).first()
    client = app.test_client()
    assert login(client, other, "Demo@2026", "training_base").status_code == 302
    for url in (f"/training/plans/show/{pk}", f"/training/plans/edit/{pk}"):
        assert client.get(url).status_code == 404
    assert client.post(f"/training/plans/action/withdraw/{pk}").status_code == 404
    assert client.post(f"/training/plans/edit/{pk}", data=_plan_form()).status_code == 404
    assert "2025年度卫生专业" not in client.get("/training/plans/list/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/training/plans/show/abc", "/training/plans/edit/99999999999",
                                 "/review/training_plan/show/-1", "/training/programmes/show/0"])
def test_malformed_ids_are_404_never_500(client_for, url):
    assert client_for(BASE_ID if url.startswith("/training") else HEALTH_ID).get(url).status_code == 404


def test_wrong_roles_are_refused(client_for):
    assert client_for(BASE_ID).get("/review/training_plan/list/").status_code == 403
    assert client_for(HOSPITAL_ID).get("/review/training_programme/list/").status_code == 403
    assert client_for(HEALTH_ID).get("/training/plans/add").status_code == 403


def test_reviewers_filter_by_year_organisation_status_and_kind(app, client_for):
    from app.extensions import db
    from app.models import Organisation

    health = client_for(HEALTH_ID)
    page = health.get("/review/training_plan/list/?_flt_0_year=2024").get_data(as_text=True)
    assert "2024年度" in page and "2026年度" not in page
    with app.app_context():
        base_id = db.session.query(Organisation.id).filter_by(name="湖北省卫生人才继续教育基地").scalar()
    page = health.get(f"/review/training_programme/list/?_flt_0_organisation={base_id}&_flt_0_subject_kind=public"
                      ).get_data(as_text=True)
    assert "医务人员职业道德与法律法规" in page and "急诊急救技能提升培训班" not in page
    page = health.get("/review/work_summary/list/?_flt_0_status=approved").get_data(as_text=True)
    assert "已通过" in page and "待审核" not in page.split("<tbody")[-1]


def test_todo_panel_counts_the_new_kinds(client_for):
    home = client_for(HEALTH_ID).get("/").get_data(as_text=True)
    for key in ("training_plan", "training_programme", "work_summary", "work_material"):
        assert f"/review/{key}/list/" in home
    assert "/review/transfer/list/" in client_for(EDU_ID).get("/").get_data(as_text=True)
    assert "/review/transfer/list/" in client_for(HOSPITAL_ID).get("/").get_data(as_text=True)
