"""人员调转 (manual 5.1.6): 人员调出 files a transfer, 人员调入审核 confirms it, 调转记录 keeps it.

The sending side (an admin of the person's employer or of a department above it) picks a person in its
scope and a receiving employer unit anywhere in the province; the receiving unit's admins, or a
department above it, confirm (the review kind ``transfer``). Confirming moves the persons through the
placement service in the decision's transaction; a person who meanwhile left the sending unit makes the
whole decision fail and nothing changes. One pending transfer per person (a partial unique index).
"""
from __future__ import annotations

import datetime
from typing import Any, Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.interface import parse_id
from app.models import (
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    PersonStatus,
    ReviewStatus,
    Transfer,
)
from app.scope import Scope, apply_scope, object_in_scope
from app.services.transaction import transaction
from app.workflow import submissions
from app.workflow.kinds import kind_for
from app.workflow.service import Outcome, decide
from app.workflow.states import Decision

KEY = "transfer"
#: organisations whose admins file transfers (调出): a unit for its own staff, a department for its subtree
SENDERS = {OrganisationType.province, OrganisationType.supervisory, OrganisationType.employer}
REASON_MAX = 500
#: how far from today an effective date may lie
EFFECTIVE_WINDOW = datetime.timedelta(days=366)


def _sender(actor: Actor) -> None:
    org = actor.organisation
    if actor.account is None or actor.scope.is_none or org is None or org.type not in SENDERS:
        raise NotAllowed(_("Only administrators of employer units and departments transfer personnel"))


def transferable_person(actor: Actor, person_id) -> Person:
    """A person of the actor's scope who may be transferred (active); NotFound outside the scope."""
    pk = parse_id(person_id)
    person = db.session.get(Person, pk) if pk is not None else None
    if person is None or not object_in_scope(person, actor.scope):
        raise NotFound()
    if person.status != PersonStatus.active:
        raise InvalidInput(_("Only registered, active personnel can be transferred"), field="person_id")
    return person


def person_card(actor: Actor, person_id) -> dict:
    """The person's data as 人员调出 fills it in (read-only): what the receiving side will see."""
    _sender(actor)
    person = transferable_person(actor, person_id)
    pending = pending_transfer(person.id)
    return {
        "id": person.id, "name": person.name, "id_number": person.id_number,
        "gender": str(person.gender.label) if person.gender else "",
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "education": str(person.education.label) if person.education else "",
        "employer": person.employer.name,
        "internal_department": person.internal_department.name if person.internal_department else "",
        "title_series": person.title_series.name if person.title_series else "",
        "title_level": person.title_level.name if person.title_level else "",
        "title_name": person.title_name or "",
        "pending": _("This person already has a transfer awaiting confirmation") if pending else "",
    }


def pending_transfer(person_id: int) -> Optional[int]:
    return db.session.scalar(select(Transfer.id).where(Transfer.person_id == person_id,
                                                       Transfer.status == ReviewStatus.pending).limit(1))


def receiving_unit(org_id) -> Organisation:
    """An approved employer unit (anywhere in the province) that may receive a person."""
    pk = parse_id(org_id)
    org = db.session.get(Organisation, pk) if pk is not None else None
    if org is None or org.type != OrganisationType.employer or org.status != OrganisationStatus.approved:
        raise InvalidInput(_("Please choose the receiving employer unit"), field="to_org_id")
    return org


def file_transfer(actor: Actor, *, person_id, to_org_id, reason, effective_date,
                  attach: Optional[Callable[[Any], None]] = None) -> Transfer:
    """人员调出: file a pending transfer of one person to another employer unit."""
    _sender(actor)
    person = transferable_person(actor, person_id)
    receiver = receiving_unit(to_org_id)
    if receiver.id == person.employer_id:
        raise InvalidInput(_("The person already works for this unit"), field="to_org_id")
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else None
    if not reason:
        raise InvalidInput(_("Please give the reason for the transfer"), field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("At most %(n)d characters", n=REASON_MAX), field="reason")
    if not isinstance(effective_date, datetime.date):
        raise InvalidInput(_("Please give the effective date"), field="effective_date")
    if abs(effective_date - datetime.date.today()) > EFFECTIVE_WINDOW:
        raise InvalidInput(_("The effective date must lie within a year from today"), field="effective_date")
    if pending_transfer(person.id) is not None:
        raise Conflict(_("This person already has a transfer awaiting confirmation; it must be confirmed, "
                         "rejected or withdrawn before another one"), field="person_id")
    with transaction():
        item = Transfer(
            person_id=person.id, from_org_id=person.employer_id, to_org_id=receiver.id, reason=reason,
            effective_date=effective_date, person_name=person.name, id_number=person.id_number,
            gender=person.gender, birth_date=person.birth_date, education=person.education,
            title_series_id=person.title_series_id, title_level_id=person.title_level_id,
            title_name=person.title_name,
        )
        submissions.submit(KEY, item, actor)
        if attach is not None:
            attach(item)
    return item


