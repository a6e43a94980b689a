"""What a department admin meets on the review pages and the dashboard (issue: house in order, item 9)."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID


def _pending(app, kind):
    from app.extensions import db
    from app.models import ReviewKind, ReviewRequest, ReviewStatus

    with app.app_context():
        return list(db.session.scalars(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind(kind), ReviewRequest.status == ReviewStatus.pending)
            .order_by(ReviewRequest.id)))


def test_organisation_registration_lists_show_where_the_applicant_hangs(app, client_for):
    page = client_for(WH_HEALTH_ID).get("/review/unit_registration/list/").get_data(as_text=True)
    row = next(r for r in page.split("<tr") if "武汉市第三医院" in r)
    assert "武汉市卫生健康委员会" in row          # its parent, not its own name again
    assert "上级部门" in page


def test_a_submission_reads_as_submitted_in_the_history(app, client_for):
    pk = _pending(app, "unit_registration")[0]
    page = client_for(PROVINCE_ID).get(f"/review/unit_registration/show/{pk}").get_data(as_text=True)
    history = page.split('id="history-table"')[1].split("</table>")[0]
    first = re.findall(r"<tr>(.*?)</tr>", history, re.S)[1]
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", first, re.S)]
    assert cells[2] == "提交" and cells[3] == "—" and cells[4] == "待审核"
    assert cells[1]                               # the submitter is named


def test_every_seeded_request_names_its_submitter(app_ctx):
    from app.extensions import db
    from app.models import ReviewRequest

    assert db.session.scalar(select(ReviewRequest.id).where(ReviewRequest.submitted_by_id.is_(None))) is None


def test_review_detail_offers_each_decision_once(app, client_for):
    pk = _pending(app, "person_registration")[0]
    page = client_for(PROVINCE_ID).get(f"/review/person_registration/show/{pk}").get_data(as_text=True)
    assert page.count('id="approve-one"') == 1 and page.count('id="reject-one"') == 1
    assert "btn-action-" not in page              # no second set of buttons in the toolbar
    assert 'data-confirm="确定审核通过该申请吗？"' in page


def test_change_details_list_only_the_fields_that_change(app_ctx):
    import json

    from app.models import ReviewKind, ReviewRequest
    from app.workflow.declarations.common import change_rows

    item = ReviewRequest(kind=ReviewKind.organisation_change, before=json.dumps({"phone": "1", "address": "甲"}),
                         after=json.dumps({"phone": "1", "address": "乙"}))
    assert [row[0] for row in change_rows(item)] == ["地址"]


def test_todo_link_opens_the_pending_items_only(app, fresh_world, client_for):
    client = client_for(HEALTH_ID)
    pk = _pending(app, "person_registration")[0]
    client.post("/review/person_registration/action_post", data={"action": "approve", "rowid": [pk]})
    everything = client.get("/review/person_registration/list/").get_data(as_text=True)
    pending = client.get("/review/person_registration/list/?_flt_0_status=pending").get_data(as_text=True)
    assert f"/review/person_registration/show/{pk}" in everything
    assert f"/review/person_registration/show/{pk}" not in pending
    assert "待审核" in pending


def test_a_decision_refreshes_the_dashboard_counts(app, fresh_world, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_COUNTS_TTL", 600)
    client = client_for(PROVINCE_ID)

    def persons():
        return int(re.search(r'id="count-persons">(\d+)<', client.get("/").get_data(as_text=True)).group(1))

    before = persons()
    ids = _pending(app, "person_registration")
    response = client.post("/review/person_registration/action_post", data={"action": "approve", "rowid": ids})
    assert response.status_code == 302
    assert persons() == before + len(ids)


def test_units_see_only_the_figures_that_concern_them(app, client_for):
    page = client_for(HOSPITAL_ID).get("/").get_data(as_text=True)
    assert 'id="count-persons"' in page
    assert 'id="count-supervisory"' not in page and 'id="count-training-base"' not in page


def test_a_filter_position_the_column_does_not_offer_is_a_bad_request(client_for):
    response = client_for(HEALTH_ID).get("/review/organisation_change/list/?_flt_6_status=2147483648")
    assert response.status_code == 400
