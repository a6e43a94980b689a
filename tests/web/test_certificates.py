"""电子证书: stable signed numbers, the public verification page, PDFs, scope, roles and bad input."""
from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from sqlalchemy import delete, select

from tests.conftest import BASE_ID, DEMO_PASSWORD, EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, login

YEAR = 2021
HOSPITAL = "湖北省人民医院"
UNIVERSITY = "武汉大学"


def _verification(person, status, public=30, professional=62):
    from app.models import CreditVerification, ReviewStatus

    return CreditVerification(person_id=person.id, employer_id=person.employer_id, org_path=person.org_path, year=YEAR,
                              public_hours=public, professional_hours=professional, required_hours=90,
                              required_professional_hours=60, status=ReviewStatus(status),
                              submitted_on=datetime.datetime(YEAR + 1, 1, 10),
                              reviewed_on=datetime.datetime(YEAR + 1, 2, 1))


@pytest.fixture(scope="module")
def world(app):
    """Approved verifications: a hospital person with a login, another hospital person, a university person;
    a fourth hospital person whose verification is reversed after the certificate was issued (revoked)."""
    from app.extensions import db
    from app.models import Certificate, CreditRequirement, CreditVerification, Organisation, Person
    from app.services import certificates
    from app.services.transaction import transaction

    with app.app_context():
        hospital = db.session.scalar(select(Organisation).where(Organisation.name == HOSPITAL))
        university = db.session.scalar(select(Organisation).where(Organisation.name == UNIVERSITY))
        with_login = db.session.scalar(select(Person).where(Person.employer_id == hospital.id,
                                                            Person.account_id.isnot(None)).order_by(Person.id))
        others = db.session.scalars(select(Person).where(Person.employer_id == hospital.id,
                                                         Person.account_id.is_(None)).order_by(Person.id).limit(2)).all()
        student = db.session.scalar(select(Person).where(Person.employer_id == university.id).order_by(Person.id))
        persons = [with_login, others[0], student, others[1]]
        ids = [p.id for p in persons]
        with transaction():
            db.session.execute(delete(Certificate).where(Certificate.person_id.in_(ids), Certificate.year == YEAR))
            db.session.execute(delete(CreditVerification).where(CreditVerification.person_id.in_(ids),
                                                                CreditVerification.year == YEAR))
            if db.session.get(CreditRequirement, YEAR) is None:
                db.session.add(CreditRequirement(year=YEAR, total_hours=90))
            rows = [_verification(p, "approved") for p in persons]
            db.session.add_all(rows)
            db.session.flush()
            # the fourth: issued, then the verification reversed
            certificates.issue([certificates.one(certificates.Scope("all"), rows[3].id)])
            rows[3].status = certificates.ReviewStatus.rejected
        info = {
            "login": (with_login.id, with_login.name, with_login.id_number, rows[0].id),
            "other": (others[0].id, others[0].name, others[0].id_number, rows[1].id),
            "student": (student.id, student.name, student.id_number, rows[2].id),
            "revoked": (others[1].id, others[1].name, others[1].id_number, rows[3].id),
        }
    yield info
    with app.app_context():
        with transaction():
            db.session.execute(delete(Certificate).where(Certificate.person_id.in_(ids), Certificate.year == YEAR))
            db.session.execute(delete(CreditVerification).where(CreditVerification.person_id.in_(ids),
                                                                CreditVerification.year == YEAR))


def _number(app, person_id):
    from app.services.certificates import certificate_number

    with app.app_context():
        return certificate_number(YEAR, person_id)


