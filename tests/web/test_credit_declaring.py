"""学时申报 per declaring role through the pages: a person for themself, a training base for its trainees, an
employer unit for its staff (代报); the Excel import naming every bad row; scope and bad input."""
from __future__ import annotations

import datetime
import io
import re

import pytest
from sqlalchemy import delete, func, select

from app.validators import make_id_number
from tests.conftest import BASE_ID, HEALTH_ID, HOSPITAL_ID, login
from tests.support.credit import (CONFERENCE, CREDIT_HEADERS, PAPER, UNIT_PROGRAMME, ensure_credit_settings,
                                  records_of, staff_numbers)
from tests.support.xlsx import read_rows, workbook_bytes
from tests.web.test_chinese_ui import english_words

OTHER_UNIT_PROGRAMME = "PXT2026WHU"


@pytest.fixture()
def credit(app, fresh_world):
    """The settings, programmes and a few persons; the demo world is rebuilt afterwards."""
    from app.extensions import db
    from app.models import (CreditRecord, CreditSummary, LearningMode, Organisation, Person, ReviewStatus,
                            SubjectKind, TrainingProgramme)

    with app.app_context():
        codes = ensure_credit_settings()
        whu = db.session.scalar(select(Organisation).where(Organisation.name == "武汉大学"))
        db.session.add(TrainingProgramme(
            code=OTHER_UNIT_PROGRAMME, org_id=whu.id, year=2026, name="武汉大学青年教师培训",
            subject_kind=SubjectKind.professional, mode=LearningMode.offline, start_date=datetime.date(2026, 2, 1),
            end_date=datetime.date(2026, 2, 28), hours=20, status=ReviewStatus.approved))
        db.session.commit()
        codes.update(staff=staff_numbers("湖北省人民医院", 6), whu=staff_numbers("武汉大学", 2),
                     person=staff_numbers("湖北省人民医院", 1, with_login=True)[0])
        # the person starts with no records of the demo's (their summary is what the tests declare)
        person_id = select(Person.id).where(Person.id_number == codes["person"]).scalar_subquery()
        db.session.execute(delete(CreditRecord).where(CreditRecord.person_id == person_id))
        db.session.execute(delete(CreditSummary).where(CreditSummary.person_id == person_id))
        db.session.commit()
    return codes


def record_count(app) -> int:
    from app.extensions import db
    from app.models import CreditRecord

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CreditRecord))


def person_client(app, id_number):
    client = app.test_client()
    response = login(client, id_number, user_type="personnel")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