def withdraw(actor: Actor, transfer_id) -> Transfer:
    """The admin who filed a pending transfer takes it back."""
    return submissions.withdraw(KEY, transfer_id, actor)


def incoming(actor: Actor, transfer_id) -> Transfer:
    """A transfer the actor reviews on the receiving side (else NotFound)."""
    pk = parse_id(transfer_id)
    kind = kind_for(KEY)
    item = db.session.scalar(select(Transfer).where(Transfer.id == pk, kind.visible(actor.scope))) if pk else None
    if item is None:
        raise NotFound()
    return item


def receiving_departments(actor: Actor, transfer_id) -> list[tuple[int, str]]:
    """(id, name) of the internal departments of the unit an incoming transfer goes to."""
    item = incoming(actor, transfer_id)
    return [(d.id, d.name) for d in db.session.scalars(
        select(InternalDepartment).where(InternalDepartment.organisation_id == item.to_org_id)
        .order_by(InternalDepartment.name))]


def confirm(actor: Actor, transfer_id, department_id=None) -> Outcome:
    """确认调转 of one transfer, placing the person in an internal department of the receiving unit."""
    item = incoming(actor, transfer_id)
    with transaction():
        if department_id not in (None, ""):
            pk = parse_id(department_id)
            department = db.session.get(InternalDepartment, pk) if pk is not None else None
            if department is None or department.organisation_id != item.to_org_id:
                raise InvalidInput(_("Choose an internal department of the receiving unit"), field="department_id")
            if item.status == ReviewStatus.pending:
                item.to_department_id = department.id
                db.session.flush()
        return decide(KEY, [item.id], actor, Decision.approve)


def apply_transfers(ids: list[int]) -> None:
    """Effect of 确认调转 (set-based): every person still with the sending unit moves to the receiving one."""
    from app.services.placement import relocate_persons

    chosen = Transfer.id.in_(list(ids))
    left, closed = db.session.execute(
        select(func.count(case((or_(Person.employer_id != Transfer.from_org_id,
                                    Person.status != PersonStatus.active), 1))),
               func.count(case((Organisation.status != OrganisationStatus.approved, 1))))
        .select_from(Transfer).join(Person, Person.id == Transfer.person_id)
        .join(Organisation, Organisation.id == Transfer.to_org_id).where(chosen)
    ).one()
    if left:
        raise Conflict(_("Some of these persons no longer work for the unit they were transferred out of; "
                         "nothing was changed. Reject those transfers instead"))
    if closed:
        raise Conflict(_("A receiving unit is no longer approved; nothing was changed"))
    relocate_persons(select(Transfer.person_id.label("person_id"), Transfer.to_org_id.label("employer_id"),
                            Transfer.to_department_id.label("internal_department_id")).where(chosen))


def person_transfers(person_id: int, scope: Scope) -> list[Transfer]:
    """A person's transfers that the viewer's scope covers, newest first (the person's page shows them)."""
    query = select(Transfer).where(Transfer.person_id == person_id).order_by(Transfer.submitted_on.desc(),
                                                                             Transfer.id.desc())
    return list(db.session.scalars(apply_scope(query, Transfer, scope)))


def own_transfers(person_id: int) -> list[Transfer]:
    """The signed-in person's own transfers (个人中心), newest first."""
    return list(db.session.scalars(select(Transfer).where(Transfer.person_id == person_id)
                                   .order_by(Transfer.submitted_on.desc(), Transfer.id.desc())))


def direction_label(scope: Scope, from_path: str, to_path: str) -> str:
    """调入 / 调出 / 内部调转: how a transfer reads for a viewer of this scope."""
    from flask_babel import lazy_gettext as _l

    inside_from, inside_to = scope.covers_path(from_path), scope.covers_path(to_path)
    if inside_from and inside_to:
        return str(_l("Within scope"))
    return str(_l("Transferred in") if inside_to else _l("Transferred out"))
