"""专技人员批量导入 and the person list export, through the pages, per role."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.validators import make_id_number
from tests.conftest import BASE_ID, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID
from tests.support.xlsx import PERSON_HEADERS, read_rows, workbook_bytes
from tests.web.test_chinese_ui import english_words


def new_number(seq: int) -> str:
    return make_id_number("420111", datetime.date(1991, 3, 4), seq)


def good_row(seq: int, unit="湖北省人民医院", **changes) -> list:
    row = {"id": new_number(seq), "name": f"导入{seq}", "phone": "13912345678", "education": "大学本科",
           "unit": unit, "dept": "内科", "series": "卫生技术人员", "level": "中级", "title": "主治医师",
           "date": "2019-06-30"}
    row.update(changes)
    return list(row.values())


def upload(client, data: bytes, name="人员.xlsx"):
    return client.post("/persons/import/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def person_count(app) -> int:
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def preview(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert "/persons/import/preview/" in location, location
    page = client.get(location).get_data(as_text=True)
    errors = re.findall(r'<td class="error-row">(\d+)</td><td class="error-column">(.*?)</td>'
                        r'<td class="error-reason">(.*?)</td>', page)
    return location.rsplit("/", 1)[1], page, [(int(r), c, reason) for r, c, reason in errors]


def test_the_template_has_chinese_headers_drop_downs_instructions_and_an_example(app, client_for):
    response = client_for(HOSPITAL_ID).get("/persons/import/template")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    data, guide, options = workbook.worksheets
    assert [c.value for c in data[1]] == PERSON_HEADERS
    assert data.max_row == 1 or all(c.value is None for c in data[2])     # nothing to import by accident
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in data.data_validations.dataValidation}
    assert set(lists) == {"D2", "G2", "H2"}                               # education, series, level
    assert options.sheet_state == "hidden"
    series = [c.value for c in options["G"][1:] if c.value]
    assert len(series) == 27 and "卫生技术人员" in series
    text = " ".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert "填写说明" in text and "420106199001010167" in text and "下拉列表" in text
    assert data["A2"].number_format == "@"                                 # ID numbers stay text


def test_import_page_is_chinese_and_offered_on_the_list(app, client_for):
    client = client_for(HOSPITAL_ID)
    page = client.get("/persons/import/").get_data(as_text=True)
    assert "下载模板" in page and english_words(page) == set()
    listing = client.get("/persons/list/").get_data(as_text=True)
    assert 'href="/persons/import/"' in listing and "/persons/export/" in listing


def test_every_kind_of_bad_row_is_reported_with_its_row_number_and_nothing_is_imported_before_confirming(
        app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        existing = db.session.scalar(select(Person.id_number).order_by(Person.id))
    rows = [
        good_row(1),                                                      # 2: good
        good_row(2, id="420106198001010016"),                             # 3: checksum
        good_row(3, id=None, name="无号"),                                 # 4: missing ID number
        good_row(4, name=""),                                             # 5: missing name
        good_row(5, phone="12345"),                                       # 6: mobile
        good_row(6, education="小学"),                                     # 7: not a choice
        good_row(7, unit="武汉大学"),                                       # 8: out of scope (another department)
        good_row(8, unit="不存在的单位"),                                   # 9: unknown unit
        good_row(9, dept="不存在的科室"),                                   # 10: department of another unit
        good_row(10, series="木匠"),                                       # 11: series not in the list
        good_row(11, date="2020-02-30"),                                  # 12: impossible date
        good_row(12, date="2999-01-01"),                                  # 13: future date
        good_row(1),                                                      # 14: repeats row 2
        good_row(13, id=existing),                                        # 15: already in the database
        good_row(14),                                                     # 16: good
    ]
    data = workbook_bytes(rows)
    client = client_for(HEALTH_ID)
    before = person_count(app)
    job, page, errors = preview(client, upload(client, data))
    assert person_count(app) == before                                    # nothing before confirming
    assert english_words(page.replace("人员.xlsx", "")) == set()
    by_row = {row: (column, reason) for row, column, reason in errors}
    expected = {3: ("身份证号", "校验位"), 4: ("身份证号", "必填"), 5: ("姓名", "必填"), 6: ("手机号码", "手机号码"),
                7: ("学历", "下拉列表"), 8: ("用人单位", "管辖范围"), 9: ("用人单位", "管辖范围"),
                10: ("内设部门", "内设部门"), 11: ("职称系列", "下拉列表"), 12: ("取得时间", "日期格式"),
                13: ("取得时间", "晚于今天"), 14: ("身份证号", "第 2 行重复"),
                15: ("身份证号", "已存在")}
    for row, (column, reason) in expected.items():
        assert row in by_row, (row, errors)
        assert by_row[row][0] == column and reason in by_row[row][1], (row, by_row[row])
    assert set(by_row) == set(expected)
    assert "共检查 15 行：2 行可以导入，13 行有误" in page
    # the rejected rows come back with a reason column (and the template's columns first)
    rejected = client.get(f"/jobs/{job}/download")
    assert rejected.status_code == 200
    rows_back = read_rows(rejected.data)
    assert list(rows_back[0]) == PERSON_HEADERS + ["错误原因"] and len(rows_back) == 14
    assert rows_back[1][-1].startswith("第 3 行") and "校验位" in rows_back[1][-1]
    # commit the good rows only
    response = client.post(f"/persons/import/commit/{job}")
    _, done, _ = preview(client, response)
    assert "已导入 2 行" in done
    assert person_count(app) == before + 2
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.id_number == new_number(14)))
        assert person.status.value == "active" and person.employer.name == "湖北省人民医院"
        assert person.internal_department.name == "内科" and person.org_path == person.employer.path
        assert person.gender.value in ("male", "female") and person.title_level.name == "中级"
        from app.models import AuditLog

        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "import", AuditLog.object_type == "person")) == 1
    # the spent upload cannot be committed twice
    again = client.post(f"/persons/import/commit/{job}")
    assert again.status_code in (302, 422) and person_count(app) == before + 2


def test_cancel_imports_nothing(app, fresh_world, client_for):
    client = client_for(HOSPITAL_ID)
    before = person_count(app)
    job, page, errors = preview(client, upload(client, workbook_bytes([good_row(21, unit="")])))
    assert errors == [] and "1 行可以导入" in page                           # an employer may leave the unit blank
    response = client.post(f"/persons/import/cancel/{job}", follow_redirects=True)
    assert "已取消导入" in response.get_data(as_text=True)
    assert person_count(app) == before
    assert client.post(f"/persons/import/commit/{job}").status_code in (302, 422)
    assert person_count(app) == before


def test_an_employer_unit_imports_only_into_itself(app, fresh_world, client_for):
    client = client_for(HOSPITAL_ID)
    _, _, errors = preview(client, upload(client, workbook_bytes([good_row(31, unit="武汉市第一医院")])))
    assert errors and errors[0][1] == "用人单位" and "管辖范围" in errors[0][2]


BROKEN = {
    "not_xlsx": (b"just some text, not a workbook", "人员.xlsx", "不是有效的 Excel"),
    "renamed_image": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "人员.xlsx", "不是有效的 Excel"),
    "wrong_extension": (b"a,b\n1,2\n", "人员.csv", "不是有效的 Excel"),
    "empty_sheet": (workbook_bytes([], headers=[]), "人员.xlsx", "工作表为空"),
    "header_only": (workbook_bytes([]), "人员.xlsx", "没有数据"),
    "wrong_header": (workbook_bytes([good_row(41)], headers=["姓名", *PERSON_HEADERS[1:]]), "人员.xlsx",
                     "表头与模板不符：第 A 列应为“身份证号”"),
    "formula": (workbook_bytes([good_row(42)], formula=("B2", '=HYPERLINK("http://evil.example/","点")')), "人员.xlsx",
                "含有公式（单元格 B2）"),
    "merged": (workbook_bytes([good_row(43), good_row(44)], merge="E2:E3"), "人员.xlsx", "合并单元格（E2:E3）"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_files_get_a_clear_message_and_change_nothing(app, client_for, case, storage_root):
    import os

    data, name, message = BROKEN[case]
    client = client_for(HEALTH_ID)
    before, files = person_count(app), set(os.listdir(storage_root))
    response = upload(client, data, name)
    page = client.get(response.headers["Location"]).get_data(as_text=True) if response.status_code == 302 else ""
    assert message in page, page[-2000:]
    assert person_count(app) == before and set(os.listdir(storage_root)) == files


def test_a_sheet_of_1048576_rows_is_refused_without_reading_it(app, client_for):
    """The sheet's dimension says A1:J1048576 (the last row of Excel holds a value)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(PERSON_HEADERS)
    sheet.append(good_row(51))
    sheet.cell(row=1_048_576, column=1, value="末行")
    out = io.BytesIO()
    workbook.save(out)
    client = client_for(HEALTH_ID)
    response = upload(client, out.getvalue())
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1,048,576" in page and "最多" in page


