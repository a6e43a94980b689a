"""Submitting, withdrawing and resubmitting requests: the submitter's side of the workflow."""
from __future__ import annotations

import datetime
import json
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ReviewKind, ReviewRequest, ReviewStatus
from app.services.transaction import ServiceError
from app.workflow.policies import policy_for
from app.workflow.service import write_transition_audit
from app.workflow.states import Decision, next_status


def _dumps(data: Optional[dict]) -> Optional[str]:
    return None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def ensure_no_pending(kind: ReviewKind, subject_id: int) -> None:
    """Clear message first; the partial unique index is the final guard."""
    exists = db.session.scalar(
        select(ReviewRequest.id).where(ReviewRequest.kind == kind, ReviewRequest.subject_id == subject_id,
                                       ReviewRequest.status == ReviewStatus.pending)
    )
    if exists is not None:
        raise ServiceError(_("There is already a pending request of this kind for it; wait for its review or withdraw it"))


def submit(kind: ReviewKind, *, subject_id: int, org_id: int, subject_name: str,
           subject_code: Optional[str] = None, submitted_by_id: Optional[int] = None,
           before: Optional[dict] = None, after: Optional[dict] = None,
           target_org_id: Optional[int] = None) -> ReviewRequest:
    """Add a pending request to the caller's transaction and audit it."""
    ensure_no_pending(kind, subject_id)
    now = datetime.datetime.now()
    item = ReviewRequest(
        kind=kind, subject_id=subject_id, org_id=org_id, subject_name=subject_name,
        subject_code=subject_code, submitted_by_id=submitted_by_id, submitted_on=now,
        before=_dumps(before), after=_dumps(after), target_org_id=target_org_id,
        status=ReviewStatus.pending,
    )
    db.session.add(item)
    db.session.flush()
    write_transition_audit([item.id], submitted_by_id, Decision.resubmit, ReviewStatus.pending,
                           ReviewStatus.pending, None, now, action="submit")
    return item


def _own_request(request_id: int, actor_id: int) -> ReviewRequest:
    item = db.session.get(ReviewRequest, request_id)
    if item is None or item.submitted_by_id != actor_id:
        raise LookupError(request_id)
    return item


def move_by_submitter(request_id: int, actor_id: int, decision: Decision,
                      after: Optional[dict] = None) -> ReviewRequest:
    """Withdraw (pending → withdrawn) or resubmit (rejected → pending) one's own request."""
    item = _own_request(request_id, actor_id)
    target = next_status(item.status, decision)
    if target is None:
        raise ServiceError(_("This request cannot be %(what)s in its current state",
                             what=_("withdrawn") if decision == Decision.withdraw else _("resubmitted")))
    if decision == Decision.resubmit:
        ensure_no_pending(item.kind, item.subject_id)
    before_state = item.status
    now = datetime.datetime.now()
    item.status = target
    if decision == Decision.resubmit:
        item.submitted_on = now
        item.reviewed_by_id = item.reviewed_on = None
        item.reject_reason = None
        if after is not None:
            item.after = _dumps(after)
    db.session.flush()
    write_transition_audit([item.id], actor_id, decision, before_state, target, None, now)
    policy_for(item.kind).apply(decision, [item.id])
    return item


def withdraw(request_id: int, actor_id: int) -> ReviewRequest:
    """The submitter takes back a pending request (raises LookupError for someone else's)."""
    from app.services.transaction import transaction

    with transaction():
        return move_by_submitter(request_id, actor_id, Decision.withdraw)
