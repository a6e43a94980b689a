"""学时审验: each person's year against the year's rule, confirmed as a decision of the review mechanism.

The page reads ``credit_summary`` (never the raw records). Confirming is set-based whatever the number of
persons (``_confirm``): the checks of the review mechanism's ``decide`` run in SQL over the whole set (scope,
separation of duties), the pending verifications are decided by one guarded UPDATE, the persons without
one get it by one INSERT … SELECT (hours and rule kept as a snapshot), and one audit row per decided item
is written by one INSERT … SELECT — 100,000 persons in a few statements. A decided verification changes only
by a new decision with a reason (``redecide``), which goes through ``decide`` and is audited like any other.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import Select, String, and_, case, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import aliased

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotAllowed
from app.extensions import db
from app.interface import parse_id
from app.models import (CreditRequirement, CreditSummary, CreditVerification, Organisation, Person, PersonStatus,
                        ReviewStatus)
from app.scope import Scope, scope_clause
from app.services.credit.review import FILTER_MAX, _checked_ids, _reason, sync_max
from app.services.transaction import transaction
from app.sql_ids import is_postgresql
from app.workflow.service import NotInScope, Outcome, decide, may_review, write_transition_audit
from app.workflow.states import Decision

KIND = "credit_verification"
PAGE_SIZE = 20
#: the page's state filter
STATES = ("", "undecided", "suggest_pass", "suggest_fail", "passed", "failed")


def _kind():
    from app.workflow.kinds import kind_for

    return kind_for(KIND)


def rule_of(year: int) -> CreditRequirement:
    rule = db.session.get(CreditRequirement, year) if isinstance(year, int) else None
    if rule is None:
        raise InvalidInput(_("There is no credit hour requirement for this year"), field="year")
    return rule


@dataclass
class Query:
    """The page's conditions, checked (bad values are a 400, never a 500)."""

    year: int
    employer_id: Optional[int] = None
    name: str = ""
    state: str = ""

    @classmethod
    def parse(cls, args, default_year: int) -> "Query":
        raw_year = (args.get("year") or "").strip()
        if raw_year and (not raw_year.isdigit() or not 1990 <= int(raw_year) <= 2100):
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        employer = args.get("employer") or ""
        employer_id = parse_id(employer) if employer else None
        if employer and employer_id is None:
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        name = (args.get("name") or "").strip()
        if len(name) > 50:
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        state = args.get("state") or ""
        if state not in STATES:
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        return cls(int(raw_year) if raw_year else default_year, employer_id, name, state)


def persons_select(scope: Scope, query: Query) -> Select:
    """Person ids of the scope matching the conditions (joined to the year's summary and verification)."""
    s = aliased(CreditSummary)
    v = aliased(CreditVerification)
    stmt = (select(Person.id)
            .outerjoin(s, and_(s.person_id == Person.id, s.year == query.year))
            .outerjoin(v, and_(v.person_id == Person.id, v.year == query.year))
            .where(Person.status == PersonStatus.active))
    clause = scope_clause(Person, scope)
    if clause is not None:
        stmt = stmt.where(clause)
    if query.employer_id:
        stmt = stmt.where(Person.employer_id == query.employer_id)
    if query.name:
        field = Person.id_number if query.name[0].isdigit() else Person.name
        stmt = stmt.where(field.startswith(query.name.upper() if query.name[0].isdigit() else query.name,
                                           autoescape=True))
    decided = v.status.in_([ReviewStatus.approved, ReviewStatus.rejected])
    qualified = func.coalesce(s.qualified, False)
    if query.state == "undecided":
        stmt = stmt.where(or_(v.id.is_(None), ~decided))
    elif query.state == "suggest_pass":
        stmt = stmt.where(qualified.is_(True))
    elif query.state == "suggest_fail":
        stmt = stmt.where(or_(s.qualified.is_(None), s.qualified.is_(False)))
    elif query.state == "passed":
        stmt = stmt.where(v.status == ReviewStatus.approved)
    elif query.state == "failed":
        stmt = stmt.where(v.status == ReviewStatus.rejected)
    return stmt


