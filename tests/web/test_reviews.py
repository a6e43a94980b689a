"""Review lists through the web client and the REST API, per role."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import (BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID,
                            api_token, login)

KINDS = ["person_registration", "unit_registration", "base_registration", "supervisory_registration",
         "person_change", "organisation_change", "parent_change"]


def _pending_ids(app, kind, org_name=None):
    from app.extensions import db
    from app.models import Organisation, ReviewKind, ReviewRequest, ReviewStatus

    with app.app_context():
        query = select(ReviewRequest.id).where(ReviewRequest.kind == ReviewKind(kind),
                                               ReviewRequest.status == ReviewStatus.pending)
        if org_name:
            query = query.join(Organisation, Organisation.id == ReviewRequest.org_id).where(
                Organisation.name == org_name)
        return list(db.session.scalars(query.order_by(ReviewRequest.id)))


def _status(app, request_id):
    from app.extensions import db
    from app.models import ReviewRequest

    with app.app_context():
        db.session.expire_all()
        item = db.session.get(ReviewRequest, request_id)
        return item.status.value, item.reject_reason


@pytest.mark.parametrize("kind", KINDS)
def test_every_review_list_has_pending_items_for_the_province(app, client_for, kind):
    page = client_for(PROVINCE_ID).get(f"/review/{kind}/list/").get_data(as_text=True)
    assert f"/review/{kind}/show/" in page
    assert "待审核" in page


def test_health_sees_its_subtree_only(app, client_for):
    page = client_for(HEALTH_ID).get("/review/person_registration/list/").get_data(as_text=True)
    assert "湖北省人民医院" in page and "武汉大学" not in page


def test_batch_approve_reports_done_and_skipped(app, fresh_world, client_for):
    ids = _pending_ids(app, "person_registration", "湖北省人民医院")
    client = client_for(HEALTH_ID)
    client.post("/review/person_registration/action_post", data={"action": "approve", "rowid": ids[:1]})
    response = client.post("/review/person_registration/action_post",
                           data={"action": "approve", "rowid": ids}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"已处理 {len(ids) - 1} 条，跳过 1 条（非待审核状态）" in page
    assert all(_status(app, i)[0] == "approved" for i in ids)


def test_approval_lets_the_registered_person_log_in(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Person, ReviewRequest

    request_id = _pending_ids(app, "person_registration", "湖北省人民医院")[0]
    with app.app_context():
        person = db.session.get(Person, db.session.get(ReviewRequest, request_id).subject_id)
        id_number = person.id_number
    assert "/login" in login(app.test_client(), id_number, "Demo@2026", "personnel").headers["Location"]
    client_for(HEALTH_ID).post(f"/review/person_registration/action/approve/{request_id}")
    assert "/login" not in login(app.test_client(), id_number, "Demo@2026", "personnel").headers["Location"]


def test_reject_requires_a_reason_and_records_it(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog

    request_id = _pending_ids(app, "organisation_change")[0]
    client = client_for(HEALTH_ID)
    response = client.post("/review/organisation_change/action_post", data={"action": "reject", "rowid": [request_id]})
    assert f"/review/organisation_change/reject?ids={request_id}" in response.headers["Location"]
    page = client.post("/review/organisation_change/reject", data={"ids": str(request_id), "reason": " "}).get_data(as_text=True)
    assert "驳回必须填写驳回原因" in page
    assert _status(app, request_id) == ("pending", None)
    client.post("/review/organisation_change/reject", data={"ids": str(request_id), "reason": "联系人信息有误"})
    assert _status(app, request_id) == ("rejected", "联系人信息有误")
    with app.app_context():
        row = db.session.scalars(select(AuditLog).where(AuditLog.object_id == request_id,
                                                        AuditLog.action == "reject")).one()
        assert row.comment == "联系人信息有误" and '"孙主任"' in row.after


def test_detail_page_shows_change_details_and_history(app, client_for):
    request_id = _pending_ids(app, "person_change")[0]
    page = client_for(HEALTH_ID).get(f"/review/person_change/show/{request_id}").get_data(as_text=True)
    assert "变更明细" in page and "审核记录" in page
    table = page.split('id="changes-table"')[1].split("</table>")[0]
    assert "职称级别" in table and "副高级" in table and "副主任医师" in table
    history = page.split('id="history-table"')[1].split("</table>")[0]
    assert "提交" in history


@pytest.mark.parametrize("url", ["/review/person_registration/show/{pk}",
                                 "/review/person_registration/reject?ids={pk}"])
def test_other_department_gets_404(app, client_for, url):
    pk = _pending_ids(app, "person_registration", "湖北省人民医院")[0]
    assert client_for(EDU_ID).get(url.format(pk=pk)).status_code == 404


def test_other_department_action_post_is_404_and_changes_nothing(app, client_for):
    pk = _pending_ids(app, "person_registration", "湖北省人民医院")[0]
    response = client_for(EDU_ID).post("/review/person_registration/action_post",
                                       data={"action": "approve", "rowid": [pk]})
    assert response.status_code == 404
    assert _status(app, pk)[0] == "pending"


def test_employer_admin_cannot_review(app, client_for):
    response = client_for(HOSPITAL_ID).get("/review/person_registration/list/")
    assert response.status_code in (302, 403)


def test_tampered_reject_form_with_foreign_id_is_404(app, client_for):
    own = _pending_ids(app, "person_registration", "武汉大学")[0]
    foreign = _pending_ids(app, "person_registration", "湖北省人民医院")[0]
    response = client_for(EDU_ID).post("/review/person_registration/reject",
                                       data={"ids": f"{own},{foreign}", "reason": "x"})
    assert response.status_code == 404
    assert _status(app, own)[0] == "pending"


def test_rest_decisions_report_counts_and_respect_scope(app, fresh_world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, HEALTH_ID)}"}
    ids = _pending_ids(app, "unit_registration")
    response = client.post("/api/v1/review/unit_registration/approve", json={"ids": ids}, headers=headers)
    assert response.status_code == 200 and response.json["done"] == len(ids)
    again = client.post("/api/v1/review/unit_registration/approve", json={"ids": ids}, headers=headers)
    assert again.json == {"done": 0, "skipped": len(ids), "message": again.json["message"]}
    no_reason = client.post("/api/v1/review/person_change/reject", json={"ids": _pending_ids(app, "person_change")},
                            headers=headers)
    assert no_reason.status_code == 422 and "原因" in no_reason.json["message"]
    edu = {"Authorization": f"Bearer {api_token(client, EDU_ID)}"}
    foreign = _pending_ids(app, "person_registration", "湖北省人民医院")
    assert client.post("/api/v1/review/person_registration/approve", json={"ids": foreign},
                       headers=edu).status_code == 404
    assert client.post("/api/v1/review/nonsense/approve", json={"ids": [1]}, headers=edu).status_code == 404


def test_unit_approval_lets_its_admin_log_in(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account, ReviewRequest

    pk = _pending_ids(app, "unit_registration")[0]
    with app.app_context():
        admin = db.session.scalar(select(Account).where(
            Account.organisation_id == db.session.get(ReviewRequest, pk).subject_id))
        id_number = admin.username
    assert "/login" in login(app.test_client(), id_number, "Demo@2026", "employer").headers["Location"]
    client_for(WH_HEALTH_ID).post(f"/review/unit_registration/action/approve/{pk}")
    assert _status(app, pk)[0] == "approved"
    assert "/login" not in login(app.test_client(), id_number, "Demo@2026", "employer").headers["Location"]


def test_dashboard_todo_counts_link_to_the_lists(app, client_for):
    page = client_for(HEALTH_ID).get("/").get_data(as_text=True)
    panel = page.split('id="todo-panel"')[1]
    # the link opens the pending requests only
    count = int(re.search(r'/review/person_registration/list/\?_flt_0_status=pending">[^<]+</a>\s*'
                          r'<span class="badge">(\d+)<', panel).group(1))
    assert count == len(_pending_ids(app, "person_registration", "湖北省人民医院")) + len(
        _pending_ids(app, "person_registration", "武汉市第一医院")) + len(
        _pending_ids(app, "person_registration", "湖北省中医院"))


def test_training_base_admin_has_no_review_todo(app, client_for):
    page = client_for(BASE_ID).get("/").get_data(as_text=True)
    assert "/review/" not in page
