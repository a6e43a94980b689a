"""注册审核管理 (manual 5.1.3): registrations of persons, units, training bases and departments."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Account,
    Organisation,
    OrganisationStatus,
    Person,
    PersonStatus,
    ReviewKind,
    ReviewRequest,
)
from app.workflow.declarations import common
from app.workflow.kinds import Kind, Menu, declare
from app.workflow.states import Decision

CATEGORY = "Registration review"
AREA = "RegistrationReview"


def _subjects(ids):
    return select(ReviewRequest.subject_id).where(ReviewRequest.id.in_(list(ids)))


def person_status(status: PersonStatus, activate: bool | None = None):
    """Effect: the registered persons get a status (and their login is enabled or not)."""
    def effect(ids, actor, now):
        subjects = _subjects(ids)
        db.session.execute(update(Person).where(Person.id.in_(subjects)).values(status=status)
                           .execution_options(synchronize_session=False))
        if activate is not None:
            db.session.execute(
                update(Account)
                .where(Account.id.in_(select(Person.account_id).where(Person.id.in_(subjects))))
                .values(active=activate).execution_options(synchronize_session=False)
            )

    return effect


def organisation_status(status: OrganisationStatus, activate: bool | None = None):
    """Effect: the registered organisations get a status (and their admins are enabled or not)."""
    def effect(ids, actor, now):
        subjects = _subjects(ids)
        db.session.execute(update(Organisation).where(Organisation.id.in_(subjects)).values(status=status)
                           .execution_options(synchronize_session=False))
        if activate is not None:
            db.session.execute(update(Account).where(Account.organisation_id.in_(subjects))
                               .values(active=activate).execution_options(synchronize_session=False))

    return effect


def _registration(kind: ReviewKind, label, menu_name, icon, *, person=False, login_while_pending=False):
    if person:
        effects = {
            Decision.approve: person_status(PersonStatus.active, activate=True),
            Decision.reject: person_status(PersonStatus.rejected),
            Decision.withdraw: person_status(PersonStatus.withdrawn),
            Decision.resubmit: person_status(PersonStatus.pending),
        }
    else:
        effects = {
            Decision.approve: organisation_status(OrganisationStatus.approved, activate=True),
            Decision.reject: organisation_status(OrganisationStatus.rejected, activate=False),
            Decision.withdraw: organisation_status(OrganisationStatus.withdrawn, activate=False),
            Decision.resubmit: organisation_status(
                OrganisationStatus.pending, activate=True if login_while_pending else None),
        }
    return declare(Kind(
        key=kind.value, model=ReviewRequest, label=label, area=AREA,
        menu=Menu(CATEGORY, menu_name, icon), discriminator=("kind", kind), effects=effects,
        subject_account=common.person_account if person else None,
        list_columns=common.LIST_COLUMNS if person else common.ORG_LIST_COLUMNS,
        show_columns=common.SHOW_COLUMNS, search_columns=common.SEARCH_COLUMNS,
        order_columns=common.ORDER_COLUMNS,
        label_columns=common.PERSON_LABELS if person else common.REQUEST_LABELS,
        detail=common.person_detail if person else common.organisation_detail,
        one_pending_per=("kind", "subject_id"), describe=common.describe,
        audit_object_type="review_request", audit_label=_l("Review request"), files=(),
    ))


PERSON = _registration(ReviewKind.person_registration, _l("Personnel registration review"),
                       "Personnel registration review", "fa-user-plus", person=True)
UNIT = _registration(ReviewKind.unit_registration, _l("Unit registration review"),
                     "Unit registration review", "fa-building")
BASE = _registration(ReviewKind.base_registration, _l("Training base registration review"),
                     "Training base registration review", "fa-graduation-cap")
#: a department registrant may log in at once; rejection takes the login away again
SUPERVISORY = _registration(ReviewKind.supervisory_registration, _l("Department registration review"),
                            "Department registration review", "fa-sitemap", login_while_pending=True)
