"""年度工作材料报送 (manual 5.3): a department adds and edits its materials, the department above reviews."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID
from tests.web.test_chinese_ui import english_words


def _latest(app):
    from app.extensions import db
    from app.models import WorkMaterial

    with app.app_context():
        db.session.expire_all()
        item = db.session.scalars(select(WorkMaterial).order_by(WorkMaterial.id.desc()).limit(1)).first()
        return item.id, item.status.value, item.title, item.reject_reason


def _get(app, pk):
    from app.extensions import db
    from app.models import WorkMaterial

    with app.app_context():
        db.session.expire_all()
        item = db.session.get(WorkMaterial, pk)
        return item.status.value, item.title, item.reject_reason


def test_a_department_reports_edits_and_its_parent_reviews(app, fresh_world, client_for):
    wuhan, health = client_for(WH_HEALTH_ID), client_for(HEALTH_ID)
    page = wuhan.get("/work-materials/add").get_data(as_text=True)
    assert "报送年度" in page and english_words(page) == set()
    response = wuhan.post("/work-materials/add", data={"year": "2026", "title": "2026年度学习指南",
                                                       "remarks": "请各单位组织学习"})
    assert response.status_code == 302
    pk, status, _, _ = _latest(app)
    assert status == "pending"
    # editable while pending: stays pending, the edit is recorded
    assert wuhan.post(f"/work-materials/edit/{pk}", data={"year": "2026", "title": "2026年度学习指南（修订）",
                                                          "remarks": ""}).status_code == 302
    assert _get(app, pk) == ("pending", "2026年度学习指南（修订）", None)
    detail = health.get(f"/review/work_material/show/{pk}").get_data(as_text=True)
    assert "（修订）" in detail and "已编辑" in detail and english_words(detail) == set()
    health.post("/review/work_material/reject", data={"ids": str(pk), "reason": "缺少工作通知"})
    assert _get(app, pk)[0::2] == ("rejected", "缺少工作通知")
    own = wuhan.get(f"/work-materials/show/{pk}").get_data(as_text=True)
    assert "缺少工作通知" in own and "修改并重新提交" in own
    wuhan.post(f"/work-materials/edit/{pk}", data={"year": "2026", "title": "2026年度学习指南及工作通知"})
    assert _get(app, pk) == ("pending", "2026年度学习指南及工作通知", None)
    health.post("/review/work_material/action_post", data={"action": "approve", "rowid": [pk]})
    assert _get(app, pk)[0] == "approved"
    assert "已通过" in wuhan.get("/work-materials/list/").get_data(as_text=True)
    # approved: no more edits
    wuhan.post(f"/work-materials/edit/{pk}", data={"year": "2026", "title": "改不了"})
    assert _get(app, pk)[1] == "2026年度学习指南及工作通知"


def test_a_top_level_department_reports_to_the_province(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Organisation, ReviewStatus, WorkMaterial

    with app.app_context():
        pk = db.session.scalar(select(WorkMaterial.id).join(Organisation, Organisation.id == WorkMaterial.org_id)
                               .where(Organisation.name == "湖北省卫生健康委员会",
                                      WorkMaterial.status == ReviewStatus.pending))
    health = client_for(HEALTH_ID)
    assert f"/review/work_material/show/{pk}\"" not in health.get("/review/work_material/list/").get_data(as_text=True)
    assert health.get(f"/review/work_material/show/{pk}").status_code == 404
    assert client_for(EDU_ID).get(f"/review/work_material/show/{pk}").status_code == 404
    province = client_for(PROVINCE_ID)
    assert f"/review/work_material/show/{pk}" in province.get(
        "/review/work_material/list/?_flt_0_status=pending").get_data(as_text=True)
    province.post(f"/review/work_material/action/approve/{pk}")
    assert _get(app, pk)[0] == "approved"


def test_scope_and_roles_of_work_materials(app, client_for, api_for):
    from app.extensions import db
    from app.models import Organisation, ReviewStatus, WorkMaterial

    with app.app_context():
        pk = db.session.scalar(select(WorkMaterial.id).join(Organisation, Organisation.id == WorkMaterial.org_id)
                               .where(Organisation.name == "武汉市卫生健康委员会",
                                      WorkMaterial.status == ReviewStatus.pending))
    edu = client_for(EDU_ID)
    assert edu.get(f"/review/work_material/show/{pk}").status_code == 404
    assert edu.post("/review/work_material/action_post", data={"action": "approve", "rowid": [pk]}).status_code == 404
    assert app.test_client().post("/api/v1/review/work_material/reject", json={"ids": [pk], "reason": "x"},
                                  headers=api_for(EDU_ID)).status_code == 404
    # another department's own page does not open the item; its parent reviews but does not edit it
    health = client_for(HEALTH_ID)
    for url in (f"/work-materials/show/{pk}", f"/work-materials/edit/{pk}"):
        assert health.get(url).status_code == 404
    assert health.post(f"/work-materials/action/withdraw/{pk}").status_code == 404
    for who in (HOSPITAL_ID, BASE_ID):
        assert client_for(who).get("/work-materials/list/").status_code == 403
        assert client_for(who).get("/review/work_material/list/").status_code == 403
    assert _get(app, pk)[0] == "pending"


def test_bad_material_input_and_a_second_state_change_are_refused(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import WorkMaterial

    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(WorkMaterial))
    wuhan = client_for(WH_HEALTH_ID)
    for bad in ({"year": "1999", "title": "x"}, {"year": "2026", "title": ""}, {"year": "明年", "title": "x"}):
        response = wuhan.post("/work-materials/add", data=bad)
        assert response.status_code == 200 and english_words(response.get_data(as_text=True)) == set()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WorkMaterial)) == before
    # the province files nothing: it has no department above it
    response = client_for(PROVINCE_ID).post("/work-materials/add", data={"year": "2026", "title": "省级材料"})
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/work-materials/show/x", "/work-materials/edit/0", "/review/work_material/show/9999999"])
def test_malformed_and_unknown_ids_are_404(client_for, url):
    assert client_for(WH_HEALTH_ID).get(url).status_code == 404
