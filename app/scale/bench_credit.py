"""Benchmark cases of credit hours (issue 12): the review side and the declaring side at scale.

Review side (as the mid-level admin unless noted): the 学时学分审核 list page 1 and with a name prefix, the batch
approval of 1,000 pending records (``decide``), the approval of everything a filter matches (50,000 pending
records, as the province admin: ``review.decide_matching`` end to end, the job included), the 学时审验 page of
the mid-level department (about 100,000 persons) and confirming its whole year (``confirm_matching`` end to
end, the job included). Every writing case is put back by its reset (untimed): the records return to
pending, the new audit rows, verification rows and jobs are deleted and the touched summaries recomputed.

Declaring side: the Excel import and the REST batch of 10,000 rows.

Each run validates 10,000 rows of one approved programme of a training base (persons without a record of
it) through the one declaring path and inserts them as pending records with their summaries; the reset
(untimed) deletes what the run inserted, its audit rows, and recomputes those persons' summaries, so that
``summary.differences()`` stays empty after the benchmark.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import time
import urllib.parse

from flask import g
from sqlalchemy import delete, func, select, update

#: issue 12's targets (median ms, statements) for the declaring side
TARGETS = {
    "credit review list p1 (mid)": (40, 8),
    "credit review name prefix (mid)": (60, None),
    "credit batch approval 1000 (decide)": (200, None),
    "credit filter approval 50000 (job)": (5000, None),
    "credit verification p1 (mid)": (40, None),
    "credit verification confirm all (mid, job)": (5000, None),
    "credit Excel import 10000 rows (check + commit)": (2000, None),
    "credit REST batch 10000 rows": (2000, None),
}
#: pending records the filter-wide approval decides
FILTER_ROWS = 50_000
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
    return review_cases(bench) + declaring_cases(bench)


def declaring_cases(bench) -> list:
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


# ---------------------------------------------------------------------- the review side
def _wait_for_job(app, db, job_id: int, timeout: float = 600.0) -> str:
    """Poll the job table until the job finished (the embedded backend runs it in a thread of this process)."""
    from app.models import Job, JobStatus

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with app.app_context():
            status = db.session.scalar(select(Job.status).where(Job.id == job_id))
            db.session.remove()
        if status in (JobStatus.succeeded, JobStatus.failed):
            return status.value
        time.sleep(0.025)  # a tighter poll competes with the job thread for the GIL and the 2 cores
    return "timeout"


def _actor_in_request(bench, who: str):
    from app.actor import Actor
    from app.models import Account

    account = bench.db.session.get(Account, bench.accounts[who])
    g.user = account
    _ = account.organisation, account.roles
    return Actor(account, "127.0.0.1")


def _record_restorer(bench, ids: list[int], floor_audit: int, floor_job: int):
    """Put decided records back to pending, drop the new audit rows and jobs, recompute their summaries."""
    app, db = bench.app, bench.db

    def reset():
        from app.models import AuditLog, CreditRecord, Job, ReviewStatus
        from app.services.credit import summary
        from app.services.transaction import transaction

        with app.app_context():
            with transaction():
                session = db.session
                for start in range(0, len(ids), 50_000):
                    part = ids[start:start + 50_000]
                    session.execute(update(CreditRecord).where(CreditRecord.id.in_(part)).values(
                        status=ReviewStatus.pending, reviewed_by_id=None, reviewed_on=None, reject_reason=None)
                        .execution_options(synchronize_session=False))
                session.execute(delete(AuditLog).where(AuditLog.id > floor_audit))
                session.execute(delete(Job).where(Job.id > floor_job))
                summary.refresh(summary.pairs_of_records(ids))
            db.session.remove()

    return reset


def _floors(bench) -> tuple[int, int]:
    from app.models import AuditLog, Job

    with bench.app.app_context():
        audit = bench.db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
        job = bench.db.session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
        bench.db.session.remove()
    return audit, job


def _filter_for(bench, who: str, rows: int):
    """A realistic filter matching about ``rows`` pending records the admin may decide: the subtree of one
    organisation below the admin's, the latest year (the organisation whose count is nearest)."""
    from app.models import CreditRecord, Organisation, ReviewStatus
    from app.workflow.kinds import kind_for

    ctx = bench.as_user(who)
    try:
        from app.scope import scope_for

        scope = scope_for(g.user)
        kind = kind_for("credit_record")
        session = bench.db.session
        year = session.scalar(select(func.max(CreditRecord.year)))
        counts = dict(session.execute(
            select(CreditRecord.org_path, func.count()).where(kind.decidable(scope, g.user.id),
                                                             CreditRecord.year == year)
            .group_by(CreditRecord.org_path)).all())
        orgs = session.execute(select(Organisation.id, Organisation.path, Organisation.name)
                               .where(Organisation.type == "supervisory")).all()
        best = None
        for org in orgs:
            n = sum(c for path, c in counts.items() if path.startswith(org.path))
            if n and (best is None or abs(n - rows) < abs(best[0] - rows)):
                best = (n, org)
        return year, best
    finally:
        bench.db.session.remove()
        ctx.pop()


