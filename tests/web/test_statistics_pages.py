"""继教综合统计查询 through the pages, the export and the REST endpoint: the same numbers everywhere, equal to a
recomputation from the raw records; scope (404 outside the subtree) and bad input (400 / 404, never 500)."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, org_id

YEAR = datetime.date.today().year


@pytest.fixture()
def learning(app, fresh_world):
    """Credit records of this year for every third active demo person (kinds, modes and statuses mixed)."""
    from app.extensions import db
    from app.models import (CreditDeclarer, CreditRecord, CreditRequirement, LearningMode, Person, PersonStatus,
                            ReviewStatus, SubjectKind)
    from app.services.credit import summary
    from app.services.transaction import transaction

    with app.app_context():
        persons = db.session.scalars(select(Person).where(Person.status == PersonStatus.active)
                                     .order_by(Person.id)).all()[::3]
        kinds = [(SubjectKind.public, LearningMode.online, 30, ReviewStatus.approved),
                 (SubjectKind.professional, LearningMode.offline, 60, ReviewStatus.approved),
                 (SubjectKind.professional, LearningMode.online, 20, ReviewStatus.pending),
                 (SubjectKind.public, LearningMode.offline, 10, ReviewStatus.rejected)]
        with transaction():
            db.session.merge(CreditRequirement(year=YEAR, total_hours=90, professional_numerator=2,
                                               professional_denominator=3))
            for i, person in enumerate(persons):
                for j, (kind, mode, hours, status) in enumerate(kinds[: 1 + i % 4]):
                    db.session.add(CreditRecord(
                        person_id=person.id, employer_id=person.employer_id, org_path=person.org_path, year=YEAR,
                        subject_kind=kind, mode=mode, activity=f"测试{j}", activity_key=f"T:{j}", hours=hours,
                        completed_on=datetime.date(YEAR, 1, 1), declarer_type=CreditDeclarer.person, status=status))
            db.session.flush()
            summary.refresh([(p.id, YEAR) for p in persons])
        count = len(persons)
    # outside the app context: each request gets its own (and its own g: the viewer's scope is cached there)
    yield count


def _cells(html: str, row_id: str) -> list[str]:
    match = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, row_id
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", match.group(1), re.S)]


def _recomputed_total(prefix: str) -> dict:
    """The total row straight from person and credit_record (what the aggregates must equal)."""
    from app.extensions import db

    like = {"prefix": prefix + "%", "year": YEAR}
    scalar = lambda sql: db.session.scalar(text(sql), like) or 0  # noqa: E731
    active = "r.status IN ('pending', 'approved') AND r.year = :year AND p.org_path LIKE :prefix"
    learners = ("SELECT COUNT(DISTINCT r.person_id) FROM credit_record r JOIN person p ON p.id = r.person_id "
                "WHERE " + active)
    return {
        "persons": scalar("SELECT COUNT(*) FROM person p WHERE p.status = 'active' AND p.org_path LIKE :prefix"),
        "learners": scalar(learners),
        "online_learners": scalar(learners + " AND r.mode = 'online'"),
        "offline_learners": scalar(learners + " AND r.mode = 'offline'"),
        "public_learners": scalar(learners + " AND r.subject_kind = 'public'"),
        "professional_offline_learners": scalar(learners + " AND r.subject_kind = 'professional' AND r.mode = 'offline'"),
        "approved_learners": scalar(learners.replace("IN ('pending', 'approved')", "= 'approved'")),
        "approved_records": scalar("SELECT COUNT(*) FROM credit_record r JOIN person p ON p.id = r.person_id "
                                   "WHERE r.status = 'approved' AND r.year = :year AND p.org_path LIKE :prefix"),
        "qualified": scalar("SELECT COUNT(*) FROM credit_summary s JOIN person p ON p.id = s.person_id "
                            "WHERE s.year = :year AND s.qualified = :yes AND p.org_path LIKE :prefix"
                            .replace(":yes", "true" if db.engine.dialect.name == "postgresql" else "1")),
    }


@pytest.mark.parametrize("who, by", [(PROVINCE_ID, ""), (HEALTH_ID, ""), (HEALTH_ID, "series")])
def test_table_export_and_rest_agree_with_a_recomputation(app, learning, client_for, api_for, who, by):
    from app.extensions import db
    from app.models import Account, Organisation
    from app.services.statistics import aggregates
    from app.services.statistics.comprehensive import FIGURES

    client = client_for(who)
    page = client.get(f"/statistics/comprehensive/?year={YEAR}&by={by}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for word in ("序号", "行业主管部门/职称", "当年总学习人数", "网络学习人数", "学时学习人数", "当年公开课程学习人数",
                 "当年专业课程学习人数", "合格课程总人数", "专技综合合格人数", "合格率", "操作"):
        assert word in html
    api = client.get(f"/api/v1/statistics/comprehensive?year={YEAR}" + ("&by=series" if by else ""),
                     headers=api_for(who))
    assert api.status_code == 200, api.json
    body = api.json
    export = client.get(f"/statistics/comprehensive/export/?year={YEAR}&by={by}")
    assert export.status_code == 200 and export.mimetype.endswith("sheet")
    sheet = load_workbook(io.BytesIO(export.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:6] == ["序号", "行业主管部门/职称", "用人单位总数", "继续教育机构总数", "专技人员总数", "当年总学习人数"]
    assert values[1][5:8] == ["总学习人数", "网络学习人数", "学时学习人数"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:A2", "B1:B2", "F1:H1", "I1:K1", "L1:N1"} <= merged
    data = values[2:]
    assert len(data) == len(body["rows"]) + 1
    for number, (api_row, xl_row) in enumerate(zip(body["rows"] + [body["total"]], data), start=1):
        key = api_row["key"]
        expected = [api_row[name] for name in FIGURES]
        assert [None if v == "—" else v for v in xl_row[2:2 + len(FIGURES)]] == expected
        assert xl_row[1] == api_row["label"]
        rate = "—" if api_row["qualified_rate"] is None else f"{api_row['qualified_rate'] * 100:.2f}%"
        assert xl_row[-1] == rate
        cells = _cells(html, f"stats-row-{key}")
        assert cells[1] == api_row["label"]
        assert [None if c == "—" else int(c) for c in cells[2:2 + len(FIGURES)]] == expected
        assert cells[2 + len(FIGURES)] == rate
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.username == who))
        org = db.session.get(Organisation, account.organisation_id)
        prefix = "/" if org.parent_id is None else org.path
        recomputed = _recomputed_total(prefix)
        assert {k: body["total"][k] for k in recomputed} == recomputed
        assert aggregates.differences() == []
    assert body["total"]["learners"] > 0


def test_drill_down_and_breadcrumb(app, client_for):
    with app.app_context():
        wuhan = org_id("武汉市卫生健康委员会")
    html = client_for(HEALTH_ID).get(f"/statistics/comprehensive/?year={YEAR}").get_data(as_text=True)
    assert f"org={wuhan}" in html and "查看" in html
    down = client_for(HEALTH_ID).get(f"/statistics/comprehensive/?year={YEAR}&org={wuhan}")
    assert down.status_code == 200
    crumbs = re.search(r'id="stats-breadcrumb">(.*?)</ol>', down.get_data(as_text=True), re.S).group(1)
    assert "湖北省卫生健康委员会" in crumbs and "武汉市卫生健康委员会" in crumbs


def test_another_departments_admin_gets_404(app, client_for, api_for):
    with app.app_context():
        wuhan = org_id("武汉市卫生健康委员会")
        health = org_id("湖北省卫生健康委员会")
    client, headers = client_for(EDU_ID), api_for(EDU_ID)
    for org in (wuhan, health):
        assert client.get(f"/statistics/comprehensive/?org={org}").status_code == 404
        assert client.get(f"/statistics/comprehensive/export/?org={org}").status_code == 404
        assert client.get(f"/api/v1/statistics/comprehensive?org={org}", headers=headers).status_code == 404
    # a sub-department's admin cannot climb up either
    assert client_for(WH_HEALTH_ID).get(f"/statistics/comprehensive/?org={health}").status_code == 404
    # units and bases have no statistics permission
    for who in (HOSPITAL_ID, BASE_ID):
        response = client_for(who).get("/statistics/comprehensive/")
        assert response.status_code in (302, 403)
        assert api_for(who) and app.test_client().get(
            "/api/v1/statistics/comprehensive", headers=api_for(who)).status_code in (401, 403)


@pytest.mark.parametrize("query, status", [
    ("year=abc", 400), ("year=1999", 400), ("year=99999999999999999999", 400), ("year=2026.5", 400),
    ("org=abc", 404), ("org=-3", 404), ("org=99999999999999", 404), ("org=1%27", 404),
])
def test_bad_input_answers_400_or_404(app, client_for, api_for, query, status):
    client = client_for(HEALTH_ID)
    assert client.get(f"/statistics/comprehensive/?{query}").status_code == status
    assert client.get(f"/statistics/comprehensive/export/?{query}").status_code == status
    response = client.get(f"/api/v1/statistics/comprehensive?{query}", headers=api_for(HEALTH_ID))
    assert response.status_code == status and response.json.get("message")


def test_rest_refuses_an_unknown_grouping_and_is_in_the_openapi_spec(app, client_for, api_for):
    client = client_for(PROVINCE_ID)
    response = client.get("/api/v1/statistics/comprehensive?by=city", headers=api_for(PROVINCE_ID))
    assert response.status_code == 400
    spec = client.get("/api/v1/_openapi", headers=api_for(PROVINCE_ID)).json
    assert "/api/v1/statistics/comprehensive" in spec["paths"]
    assert "StatisticsRow" in spec["components"]["schemas"]


def test_a_departments_dashboard_charts_the_qualification_rate_of_its_subordinates(app, learning, client_for):
    import json

    from app.scope import Scope
    from app.services.statistics.comprehensive import comprehensive

    response = client_for(HEALTH_ID).get("/")
    html = response.get_data(as_text=True)
    match = re.search(r"<div id=\"qualification-chart\"[^>]*data-names='([^']*)' data-rates='([^']*)'", html)
    assert match, html[-3000:]
    names, rates = json.loads(match.group(1)), json.loads(match.group(2))
    with app.app_context():
        health = org_id("湖北省卫生健康委员会")
        from app.extensions import db
        from app.models import Organisation

        table = comprehensive(Scope("subtree", prefix=db.session.get(Organisation, health).path, org_id=health), YEAR)
    expected = [r for r in table.rows if r.drill_org_id]
    assert names == [r.label for r in expected] and "武汉市卫生健康委员会" in names
    assert rates == [None if r.qualified_rate is None else round(r.qualified_rate * 100, 2) for r in expected]
    # ECharts from our own server, every script carrying this response's nonce (CSP)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<script src="/static/vendor/echarts/echarts.min.js" nonce="{nonce}">' in html
    assert f'<script src="/static/js/qualification_chart.js" nonce="{nonce}">' in html
    assert "http://" not in re.sub(r'xmlns="http://[^"]+"', "", "".join(re.findall(r"<script[^>]*>", html)))
    assert client_for(HEALTH_ID).get("/static/vendor/echarts/echarts.min.js").status_code == 200
    # units and bases: no statistics, no chart
    assert "qualification-chart" not in client_for(HOSPITAL_ID).get("/").get_data(as_text=True)


def test_a_batch_registration_approval_counts_the_new_personnel_at_once(app, fresh_world, client_for, api_for):
    """Persons become active through the review mechanism's set-based UPDATE: the table follows in that transaction."""
    from app.extensions import db
    from app.models import Person, PersonStatus, ReviewRequest, ReviewStatus
    from app.services.statistics import aggregates

    headers = api_for(PROVINCE_ID)
    client = app.test_client()
    before = client.get(f"/api/v1/statistics/comprehensive?year={YEAR}", headers=headers).json["total"]["persons"]
    with app.app_context():
        ids = db.session.scalars(select(ReviewRequest.id).where(ReviewRequest.kind == "person_registration",
                                                                ReviewRequest.status == ReviewStatus.pending)
                                 .order_by(ReviewRequest.id).limit(3)).all()
    assert ids
    answer = client.post("/api/v1/review/person_registration/approve", json={"ids": ids}, headers=headers)
    assert answer.status_code == 200 and answer.json["done"] == len(ids), answer.json
    after = client.get(f"/api/v1/statistics/comprehensive?year={YEAR}", headers=headers).json["total"]["persons"]
    assert after == before + len(ids)
    with app.app_context():
        assert aggregates.differences() == []
        active = db.session.scalar(select(func.count()).select_from(Person)
                                   .where(Person.status == PersonStatus.active))
        assert after == active
