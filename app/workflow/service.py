"""The one decision function: one item or a batch, approve or reject, done/skipped counts.

Validation first (decision, reason, permission, organisation type, scope of every id), then one
transaction: a guarded set-based UPDATE of the requests, one INSERT ... SELECT of the audit rows,
and the kind's effects. Any failure rolls the whole batch back.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Optional

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import and_, false, insert, literal, or_, select, true, update

from app.errors import NotFound
from app.extensions import db
from app.models import Account, AuditLog, Organisation, ReviewKind, ReviewRequest, ReviewStatus
from app.scope import Scope, scope_for, subtree_org_ids
from app.services.transaction import ServiceError, transaction
from app.workflow.policies import ReviewPolicy, policy_for
from app.workflow.states import Decision, next_status

#: largest batch one decision accepts
MAX_BATCH = 5000
REASON_MAX = 500


class NotInScope(NotFound):
    """Some id is unknown, of another kind, or outside the reviewer's scope: answer 404."""


@dataclass
class Outcome:
    done: int
    skipped: int

    def message(self) -> str:
        return _("%(done)d done, %(skipped)d skipped (not pending)", done=self.done, skipped=self.skipped)


def reviewable_condition(scope: Scope, policy: ReviewPolicy):
    """Requests a reviewer may decide: strictly below their own organisation (or the new-parent side)."""
    if scope.is_all:
        return true()
    if scope.is_none:
        return false()
    ids = subtree_org_ids(scope)
    below = and_(ReviewRequest.org_id.in_(ids), ReviewRequest.org_id != scope.org_id)
    if policy.two_sided:
        return or_(below, ReviewRequest.target_org_id.in_(ids))
    return below


def may_review(actor: Account, policy: ReviewPolicy) -> bool:
    """Permission on the kind's area and the right type of organisation."""
    scope = scope_for(actor)
    if scope.is_none:
        return False
    if actor.organisation.type not in policy.reviewer_types:
        return False
    perms = current_app.appbuilder.sm._permission_set(actor)
    return ("can_write", policy.area) in perms


