"""The one decision function: one item or a batch, approve or reject, for every review kind.

Validation first (decision, reason, permission, organisation type, scope of every id on the kind's
sides, separation of duties), then one transaction: a guarded set-based UPDATE of the items, one
INSERT ... SELECT of the audit rows, and the kind's effects. Any failure rolls the whole batch back.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, and_, insert, literal, null, select, update

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.interface import parse_id
from app.logs import current_request_id
from app.models import AuditLog, Organisation, ReviewStatus
from app.scope import subtree_org_ids
from app.services.transaction import ServiceError, transaction
from app.sql_ids import ids_in, is_postgresql
from app.workflow.kinds import Kind, kind_for
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


def resolve_kind(key) -> Kind:
    """The kind of a key; an unknown key is a 404 like an unknown page."""
    try:
        return kind_for(key)
    except KeyError:
        raise NotInScope() from None


def may_review(actor: Actor, kind: Kind) -> bool:
    """Permission on the kind's area and an organisation of a reviewing type."""
    if actor.account is None or actor.scope.is_none:
        return False
    if actor.organisation is None or actor.organisation.type not in kind.reviewer_org_types:
        return False
    perms = current_app.appbuilder.sm._permission_set(actor.account)
    return ("can_write", kind.area) in perms


def _subject_column(kind: Kind):
    return (kind.subject_account() if kind.subject_account is not None else null()).label("subject_account")


