"""个人中心: a registered, approved person sees their record and asks for title changes."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import EDU_ID, HEALTH_ID, login
from tests.web.test_chinese_ui import english_words
from tests.web.test_public_registration import (PASSWORD, approve, new_id_number, reference_ids,
                                                register_person, request_state)

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture()
def person_client(app, fresh_world, client_for):
    """A person registered on the public page, approved by 湖北省卫生健康委员会 and signed in."""
    person_id, request_id = register_person(app, 31)
    approve(client_for(HEALTH_ID), "person_registration", request_id)
    client = app.test_client()
    response = login(client, new_id_number(31), PASSWORD, "personnel")
    assert "/login" not in response.headers["Location"]
    client.person_id = person_id
    return client


def change_data(app, **changes) -> dict:
    series, _, senior_level = reference_ids(app)
    data = {"title_series_id": series, "title_level_id": senior_level, "title_name": "副主任医师",
            "title_date": "2024-01-15"}
    data.update(changes)
    return data


def person_changes(app, person_id):
    from app.extensions import db
    from app.models import ReviewKind, ReviewRequest

    with app.app_context():
        return db.session.scalars(
            select(ReviewRequest).where(ReviewRequest.kind == ReviewKind.person_change,
                                        ReviewRequest.subject_id == person_id).order_by(ReviewRequest.id)
        ).all()


def test_my_information_page_shows_my_record_in_chinese(app, person_client):
    response = person_client.get("/me/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "欧阳测试" in page and new_id_number(31) in page
    assert "湖北省人民医院" in page and "内科" in page and "卫生技术人员" in page and "主治医师" in page
    assert 'enctype="multipart/form-data"' in page
    assert english_words(page) == set()


def test_the_menu_offers_my_information_to_personnel(app, person_client):
    page = person_client.get("/me/").get_data(as_text=True)
    assert "个人中心" in page and 'href="/me/"' in page


def test_change_request_creates_a_pending_person_change_with_before_and_after(app, person_client):
    from app.extensions import db
    from app.models import Person

    series, level, senior_level = reference_ids(app)
    response = person_client.post("/me/change", data=change_data(app))
    assert response.status_code == 302
    (item,) = person_changes(app, person_client.person_id)
    assert item.status.value == "pending" and item.submitted_by_id is not None
    # only what changes is asked for (the series stays the same)
    assert json.loads(item.before) == {"title_level_id": level, "title_name": "主治医师",
                                       "title_date": "2018-07-01"}
    assert json.loads(item.after) == {"title_level_id": senior_level, "title_name": "副主任医师",
                                      "title_date": "2024-01-15"}
    with app.app_context():
        assert db.session.get(Person, person_client.person_id).title_name == "主治医师"   # not yet applied
    page = person_client.get("/me/").get_data(as_text=True)
    assert "待审核" in page and "副主任医师" in page
    assert english_words(page) == set()


def test_a_second_pending_change_request_is_refused(app, person_client):
    assert person_client.post("/me/change", data=change_data(app)).status_code == 302
    response = person_client.post("/me/change", data=change_data(app, title_name="主任医师"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已有一条同类申请正在审核中" in page
    assert 'value="主任医师"' in page                       # what was typed is kept
    assert len(person_changes(app, person_client.person_id)) == 1


def test_an_unchanged_request_is_refused(app, person_client):
    _, level, _ = reference_ids(app)
    page = person_client.post("/me/change", data=change_data(
        app, title_level_id=level, title_name="主治医师", title_date="2018-07-01")).get_data(as_text=True)
    assert "没有任何修改" in page
    assert person_changes(app, person_client.person_id) == []


def test_missing_title_level_is_reported_in_chinese(app, person_client):
    page = person_client.post("/me/change", data=change_data(app, title_level_id="")).get_data(as_text=True)
    assert "请选择职称级别" in page
    assert person_changes(app, person_client.person_id) == []


def test_evidence_of_a_wrong_type_is_refused(app, person_client):
    data = change_data(app, evidence=(io.BytesIO(b"MZ\x90\x00not a document"), "setup.exe"))
    page = person_client.post("/me/change", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "不允许的文件类型" in page
    data = change_data(app, evidence=(io.BytesIO(b"MZ\x90\x00renamed"), "scan.pdf", "application/pdf"))
    page = person_client.post("/me/change", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "文件内容与扩展名不符" in page
    assert person_changes(app, person_client.person_id) == []


def test_evidence_is_stored_with_the_request(app, person_client, client_for):
    from app.services import attachments
    from app.storage import get_storage

    data = change_data(app, evidence=[(io.BytesIO(PDF), "职称证书.pdf", "application/pdf"),
                                      (io.BytesIO(PNG), "证书照片.png", "image/png")])
    assert person_client.post("/me/change", data=data, content_type="multipart/form-data").status_code == 302
    (item,) = person_changes(app, person_client.person_id)
    with app.app_context():
        files = attachments.attachments_of("review_request", item.id)
        assert [f.original_name for f in files] == ["职称证书.pdf", "证书照片.png"]
        assert files[0].server_name.endswith(".pdf") and files[0].size == len(PDF)
        with get_storage().open(files[0].server_name) as fh:
            assert fh.read() == PDF
        first = files[0].id
    # the person sees their files on their page; the reviewer on the request's detail page
    assert f"/attachments/{first}/download" in person_client.get("/me/").get_data(as_text=True)
    assert person_client.get(f"/attachments/{first}/download").data == PDF
    detail = client_for(HEALTH_ID).get(f"/review/person_change/show/{item.id}").get_data(as_text=True)
    assert "职称证书.pdf" in detail and f"/attachments/{first}/download" in detail
    assert client_for(EDU_ID).get(f"/attachments/{first}/download").status_code == 404


def test_a_refused_change_keeps_no_evidence_file(app, person_client, storage_root):
    import os

    before = set(os.listdir(storage_root)) if os.path.isdir(storage_root) else set()
    _, level, _ = reference_ids(app)
    data = change_data(app, title_level_id=level, title_name="主治医师", title_date="2018-07-01",
                       evidence=(io.BytesIO(PDF), "证明.pdf", "application/pdf"))
    page = person_client.post("/me/change", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "没有任何修改" in page
    after = set(os.listdir(storage_root)) if os.path.isdir(storage_root) else set()
    assert after == before


def test_only_the_chain_of_the_employer_reviews_the_change_and_approval_applies_it(app, person_client, client_for):
    from app.extensions import db
    from app.models import Person

    _, _, senior_level = reference_ids(app)
    person_client.post("/me/change", data=change_data(app))
    (item,) = person_changes(app, person_client.person_id)

    edu = client_for(EDU_ID)
    assert f"/review/person_change/show/{item.id}" not in edu.get("/review/person_change/list/").get_data(as_text=True)
    assert edu.get(f"/review/person_change/show/{item.id}").status_code == 404
    edu.post("/review/person_change/action_post", data={"action": "approve", "rowid": [item.id]})
    assert request_state(app, item.id)[0] == "pending"

    health = client_for(HEALTH_ID)
    assert f"/review/person_change/show/{item.id}" in health.get("/review/person_change/list/").get_data(as_text=True)
    approve(health, "person_change", item.id)
    assert request_state(app, item.id)[0] == "approved"
    with app.app_context():
        person = db.session.get(Person, person_client.person_id)
        assert person.title_name == "副主任医师" and person.title_level_id == senior_level
        assert person.title_date.isoformat() == "2024-01-15"
    page = person_client.get("/me/").get_data(as_text=True)
    assert "已通过" in page and 'id="my-title-name">副主任医师' in page


def test_a_rejected_change_shows_the_reason_and_a_new_one_may_follow(app, person_client, client_for):
    person_client.post("/me/change", data=change_data(app))
    (item,) = person_changes(app, person_client.person_id)
    response = client_for(HEALTH_ID).post("/review/person_change/reject",
                                          data={"ids": str(item.id), "reason": "请上传职称证书"})
    assert response.status_code == 302
    page = person_client.get("/me/").get_data(as_text=True)
    assert "已驳回" in page and "请上传职称证书" in page
    assert person_client.post("/me/change", data=change_data(app, title_name="副主任护师")).status_code == 302
    assert [i.status.value for i in person_changes(app, person_client.person_id)] == ["rejected", "pending"]


def test_i_can_withdraw_my_pending_change_but_not_someone_elses(app, person_client):
    from app.extensions import db
    from app.models import ReviewKind, ReviewRequest, ReviewStatus

    person_client.post("/me/change", data=change_data(app))
    (item,) = person_changes(app, person_client.person_id)
    with app.app_context():
        others = db.session.scalar(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.person_change, ReviewRequest.status == ReviewStatus.pending,
            ReviewRequest.id != item.id))
    assert person_client.post(f"/me/withdraw/{others}").status_code == 404
    assert request_state(app, others)[0] == "pending"
    response = person_client.post(f"/me/withdraw/{item.id}", follow_redirects=True)
    assert "已撤回" in response.get_data(as_text=True)
    assert request_state(app, item.id)[0] == "withdrawn"


def test_administrators_and_anonymous_users_have_no_self_service(app, client_for):
    assert "/login" in app.test_client().get("/me/").headers.get("Location", "")
    response = client_for(HEALTH_ID).get("/me/")
    assert response.status_code in (302, 403) and "/me/" not in response.headers.get("Location", "")
    with app.app_context():
        from app.extensions import db
        from app.models import ReviewRequest

        before = db.session.scalar(select(func.count()).select_from(ReviewRequest))
    client_for(HEALTH_ID).post("/me/change", data=change_data(app))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewRequest)) == before