@dataclass
class DecideCommand:
    kind: ReviewKind
    ids: list
    actor: Account
    decision: Decision
    reason: Optional[str] = None

    def validate(self) -> None:
        if self.decision not in (Decision.approve, Decision.reject):
            raise ServiceError(_("Unknown decision"))
        self.reason = (self.reason if isinstance(self.reason, str) else str(self.reason or "")).strip() or None
        if self.decision == Decision.reject and not self.reason:
            raise ServiceError(_("A reason is required to reject"))
        if self.reason and len(self.reason) > REASON_MAX:
            raise ServiceError(_("The reason is too long (at most %(n)d characters)", n=REASON_MAX))
        try:
            self.ids = sorted({int(i) for i in self.ids})
        except (TypeError, ValueError):
            raise NotInScope()
        if not self.ids:
            raise ServiceError(_("No row selected"))
        if len(self.ids) > MAX_BATCH:
            raise ServiceError(_("At most %(n)d items per batch", n=MAX_BATCH))
        self.policy = policy_for(self.kind)
        if not may_review(self.actor, self.policy):
            raise NotInScope()
        self.scope = scope_for(self.actor)
        rows = db.session.execute(
            select(ReviewRequest.id, ReviewRequest.status)
            .where(ReviewRequest.id.in_(self.ids), ReviewRequest.kind == self.kind)
            .where(reviewable_condition(self.scope, self.policy))
        ).all()
        if len(rows) != len(self.ids):
            raise NotInScope()
        self.pending = [r.id for r in rows if r.status == ReviewStatus.pending]

    def run(self) -> Outcome:
        with transaction():
            if self.policy.two_sided:
                done = self._run_two_sided()
            else:
                done = self._run_set_based()
        return Outcome(done=done, skipped=len(self.ids) - done)

    # ------------------------------------------------------------------
    def _run_set_based(self) -> int:
        if not self.pending:
            return 0
        target = next_status(ReviewStatus.pending, self.decision)
        now = datetime.datetime.now()
        result = db.session.execute(
            update(ReviewRequest)
            .where(ReviewRequest.id.in_(self.pending), ReviewRequest.status == ReviewStatus.pending)
            .values(status=target, reviewed_by_id=self.actor.id, reviewed_on=now,
                    reject_reason=self.reason if self.decision == Decision.reject else None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(self.pending):
            raise ServiceError(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
        write_transition_audit(self.pending, self.actor.id, self.decision, ReviewStatus.pending, target,
                               self.reason, now)
        self.policy.apply(self.decision, self.pending)
        return len(self.pending)

    def _run_two_sided(self) -> int:
        """Parent change: each side approves once; the move happens when both have."""
        from app.workflow.moves import move_subtree

        done = 0
        own_ids = None if self.scope.is_all else set(db.session.scalars(subtree_org_ids(self.scope)))
        now = datetime.datetime.now()
        for item in db.session.scalars(select(ReviewRequest).where(ReviewRequest.id.in_(self.pending))):
            covers_source = own_ids is None or (item.org_id in own_ids and item.org_id != self.scope.org_id)
            covers_target = own_ids is None or item.target_org_id in own_ids
            if self.decision == Decision.reject:
                _finish(item, ReviewStatus.rejected, self.actor.id, now, self.reason)
                done += 1
                continue
            recorded = False
            if covers_source and item.source_approved_by_id is None:
                item.source_approved_by_id = self.actor.id
                recorded = True
            if covers_target and item.target_approved_by_id is None:
                item.target_approved_by_id = self.actor.id
                recorded = True
            if not recorded:
                continue
            if item.source_approved_by_id and item.target_approved_by_id:
                move_subtree(item.subject_id, item.target_org_id)
                _finish(item, ReviewStatus.approved, self.actor.id, now, None)
            else:
                write_transition_audit([item.id], self.actor.id, self.decision, ReviewStatus.pending,
                                       ReviewStatus.pending, None, now, action="approve_one_side")
            done += 1
        return done


def _finish(item: ReviewRequest, status: ReviewStatus, actor_id: int, now, reason) -> None:
    decision = Decision.approve if status == ReviewStatus.approved else Decision.reject
    item.status = status
    item.reviewed_by_id = actor_id
    item.reviewed_on = now
    item.reject_reason = reason
    db.session.flush()
    write_transition_audit([item.id], actor_id, decision, ReviewStatus.pending, status, reason, now)


def write_transition_audit(request_ids: Iterable[int], actor_id: Optional[int], decision: Decision,
                           from_state: ReviewStatus, to_state: ReviewStatus, reason: Optional[str],
                           now: datetime.datetime, action: Optional[str] = None) -> None:
    """One audit row per request, in one INSERT ... SELECT."""
    ip = request.remote_addr if has_request_context() else None
    columns = ["actor_id", "action", "object_type", "object_id", "org_path", "before", "after",
               "comment", "from_state", "to_state", "ip", "created_on"]
    db.session.execute(
        insert(AuditLog).from_select(
            columns,
            select(
                literal(actor_id), literal(action or decision.value), literal("review_request"),
                ReviewRequest.id, Organisation.path, ReviewRequest.before, ReviewRequest.after,
                literal(reason), literal(from_state.value), literal(to_state.value), literal(ip),
                literal(now),
            )
            .join(Organisation, Organisation.id == ReviewRequest.org_id)
            .where(ReviewRequest.id.in_(list(request_ids))),
        )
    )


def decide(kind: ReviewKind, ids, actor: Account, decision: Decision, reason: Optional[str] = None) -> Outcome:
    """Approve or reject one item or a batch; raises ServiceError (bad input) or NotInScope (404)."""
    command = DecideCommand(kind=kind, ids=list(ids), actor=actor, decision=Decision(decision), reason=reason)
    command.validate()
    return command.run()
