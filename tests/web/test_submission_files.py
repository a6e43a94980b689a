"""Files of training plans, work materials and transfers: uploaded with the submission, listed on its
detail pages, downloadable by both sides of the record and nobody else."""
from __future__ import annotations

import datetime
import io
import re

from sqlalchemy import select

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, WH_HEALTH_ID, BASE_ID

NEXT_YEAR = datetime.date.today().year + 1


def _pdf(name: str):
    from app.demo import demo_pdf

    return (io.BytesIO(demo_pdf("file " + name)), name)


def _attachments(app, owner_kind, owner_id):
    from app.extensions import db
    from app.models import Attachment

    with app.app_context():
        return [(a.id, a.original_name) for a in db.session.scalars(
            select(Attachment).where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id))]


def _latest_id(app, model_name):
    from app import models
    from app.extensions import db

    model = getattr(models, model_name)
    with app.app_context():
        return db.session.scalar(select(model.id).order_by(model.id.desc()).limit(1))


def test_a_plan_carries_its_files_to_the_reviewers_and_only_to_them(app, fresh_world, client_for):
    base = client_for(BASE_ID)
    response = base.post("/training/plans/add", content_type="multipart/form-data", data={
        "year": str(NEXT_YEAR), "title": "带附件的培训计划", "content": "十期", "planned_programmes": "10",
        "planned_hours": "800", "files": [_pdf("培训计划正文.pdf"), _pdf("经费预算.pdf")]})
    assert response.status_code == 302
    plan_id = _latest_id(app, "TrainingPlan")
    files = _attachments(app, "training_plan", plan_id)
    assert sorted(name for _, name in files) == ["培训计划正文.pdf", "经费预算.pdf"]
    # the submitter's detail page and the reviewer's list the files
    assert "培训计划正文.pdf" in base.get(f"/training/plans/show/{plan_id}").get_data(as_text=True)
    health = client_for(HEALTH_ID)
    assert "经费预算.pdf" in health.get(f"/review/training_plan/show/{plan_id}").get_data(as_text=True)
    download = health.get(f"/attachments/{files[0][0]}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert client_for(EDU_ID).get(f"/attachments/{files[0][0]}/download").status_code == 404


def test_a_refused_file_is_named_next_to_the_input_and_nothing_is_filed(app, fresh_world, client_for):
    base = client_for(BASE_ID)
    before = _latest_id(app, "TrainingPlan")
    page = base.post("/training/plans/add", content_type="multipart/form-data", data={
        "year": str(NEXT_YEAR), "title": "带脚本的计划", "content": "x", "planned_programmes": "1",
        "planned_hours": "8", "files": [(io.BytesIO(b"#!/bin/sh\nrm -rf /"), "计划.pdf")]}).get_data(as_text=True)
    assert "计划.pdf" in page and re.search(r"field-error|help-block", page)
    assert _latest_id(app, "TrainingPlan") == before


def test_a_work_material_keeps_its_study_guide_and_work_notice_apart(app, fresh_world, client_for):
    wuhan = client_for(WH_HEALTH_ID)
    response = wuhan.post("/work-materials/add", content_type="multipart/form-data", data={
        "year": "2026", "title": "2026年度材料", "remarks": "",
        "files_guide": [_pdf("学习指南.pdf")], "files_notice": [_pdf("工作通知.pdf")]})
    assert response.status_code == 302
    pk = _latest_id(app, "WorkMaterial")
    assert [n for _, n in _attachments(app, "work_material:guide", pk)] == ["学习指南.pdf"]
    assert [n for _, n in _attachments(app, "work_material:notice", pk)] == ["工作通知.pdf"]
    page = client_for(HEALTH_ID).get(f"/review/work_material/show/{pk}").get_data(as_text=True)
    assert "学习指南" in page and "工作通知" in page and "学习指南.pdf" in page and "工作通知.pdf" in page


def test_the_receiving_side_reads_the_senders_transfer_document(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus, Transfer, ReviewStatus

    with app.app_context():
        hospital = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省人民医院"))
        pending = select(Transfer.person_id).where(Transfer.status == ReviewStatus.pending)
        person = db.session.scalar(select(Person.id).where(Person.employer_id == hospital.id,
                                                           Person.status == PersonStatus.active,
                                                           Person.id.not_in(pending)).order_by(Person.id.desc()))
        receiver = db.session.scalar(select(Organisation.id).where(Organisation.name == "武汉大学"))
    response = client_for(HOSPITAL_ID).post("/transfers/out/add", content_type="multipart/form-data", data={
        "person_id": person, "to_org_id": receiver, "reason": "工作调动",
        "effective_date": datetime.date.today().isoformat(), "files": [_pdf("调动函.pdf")]})
    assert response.status_code == 302
    transfer_id = _latest_id(app, "Transfer")
    ((file_id, name),) = _attachments(app, "transfer", transfer_id)
    edu = client_for(EDU_ID)     # above the receiving unit, outside the sender's subtree
    assert "调动函.pdf" in edu.get(f"/review/transfer/show/{transfer_id}").get_data(as_text=True)
    assert edu.get(f"/attachments/{file_id}/download").status_code == 200
    assert client_for(WH_HEALTH_ID).get(f"/attachments/{file_id}/download").status_code == 404