def _pdf_text(data: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (Debian poppler-utils) is needed: scripts/system_deps.sh"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


# ------------------------------------------------------------------ numbers and masking
def test_numbers_are_stable_and_signed(app_ctx):
    from app.services.certificates import certificate_number, parse_number

    number = certificate_number(2025, 1234)
    assert number == certificate_number(2025, 1234)
    assert number.startswith("2025-0000001234-") and len(number) == 26
    assert parse_number(number) == (2025, 1234)
    assert parse_number(number.lower()) == (2025, 1234)
    assert parse_number(" " + number + " ") == (2025, 1234)
    altered_person = number.replace("0000001234", "0000001235")
    altered_year = "2024" + number[4:]
    forged_signature = number[:-1] + ("1" if number[-1] != "1" else "2")
    for bad in (altered_person, altered_year, forged_signature, "", "x" * 500, None, 12, "2025-1234-ABCDEFGH",
                "2025-9999999999-" + number[-10:], "../../etc/passwd"):
        assert parse_number(bad) is None, bad
    assert certificate_number(2025, 1235) != number


def test_masking():
    from app.services.certificates import mask_id_number, mask_name

    assert mask_name("张三明") == "张*明"
    assert mask_name("欧阳") == "欧*"
    assert mask_name("欧阳小锋") == "欧**锋"
    assert mask_name("张") == "*"
    assert mask_name("") == ""
    assert mask_id_number("420106198001010015") == "4201**********0015"
    assert mask_id_number("42010219900601003X") == "4201**********003X"
    assert mask_id_number("1234") == "****"


# ------------------------------------------------------------------ the public verification page
def test_verification_page_shows_a_valid_certificate_masked(app, world):
    person_id, name, id_number, _vid = world["other"]
    client = app.test_client()
    response = client.get(f"/certificate/verify/{_number(app, person_id)}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="verify-valid"' in page
    assert str(YEAR) in page and "92" in page
    assert name not in page and id_number not in page
    assert id_number[:4] + "*" * 10 + id_number[-4:] in page
    from app.services.certificates import mask_name

    assert mask_name(name) in page


def test_verification_page_refuses_forged_and_altered_numbers(app, world):
    person_id = world["other"][0]
    number = _number(app, person_id)
    client = app.test_client()
    forged = [number[:-2] + ("11" if number[-2:] != "11" else "22"),            # signature changed
              number[:5] + f"{person_id + 1:010d}" + number[15:],               # another person, same signature
              str(YEAR - 1) + number[4:],                                       # another year
              "2021-0000000001-ABCDEFGH", "nonsense", "%E5%BC%A0", "a" * 300, "%00", "<script>"]
    for text in forged:
        response = client.get(f"/certificate/verify/{text}")
        assert response.status_code == 404, text
        page = response.get_data(as_text=True)
        assert 'id="verify-unknown"' in page
        assert "<script>" not in page.split('id="certificate-verify"')[1]


def test_a_genuine_number_never_issued_and_not_approved_is_unknown(app, world):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        stranger = db.session.scalar(select(Person.id).where(Person.id.notin_([v[0] for v in world.values()]))
                                     .order_by(Person.id))
    response = app.test_client().get(f"/certificate/verify/{_number(app, stranger)}")
    assert response.status_code == 404 and 'id="verify-unknown"' in response.get_data(as_text=True)


def test_a_reversed_verification_revokes_its_certificate(app, world):
    person_id, name, _number_id, _vid = world["revoked"]
    response = app.test_client().get(f"/certificate/verify/{_number(app, person_id)}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="verify-revoked"' in page and 'id="verify-valid"' not in page
    assert name not in page


def test_verification_form_and_lookup_by_query(app, world):
    client = app.test_client()
    assert client.get("/certificate/verify/").status_code == 200
    number = _number(app, world["other"][0])
    response = client.get(f"/certificate/verify/?number={number}")
    assert response.status_code == 302 and number in response.headers["Location"]
    assert client.get("/certificate/verify/?number=" + "9" * 100).status_code in (302, 404)


# ------------------------------------------------------------------ the admin list and PDFs
def test_list_is_scoped_and_filters(app, world, client_for):
    health = client_for(HEALTH_ID)
    page = health.get(f"/certificates/?year={YEAR}").get_data(as_text=True)
    assert world["login"][1] in page and world["other"][2] in page
    assert world["student"][2] not in page                 # another department's person
    assert world["revoked"][2] not in page                 # no longer approved
    page = health.get(f"/certificates/?year={YEAR}&id_number={world['other'][2][:14]}").get_data(as_text=True)
    assert world["other"][2] in page
    page = health.get(f"/certificates/?year={YEAR}&unit=人民医院&name={world['other'][1]}").get_data(as_text=True)
    assert world["other"][2] in page
    page = health.get(f"/certificates/?unit={UNIVERSITY}").get_data(as_text=True)
    assert world["student"][2] not in page
    edu = client_for(EDU_ID).get(f"/certificates/?year={YEAR}").get_data(as_text=True)
    assert world["student"][2] in edu and world["other"][2] not in edu
    province = client_for(PROVINCE_ID).get(f"/certificates/?year={YEAR}").get_data(as_text=True)
    assert world["student"][2] in province and world["other"][2] in province


def test_one_certificate_pdf_has_extractable_chinese_text_and_a_stable_number(app, world, client_for, tmp_path):
    from app.extensions import db
    from app.models import Certificate

    person_id, name, id_number, vid = world["other"]
    client = client_for(HOSPITAL_ID)
    response = client.get(f"/certificates/{vid}/pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data, tmp_path)
    number = _number(app, person_id)
    assert name in text and id_number in text and number in text
    assert "审验通过" in text and str(YEAR) in text
    again = client.get(f"/certificates/{vid}/pdf")
    assert number in _pdf_text(again.data, tmp_path)
    with app.app_context():
        rows = db.session.scalars(select(Certificate).where(Certificate.person_id == person_id,
                                                            Certificate.year == YEAR)).all()
        assert [r.number for r in rows] == [number]


def test_another_departments_admin_gets_404(app, world, client_for):
    edu = client_for(EDU_ID)
    for key in ("login", "other", "revoked"):
        assert edu.get(f"/certificates/{world[key][3]}/pdf").status_code == 404
    hospital = client_for(HOSPITAL_ID)
    assert hospital.get(f"/certificates/{world['student'][3]}/pdf").status_code == 404
    assert hospital.get(f"/certificates/{world['revoked'][3]}/pdf").status_code == 404   # not approved
    # a selection naming another department's certificates prints nothing
    response = edu.post("/certificates/print", data={"mode": "selected", "ids": [world["other"][3], world["login"][3]]})
    assert response.status_code == 302 and response.headers["Location"].startswith("/certificates/")


def test_print_a_selection_in_the_request(app, world, client_for, tmp_path):
    client = client_for(HEALTH_ID)
    response = client.post("/certificates/print", data={
        "mode": "selected", "ids": [world["login"][3], world["other"][3], world["student"][3], "abc", "-1"]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    assert world["login"][1] in text and world["other"][1] in text and world["student"][1] not in text
    assert text.count("\f") == 2                             # two pages


def test_printing_many_runs_as_a_job_with_progress(app, world, client_for, monkeypatch, tmp_path):
    from app.extensions import db
    from app.jobs.backends import wait_idle
    from app.models import Job, JobStatus

    monkeypatch.setitem(app.config, "CERTIFICATE_SYNC_MAX", 1)
    client = client_for(HEALTH_ID)
    response = client.post("/certificates/print", data={"mode": "all", "year": str(YEAR)})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    wait_idle(app)
    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.kind == "certificates").order_by(Job.id.desc())).first()
        assert job.status == JobStatus.succeeded, job.message
        assert job.done == job.total == 2
        job_id = job.id
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = _pdf_text(download.data, tmp_path)
    assert world["login"][1] in text and world["other"][1] in text
    assert client_for(EDU_ID).get(f"/jobs/{job_id}/download").status_code == 404


def test_bad_input_never_500(app, world, client_for):
    client = client_for(HEALTH_ID)
    for query in ("year=abc", "year=99999999999999999999", "page=-4", "page=99999999999", "page=abc",
                  "name=%25%5F", "id_number=" + "9" * 200, "unit=%27%3B--", "name=%00"):
        response = client.get(f"/certificates/?{query}")
        assert response.status_code in (200, 400), (query, response.status_code)
    for url in ("/certificates/0/pdf", "/certificates/99999999/pdf", "/certificates/99999999999999999999/pdf",
                "/certificates/abc/pdf"):
        assert client.get(url).status_code == 404, url
    for data in ({}, {"mode": "all", "year": "abc"}, {"ids": ["x" * 100]}, {"mode": "strange"}):
        assert client.post("/certificates/print", data=data).status_code in (200, 302), data


# ------------------------------------------------------------------ roles
def test_roles_without_the_permission_are_refused(app, world, client_for):
    base = client_for(BASE_ID)                               # a training base prints no certificates
    for url in ("/certificates/", f"/certificates/{world['other'][3]}/pdf"):
        response = base.get(url)
        assert response.status_code in (302, 403) and response.status_code != 200
    assert base.post("/certificates/print", data={"mode": "all"}).status_code in (302, 403)
    assert client_for(HEALTH_ID).get(f"/me/certificates/{YEAR}.pdf").status_code in (302, 403)
    anonymous = app.test_client()
    response = anonymous.get("/certificates/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ------------------------------------------------------------------ the person's own
def _person_client(app, person_id):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        id_number = db.session.get(Person, person_id).id_number
    client = app.test_client()
    response = login(client, id_number, DEMO_PASSWORD, "personnel")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def test_a_person_sees_and_downloads_only_their_own(app, world, tmp_path):
    person_id, name, _id_number, vid = world["login"]
    client = _person_client(app, person_id)
    page = client.get("/me/").get_data(as_text=True)
    assert 'id="my-certificates"' in page and _number(app, person_id) in page
    response = client.get(f"/me/certificates/{YEAR}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert name in _pdf_text(response.data, tmp_path)
    assert client.get(f"/me/certificates/{YEAR - 1}.pdf").status_code == 404
    assert client.get("/me/certificates/99999999999.pdf").status_code == 404
    # the admin pages are not theirs, so another person's certificate cannot be reached at all
    for url in (f"/certificates/{world['other'][3]}/pdf", f"/certificates/{vid}/pdf", "/certificates/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url


# ------------------------------------------------------------------ degraded and limited
def test_without_the_font_printing_says_so_and_nothing_breaks(app, world, client_for, monkeypatch):
    from app.services import certificate_pdf

    monkeypatch.setattr(certificate_pdf, "_font_ready", None)
    monkeypatch.setattr(certificate_pdf, "FONT_CANDIDATES", (("/nonexistent/font.ttc", 0),))
    monkeypatch.setitem(app.config, "CERTIFICATE_FONT", "")
    client = client_for(HEALTH_ID)
    response = client.get(f"/certificates/{world['other'][3]}/pdf")
    assert response.status_code == 503
    assert "fonts-wqy-zenhei" in response.get_data(as_text=True)
    assert client.get(f"/certificates/?year={YEAR}").status_code == 200
    assert app.test_client().get(f"/certificate/verify/{_number(app, world['other'][0])}").status_code == 200


def test_the_verification_page_is_rate_limited_per_address(app, database_url, storage_root):
    from app import create_app
    from tests.conftest import make_config

    limited = create_app(make_config(database_url, STORAGE_ROOT=storage_root, RATELIMIT_ENABLED=True,
                                     CERTIFICATE_VERIFY_RATE_LIMIT="3 per minute"))
    client = limited.test_client()
    statuses = [client.get("/certificate/verify/2021-0000000001-AAAAAAAA").status_code for _ in range(5)]
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]