def review_cases(bench) -> list:
    from app.models import CreditRecord, ReviewStatus
    from app.scale.bench import Case
    from app.services.credit import review as review_service
    from app.services.credit import verification as verification_service
    from app.workflow.kinds import kind_for
    from app.workflow.service import decide
    from app.workflow.states import Decision

    app, db = bench.app, bench.db
    view = bench.view("CreditRecordReviewView") or next(
        (v for v in app.appbuilder.baseviews if getattr(v, "route_base", "") == "/review/credit_record"), None)
    cases = []
    url = "/review/credit_record/list/"
    cases.append(Case("credit review list p1 (mid)", "list", "mid", url, bench.get("mid", url)))
    index = None
    if view is not None:
        filters = view._filters.get_search_filters().get("person", [])
        index = next((i for i, f in enumerate(filters) if f.__class__.__name__ == "PersonNameStarts"), None)
    if index is not None:
        url = f"/review/credit_record/list/?_flt_{index}_person={urllib.parse.quote('王')}"
        cases.append(Case("credit review name prefix (mid)", "search", "mid", url, bench.get("mid", url)))

    # batch approval of 1,000 pending records (decide)
    ctx = bench.as_user("mid")
    try:
        from app.scope import scope_for

        kind = kind_for("credit_record")
        ids = list(db.session.scalars(select(CreditRecord.id).where(kind.decidable(scope_for(g.user), g.user.id))
                                      .order_by(CreditRecord.id).limit(bench.options.batch)))
    finally:
        db.session.remove()
        ctx.pop()
    if ids:
        floor_audit, floor_job = _floors(bench)
        n = len(ids)

        def run_decide():
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                actor = _actor_in_request(bench, "mid")
                bench._counter.count = 0
                started = time.perf_counter()
                outcome = decide("credit_record", ids, actor, Decision.approve)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.remove()
            return (200 if outcome.done == n else 500), outcome.done, elapsed

        cases.append(Case(f"credit batch approval {n} (decide)", "batch", "mid", "app.workflow.service.decide",
                          run_decide, reset=_record_restorer(bench, ids, floor_audit, floor_job),
                          note="decide(): scoped load, guarded UPDATE, audit INSERT…SELECT, summaries refreshed"))

    # everything matching a filter of about 50,000 pending records, as the province admin
    year, best = _filter_for(bench, "province", FILTER_ROWS)
    if best is not None:
        count, org = best
        ctx = bench.as_user("province")
        try:
            from app.scope import scope_for

            scope = scope_for(g.user)
            filter_select = select(CreditRecord.id).where(CreditRecord.year == year,
                                                          CreditRecord.org_path.like(org.path + "%"),
                                                          kind.visible(scope))
            matched = list(db.session.scalars(filter_select.where(
                CreditRecord.status == ReviewStatus.pending, kind.decidable(scope, g.user.id))))
        finally:
            db.session.remove()
            ctx.pop()
        floor_audit, floor_job = _floors(bench)

        def run_matching():
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                actor = _actor_in_request(bench, "province")
                bench._counter.count = 0
                started = time.perf_counter()
                how, result = review_service.decide_matching("credit_record", filter_select, actor,
                                                             Decision.approve, title="bench")
                job_id = result.id if how == "job" else None
                db.session.remove()
            if job_id is not None:
                ok = _wait_for_job(app, db, job_id) == "succeeded"
            else:
                ok = result.done == len(matched)
            elapsed = (time.perf_counter() - started) * 1000
            with app.app_context():
                done = db.session.scalar(select(func.count()).select_from(CreditRecord).where(
                    CreditRecord.id.in_(matched), CreditRecord.status == ReviewStatus.approved))
                db.session.remove()
            return (200 if ok and done == len(matched) else 500), done, elapsed

        cases.append(Case("credit filter approval 50000 (job)", "batch", "province", "review.decide_matching",
                          run_matching, reset=_record_restorer(bench, matched, floor_audit, floor_job),
                          note=f"{len(matched)} pending records of {org.name}, {year}: decide_matching, then the "
                               f"job to its end"))

    # 学时审验: the page of the mid-level department, and confirming the whole year
    url = "/credit/verification/"
    cases.append(Case("credit verification p1 (mid)", "list", "mid", url, bench.get("mid", url)))
    with app.app_context():
        from app.models import CreditVerification

        floor_verification = db.session.scalar(
            select(CreditVerification.id).order_by(CreditVerification.id.desc()).limit(1)) or 0
        db.session.remove()
    floor_audit, floor_job = _floors(bench)

    def run_confirm():
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            actor = _actor_in_request(bench, "mid")
            query = verification_service.Query(year=datetime.date.today().year - 1)
            bench._counter.count = 0
            started = time.perf_counter()
            how, result = verification_service.confirm_matching(actor, query, Decision.approve, title="bench")
            job_id = result.id if how == "job" else None
            db.session.remove()
        ok = _wait_for_job(app, db, job_id) == "succeeded" if job_id is not None else bool(result.done)
        elapsed = (time.perf_counter() - started) * 1000
        with app.app_context():
            from app.models import CreditVerification

            done = db.session.scalar(select(func.count()).select_from(CreditVerification).where(
                CreditVerification.id > floor_verification))
            db.session.remove()
        return (200 if ok else 500), done, elapsed

    def reset_confirm():
        from app.models import AuditLog, CreditVerification, Job
        from app.services.transaction import transaction

        with app.app_context():
            with transaction():
                db.session.execute(delete(CreditVerification).where(CreditVerification.id > floor_verification))
                db.session.execute(delete(AuditLog).where(AuditLog.id > floor_audit))
                db.session.execute(delete(Job).where(Job.id > floor_job))
            db.session.remove()

    cases.append(Case("credit verification confirm all (mid, job)", "batch", "mid",
                      "verification.confirm_matching", run_confirm, reset=reset_confirm,
                      note="every active person of the mid-level department, last year: rows, decisions, "
                           "one audit row each; the job to its end"))
    return cases
