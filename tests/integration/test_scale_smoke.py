"""Small-size smoke of the scale tooling (issue 5): the generator and the benchmark must not rot.

Runs on the suite's database type (SQLite by default, PostgreSQL when TEST_DATABASE_URL says so) but in
a database of its own — a temporary SQLite file, or ``<test database>_scale`` on the same server — so
the shared demo-world database is never touched. No timing is asserted.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from config import TestConfig, database_url

PERSONS, SEED, UNITS = 300, 1, 120


@pytest.fixture(scope="module")
def scale_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        yield "sqlite:///" + str(tmp_path_factory.mktemp("scale") / "scale.db")
        return
    url = make_url(database_url(base))
    name = f"{url.database}_scale"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def scale_app(scale_url):
    from app import create_app
    from app.cli import prepare_database
    from app.extensions import db
    from app.scale.generate import seed_scale

    config = type("ScaleConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": scale_url})
    application = create_app(config)
    with application.app_context():
        prepare_database(seed_demo_data=False)
        info = seed_scale(PERSONS, seed=SEED, units=UNITS, echo=lambda _: None)
    yield application, info
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_generator_builds_a_consistent_province(scale_app):
    from app.extensions import db
    from app.models import (Account, Organisation, OrganisationType, Person, PersonStatus, ReviewKind,
                            ReviewRequest, ReviewStatus)
    from app.validators import validate_id_number

    application, info = scale_app
    with application.app_context():
        numbers = list(db.session.scalars(select(Person.id_number)))
        assert len(numbers) == PERSONS
        assert len(set(numbers)) == PERSONS
        for number in numbers:
            assert validate_id_number(number) == number
            assert number.startswith("42")
        types = dict(db.session.execute(
            select(Organisation.type, func.count()).group_by(Organisation.type)).all())
        assert types[OrganisationType.province] == 1
        assert types[OrganisationType.supervisory] >= 90
        assert types[OrganisationType.employer] + types[OrganisationType.training_base] == UNITS
        # the mid-level admin's subtree holds a real share of the persons
        mid = db.session.get(Organisation, info.mid_org_id)
        in_mid = db.session.scalar(
            select(func.count()).select_from(Person).join(Organisation, Organisation.id == Person.employer_id)
            .where(Organisation.path.like(mid.path + "%")))
        assert 0 < in_mid < PERSONS
        # every pending registration is a pending person with an inactive login, under its employer
        pending = db.session.scalars(select(ReviewRequest).where(
            ReviewRequest.kind == ReviewKind.person_registration, ReviewRequest.status == ReviewStatus.pending)).all()
        assert pending
        for request in pending:
            person = db.session.get(Person, request.subject_id)
            assert person.status == PersonStatus.pending
            assert request.org_id == person.employer_id
            assert request.subject_code == person.id_number and request.subject_name == person.name
            assert person.account is not None and not person.account.active
        assert db.session.scalar(select(func.count()).select_from(ReviewRequest).where(
            ReviewRequest.kind == ReviewKind.person_change)) > 0
        _plans_transfers_materials_are_consistent(info)
        for number in (info.province_admin, info.mid_admin):
            account = db.session.scalar(select(Account).where(Account.username == number))
            assert account is not None and account.active


def _plans_transfers_materials_are_consistent(info):
    """Issue 11's tables: every kind has pending items, transfers agree with where persons are."""
    from app.extensions import db
    from app.models import (Organisation, Person, ReviewStatus, TrainingPlan, TrainingProgramme, Transfer,
                            WorkMaterial, WorkSummary)
    from app.services.placement import misplaced_persons

    for model in (TrainingPlan, TrainingProgramme, WorkSummary, Transfer, WorkMaterial):
        assert db.session.scalar(select(func.count()).select_from(model).where(
            model.status == ReviewStatus.pending)) > 0, model.__tablename__
    mid = db.session.get(Organisation, info.mid_org_id)
    for transfer in db.session.scalars(select(Transfer)):
        person = db.session.get(Person, transfer.person_id)
        assert transfer.id_number == person.id_number
        if transfer.status == ReviewStatus.pending:
            assert transfer.from_org_id == person.employer_id
            assert transfer.to_organisation.path.startswith(mid.path)
        elif transfer.status == ReviewStatus.approved:
            assert transfer.to_org_id == person.employer_id
    assert len(set(db.session.scalars(select(Transfer.person_id).where(
        Transfer.status == ReviewStatus.pending)))) == db.session.scalar(
        select(func.count()).select_from(Transfer).where(Transfer.status == ReviewStatus.pending))
    codes = list(db.session.scalars(select(TrainingProgramme.code)))
    assert all(code and code.startswith("PX") for code in codes) and len(set(codes)) == len(codes)
    assert misplaced_persons() == []


