"""The submitter's side of every review kind: submit, withdraw, resubmit after a rejection."""
from __future__ import annotations

import datetime
import json
from typing import Any, Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.interface import parse_id
from app.models import ReviewRequest, ReviewStatus
from app.services.transaction import transaction
from app.workflow.kinds import Kind, kind_for
from app.workflow.service import run_effects, write_transition_audit
from app.workflow.states import Decision, next_status


def _dumps(data: Optional[dict]) -> Optional[str]:
    return None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def ensure_no_pending(kind: Kind, item: Any) -> None:
    """A clear message first; a partial unique index on the table is the final guard."""
    if not kind.one_pending_per:
        return
    model = kind.model
    query = select(model.id).where(kind.own_rows(), model.status == ReviewStatus.pending,
                                   *(getattr(model, c) == getattr(item, c) for c in kind.one_pending_per))
    if item.id is not None:
        query = query.where(model.id != item.id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict(_("There is already a pending request of this kind for it; wait for its review or withdraw it"))


def submit(kind_key, item: Any, actor: Actor) -> Any:
    """Add a filled-in item as a pending submission to the caller's transaction, audited."""
    kind = kind_for(kind_key)
    ensure_no_pending(kind, item)
    now = datetime.datetime.now()
    item.status = ReviewStatus.pending
    item.submitted_by_id = actor.id
    item.submitted_on = now
    _clear_decision(kind, item)
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the caller's transaction() rolls back
        raise Conflict(_("There is already a pending request of this kind for it; wait for its review or withdraw it")) from exc
    write_transition_audit(kind, [item.id], actor, "submit", None, ReviewStatus.pending, None, now)
    return item


def submit_request(kind_key, actor: Actor, *, subject_id: int, org_id: int, subject_name: str,
                   subject_code: Optional[str] = None, before: Optional[dict] = None,
                   after: Optional[dict] = None, target_org_id: Optional[int] = None,
                   **columns) -> ReviewRequest:
    """Registrations and change requests: a row of review_request for one of its kinds."""
    kind = kind_for(kind_key)
    item = ReviewRequest(kind=kind.discriminator[1], subject_id=subject_id, org_id=org_id,
                         subject_name=subject_name, subject_code=subject_code, before=_dumps(before),
                         after=_dumps(after), target_org_id=target_org_id, **columns)
    return submit(kind, item, actor)


def _clear_decision(kind: Kind, item: Any) -> None:
    item.reviewed_by_id = None
    item.reviewed_on = None
    item.reject_reason = None
    for side in kind.sides:
        if side.approved_by_column:
            setattr(item, side.approved_by_column, None)


def own_submission(kind: Kind, item_id, actor: Actor) -> Any:
    """The actor's own submission of this kind, or NotFound (someone else's is never revealed)."""
    pk = parse_id(item_id)
    item = db.session.get(kind.model, pk) if pk is not None else None
    if item is None or actor.id is None or item.submitted_by_id != actor.id:
        raise NotFound()
    if kind.discriminator is not None:
        column, value = kind.discriminator
        if getattr(item, column) != value:
            raise NotFound()
    return item


def move_by_submitter(kind_key, item_id, actor: Actor, decision: Decision,
                      update: Optional[Callable[[Any], None]] = None) -> Any:
    """Withdraw (pending → withdrawn) or resubmit (rejected → pending, after ``update``) one's own item."""
    kind = kind_for(kind_key)
    item = own_submission(kind, item_id, actor)
    target = next_status(item.status, decision)
    if target is None or decision not in (Decision.withdraw, Decision.resubmit):
        raise InvalidInput(_("This request cannot be %(what)s in its current state",
                             what=_("withdrawn") if decision == Decision.withdraw else _("resubmitted")))
    with transaction():
        before_state = item.status
        now = datetime.datetime.now()
        if decision == Decision.resubmit:
            if update is not None:
                update(item)
            ensure_no_pending(kind, item)
            item.submitted_on = now
            _clear_decision(kind, item)
        item.status = target
        db.session.flush()
        write_transition_audit(kind, [item.id], actor, decision.value, before_state, target, None, now)
        run_effects(kind, decision, [item.id], actor, now)
    return item


def withdraw(kind_key, item_id, actor: Actor) -> Any:
    """The submitter takes back a pending item (NotFound for someone else's)."""
    return move_by_submitter(kind_key, item_id, actor, Decision.withdraw)


def request_kind(request_id) -> str:
    """The kind of a review_request row (registrations and changes share that table); NotFound if none."""
    pk = parse_id(request_id)
    kind = db.session.scalar(select(ReviewRequest.kind).where(ReviewRequest.id == pk)) if pk else None
    if kind is None:
        raise NotFound()
    return kind.value


def withdraw_request(request_id, actor: Actor) -> ReviewRequest:
    """Withdraw one's own registration or change request, whatever its kind."""
    return withdraw(request_kind(request_id), request_id, actor)
