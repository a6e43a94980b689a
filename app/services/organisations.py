"""Organisation rules: where each type may hang, paths, deletion, public registration."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import exists, select

from app.actor import Actor
from app.extensions import db
from app.models import (
    Account,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    UserType,
)
from app.services import audit
from app.services.transaction import ServiceError, transaction

#: which parent types each organisation type may hang under
ALLOWED_PARENTS = {
    OrganisationType.supervisory: {OrganisationType.province, OrganisationType.supervisory},
    OrganisationType.employer: {OrganisationType.province, OrganisationType.supervisory},
    OrganisationType.training_base: {OrganisationType.province, OrganisationType.supervisory},
    OrganisationType.province: set(),
}


def check_parent(org_type: OrganisationType, parent: Organisation | None) -> None:
    if parent is None or parent.type not in ALLOWED_PARENTS[org_type]:
        raise ServiceError(_("This type of organisation cannot be placed under the selected parent"))


def check_uscc_free(uscc: str | None, own_id: int | None = None) -> None:
    if not uscc:
        return
    query = select(Organisation.id).where(Organisation.uscc == uscc)
    if own_id is not None:
        query = query.where(Organisation.id != own_id)
    with db.session.no_autoflush:  # the row being checked may not be in the session yet
        taken = db.session.scalar(query) is not None
    if taken:
        raise ServiceError(_("This unified social credit code is already registered"))


def prepare_new_organisation(org: Organisation) -> None:
    """Admin-created organisation: validated, approved, flushed and placed in the tree."""
    check_parent(org.type, org.parent)
    check_uscc_free(org.uscc)
    org.status = OrganisationStatus.approved
    db.session.add(org)
    db.session.flush()
    org.place_under(org.parent)


def validate_update(actor: Actor, org: Organisation) -> None:
    """A generic edit (page or REST) of an organisation's basic fields: the credit code stays unique.

    Status, parent, type and path are not editable there at all (app/write_rules.py)."""
    check_uscc_free(org.uscc, org.id)


def ensure_deletable(org: Organisation, actor: Actor | None = None) -> None:
    """Only an empty organisation is deleted, and never the actor's own (nor the province)."""
    if org.type == OrganisationType.province or (
            actor is not None and actor.account is not None and org.id == actor.account.organisation_id):
        raise ServiceError(_("You cannot delete your own organisation"))
    blockers = [
        (Organisation.parent_id == org.id, Organisation),
        (Person.employer_id == org.id, Person),
        (Account.organisation_id == org.id, Account),
        (InternalDepartment.organisation_id == org.id, InternalDepartment),
    ]
    for condition, model in blockers:
        if db.session.scalar(select(exists().where(condition))):
            raise ServiceError(
                _("This organisation still has subordinate organisations, personnel, accounts or departments and cannot be deleted")
            )


def ensure_department_empty(dept: InternalDepartment) -> None:
    used = db.session.scalar(
        select(exists().where(Person.internal_department_id == dept.id))
    ) or db.session.scalar(select(exists().where(Account.internal_department_id == dept.id)))
    if used:
        raise ServiceError(_("This department still has people in it and cannot be deleted"))


def register_supervisory(actor: Actor, *, name, uscc, parent_id, region, contact_person, phone, address,
                         admin_id_number, admin_name, admin_phone, password) -> Organisation:
    """主管部门注册 (manual 1): pending department, its registrant as super admin who may log in."""
    from app.roles import ROLE_FOR_USER_TYPE
    from app.services.accounts import new_account
    from flask_appbuilder.security.sqla.models import Role

    from app.interface import parse_id

    parent_pk = parse_id(parent_id)
    parent = db.session.get(Organisation, parent_pk) if parent_pk is not None else None
    if parent is None or parent.status != OrganisationStatus.approved:
        raise ServiceError(_("Please choose an approved parent department"))
    check_parent(OrganisationType.supervisory, parent)
    check_uscc_free(uscc)
    with transaction():
        org = Organisation(
            type=OrganisationType.supervisory, name=name, uscc=uscc, region=region,
            contact_person=contact_person, phone=phone, address=address,
            status=OrganisationStatus.pending,
        )
        db.session.add(org)
        db.session.flush()
        org.place_under(parent)
        role = db.session.scalar(select(Role).where(Role.name == ROLE_FOR_USER_TYPE["supervisory"]))
        account = new_account(
            id_number=admin_id_number, real_name=admin_name, phone=admin_phone, password=password,
            organisation=org, user_type=UserType.supervisory, roles=[role] if role else [],
            is_super_admin=True,
        )
        db.session.add(account)
        db.session.flush()
        from app.models import ReviewKind
        from app.workflow.submissions import submit_request

        submit_request(ReviewKind.supervisory_registration, Actor(account, actor.ip), subject_id=org.id,
                       org_id=org.id, subject_name=org.name, subject_code=org.uscc)
    return org


def set_status(actor: Actor, org_ids: list[int], status: OrganisationStatus) -> tuple[int, int]:
    """Enable or disable organisations in scope (the caller loaded them through the scope)."""
    scope = actor.scope
    if scope.org_id in org_ids:
        raise ServiceError(_("You cannot change the status of your own organisation"))
    done = skipped = 0
    with transaction():
        for org in db.session.query(Organisation).filter(Organisation.id.in_(org_ids)):
            if org.status == status or org.status not in (OrganisationStatus.approved, OrganisationStatus.disabled):
                skipped += 1
                continue
            before = {"status": org.status.value}
            org.status = status
            audit.record("set_status", org, before=before, after={"status": status.value}, actor=actor)
            done += 1
    return done, skipped