def test_other_admins_and_other_roles_cannot_reach_an_import(app, fresh_world, client_for):
    client = client_for(HEALTH_ID)
    job, _, _ = preview(client, upload(client, workbook_bytes([good_row(61)])))
    edu = client_for(EDU_ID)
    for url in (f"/persons/import/preview/{job}", f"/jobs/{job}/download", f"/jobs/{job}/status"):
        assert edu.get(url).status_code == 404, url
    before = person_count(app)
    assert edu.post(f"/persons/import/commit/{job}").status_code == 404
    assert edu.post(f"/persons/import/cancel/{job}").status_code == 404
    assert person_count(app) == before
    for bad in ("0", "x", "99999999", "-3"):
        assert client.get(f"/persons/import/preview/{bad}").status_code == 404
    base = client_for(BASE_ID)                          # a training base keeps no personnel: no import
    response = base.get("/persons/import/")
    assert response.status_code in (302, 403) and "/persons/import" not in response.headers.get("Location", "")
    assert base.post("/persons/import/upload").status_code in (302, 403)
    assert app.test_client().get("/persons/import/").status_code == 302


def test_a_large_import_runs_as_a_job_with_the_same_result(app, fresh_world, client_for, monkeypatch):
    from app.jobs.backends import wait_idle

    monkeypatch.setitem(app.config, "IMPORT_SYNC_MAX_ROWS", 2)
    client = client_for(HEALTH_ID)
    response = upload(client, workbook_bytes([good_row(70 + i) for i in range(5)]))
    location = response.headers["Location"]
    wait_idle(app)
    page = client.get(location).get_data(as_text=True)
    assert "5 行可以导入" in page
    job = location.rsplit("/", 1)[1]
    before = person_count(app)
    done = client.post(f"/persons/import/commit/{job}")
    wait_idle(app)
    assert "已导入 5 行" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert person_count(app) == before + 5
    jobs_page = client.get("/jobs/").get_data(as_text=True)
    assert "导入：人员.xlsx" in jobs_page and english_words(jobs_page.replace("人员.xlsx", "")) == set()


