"""查询统计 (issue 13): 职称系列分布查询 and 专技人员信息查询 — scope, roles, bad input, counts, export."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from sqlalchemy import delete, func, select, text

from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID, org_id


def _sheet(response) -> list[list]:
    from openpyxl import load_workbook

    assert response.status_code == 200, response.status_code
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _path(app, name: str) -> str:
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.scalar(select(Organisation.path).where(Organisation.name == name))


def _direct_counts(app, prefix: str, extra: str = "", params=None) -> dict:
    """Persons per (series name, level name) by plain SQL, independent of the service."""
    from app.extensions import db

    sql = text(
        "SELECT COALESCE(s.name, '未评定职称系列'), COALESCE(l.name, '未评定职称级别'), COUNT(*) FROM person p "
        "LEFT JOIN title_series s ON s.id = p.title_series_id LEFT JOIN title_level l ON l.id = p.title_level_id "
        "JOIN organisation o ON o.id = p.employer_id WHERE o.path LIKE :prefix " + extra + " GROUP BY 1, 2")
    with app.app_context():
        return {(a, b): n for a, b, n in db.session.execute(sql, {"prefix": prefix + "%", **(params or {})})}


def _page_table(html: str) -> dict:
    """(series, level) -> count read back from the page's table."""
    head = re.search(r'<table[^>]*id="distribution-table".*?<thead><tr>(.*?)</tr></thead>', html, re.S).group(1)
    levels = re.findall(r'<th class="text-right">([^<]+)</th>', head)[:-2]
    body = re.search(r'id="distribution-table".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(?:<b>)?([^<]*)", row)
        name, counts = cells[0], cells[1:1 + len(levels)]
        for level, n in zip(levels, counts):
            if int(n):
                found[(name, level)] = int(n)
    return found


def test_distribution_counts_equal_a_direct_sql_count(app, client_for):
    health = client_for(HEALTH_ID)
    response = health.get("/statistics/title-series/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "职称系列分布" in html
    expected = _direct_counts(app, _path(app, "湖北省卫生健康委员会"))
    got = _page_table(html)
    assert got == expected
    total = int(re.search(r'id="distribution-grand-total">(\d+)<', html).group(1))
    assert total == sum(expected.values()) > 0
    # the chart data travels as JSON (no inline script) and the charts come from our own static files
    assert 'type="application/json" id="distribution-data"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/js/title_distribution.js" in html


def test_distribution_filters_level_status_and_sub_organisation(app, client_for):
    from app.extensions import db
    from app.models import TitleLevel

    with app.app_context():
        level = db.session.scalars(select(TitleLevel).order_by(TitleLevel.sort_order)).all()[2]
        level_id, level_name = level.id, level.name
    health = client_for(HEALTH_ID)
    hospital = org_id_of(app, "湖北省人民医院")
    html = health.get(f"/statistics/title-series/?org_id={hospital}&level_id={level_id}&status=active") \
        .get_data(as_text=True)
    expected = _direct_counts(app, _path(app, "湖北省人民医院"),
                              "AND p.title_level_id = :level AND p.status = 'active'", {"level": level_id})
    got = _page_table(html)
    assert got == expected and sum(got.values()) > 0
    assert all(level == level_name for _s, level in got)
    # series sorted by persons, most first
    totals = [int(n) for n in re.findall(r"<td class=\"text-right\"><b>(\d+)</b>", html)]
    assert totals == sorted(totals, reverse=True)


def org_id_of(app, name: str) -> int:
    with app.app_context():
        return org_id(name)


def test_distribution_export_rows_equal_the_table(app, client_for):
    health = client_for(HEALTH_ID)
    html = health.get("/statistics/title-series/").get_data(as_text=True)
    rows = _sheet(health.get("/statistics/title-series/export/"))
    assert rows[0][0] == "职称系列" and rows[0][-2:] == ["合计", "占比"]
    levels = rows[0][1:-2]
    from_export = {(row[0], lv): n for row in rows[1:-1] for lv, n in zip(levels, row[1:-2]) if n}
    assert from_export == _page_table(html)
    assert rows[-1][0] == "合计" and rows[-1][-2] == sum(from_export.values())


def test_another_department_cannot_name_an_organisation_outside_its_scope(app, client_for):
    hospital = org_id_of(app, "湖北省人民医院")
    edu = client_for(EDU_ID)
    for url in (f"/statistics/title-series/?org_id={hospital}", f"/statistics/title-series/export/?org_id={hospital}",
                f"/statistics/persons/list/?org_id={hospital}", f"/statistics/persons/export/?org_id={hospital}"):
        assert edu.get(url).status_code == 404, url
    # the province sees it, a department above it too
    assert client_for(PROVINCE_ID).get(f"/statistics/title-series/?org_id={hospital}").status_code == 200
    assert client_for(HEALTH_ID).get(f"/statistics/persons/list/?org_id={hospital}").status_code == 200


def _health_person(app) -> tuple[int, str, str]:
    from app.extensions import db
    from app.models import Organisation, Person

    with app.app_context():
        row = db.session.execute(select(Person.id, Person.name, Person.id_number)
                                 .join(Organisation, Organisation.id == Person.employer_id)
                                 .where(Organisation.name == "湖北省人民医院").order_by(Person.id)).first()
        return row.id, row.name, row.id_number


def test_person_detail_and_export_are_404_for_another_department(app, client_for):
    pk, name, number = _health_person(app)
    edu = client_for(EDU_ID)
    assert edu.get(f"/statistics/persons/show/{pk}").status_code == 404
    assert edu.get("/statistics/persons/show/999999999").status_code == 404
    assert _list_rows(edu.get(f"/statistics/persons/list/?q={number}").get_data(as_text=True)) == []
    rows = _sheet(edu.get(f"/statistics/persons/export/?q={number}"))
    assert rows[1:] == []
    health = client_for(HEALTH_ID)
    page = health.get(f"/statistics/persons/show/{pk}").get_data(as_text=True)
    assert name in page and number in page and "学时" in page


@pytest.mark.parametrize("who", [BASE_ID])
def test_wrong_role_is_refused(client_for, who):
    client = client_for(who)
    for url in ("/statistics/title-series/", "/statistics/title-series/export/", "/statistics/persons/list/",
                "/statistics/persons/export/", "/statistics/persons/show/1"):
        assert client.get(url).status_code in (302, 403), url


def test_anonymous_is_sent_to_login(app):
    client = app.test_client()
    for url in ("/statistics/title-series/", "/statistics/persons/list/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("query", [
    "org_id=abc", "org_id=-1", "org_id=99999999999", "level_id=x", "level_id=999999", "status=nonsense",
    "series_id=1.5", "year=abcd", "year=1800", "verified=maybe", "verified=yes", "q=" + "王" * 60,
    "psize=100000", "page=-5", "page=abc", "org_id=%00", "q=%25%5F",
])
def test_bad_input_is_refused_never_500(client_for, query):
    health = client_for(HEALTH_ID)
    for base in ("/statistics/title-series/", "/statistics/persons/list/", "/statistics/persons/export/"):
        response = health.get(f"{base}?{query}")
        assert response.status_code in (200, 400, 404, 422), (base, query, response.status_code)
    assert health.get("/statistics/persons/show/abc").status_code == 404


def _list_rows(html: str) -> list[list[str]]:
    body = re.search(r'id="person-query-table".*?<tbody>(.*?)</tbody>', html, re.S)
    if body is None:
        return []
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        rows.append(cells)
    return rows


def test_person_query_filters_and_export_rows_equal_the_list(app, client_for):
    from app.extensions import db
    from app.models import Person, TitleSeries

    health = client_for(HEALTH_ID)
    with app.app_context():
        series_id = db.session.scalar(
            select(Person.title_series_id).where(Person.org_path.startswith(_path(app, "湖北省卫生健康委员会")),
                                                 Person.title_series_id.is_not(None))
            .group_by(Person.title_series_id).order_by(func.count().desc()).limit(1))
        series_name = db.session.get(TitleSeries, series_id).name
    query = f"series_id={series_id}&status=active&psize=100"
    html = health.get(f"/statistics/persons/list/?{query}").get_data(as_text=True)
    listed = _list_rows(html)
    assert listed and all(row[4] == series_name and row[7] == "在职" or row[7] for row in listed)
    assert all(row[4] == series_name for row in listed)
    exported = _sheet(health.get(f"/statistics/persons/export/?{query}"))
    assert exported[0][:3] == ["姓名", "身份证号", "性别"]
    assert [[str(v or "") for v in row] for row in exported[1:len(listed) + 1]] == listed
    count = int(re.search(r"共 ?(\d+) ?人", html).group(1)) if re.search(r"共 ?(\d+) ?人", html) else None
    assert count is None or count == len(exported) - 1
    # name prefix and ID-number prefix
    pk, name, number = _health_person(app)
    assert any(row[1] == number for row in _list_rows(health.get(f"/statistics/persons/list/?q={number[:12]}")
                                                          .get_data(as_text=True)))
    assert all(row[0].startswith(name[0]) for row in _list_rows(
        health.get(f"/statistics/persons/list/?q={name[0]}").get_data(as_text=True)))


def test_verification_filter_detail_hours_title_changes(app, fresh_world, client_for):
    """Year verified or not, and the detail page: hours against the rule, verification, approved title changes."""
    from app.extensions import db
    from app.models import (CreditRequirement, CreditSummary, CreditVerification, Person, ReviewKind,
                            ReviewRequest, ReviewStatus)
    from app.services.transaction import commit

    pk, name, number = _health_person(app)
    year = 2025
    with app.app_context():
        person = db.session.get(Person, pk)
        # the demo world's verifications of the unit and the person's summary give way to this test's own
        db.session.execute(delete(CreditVerification).where(CreditVerification.employer_id == person.employer_id,
                                                            CreditVerification.year == year))
        db.session.execute(delete(CreditSummary).where(CreditSummary.person_id == pk, CreditSummary.year == year))
        if db.session.get(CreditRequirement, year) is None:
            db.session.add(CreditRequirement(year=year, total_hours=90, professional_numerator=2,
                                             professional_denominator=3))
        db.session.add(CreditSummary(person_id=pk, year=year, public_hours=30, professional_hours=64,
                                     qualified=True, approved_records=5))
        db.session.add(CreditVerification(person_id=pk, employer_id=person.employer_id, org_path=person.org_path,
                                          year=year, public_hours=30, professional_hours=64, required_hours=90,
                                          required_professional_hours=60, status=ReviewStatus.approved,
                                          reviewed_on=datetime.datetime(2026, 3, 1, 9, 0)))
        db.session.add(ReviewRequest(kind=ReviewKind.person_change, subject_id=pk, subject_name=person.name,
                                     subject_code=person.id_number, org_id=person.employer_id,
                                     status=ReviewStatus.approved, reviewed_on=datetime.datetime(2026, 2, 1),
                                     before='{"title_name": "主治医师"}', after='{"title_name": "副主任医师"}'))
        commit()
    health = client_for(HEALTH_ID)
    hospital = org_id_of(app, "湖北省人民医院")
    passed = _list_rows(health.get(f"/statistics/persons/list/?org_id={hospital}&year={year}&verified=yes")
                        .get_data(as_text=True))
    assert [row[1] for row in passed] == [number] and passed[0][-1] == "审验通过"
    not_passed = _list_rows(health.get(f"/statistics/persons/list/?org_id={hospital}&year={year}&verified=no&psize=100")
                            .get_data(as_text=True))
    assert not_passed and number not in [row[1] for row in not_passed]
    assert all(row[-1] == "未审验" for row in not_passed)
    exported = _sheet(health.get(f"/statistics/persons/export/?org_id={hospital}&year={year}&verified=yes"))
    assert exported[0][-1] == f"{year}年度学时审验" and exported[1][1] == number and exported[1][-1] == "审验通过"
    page = health.get(f"/statistics/persons/show/{pk}").get_data(as_text=True)
    hours = re.search(r'<tr data-year="2025">(.*?)</tr>', page, re.S).group(1)
    assert ">94<" in hours and "90" in hours and "已达标" in hours and "审验通过" in hours
    assert "副主任医师" in page and "主治医师" in page


def test_query_pages_are_in_the_menu_for_departments_and_units(client_for):
    for who in (HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID):
        html = client_for(who).get("/").get_data(as_text=True)
        assert "职称系列分布查询" in html and "专技人员信息查询" in html, who
    assert "职称系列分布查询" not in client_for(BASE_ID).get("/").get_data(as_text=True)


def test_a_large_person_query_export_runs_as_a_job_with_the_lists_rows(app, client_for, monkeypatch):
    from app.extensions import db
    from app.jobs.backends import wait_idle
    from app.models import Job
    from tests.support.xlsx import read_rows

    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 5)
    health = client_for(HEALTH_ID)
    query = "status=active&psize=100"
    listed = _list_rows(health.get(f"/statistics/persons/list/?{query}").get_data(as_text=True))
    response = health.get(f"/statistics/persons/export/?{query}")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    wait_idle(app)
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "export").order_by(Job.id.desc()))
        assert job.status.value == "succeeded" and job.result_name.startswith("专技人员信息查询_")
    rows = read_rows(health.get(f"/jobs/{job.id}/download").data)
    assert [[str(v or "") for v in row] for row in rows[1:len(listed) + 1]] == listed
    assert client_for(EDU_ID).get(f"/jobs/{job.id}/download").status_code == 404