def page(scope: Scope, query: Query, page_no: int = 0, page_size: int = PAGE_SIZE):
    """(count capped at 10000, rows) of one page: person, employer, hours, suggested and decided result."""
    from app.interface import COUNT_CAP, CappedCount

    ids = persons_select(scope, query)
    count = db.session.scalar(select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery())) or 0
    count = CappedCount(count) if count > COUNT_CAP else count
    page_ids = ids.order_by(Person.org_path, Person.id).limit(page_size).offset(page_no * page_size).subquery()
    s = aliased(CreditSummary)
    v = aliased(CreditVerification)
    rows = db.session.execute(
        select(Person.id, Person.name, Person.id_number, Organisation.name.label("employer"),
               func.coalesce(s.public_hours, 0).label("public_hours"),
               func.coalesce(s.professional_hours, 0).label("professional_hours"),
               func.coalesce(s.pending_hours, 0).label("pending_hours"),
               func.coalesce(s.qualified, False).label("qualified"),
               v.id.label("verification_id"), v.status.label("verification_status"),
               v.reject_reason.label("verification_reason"))
        .join(page_ids, page_ids.c.id == Person.id)
        .join(Organisation, Organisation.id == Person.employer_id)
        .outerjoin(s, and_(s.person_id == Person.id, s.year == query.year))
        .outerjoin(v, and_(v.person_id == Person.id, v.year == query.year))
        .order_by(Person.org_path, Person.id)
    ).all()
    return count, rows


def _snapshot_values(year: int, rule: CreditRequirement):
    return dict(required_hours=rule.total_hours, required_professional_hours=rule.professional_hours)


def _create_rows(person_ids: Select, year: int, rule: CreditRequirement, now) -> None:
    """Verification rows (pending) for the persons that have none this year; pending ones get fresh hours."""
    s = aliased(CreditSummary)
    source = (
        select(Person.id, Person.employer_id, Person.org_path, literal(year),
               func.coalesce(s.public_hours, 0), func.coalesce(s.professional_hours, 0),
               literal(rule.total_hours), literal(rule.professional_hours),
               literal(ReviewStatus.pending.value), literal(now))
        .outerjoin(s, and_(s.person_id == Person.id, s.year == year))
        .where(Person.id.in_(person_ids),
               ~select(CreditVerification.id).where(CreditVerification.person_id == Person.id,
                                                    CreditVerification.year == year).exists())
    )
    db.session.execute(insert(CreditVerification).from_select(
        ["person_id", "employer_id", "org_path", "year", "public_hours", "professional_hours", "required_hours",
         "required_professional_hours", "status", "submitted_on"], source))
    _refresh_pending(person_ids, year, rule)


def _refresh_pending(person_ids: Select, year: int, rule: CreditRequirement) -> None:
    hours = lambda column: func.coalesce(select(column).where(  # noqa: E731
        CreditSummary.person_id == CreditVerification.person_id, CreditSummary.year == year)
        .correlate(CreditVerification).scalar_subquery(), 0)
    db.session.execute(
        update(CreditVerification)
        .where(CreditVerification.person_id.in_(person_ids), CreditVerification.year == year,
               CreditVerification.status == ReviewStatus.pending)
        .values(public_hours=hours(CreditSummary.public_hours),
                professional_hours=hours(CreditSummary.professional_hours),
                required_hours=rule.total_hours, required_professional_hours=rule.professional_hours)
        .execution_options(synchronize_session=False))


def _validate(actor: Actor, year, decision, reason):
    try:
        decision = Decision(decision)
    except ValueError:
        raise InvalidInput(_("Unknown decision")) from None
    if decision not in (Decision.approve, Decision.reject):
        raise InvalidInput(_("Unknown decision"))
    reason = _reason(reason, required=decision == Decision.reject)
    if not may_review(actor, _kind()):
        raise NotInScope()
    return decision, reason, rule_of(year)


def confirm_persons(actor: Actor, year, person_ids, decision, reason=None, progress=None) -> Outcome:
    """审验通过 / 审验不通过 for chosen persons of the actor's subtree (any outside: 404 for all)."""
    decision, reason, rule = _validate(actor, year, decision, reason)
    ids = _checked_ids(person_ids) if not isinstance(person_ids, Select) else None
    if ids is not None:
        clause = scope_clause(Person, actor.scope)
        inside = select(func.count()).select_from(Person).where(Person.id.in_(ids))
        if clause is not None:
            inside = inside.where(clause, Person.org_path != actor.scope.prefix)
        if db.session.scalar(inside) != len(ids):
            raise NotInScope()
        chosen = select(Person.id).where(Person.id.in_(ids))
    else:
        chosen = person_ids
    return _confirm(actor, rule, chosen, decision, reason, progress)