# ------------------------------------------------------------------ export
def test_person_export_applies_scope_and_filters(app, client_for):
    client = client_for(HEALTH_ID)
    response = client.get("/persons/export/")
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "%E4%B8%93%E6%8A%80%E4%BA%BA%E5%91%98_" in response.headers["Content-Disposition"]   # 专技人员_<date>
    rows = read_rows(response.data)
    assert rows[0][:3] == ("姓名", "身份证号", "性别")
    units = {r[6] for r in rows[1:]}
    assert "湖北省人民医院" in units and "武汉大学" not in units
    filtered = read_rows(client.get("/persons/export/?_flt_0_name=张").data)
    assert len(filtered) > 1 and all(r[0].startswith("张") for r in filtered[1:])
    assert len(filtered) < len(rows)
    assert read_rows(client_for(EDU_ID).get("/persons/export/").data)[1][6] != "湖北省人民医院"


def test_a_large_export_becomes_a_job_only_its_owner_downloads(app, client_for, monkeypatch):
    from app.extensions import db
    from app.jobs.backends import wait_idle
    from app.models import Job

    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 2)
    client = client_for(PROVINCE_ID)
    response = client.get("/persons/export/?_flt_0_name=张")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    wait_idle(app)
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "export").order_by(Job.id.desc()))
        assert job.status.value == "succeeded" and job.result_name.startswith("专技人员_")
    status = client.get(f"/jobs/{job.id}/status").get_json()
    assert status["finished"] and status["percent"] == 100 and status["download_url"]
    rows = read_rows(client.get(f"/jobs/{job.id}/download").data)
    assert len(rows) - 1 == job.done > 2 and all(r[0].startswith("张") for r in rows[1:])
    for other in (HEALTH_ID, EDU_ID):
        assert client_for(other).get(f"/jobs/{job.id}/download").status_code == 404
        assert client_for(other).get(f"/jobs/{job.id}/status").status_code == 404
        assert f"/jobs/{job.id}/" not in client_for(other).get("/jobs/").get_data(as_text=True)
    page = client.get("/jobs/").get_data(as_text=True)
    assert "导出：专技人员" in page and english_words(page) == set()


def test_wrong_roles_cannot_export_persons(app, client_for):
    response = client_for(BASE_ID).get("/persons/export/")
    assert response.status_code in (302, 403) and "/persons/export" not in response.headers.get("Location", "")


def test_the_audit_export_keeps_formulas_as_text(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import Account, Organisation
    from app.services import audit
    from app.actor import Actor

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省卫生健康委员会"))
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        audit.record("update_basic_info", org, actor=actor, before={"contact_person": "甲"},
                     after={"contact_person": '=HYPERLINK("http://evil.example/","点")'})
        db.session.commit()
    response = client_for(HEALTH_ID).get("/auditlog/export/?action=update_basic_info")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [row[7] for row in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(row[7].value)]
    assert cells and all(c.data_type == "s" for c in cells)


def test_rows_entered_meanwhile_make_the_whole_commit_refused(app, fresh_world):
    """Checked, then someone else adds one of the persons: the commit refuses all rows, none half-imported."""
    from app.actor import Actor
    from app.errors import Conflict
    from app.extensions import db
    from app.io import imports, person_import
    from app.models import Account, Person

    data = workbook_bytes([good_row(81), good_row(82)])
    with app.test_request_context():
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        report = imports.check(person_import.PERSON_IMPORT, io.BytesIO(data), actor)
        assert len(report.good) == 2
        first = dict(report.good[0][1])
        imports.commit(person_import.PERSON_IMPORT, imports.Report(1, [(2, first)], []), actor, "先到.xlsx")
        before = db.session.scalar(select(func.count()).select_from(Person))
        with pytest.raises(Conflict) as info:
            imports.commit(person_import.PERSON_IMPORT, report, actor, "后到.xlsx")
        assert "未导入任何数据" in info.value.message
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Person)) == before