# ------------------------------------------------------------------ a person, for themself
def test_a_person_declares_other_learning_with_evidence_and_sees_it_pending(app, credit):
    from app.demo import demo_pdf
    from app.extensions import db
    from app.models import Attachment, CreditSummary

    client = person_client(app, credit["person"])
    page = client.get("/me/declare-credit/").get_data(as_text=True)
    assert "学时申报" in page and english_words(page) == set()
    response = client.post("/me/declare-credit/declare", data={
        "source": "other", "activity": "参加省医学会年会专题报告", "subject_kind": "professional",
        "mode": "offline", "hours": "6", "completed_on": "2026-05-20",
        "evidence": (io.BytesIO(demo_pdf("证明")), "证明.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    listing = client.get("/me/declare-credit/").get_data(as_text=True)
    assert "参加省医学会年会专题报告" in listing and "待审核" in listing and "证明.pdf" in listing
    with app.app_context():
        (record,) = records_of(credit["person"])
        assert (record.status.value, record.declarer_type.value, record.channel.value) == ("pending", "person", "form")
        assert record.hours == 6 and record.activity_key.startswith("T:") and record.declarer_org_id is None
        assert record.org_path == record.person.org_path and record.employer_id == record.person.employer_id
        summary = db.session.get(CreditSummary, (record.person_id, 2026))
        assert summary.pending_hours == 6 and summary.pending_records == 1
        assert db.session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.owner_kind == "credit_record", Attachment.owner_id == record.id)) == 1
    # the same activity on the same date again: refused with a clear message
    again = client.post("/me/declare-credit/declare", data={
        "source": "other", "activity": "参加省医学会年会专题报告", "subject_kind": "professional",
        "mode": "offline", "hours": "6", "completed_on": "2026-05-20"}, content_type="multipart/form-data")
    assert again.status_code == 200 and "已有待审核或已通过的相同活动" in again.get_data(as_text=True)
    with app.app_context():
        assert len(records_of(credit["person"])) == 1


def test_a_person_declares_a_standard_within_its_yearly_cap_only(app, credit):
    client = person_client(app, credit["person"])
    ok = client.post("/me/declare-credit/declare", data={"source": "standard", "standard_code": PAPER, "quantity": "2",
                                                 "activity": "论文一", "completed_on": "2026-04-01"})
    assert ok.status_code == 302
    over = client.post("/me/declare-credit/declare", data={"source": "standard", "standard_code": PAPER, "quantity": "1",
                                                   "activity": "论文二", "completed_on": "2026-06-01"})
    assert over.status_code == 200 and "超过年度上限" in over.get_data(as_text=True)
    closed = client.post("/me/declare-credit/declare", data={"source": "standard", "standard_code": CONFERENCE,
                                                     "quantity": "1", "completed_on": "2025-06-01"})
    assert "已关闭" in closed.get_data(as_text=True)
    with app.app_context():
        assert [r.hours for r in records_of(credit["person"])] == [20]


# ------------------------------------------------------------------ a training base, for its trainees
def test_a_training_base_declares_trainees_of_its_programme_from_a_pasted_list(app, credit, client_for):
    client = client_for(BASE_ID)
    form = client.get("/credit/declared/declare").get_data(as_text=True)
    assert credit["base_programme"] in form and english_words(form) == set()
    numbers = credit["staff"][:2] + credit["whu"][:1]            # trainees come from any unit
    response = client.post("/credit/declared/declare", data={
        "programme_code": credit["base_programme"], "completed_on": "2026-03-13",
        "id_numbers": "\n".join(numbers)})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    listing = client.get("/credit/declared/list/").get_data(as_text=True)
    assert all(n in listing for n in numbers) and "待审核" in listing
    with app.app_context():
        record = records_of(numbers[2])[0]
        assert record.declarer_type.value == "training_base" and record.provider_id == record.declarer_org_id
        assert record.hours == 40 and record.activity_key == f"P{record.programme_id}"


def test_a_base_cannot_declare_another_organisations_programme_and_nothing_is_saved(app, credit, client_for):
    client = client_for(BASE_ID)
    before = record_count(app)
    page = client.post("/credit/declared/declare", data={
        "programme_code": UNIT_PROGRAMME, "completed_on": "2026-02-10",
        "id_numbers": credit["staff"][0]}).get_data(as_text=True)
    assert "不是本机构已通过的培训项目" in page and record_count(app) == before


# ------------------------------------------------------------------ an employer unit, for its staff
def test_an_employer_unit_declares_for_its_staff_and_a_person_outside_refuses_the_whole_form(app, credit, client_for):
    client = client_for(HOSPITAL_ID)
    before = record_count(app)
    page = client.post("/credit/declared/declare", data={
        "standard_code": CONFERENCE, "quantity": "2", "activity": "全国急诊医学年会", "completed_on": "2026-04-15",
        "id_numbers": f"{credit['staff'][0]}, {credit['whu'][0]}"}).get_data(as_text=True)
    assert "第 2 行" in page and "不在本单位" in page and record_count(app) == before
    done = client.post("/credit/declared/declare", data={
        "standard_code": CONFERENCE, "quantity": "2", "activity": "全国急诊医学年会", "completed_on": "2026-04-15",
        "id_numbers": credit["staff"][0]})
    assert done.status_code == 302
    with app.app_context():
        (record,) = records_of(credit["staff"][0])
        assert record.hours == 16 and record.declarer_type.value == "employer" and record.quantity == 2
    assert credit["staff"][0] in client.get("/credit/declared/list/?status=pending").get_data(as_text=True)


def test_departments_do_not_declare_and_other_declarers_lists_stay_their_own(app, credit, client_for):
    department = client_for(HEALTH_ID)
    for url in ("/credit/declared/list/", "/credit/declared/declare", "/credit/import/", "/me/declare-credit/"):
        response = department.get(url)
        assert response.status_code in (302, 403), url
    unit = client_for(HOSPITAL_ID)
    unit.post("/credit/declared/declare", data={"programme_code": UNIT_PROGRAMME, "completed_on": "2026-02-10",
                                                 "id_numbers": credit["staff"][1]})
    assert credit["staff"][1] in unit.get("/credit/declared/list/").get_data(as_text=True)
    assert credit["staff"][1] not in client_for(BASE_ID).get("/credit/declared/list/").get_data(as_text=True)


@pytest.mark.parametrize("data", [
    {"programme_code": "", "completed_on": "", "id_numbers": ""},
    {"programme_code": "PX" + "9" * 40, "completed_on": "2026-13-45", "id_numbers": "x" * 50},
    {"standard_code": PAPER, "quantity": "-3", "completed_on": "2026-03-01", "id_numbers": "420106"},
    {"standard_code": PAPER, "quantity": "99999999999", "completed_on": "2026-03-01", "id_numbers": "1\x00"},
    {"hours": "abc", "completed_on": "9999-01-01", "id_numbers": "；；，，"},
])
def test_bad_form_input_is_refused_with_a_message_never_a_500(app, credit, client_for, data):
    before = record_count(app)
    response = client_for(HOSPITAL_ID).post("/credit/declared/declare", data=data)
    assert response.status_code in (200, 400, 422)
    assert record_count(app) == before


# ------------------------------------------------------------------ the Excel import
def upload(client, data: bytes, name="学时.xlsx"):
    return client.post("/credit/import/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def preview(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert "/credit/import/preview/" in location, location
    page = client.get(location).get_data(as_text=True)
    errors = re.findall(r'<td class="error-row">(\d+)</td><td class="error-column">(.*?)</td>'
                        r'<td class="error-reason">(.*?)</td>', page)
    return location.rsplit("/", 1)[1], page, [(int(r), c, reason) for r, c, reason in errors]


def row(id_number, programme="", standard="", quantity="", date="2026-03-10", activity="", hours=""):
    return [id_number, "", programme, standard, quantity, activity, "", "", hours, date]


def test_the_template_has_chinese_headers_code_drop_downs_and_an_example(app, credit, client_for):
    from openpyxl import load_workbook

    response = client_for(BASE_ID).get("/credit/import/template")
    assert response.status_code == 200
    data, guide, options = load_workbook(io.BytesIO(response.data)).worksheets
    assert [c.value for c in data[1]] == CREDIT_HEADERS
    lists = {str(v.sqref).split(":")[0] for v in data.data_validations.dataValidation}
    assert {"C2", "G2", "H2"} <= lists                                   # programme code, subject kind, mode
    assert credit["base_programme"] in [c.value for c in options["C"][1:]]
    text = " ".join(str(c.value) for r in guide.iter_rows() for c in r if c.value)
    assert "填写说明" in text and "PX2026000123" in text


def test_every_kind_of_bad_row_is_named_and_only_the_good_rows_are_committed(app, credit, client_for):
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account, CreditChannel
    from app.services.credit import declaring
    from app.services.credit.rules import declarer_for

    base_code, staff = credit["base_programme"], credit["staff"]
    with app.app_context():                                          # an existing record of staff[2]
        actor = Actor(db.session.scalar(select(Account).where(Account.username == HOSPITAL_ID)))
        declaring.declare(declarer_for(actor, CreditChannel.form),
                          [{"id_number": staff[2], "programme_code": base_code, "completed_on": "2026-03-11"}])
    unknown = make_id_number("420111", datetime.date(1991, 3, 4), 777)
    rows = [
        row(staff[0], base_code),                                    # 2: good
        row("420106199001010160", base_code),                        # 3: invalid ID number
        row(unknown, base_code),                                     # 4: unknown ID number
        row(credit["whu"][0], base_code),                            # 5: outside the unit's scope
        row(staff[1], OTHER_UNIT_PROGRAMME, date="2026-02-10"),      # 6: not a trainee of the programme
        row(staff[0], base_code),                                    # 7: duplicate in the file
        row(staff[2], base_code, date="2026-03-11"),                 # 8: duplicate in the database
        row(staff[3], standard=PAPER, quantity="3"),                 # 9: over the yearly cap
        row(staff[4], standard=CONFERENCE, quantity="1", date="2025-06-01"),  # 10: closed year
        row(staff[1], base_code, date="2026-05-01"),                 # 11: date outside the programme
        row(staff[5], standard=CONFERENCE, quantity="1", activity="学术年会"),  # 12: good
    ]
    client = client_for(HOSPITAL_ID)
    before = record_count(app)
    job, page, errors = preview(client, upload(client, workbook_bytes(rows, headers=CREDIT_HEADERS,
                                                                      text_columns=(0, 2, 3))))
    assert record_count(app) == before
    assert english_words(page.replace("学时.xlsx", "")) == set()
    by_row = {r: (column, reason) for r, column, reason in errors}
    expected = {3: ("身份证号", "校验位"), 4: ("身份证号", "没有该身份证号"), 5: ("身份证号", "不在本单位"),
                6: ("身份证号", "不是该培训项目的学员"), 7: ("身份证号", "与第 2 行重复"),
                8: ("身份证号", "已有待审核或已通过"), 9: ("数量", "超过年度上限"), 10: ("完成日期", "已关闭"),
                11: ("完成日期", "不在培训项目时间内")}
    for r, (column, reason) in expected.items():
        assert r in by_row, (r, errors)
        assert by_row[r][0] == column and reason in by_row[r][1], (r, by_row[r])
    assert set(by_row) == set(expected)
    rejected = client.get(f"/jobs/{job}/download")
    assert rejected.status_code == 200 and len(read_rows(rejected.data)) == 1 + len(expected)
    _, done, _ = preview(client, client.post(f"/credit/import/commit/{job}"))
    assert "已导入 2 行" in done
    assert record_count(app) == before + 2
    with app.app_context():
        (record,) = records_of(staff[5])
        assert record.channel.value == "excel" and record.hours == 8 and record.status.value == "pending"
        from app.services.credit import summary

        assert summary.differences() == []