def _confirm(actor, rule, chosen: Select, decision, reason, progress=None) -> Outcome:
    """Decide the year's verification of the chosen persons, set-based (any number of persons).

    The checks of ``decide`` in SQL, over the whole set: every existing verification of the persons on the
    actor's reviewing side (else 404 for all), none about the actor or submitted by them (403). Then, in
    one transaction: the pending verifications are decided by one guarded UPDATE; the persons without one
    get theirs by one INSERT … SELECT, decided at once (hours and rule as a snapshot, like a pending row
    decided in the same transaction); one audit row per decided item (pending → result) in one
    INSERT … SELECT. Already decided verifications are skipped (changed only by ``redecide``).
    """
    from app.workflow.service import _decisions_changed
    from app.workflow.states import next_status

    kind = _kind()
    scope = actor.scope
    now = datetime.datetime.now()
    target = next_status(ReviewStatus.pending, decision)
    year = rule.year
    chosen_ids = chosen.subquery()
    of_chosen = and_(CreditVerification.person_id.in_(select(chosen_ids.c.id)), CreditVerification.year == year)
    with transaction():
        existing = db.session.execute(
            select(func.count().label("total"),
                   func.coalesce(func.sum(case((CreditVerification.status == ReviewStatus.pending, 1), else_=0)),
                                 0).label("pending"),
                   func.coalesce(func.sum(case((kind.visible(scope), 0), else_=1)), 0).label("outside"),
                   func.coalesce(func.sum(case((CreditVerification.submitted_by_id == actor.id, 1), else_=0)),
                                 0).label("own"))
            .where(of_chosen)).one()
        if existing.outside:
            raise NotInScope()
        about_me = db.session.scalar(select(func.count()).select_from(Person).where(
            Person.id.in_(select(chosen_ids.c.id)), Person.account_id == actor.id))
        if existing.own or about_me:
            raise NotAllowed(_("Nobody may decide a request they submitted or one about themselves"))
        values = dict(status=target, reviewed_by_id=actor.id, reviewed_on=now,
                      reject_reason=reason if decision == Decision.reject else None)
        decided = []
        if existing.pending:  # pending rows of earlier confirmations: fresh hours, then the decision
            _refresh_pending(select(chosen_ids.c.id), year, rule)
            decided = [tuple(r) for r in db.session.execute(
                update(CreditVerification)
                .where(of_chosen, CreditVerification.status == ReviewStatus.pending, kind.visible(scope))
                .values(**values).returning(CreditVerification.id, CreditVerification.org_path)
                .execution_options(synchronize_session=False))]
        if len(decided) != existing.pending:
            raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
        s = aliased(CreditSummary)
        # the chosen persons' own columns from the same query (no second pass over person)
        persons = chosen.with_only_columns(Person.id, Person.employer_id, Person.org_path).subquery()
        source = (
            select(persons.c.id, persons.c.employer_id, persons.c.org_path, literal(year),
                   func.coalesce(s.public_hours, 0), func.coalesce(s.professional_hours, 0),
                   literal(rule.total_hours), literal(rule.professional_hours), literal(target.value),
                   literal(now), literal(actor.id), literal(now), literal(values["reject_reason"], String))
            .select_from(persons)
            .outerjoin(s, and_(s.person_id == persons.c.id, s.year == year))
        )
        if existing.total:  # none of the chosen has one yet (the usual first confirmation): no anti-join —
            # with few verification rows in the statistics PostgreSQL planned it as a nested loop re-reading
            # credit_verification per person while this INSERT grew it (81 s instead of 3.6 s at 97,083)
            source = source.where(~select(CreditVerification.id).where(
                CreditVerification.person_id == persons.c.id, CreditVerification.year == year).exists())
        created = [tuple(r) for r in db.session.execute(insert(CreditVerification).from_select(
            ["person_id", "employer_id", "org_path", "year", "public_hours", "professional_hours",
             "required_hours", "required_professional_hours", "status", "submitted_on", "reviewed_by_id",
             "reviewed_on", "reject_reason"], source).returning(CreditVerification.id, CreditVerification.org_path))]
        done = decided + created
        if is_postgresql():
            _audit_returned(kind, done, actor, decision.value, target, reason, now)
        else:
            write_transition_audit(kind, [i for i, _ in done], actor, decision.value, ReviewStatus.pending,
                                   target, reason, now)
        total = existing.total + len(created)
        if progress is not None:
            progress(total, total)
    _decisions_changed()
    return Outcome(done=len(done), skipped=total - len(done))


def _audit_returned(kind, rows: list, actor, action: str, target, reason, now) -> None:
    """PostgreSQL: one audit row per decided verification (pending → result), from the (id, org_path) the
    UPDATE and INSERT returned — the rows as ``write_transition_audit`` writes them (the verification's
    org_path is its employer's path), without looking 100,000 rows up again by id."""
    if not rows:
        return
    from app.logs import current_request_id

    db.session.execute(text(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, org_path, comment, from_state, "
        "to_state, ip, created_on, request_id) "
        "SELECT :actor, :action, :object_type, u.id, u.path, :comment, :from_state, :to_state, :ip, :now, :rid "
        "FROM unnest(CAST(:ids AS integer[]), CAST(:paths AS varchar[])) AS u(id, path)"),
        {"actor": actor.id, "action": action, "object_type": kind.object_type, "comment": reason,
         "from_state": ReviewStatus.pending.value, "to_state": target.value, "ip": actor.ip, "now": now,
         "rid": current_request_id(), "ids": [i for i, _ in rows], "paths": [p for _, p in rows]})