def test_generator_is_deterministic(scale_app):
    from app.extensions import db
    from app.models import Person
    from app.scale.generate import IdNumbers, reset_database, seed_scale

    application, info = scale_app
    with application.app_context():
        first = db.session.execute(select(Person.id_number, Person.name).order_by(Person.id).limit(20)).all()
        again = seed_scale(PERSONS, seed=SEED, units=UNITS, echo=lambda _: None)
        assert again.reused  # same size and seed: nothing is loaded twice
        reset_database()
        rebuilt = seed_scale(PERSONS, seed=SEED, units=UNITS, echo=lambda _: None)
        assert not rebuilt.reused
        assert db.session.execute(
            select(Person.id_number, Person.name).order_by(Person.id).limit(20)).all() == first
        assert (rebuilt.province_admin, rebuilt.mid_admin) == (info.province_admin, info.mid_admin)
    other = IdNumbers(SEED + 1, set())
    assert other.number(0)[0] != IdNumbers(SEED, set()).number(0)[0]


def test_bench_returns_every_case_with_statement_counts(scale_app, scale_url):
    from app.extensions import db
    from app.models import ReviewRequest, ReviewStatus
    from app.scale.bench import BenchOptions, run_bench

    application, _ = scale_app

    def pending():
        with application.app_context():
            return db.session.scalar(select(func.count()).select_from(ReviewRequest)
                                     .where(ReviewRequest.status == ReviewStatus.pending))

    before = pending()
    report = run_bench(database_url(scale_url), BenchOptions(
        runs=1, warmup=0, wrk=False, explain=False, pyprofile=False, batch=40), echo=lambda _: None)
    cases = {c["name"]: c for c in report.cases}
    expected = [
        "person list p1 (mid)", "person list p1000 (mid)", "person list p1 (province)",
        "person list p1000 (province)", "name prefix search (mid)", "name prefix search (province)",
        "ID number lookup (mid)", "person detail (mid)", "/persons/add form (mid)", "/persons/edit form (mid)",
        "/organisations/add form (province)", "/departments/add form (mid)",
        "batch approval 40 (decide)", "batch approval 40 (review list action)",
        "plain batch approval 40 (FAB action)", "plain person list p1", "plain person add form",
        "plain person edit form", "dashboard (mid)", "dashboard (province)",
        "review list training_plan p1 (mid)", "review list training_programme p1 (mid)",
        "review list work_summary p1 (mid)", "review list transfer p1 (mid)", "review list work_material p1 (mid)",
        "transfer records p1 (mid)", "transfer person picker (mid)", "receiving unit search (mid)",
        "export 100,000 persons to xlsx (job)", "import 10,000 rows (parse, validate, commit)",
        "upload 20 MB (check, hash, store)",
        "certificate verification page", "certificate PDF one (mid)", "certificate list p1 (mid)",
        "certificates 1,000 in one PDF (job)",
    ]
    for name in expected:
        assert name in cases, name
    for case in report.cases:
        assert case["error"] is None, (case["name"], case["error"])
        assert case["statements"] and case["statements"] > 0, case["name"]
        assert case["median_ms"] is not None
    assert cases["person list p1 (mid)"]["speedup_vs_plain"] is not None
    assert any(name.startswith("batch confirmation") for name in cases), "the transfer batch is measured"
    for name in ("title distribution (mid)", "title distribution (province)", "person query p1 (mid)",
                 "person query verified 2025 (province)"):  # issue 13: 查询统计
        assert name in cases, name
    # the approved batches were put back: the benchmark can run again
    assert pending() == before
    with application.app_context():
        from app.services.placement import misplaced_persons

        assert misplaced_persons() == []


def test_generator_issues_certificates_for_approved_verifications(scale_app):
    from app.extensions import db
    from app.models import Certificate, CreditVerification, ReviewStatus
    from app.services.certificates import parse_number

    application, _ = scale_app
    with application.app_context():
        approved = db.session.scalar(select(func.count()).select_from(CreditVerification)
                                     .where(CreditVerification.status == ReviewStatus.approved))
        certificates = db.session.scalars(select(Certificate)).all()
        assert approved > 0 and len(certificates) == approved
        assert all(parse_number(c.number) == (c.year, c.person_id) for c in certificates)
