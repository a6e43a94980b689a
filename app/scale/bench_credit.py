"""Benchmark cases of credit-hour declaring (issue 12): the Excel import and the REST batch of 10,000 rows.

Each run validates 10,000 rows of one approved programme of a training base (persons without a record of
it) through the one declaring path and inserts them as pending records with their summaries; the reset
(untimed) deletes what the run inserted, its audit rows, and recomputes those persons' summaries, so that
``summary.differences()`` stays empty after the benchmark.
"""
from __future__ import annotations

import hashlib
import io
import json
import time

from flask import g
from sqlalchemy import delete, select

#: issue 12's targets (median ms, statements) for the declaring side
TARGETS = {
    "credit Excel import 10000 rows (check + commit)": (2000, None),
    "credit REST batch 10000 rows": (2000, None),
}
ROWS = 10_000


def _setup(bench):
    """A base's approved programme of the latest year, its admin account, 10,000 persons without it."""
    from app.models import (Account, CreditRecord, CreditRequirement, Organisation, OrganisationType, Person,
                            PersonStatus, ReviewStatus, TrainingProgramme)

    db = bench.db
    with bench.app.app_context():
        session = db.session
        open_years = select(CreditRequirement.year).where(CreditRequirement.closed.is_(False))
        programme = session.execute(
            select(TrainingProgramme.id, TrainingProgramme.code, TrainingProgramme.org_id, TrainingProgramme.end_date)
            .join(Organisation, Organisation.id == TrainingProgramme.org_id)
            .where(TrainingProgramme.status == ReviewStatus.approved, Organisation.type == OrganisationType.training_base,
                   TrainingProgramme.year.in_(open_years), TrainingProgramme.end_date <= "2026-11-30")
            .order_by(TrainingProgramme.id.desc()).limit(1)).first()
        if programme is None:
            return None
        account_id = session.scalar(select(Account.id).where(Account.organisation_id == programme.org_id)
                                    .order_by(Account.id).limit(1))
        taken = select(CreditRecord.person_id).where(CreditRecord.programme_id == programme.id)
        numbers = list(session.scalars(select(Person.id_number).where(
            Person.status == PersonStatus.active, Person.id.not_in(taken)).order_by(Person.id).limit(ROWS)))
        floor_record = session.scalar(select(CreditRecord.id).order_by(CreditRecord.id.desc()).limit(1)) or 0
        session.remove()
    if account_id is None or len(numbers) < 100:
        return None
    return programme, account_id, numbers, floor_record


def credit_cases(bench) -> list:
    from app.scale.bench import Case

    setup = _setup(bench)
    if setup is None:
        return []
    programme, account_id, numbers, floor_record = setup
    n = len(numbers)
    app, db = bench.app, bench.db
    day = programme.end_date.isoformat()

    def reset():
        from app.models import AuditLog, CreditRecord
        from app.services.credit import summary
        from app.services.transaction import transaction

        with app.app_context():
            with transaction():
                session = db.session
                pairs = summary.pairs_of_records(select(CreditRecord.id).where(CreditRecord.id > floor_record))
                session.execute(delete(AuditLog).where(AuditLog.object_type == "credit_record",
                                                       AuditLog.object_id > floor_record))
                session.execute(delete(CreditRecord).where(CreditRecord.id > floor_record))
                summary.refresh(pairs)
            db.session.remove()

    def in_request(fn):
        from app.actor import Actor
        from app.models import Account

        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            account = db.session.get(Account, account_id)
            g.user = account
            _ = account.organisation, account.roles
            bench._counter.count = 0
            started = time.perf_counter()
            done = fn(Actor(account, "127.0.0.1"))
            elapsed = (time.perf_counter() - started) * 1000
            db.session.remove()
        return (200 if done == n else 500), done, elapsed

    from openpyxl import Workbook

    from app.io.credit_import import CREDIT_IMPORT
    with app.test_request_context("/"):
        headers = CREDIT_IMPORT.headers
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for number in numbers:
        sheet.append([number, None, programme.code, None, None, None, None, None, None, day])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = buffer.getvalue()

    def run_excel():
        from app.io import imports

        def go(actor):
            report = imports.check(CREDIT_IMPORT, io.BytesIO(xlsx), actor)
            return imports.commit(CREDIT_IMPORT, report, actor, "bench.xlsx")

        return in_request(go)

    payload = {"records": [{"id_number": n, "programme_code": programme.code, "completed_on": day} for n in numbers]}
    raw = json.dumps(payload).encode()

    def run_api():
        from app.services.credit.api_import import import_batch

        def go(actor):
            answer, _replayed = import_batch(actor, json.loads(raw), None, hashlib.sha256(raw).hexdigest())
            return answer["imported"]

        return in_request(go)

    return [
        Case(f"credit Excel import {n} rows (check + commit)", "io", "base", "app.io.imports.check+commit",
             run_excel, reset=reset, note="read, parse, validate set-based, COPY, audit INSERT…SELECT, summaries"),
        Case(f"credit REST batch {n} rows", "io", "base", "app.services.credit.api_import.import_batch",
             run_api, reset=reset, note="JSON parse, validate set-based, COPY, audit INSERT…SELECT, summaries"),
    ]