def confirm_matching(actor: Actor, query: Query, decision, reason=None, title: str = ""):
    """Every person the filter matches: in the request when small, else as a job. ("done", Outcome) / ("job", Job)."""
    decision, reason, rule = _validate(actor, query.year, decision, reason)
    chosen = persons_select(actor.scope, query)
    if not actor.scope.is_all:
        chosen = chosen.where(Person.org_path != actor.scope.prefix)
    count = db.session.scalar(select(func.count()).select_from(chosen.limit(FILTER_MAX + 1).subquery())) or 0
    if not count:
        raise InvalidInput(_("Nothing matches the filter"))
    if count > FILTER_MAX:
        raise InvalidInput(_("More than %(n)d items match; please narrow the filter", n=FILTER_MAX))
    if count <= sync_max():
        return "done", _confirm(actor, rule, chosen, decision, reason)
    from app.jobs import submit

    job = submit("credit_verify", actor=actor, title=title or _("Credit hours verification"), total=count,
                 params={"year": query.year, "employer": query.employer_id, "name": query.name,
                         "state": query.state, "decision": decision.value, "reason": reason})
    return "job", job


def redecide(actor: Actor, verification_ids, decision, reason) -> Outcome:
    """Change decided verifications: reopened (audited, with the reason, hours re-read) and decided again."""
    try:
        decision = Decision(decision)
    except ValueError:
        raise InvalidInput(_("Unknown decision")) from None
    if decision not in (Decision.approve, Decision.reject):
        raise InvalidInput(_("Unknown decision"))
    reason = _reason(reason, required=True)
    ids = _checked_ids(verification_ids)
    kind = _kind()
    if not may_review(actor, kind):
        raise NotInScope()
    rows = db.session.execute(select(CreditVerification.id, CreditVerification.status, CreditVerification.year)
                              .where(CreditVerification.id.in_(ids), kind.visible(actor.scope))).all()
    if len(rows) != len(ids):
        raise NotInScope()
    target = ReviewStatus.approved if decision == Decision.approve else ReviewStatus.rejected
    change = [r for r in rows if r.status in (ReviewStatus.approved, ReviewStatus.rejected) and r.status != target]
    now = datetime.datetime.now()
    with transaction():
        by_state: dict = {}
        for r in change:
            by_state.setdefault(r.status, []).append(r.id)
        for state, state_ids in by_state.items():
            result = db.session.execute(
                update(CreditVerification).where(CreditVerification.id.in_(state_ids),
                                                 CreditVerification.status == state)
                .values(status=ReviewStatus.pending).execution_options(synchronize_session=False))
            if result.rowcount != len(state_ids):
                raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
            write_transition_audit(kind, state_ids, actor, "reopen", state, ReviewStatus.pending, reason, now)
        for year in {r.year for r in change}:
            ids_of_year = [r.id for r in change if r.year == year]
            _refresh_pending(select(CreditVerification.person_id).where(CreditVerification.id.in_(ids_of_year)),
                             year, rule_of(year))
        changed = [r.id for r in change]
        outcome = decide(KIND, changed, actor, decision, reason) if changed else Outcome(0, 0)
    return Outcome(done=outcome.done, skipped=len(ids) - outcome.done)


def own_progress(person_id: int) -> list[dict]:
    """A person's years: approved hours against each year's rule, and the verification result."""
    years = db.session.execute(
        select(CreditSummary.year, CreditSummary.public_hours, CreditSummary.professional_hours,
               CreditSummary.pending_hours, CreditSummary.qualified)
        .where(CreditSummary.person_id == person_id)).all()
    verifications = {v.year: v for v in db.session.scalars(
        select(CreditVerification).where(CreditVerification.person_id == person_id))}
    rules = {r.year: r for r in db.session.scalars(select(CreditRequirement))}
    by_year = {row.year: row for row in years}
    result = []
    for year in sorted(set(by_year) | set(verifications) | set(rules), reverse=True):
        row = by_year.get(year)
        rule = rules.get(year)
        public = row.public_hours if row else 0
        professional = row.professional_hours if row else 0
        verification = verifications.get(year)
        if row is None and verification is None and (rule is None or rule.closed):
            continue
        result.append({
            "year": year, "public": public, "professional": professional, "total": public + professional,
            "pending": row.pending_hours if row else 0, "rule": rule,
            "required": rule.total_hours if rule else None,
            "required_professional": rule.professional_hours if rule else None,
            "met": bool(row and row.qualified),
            "percent": min(100, int((public + professional) * 100 / rule.total_hours)) if rule and rule.total_hours else 0,
            "verification": verification,
        })
    return result