def test_persons_without_a_title_are_counted_in_their_own_row(app, fresh_world, client_for):
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Person
    from app.services.transaction import commit

    pk, _name, _number = _health_person(app)
    with app.app_context():
        db.session.execute(update(Person).where(Person.id == pk).values(title_series_id=None, title_level_id=None))
        commit()
    html = client_for(HEALTH_ID).get("/statistics/title-series/").get_data(as_text=True)
    got = _page_table(html)
    assert got[("未评定职称系列", "未评定职称级别")] >= 1
    assert got == _direct_counts(app, _path(app, "湖北省卫生健康委员会"))


def _direct_ids(prefix: str, status=None, level_id=None) -> dict:
    from app.extensions import db

    sql = ("SELECT p.title_series_id, p.title_level_id, COUNT(*) FROM person p "
           "JOIN organisation o ON o.id = p.employer_id WHERE o.path LIKE :prefix")
    params = {"prefix": prefix + "%"}
    if status:
        sql += " AND p.status = :status"
        params["status"] = status
    if level_id:
        sql += " AND p.title_level_id = :level"
        params["level"] = level_id
    return {(s, lv): n for s, lv, n in db.session.execute(text(sql + " GROUP BY 1, 2"), params)}


def _assert_aggregate_agrees(app):
    """The maintained aggregate (stat_unit_title) gives what a direct count of person gives, for the province and a
    department, with and without the status and level filters; stats-check finds nothing."""
    from app.extensions import db
    from app.models import Organisation, TitleLevel
    from app.scope import ALL_SCOPE, Scope
    from app.services import query_statistics as service
    from app.services.statistics import aggregates

    health = db.session.execute(select(Organisation.id, Organisation.name, Organisation.path)
                                .where(Organisation.name == "湖北省卫生健康委员会")).one()
    level = db.session.scalar(select(TitleLevel.id).order_by(TitleLevel.sort_order).limit(1))
    org = service.ScopedOrganisation(health.id, health.name, health.path)
    for scope, prefix, sub in ((ALL_SCOPE, "", None), (ALL_SCOPE, health.path, org),
                               (Scope("subtree", org_id=health.id, prefix=health.path), health.path, None)):
        for status in (None, "active", "left", "pending"):
            for level_id in (None, level):
                filters = service.DistributionFilters(org=sub, level_id=level_id, status=status)
                got = {(s, lv): n for s, lv, n in service.count_by_series_level(scope, filters)}
                assert got == _direct_ids(prefix, status, level_id), (prefix, status, level_id)
    assert aggregates.differences() == []


