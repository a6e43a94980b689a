"""Per kind: who may review it and what each decision does (set-based where it can be)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Account,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    PersonStatus,
    ReviewKind,
    ReviewRequest,
)
from app.workflow.states import Decision

SUPERVISORS = frozenset({OrganisationType.province, OrganisationType.supervisory})


def _subjects(request_ids: Iterable[int]):
    return select(ReviewRequest.subject_id).where(ReviewRequest.id.in_(list(request_ids)))


@dataclass(frozen=True)
class ReviewPolicy:
    kind: ReviewKind
    #: permission area whose can_write lets an admin decide
    area: str
    #: endpoint of the review list (to-do links)
    endpoint: str
    reviewer_types: frozenset = SUPERVISORS
    #: effects per decision, each taking the list of request ids just moved
    effects: dict = field(default_factory=dict)
    #: two reviewing sides (old and new parent) must both approve
    two_sided: bool = False

    def apply(self, decision: Decision, request_ids: list[int]) -> None:
        effect: Callable | None = self.effects.get(decision)
        if effect is not None and request_ids:
            effect(request_ids)


# ----------------------------------------------------------------- effects: registrations
def _person_status(status: PersonStatus, activate: bool | None = None):
    def effect(request_ids):
        subjects = _subjects(request_ids)
        db.session.execute(update(Person).where(Person.id.in_(subjects)).values(status=status))
        if activate is not None:
            db.session.execute(
                update(Account)
                .where(Account.id.in_(select(Person.account_id).where(Person.id.in_(subjects))))
                .values(active=activate)
            )

    return effect


def _organisation_status(status: OrganisationStatus, activate: bool | None = None):
    def effect(request_ids):
        subjects = _subjects(request_ids)
        db.session.execute(update(Organisation).where(Organisation.id.in_(subjects)).values(status=status))
        if activate is not None:
            db.session.execute(
                update(Account).where(Account.organisation_id.in_(subjects)).values(active=activate)
            )

    return effect


# ----------------------------------------------------------------- effects: changes
#: fields a change request may touch, per kind
PERSON_CHANGE_FIELDS = ("title_series_id", "title_level_id", "title_name", "title_date")
ORGANISATION_CHANGE_FIELDS = ("name", "uscc", "region", "contact_person", "phone", "address")


def _apply_changes(model, fields):
    def effect(request_ids):
        import datetime

        rows = db.session.execute(
            select(ReviewRequest.subject_id, ReviewRequest.after).where(ReviewRequest.id.in_(request_ids))
        ).all()
        for subject_id, after in rows:
            obj = db.session.get(model, subject_id)
            for key, value in json.loads(after or "{}").items():
                if key not in fields:
                    continue
                if key.endswith("_date") and value:
                    value = datetime.date.fromisoformat(value)
                setattr(obj, key, value)

    return effect


POLICIES: dict[ReviewKind, ReviewPolicy] = {}


def register(policy: ReviewPolicy) -> None:
    POLICIES[policy.kind] = policy


def policy_for(kind: ReviewKind) -> ReviewPolicy:
    return POLICIES[kind]


def _registration(kind, endpoint, person=False, login_while_pending=False):
    if person:
        effects = {
            Decision.approve: _person_status(PersonStatus.active, activate=True),
            Decision.reject: _person_status(PersonStatus.rejected),
            Decision.withdraw: _person_status(PersonStatus.withdrawn),
            Decision.resubmit: _person_status(PersonStatus.pending),
        }
    else:
        effects = {
            Decision.approve: _organisation_status(OrganisationStatus.approved, activate=True),
            Decision.reject: _organisation_status(OrganisationStatus.rejected, activate=False),
            Decision.withdraw: _organisation_status(OrganisationStatus.withdrawn, activate=False),
            Decision.resubmit: _organisation_status(
                OrganisationStatus.pending, activate=True if login_while_pending else None),
        }
    return ReviewPolicy(kind=kind, area="RegistrationReview", endpoint=endpoint, effects=effects)


for _policy in (
    _registration(ReviewKind.person_registration, "PersonRegistrationReviewView.list", person=True),
    _registration(ReviewKind.unit_registration, "UnitRegistrationReviewView.list"),
    _registration(ReviewKind.base_registration, "BaseRegistrationReviewView.list"),
    # a department registrant may log in at once; rejection takes the login away again
    _registration(ReviewKind.supervisory_registration, "SupervisoryRegistrationReviewView.list",
                  login_while_pending=True),
    ReviewPolicy(
        kind=ReviewKind.person_change, area="ChangeReview", endpoint="PersonChangeReviewView.list",
        effects={Decision.approve: _apply_changes(Person, PERSON_CHANGE_FIELDS)},
    ),
    ReviewPolicy(
        kind=ReviewKind.organisation_change, area="ChangeReview",
        endpoint="OrganisationChangeReviewView.list",
        effects={Decision.approve: _apply_changes(Organisation, ORGANISATION_CHANGE_FIELDS)},
    ),
    ReviewPolicy(
        kind=ReviewKind.parent_change, area="ChangeReview", endpoint="ParentChangeReviewView.list",
        two_sided=True,
    ),
):
    register(_policy)