@dataclass
class DecideCommand:
    kind: Kind
    ids: list
    actor: Actor
    decision: Decision
    reason: Optional[str] = None
    #: a filter-wide decision's chunk may be larger (internal callers only; requests keep MAX_BATCH)
    max_batch: int = MAX_BATCH

    def validate(self) -> None:
        if self.decision not in (Decision.approve, Decision.reject):
            raise ServiceError(_("Unknown decision"))
        if self.reason is not None and not isinstance(self.reason, str):
            raise ServiceError(_("The reason must be text"))
        self.reason = (self.reason or "").strip() or None
        if self.decision == Decision.reject and not self.reason:
            raise ServiceError(_("A reason is required to reject"), field="reason")
        if self.reason and len(self.reason) > REASON_MAX:
            raise ServiceError(_("The reason is too long (at most %(n)d characters)", n=REASON_MAX),
                               field="reason")
        parsed = {parse_id(i) for i in self.ids}
        if None in parsed:
            raise NotInScope()
        self.ids = sorted(parsed)
        if not self.ids:
            raise ServiceError(_("No row selected"))
        if len(self.ids) > self.max_batch:
            raise ServiceError(_("At most %(n)d items per batch", n=self.max_batch))
        if not may_review(self.actor, self.kind):
            raise NotInScope()
        self.scope = self.actor.scope
        kind, model = self.kind, self.kind.model
        columns = [model.id, model.status, model.submitted_by_id, _subject_column(kind)]
        columns += [getattr(model, side.org_column).label(f"org_{side.name}") for side in kind.sides]
        if kind.two_sided:
            columns += [getattr(model, side.approved_by_column).label(f"by_{side.name}") for side in kind.sides]
        rows = db.session.execute(
            select(*columns).where(ids_in(model.id, self.ids), kind.visible(self.scope))
        ).all()
        if len(rows) != len(self.ids):
            raise NotInScope()
        me = self.actor.id
        if any(r.submitted_by_id == me or r.subject_account == me for r in rows):
            raise NotAllowed(_("Nobody may decide a request they submitted or one about themselves"))
        pending = [r for r in rows if r.status == ReviewStatus.pending]
        self.pending = [r.id for r in pending]
        self.sides_for = self._assign_sides(pending) if kind.two_sided else {}

    def _assign_sides(self, rows) -> dict:
        """Which side each item's approval fills: a side the actor covers, never a second one."""
        scope, me = self.scope, self.actor.id
        own_ids = None if scope.is_all else set(db.session.scalars(subtree_org_ids(scope)))
        own_org = self.actor.organisation.id
        assigned = {}
        for row in rows:
            filled = {side.name: getattr(row, f"by_{side.name}") for side in self.kind.sides}
            if me in filled.values():
                continue
            open_sides = [side for side in self.kind.sides
                          if side.covers(getattr(row, f"org_{side.name}"), scope, own_ids)
                          and (filled[side.name] is None or self.decision == Decision.reject)]
            if not open_sides:
                continue
            own = [side for side in open_sides if getattr(row, f"org_{side.name}") == own_org]
            assigned[row.id] = (own or open_sides)[0]
        return assigned

    def run(self) -> Outcome:
        with transaction():
            if self.kind.two_sided and self.decision == Decision.approve:
                done = self._approve_sides()
            else:
                ids = list(self.sides_for) if self.kind.two_sided else self.pending
                done = self._finish(ids, self.decision)
        _decisions_changed()
        return Outcome(done=done, skipped=len(self.ids) - done)

    # ------------------------------------------------------------------
    def _finish(self, ids: list[int], decision: Decision) -> int:
        """pending → approved / rejected for these ids, guarded, audited, with the kind's effects."""
        if not ids:
            return 0
        kind, model = self.kind, self.kind.model
        target = next_status(ReviewStatus.pending, decision)
        now = datetime.datetime.now()
        result = db.session.execute(
            update(model)
            .where(ids_in(model.id, ids), model.status == ReviewStatus.pending)
            .values(status=target, reviewed_by_id=self.actor.id, reviewed_on=now,
                    reject_reason=self.reason if decision == Decision.reject else None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(ids):
            raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
        write_transition_audit(kind, ids, self.actor, decision.value, ReviewStatus.pending, target,
                               self.reason, now)
        run_effects(kind, decision, ids, self.actor, now)
        return len(ids)

    def _approve_sides(self) -> int:
        """Each side approves once, by different admins; the item is approved when every side has."""
        kind, model = self.kind, self.kind.model
        by_side = defaultdict(list)
        for item_id, side in self.sides_for.items():
            by_side[side].append(item_id)
        now = datetime.datetime.now()
        for side, ids in by_side.items():
            column = getattr(model, side.approved_by_column)
            result = db.session.execute(
                update(model)
                .where(model.id.in_(ids), model.status == ReviewStatus.pending, column.is_(None))
                .values({side.approved_by_column: self.actor.id})
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != len(ids):
                raise Conflict(_("Some items were decided by someone else meanwhile; nothing was changed, please retry"))
        touched = list(self.sides_for)
        complete = set(db.session.scalars(
            select(model.id).where(model.id.in_(touched),
                                   and_(*(getattr(model, s.approved_by_column).isnot(None) for s in kind.sides)))
        ))
        for side, ids in by_side.items():
            partial = [i for i in ids if i not in complete]
            if partial:
                write_transition_audit(kind, partial, self.actor, "approve_one_side", ReviewStatus.pending,
                                       ReviewStatus.pending, None, now, comment=str(side.label or side.name))
        self._finish(sorted(complete), Decision.approve)
        return len(touched)


def run_effects(kind: Kind, decision: Decision, ids: list[int], actor: Actor, now: datetime.datetime) -> None:
    effect = kind.effects.get(decision)
    if effect is not None and ids:
        effect(ids, actor, now)


def write_transition_audit(kind: Kind, ids: Iterable[int], actor: Actor, action: str,
                           from_state: Optional[ReviewStatus], to_state: ReviewStatus,
                           reason: Optional[str], now: datetime.datetime, comment: Optional[str] = None) -> None:
    """One audit row per item, in one INSERT ... SELECT (before/after copied where the table has them)."""
    model = kind.model
    columns = ["actor_id", "action", "object_type", "object_id", "org_path", "before", "after",
               "comment", "from_state", "to_state", "ip", "created_on", "request_id"]
    before = model.before if hasattr(model, "before") else null()
    after = model.after if hasattr(model, "after") else null()
    ids = list(ids)
    chunk = len(ids) if is_postgresql() else MAX_BATCH
    for start in range(0, len(ids), max(chunk, 1)):
        db.session.execute(
            insert(AuditLog).from_select(
                columns,
                select(
                    literal(actor.id), literal(action), literal(kind.object_type), model.id, Organisation.path,
                    before, after, literal(comment if comment is not None else reason, String),
                    literal(from_state.value if from_state is not None else None, String),
                    literal(to_state.value), literal(actor.ip, String), literal(now),
                    literal(current_request_id(), String),
                )
                .join(Organisation, Organisation.id == getattr(model, kind.org_column))
                .where(ids_in(model.id, ids[start:start + chunk])),
            )
        )


def _decisions_changed() -> None:
    """Counts shown on dashboards are stale after a decision: drop the cached figures."""
    from app.services.dashboard import invalidate_counts

    invalidate_counts()


def decide(kind, ids, actor: Actor, decision, reason: Optional[str] = None, max_batch: int = MAX_BATCH) -> Outcome:
    """Approve or reject one item or a batch; raises InvalidInput, NotAllowed (403) or NotInScope (404)."""
    try:
        decision = Decision(decision)
    except ValueError:
        raise InvalidInput(_("Unknown decision")) from None
    if not isinstance(ids, (list, tuple, set)):
        raise InvalidInput(_("ids must be a list of request ids"))
    command = DecideCommand(kind=resolve_kind(kind), ids=list(ids), actor=actor, decision=decision,
                            reason=reason, max_batch=max(MAX_BATCH, int(max_batch)))
    command.validate()
    return command.run()