def test_distribution_aggregate_follows_every_change(app, fresh_world):
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Gender, Organisation, OrganisationType, Person, PersonStatus, TitleLevel, TitleSeries
    from app.services import placement
    from app.services.transaction import transaction
    from app.validators import make_id_number

    with app.app_context():
        _assert_aggregate_agrees(app)
        units = list(db.session.scalars(select(Organisation.id).where(Organisation.type == OrganisationType.employer)
                                        .order_by(Organisation.id).limit(2)))
        series = list(db.session.scalars(select(TitleSeries.id).order_by(TitleSeries.id).limit(2)))
        levels = list(db.session.scalars(select(TitleLevel.id).order_by(TitleLevel.id).limit(2)))
        # persons added (ORM insert, one without a title, one pending)
        with transaction():
            added = []
            for i, (s, lv, status) in enumerate(((series[0], levels[0], "active"), (None, None, "active"),
                                                  (series[1], levels[1], "pending"))):
                person = Person(id_number=make_id_number("420106", datetime.date(1991, 2, 3 + i), 700 + i),
                                name=f"分布{i}", gender=Gender.female, birth_date=datetime.date(1991, 2, 3 + i),
                                employer_id=units[0], title_series_id=s, title_level_id=lv,
                                status=PersonStatus(status))
                db.session.add(person)
                db.session.flush()
                added.append(person.id)
        _assert_aggregate_agrees(app)
        # titles changed, set-based: series and level of several persons in one UPDATE
        some = list(db.session.scalars(select(Person.id).order_by(Person.id).limit(5)))
        with transaction():
            db.session.execute(update(Person).where(Person.id.in_(some[:3]))
                               .values(title_series_id=series[1], title_level_id=levels[0]))
            db.session.execute(update(Person).where(Person.id == some[3]).values(title_level_id=None))
        _assert_aggregate_agrees(app)
        # moved to another unit (set-based, with org_path)
        with transaction():
            placement.move_persons(added[:2] + some[:2], units[1])
        _assert_aggregate_agrees(app)
        # status changed (approved, left)
        with transaction():
            db.session.execute(update(Person).where(Person.id == added[2]).values(status=PersonStatus.active))
            db.session.execute(update(Person).where(Person.id.in_(some[2:4])).values(status=PersonStatus.left))
        _assert_aggregate_agrees(app)
        # an UPDATE that changes nothing counted, and deletions
        with transaction():
            db.session.execute(update(Person).where(Person.id.in_(added)).values(title_name="主治医师"))
            db.session.execute(delete(Person).where(Person.id.in_(added)))
        _assert_aggregate_agrees(app)
        # stats-check sees a tampered row, stats-rebuild repairs it
        from app.models_statistics import StatUnitTitle

        with transaction():
            db.session.execute(update(StatUnitTitle).where(StatUnitTitle.org_id == units[0])
                               .values(persons=StatUnitTitle.persons + 3))
        runner = app.test_cli_runner()
        result = runner.invoke(args=["stats-check"])
        assert result.exit_code == 1 and "stat_unit_title" in result.output
        assert runner.invoke(args=["stats-rebuild"]).exit_code == 0
        _assert_aggregate_agrees(app)
