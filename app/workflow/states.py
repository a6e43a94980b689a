"""The transition table: which decision moves a reviewable item from which state to which."""
from __future__ import annotations

import enum
from typing import Optional

from app.models import ReviewStatus


class Decision(str, enum.Enum):
    approve = "approve"
    reject = "reject"
    withdraw = "withdraw"
    resubmit = "resubmit"


#: (current state, decision) -> next state; anything else is not allowed
TRANSITIONS: dict[tuple[ReviewStatus, Decision], ReviewStatus] = {
    (ReviewStatus.pending, Decision.approve): ReviewStatus.approved,
    (ReviewStatus.pending, Decision.reject): ReviewStatus.rejected,
    (ReviewStatus.pending, Decision.withdraw): ReviewStatus.withdrawn,
    (ReviewStatus.rejected, Decision.resubmit): ReviewStatus.pending,
}


def next_status(current: ReviewStatus, decision: Decision) -> Optional[ReviewStatus]:
    """The state a decision leads to, or None when the decision does not apply."""
    return TRANSITIONS.get((current, decision))


def states_allowing(decision: Decision) -> list[ReviewStatus]:
    return [state for (state, d) in TRANSITIONS if d == decision]
