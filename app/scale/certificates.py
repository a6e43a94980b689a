"""电子证书 at scale (issue 13): a generator step and the benchmark cases.

Generator (runs last): for the year before ``BASE_TIME`` it adds a 学时审验 to about 30 % of the active
persons who have none for that year yet (another step may already have written some) — 97 % approved
(审验通过), the rest rejected — and then issues a certificate for every approved verification of the
database without one (numbers from the app's SECRET_KEY; the public page recomputes them from year and
person, so a bench process with another key still verifies its own numbers).

Benchmark cases: the public verification page (anonymous, one indexed lookup), one certificate PDF as the
mid-level admin, and 1,000 certificates into one PDF through the ``certificates`` job task.
"""
from __future__ import annotations

import time

from sqlalchemy import select, text

from app.scale.generate import BASE_TIME, GenerationContext, Step, _ts, register_step
from app.services.transaction import commit

YEAR = BASE_TIME.year - 1
SHARE = 0.30
REJECTED = 0.03
BATCH_PDF = 1000

#: the targets of the cases below are in app/scale/bench.py (TARGETS)


def step_certificates(ctx: GenerationContext) -> None:
    from app.services.certificates import certificate_number

    loader, session = ctx.loader, ctx.loader.session
    if session.execute(text("SELECT 1 FROM credit_requirement WHERE year = :y"), {"y": YEAR}).first() is None:
        # not through the loader: it moves id sequences, and this table is keyed by year
        session.execute(text("INSERT INTO credit_requirement (year, total_hours, professional_numerator, "
                             "professional_denominator, closed) VALUES (:y, 90, 2, 3, :closed)"),
                        {"y": YEAR, "closed": False})
    have = set(session.scalars(text("SELECT person_id FROM credit_verification WHERE year = :y"), {"y": YEAR}))
    rng = ctx.rng("certificates")
    persons = ctx.persons
    reviewer = ctx.admin_of_org.get(ctx.province.id) if ctx.province else None
    next_id = loader.next_id("credit_verification")
    submitted, reviewed = _ts(BASE_TIME.replace(month=1, day=2)), _ts(BASE_TIME.replace(day=4))

    def rows():
        nonlocal next_id
        for i in range(persons.count):
            if persons.status[i] != 0 or rng.random() >= SHARE:
                continue
            person_id = persons.first_id + i
            if person_id in have:
                continue
            employer = persons.employer_id[i]
            path = ctx.org_by_id[employer].path
            public = 20 + int(rng.random() * 20)
            professional = 60 + int(rng.random() * 30)
            status = "rejected" if rng.random() < REJECTED else "approved"
            reason = "学时不足" if status == "rejected" else None
            yield (next_id, person_id, employer, path, YEAR, public, professional, 90, 60, status, reviewer,
                   submitted, reviewer, reviewed, reason)
            next_id += 1

    count = loader.insert("credit_verification", [
        "id", "person_id", "employer_id", "org_path", "year", "public_hours", "professional_hours", "required_hours",
        "required_professional_hours", "status", "submitted_by_id", "submitted_on", "reviewed_by_id", "reviewed_on",
        "reject_reason"], rows())
    pending = session.execute(text(
        "SELECT v.person_id, v.year FROM credit_verification v LEFT JOIN certificate c "
        "ON c.person_id = v.person_id AND c.year = v.year WHERE v.status = 'approved' AND c.id IS NULL "
        "ORDER BY v.id")).all()
    first = loader.next_id("certificate")
    issued = _ts(BASE_TIME)
    certificates = loader.insert("certificate", ["id", "number", "person_id", "year", "issued_on"], (
        (first + n, certificate_number(year, person_id), person_id, year, issued)
        for n, (person_id, year) in enumerate(pending)))
    ctx.echo(f"  verifications {YEAR}: {count:,} added; certificates issued: {certificates:,}")


def register() -> None:
    register_step(Step("certificates", step_certificates))


# ---------------------------------------------------------------------------------------------------
# Benchmark cases
# ---------------------------------------------------------------------------------------------------


def certificate_cases(bench) -> list:
    from app.scale.bench import Case

    if "CertificateVerifyView.verify" not in bench.app.view_functions:
        return []
    from app.models import CreditVerification, ReviewStatus
    from app.scope import apply_scope
    from app.services.certificates import certificate_number

    app, db = bench.app, bench.db
    ctx = bench.as_user("mid")
    try:
        from flask import g

        from app.scope import scope_for

        scope = scope_for(g.user)
        sample = db.session.execute(apply_scope(
            select(CreditVerification.id, CreditVerification.person_id, CreditVerification.year)
            .where(CreditVerification.status == ReviewStatus.approved)
            .order_by(CreditVerification.id.desc()).limit(1), CreditVerification, scope)).first()
        number = certificate_number(sample.year, sample.person_id) if sample else None
    finally:
        db.session.remove()
        ctx.pop()
    if sample is None:
        return []
    cases = []
    anonymous = app.test_client()

    def verify():
        response = anonymous.get(f"/certificate/verify/{number}")
        ok = response.status_code == 200 and b"verify-valid" in response.data
        return (200 if ok else 500), len(response.data)

    cases.append(Case("certificate verification page", "detail", "anonymous", f"/certificate/verify/{number}",
                      verify, note="public page: signature check, one indexed lookup, masked data"))
    url = f"/certificates/{sample.id}/pdf"
    cases.append(Case("certificate PDF one (mid)", "detail", "mid", url, bench.get("mid", url),
                      note="one A4 certificate with embedded CJK font subset and QR code"))
    url = f"/certificates/?year={sample.year}"
    cases.append(Case("certificate list p1 (mid)", "list", "mid", url, bench.get("mid", url)))

    def batch():
        import os
        import tempfile

        from app.actor import Actor
        from app.models import Account
        from app.services import certificate_pdf, certificates

        with app.app_context():
            actor = Actor.of(db.session.get(Account, bench.accounts["mid"]))
            started = time.perf_counter()
            ids = certificates.filtered_ids(actor.scope, certificates.Filters(year=sample.year), BATCH_PDF)
            fd, path = tempfile.mkstemp(suffix=".pdf")
            os.close(fd)

            def items():
                for chunk in certificates.chunks(ids):
                    batch_items = certificates.for_ids(chunk)
                    certificates.issue(batch_items)
                    yield from batch_items

            count = certificate_pdf.write_pdf(items(), path, "http://127.0.0.1:5000/")
            commit()
            elapsed = (time.perf_counter() - started) * 1000
            size = os.path.getsize(path)
            os.remove(path)
            db.session.remove()
        return (200 if count == len(ids) and count else 500), size, elapsed

    cases.append(Case("certificates 1,000 in one PDF (job)", "io", "mid", "certificates job task", batch,
                      note="the certificates job's work: query, issue, render 1,000 pages into one PDF"))
    return cases
