"""Reviewing credit records: decisions over a whole filter, deletion, revocation of approved hours.

Every path validates first (permission, reason, scope of every id on the reviewing side, separation of
duties) and then runs one transaction that changes the records set-based, writes one audit row per record
and refreshes the touched person-year summaries (``summary.refresh``) before it commits.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, select, update

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotAllowed
from app.extensions import db
from app.interface import parse_id
from app.models import Attachment, CreditRecord, ReviewStatus
from app.services.credit import summary
from app.services.transaction import transaction
from app.workflow.service import MAX_BATCH, REASON_MAX, NotInScope, Outcome, decide, may_review, write_transition_audit
from app.workflow.states import Decision

#: a decision over "everything matching the filter" above this many items runs as a background job
SYNC_MAX = 2000
#: most items one filter-wide decision takes (narrow the filter beyond it)
FILTER_MAX = 200_000
#: items per decide() of a filter-wide decision on PostgreSQL (ids as one array parameter)
BIG_CHUNK = 10_000


def _kind(key: str = "credit_record"):
    from app.workflow.kinds import kind_for

    return kind_for(key)


def _reason(reason, required: bool) -> Optional[str]:
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput(_("The reason must be text"), field="reason")
    reason = (reason or "").strip() or None
    if required and not reason:
        raise InvalidInput(_("A reason is required"), field="reason")
    if reason and len(reason) > REASON_MAX:
        raise InvalidInput(_("The reason is too long (at most %(n)d characters)", n=REASON_MAX), field="reason")
    return reason


def _checked_ids(ids) -> list[int]:
    if not isinstance(ids, (list, tuple, set)):
        raise InvalidInput(_("ids must be a list of request ids"))
    parsed = {parse_id(i) for i in ids}
    if None in parsed:
        raise NotInScope()
    if not parsed:
        raise InvalidInput(_("No row selected"))
    if len(parsed) > MAX_BATCH:
        raise InvalidInput(_("At most %(n)d items per batch", n=MAX_BATCH))
    return sorted(parsed)


def _load_in_scope(ids: list[int], actor: Actor):
    """The rows, each on a side the actor reviews (else 404 for the whole batch), none their own (403)."""
    kind = _kind()
    if not may_review(actor, kind):
        raise NotInScope()
    subject = kind.subject_account().label("subject_account")
    rows = db.session.execute(
        select(CreditRecord.id, CreditRecord.status, CreditRecord.submitted_by_id, subject)
        .where(CreditRecord.id.in_(ids), kind.visible(actor.scope))
    ).all()
    if len(rows) != len(ids):
        raise NotInScope()
    if any(r.submitted_by_id == actor.id or (r.subject_account is not None and r.subject_account == actor.id)
           for r in rows):
        raise NotAllowed(_("Nobody may decide a request they submitted or one about themselves"))
    return rows


def delete_records(ids, actor: Actor) -> int:
    """Delete pending or rejected records (approved hours are revoked, never deleted); audited, scoped."""
    ids = _checked_ids(ids)
    rows = _load_in_scope(ids, actor)
    if any(r.status == ReviewStatus.approved for r in rows):
        raise InvalidInput(_("Approved records cannot be deleted; revoke them with a reason instead"))
    kind = _kind()
    now = datetime.datetime.now()
    with transaction():
        pairs = summary.pairs_of_records(ids)
        by_state: dict = {}
        for r in rows:
            by_state.setdefault(r.status, []).append(r.id)
        for state, state_ids in by_state.items():
            write_transition_audit(kind, state_ids, actor, "delete", state, state, None, now)
        from app.storage import delete_after_commit

        for name in db.session.scalars(select(Attachment.server_name).where(
                Attachment.owner_kind == kind.object_type, Attachment.owner_id.in_(ids))):
            delete_after_commit(name)
        db.session.execute(delete(Attachment).where(Attachment.owner_kind == kind.object_type,
                                                    Attachment.owner_id.in_(ids)))
        result = db.session.execute(
            delete(CreditRecord).where(CreditRecord.id.in_(ids), CreditRecord.status != ReviewStatus.approved)
            .execution_options(synchronize_session=False))
        if result.rowcount != len(ids):
            raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
        summary.refresh(pairs)
    _counts_changed()
    return len(ids)


def revoke_records(ids, actor: Actor, reason) -> Outcome:
    """撤销: approved records become rejected with the reason (a decision, audited); summaries follow."""
    reason = _reason(reason, required=True)
    ids = _checked_ids(ids)
    rows = _load_in_scope(ids, actor)
    approved = [r.id for r in rows if r.status == ReviewStatus.approved]
    kind = _kind()
    now = datetime.datetime.now()
    with transaction():
        if approved:
            result = db.session.execute(
                update(CreditRecord)
                .where(CreditRecord.id.in_(approved), CreditRecord.status == ReviewStatus.approved)
                .values(status=ReviewStatus.rejected, reviewed_by_id=actor.id, reviewed_on=now,
                        reject_reason=reason)
                .execution_options(synchronize_session=False))
            if result.rowcount != len(approved):
                raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
            write_transition_audit(kind, approved, actor, "revoke", ReviewStatus.approved, ReviewStatus.rejected,
                                   reason, now)
            summary.refresh(summary.pairs_of_records(approved))
    _counts_changed()
    return Outcome(done=len(approved), skipped=len(ids) - len(approved))


def _counts_changed() -> None:
    from app.services.dashboard import invalidate_counts

    invalidate_counts()


# ---------------------------------------------------------------------- decisions over a whole filter
def decide_in_chunks(kind_key: str, ids: list[int], actor: Actor, decision, reason=None,
                     progress=None) -> Outcome:
    """One transaction, chunks of the mechanism's batch size: each chunk re-checks scope per item.

    On PostgreSQL the ids travel as one array parameter whatever their number, so the chunks are larger
    (``BIG_CHUNK``): fewer statements and plans for the same rows, progress still reported per chunk."""
    from app.sql_ids import is_postgresql

    done = skipped = 0
    size = BIG_CHUNK if is_postgresql() else MAX_BATCH
    with transaction():
        for start in range(0, len(ids), size):
            outcome = decide(kind_key, ids[start:start + size], actor, decision, reason, max_batch=size)
            done += outcome.done
            skipped += outcome.skipped
            if progress is not None:
                progress(start + len(ids[start:start + size]), len(ids))
    return Outcome(done=done, skipped=skipped)


def count_matching(id_select: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(id_select.limit(FILTER_MAX + 1).subquery())) or 0


def decide_matching(kind_key: str, id_select: Select, actor: Actor, decision, reason=None, title: str = ""):
    """Decide every pending item the (already scoped) selection matches: in the request when small, else as
    a job with progress. Returns ("done", Outcome) or ("job", Job)."""
    from app.workflow.kinds import kind_for

    decision = Decision(decision)
    kind = kind_for(kind_key)
    reason = _reason(reason, required=decision == Decision.reject)
    if not may_review(actor, kind):
        raise NotInScope()
    model = kind.model
    pending = id_select.where(model.status == ReviewStatus.pending, kind.decidable(actor.scope, actor.id))
    ids = list(db.session.scalars(pending.order_by(model.id).limit(FILTER_MAX + 1)))
    if not ids:
        raise InvalidInput(_("Nothing matching the filter is waiting for your decision"))
    if len(ids) > FILTER_MAX:
        raise InvalidInput(_("More than %(n)d items match; please narrow the filter", n=FILTER_MAX))
    if len(ids) <= sync_max():
        return "done", decide_in_chunks(kind_key, ids, actor, decision, reason)
    from app.jobs import submit

    job = submit("credit_decide", actor=actor, title=title or str(kind.label), total=len(ids),
                 params={"kind": kind_key, "decision": decision.value, "reason": reason, "ids": ids})
    return "job", job


def sync_max() -> int:
    return int(current_app.config.get("CREDIT_SYNC_MAX", SYNC_MAX))
