"""Public registrations and change requests: they create a pending request for the workflow."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Account,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    PersonStatus,
    ReviewKind,
    UserType,
)
from app.roles import ROLE_FOR_USER_TYPE
from app.services.accounts import hash_password, new_account
from app.services.organisations import check_parent, check_uscc_free
from app.services.persons import fill_from_id_number
from app.services.transaction import ServiceError, transaction
from app.actor import Actor
from app.workflow.declarations.changes import ORGANISATION_CHANGE_FIELDS, PERSON_CHANGE_FIELDS
from app.workflow.states import Decision
from app.workflow.submissions import move_by_submitter, submit_request

ORG_KIND = {
    OrganisationType.employer: (ReviewKind.unit_registration, UserType.employer),
    OrganisationType.training_base: (ReviewKind.base_registration, UserType.training_base),
}


def _role(user_type: UserType) -> list[Role]:
    role = db.session.scalar(select(Role).where(Role.name == ROLE_FOR_USER_TYPE[user_type.value]))
    return [role] if role else []


def approved_organisation(org_id: Optional[int], types: set) -> Organisation:
    """An approved organisation of one of the types, picked from a list; anything else is refused."""
    from app.interface import parse_id

    pk = parse_id(org_id)
    org = db.session.get(Organisation, pk) if pk is not None else None
    if org is None or org.status != OrganisationStatus.approved or org.type not in types:
        raise ServiceError(_("Please choose an approved organisation from the list"))
    return org


def register_person(actor: Actor, *, id_number: str, name: str, phone: str, password: str, employer_id: int,
                    education=None, internal_department_id: Optional[int] = None,
                    title_series_id=None, title_level_id=None, title_name=None, title_date=None) -> Person:
    """专技人员注册: a pending person and an inactive login until the supervisory chain approves."""
    employer = approved_organisation(employer_id, {OrganisationType.employer})
    dept = None
    if internal_department_id:
        from app.interface import parse_id

        dept_pk = parse_id(internal_department_id)
        dept = db.session.get(InternalDepartment, dept_pk) if dept_pk is not None else None
        if dept is None or dept.organisation_id != employer.id:
            raise ServiceError(_("The internal department does not belong to the employer unit"))
    with transaction():
        person = db.session.scalar(select(Person).where(Person.id_number == id_number))
        if person is not None and person.status not in (PersonStatus.withdrawn,):
            raise ServiceError(_("A person with this ID number already exists"))
        if person is None:
            person = Person(id_number=id_number)
            db.session.add(person)
        person.name, person.phone, person.education = name, phone, education
        person.employer, person.internal_department = employer, dept
        person.title_series_id, person.title_level_id = title_series_id, title_level_id
        person.title_name, person.title_date = title_name, title_date
        person.status = PersonStatus.pending
        fill_from_id_number(person)
        account = db.session.scalar(select(Account).where(Account.username == id_number))
        if account is None:
            account = new_account(id_number=id_number, real_name=name, phone=phone, password=password,
                                  organisation=employer, user_type=UserType.personnel,
                                  roles=_role(UserType.personnel), active=False)
            db.session.add(account)
        elif account.user_type != UserType.personnel or account.active:
            raise ServiceError(_("An account with this ID number already exists"))
        else:
            account.password = hash_password(password)
            account.organisation = employer
        db.session.flush()
        person.account_id = account.id
        submit_request(ReviewKind.person_registration, Actor(account, actor.ip), subject_id=person.id,
                       org_id=employer.id, subject_name=name, subject_code=id_number)
    return person


def register_organisation(actor: Actor, *, org_type: OrganisationType, name: str, uscc: str, parent_id: int,
                          region=None, contact_person=None, phone=None, address=None,
                          admin_id_number: str, admin_name: str, admin_phone: str,
                          password: str) -> Organisation:
    """用人单位 / 继续教育基地注册: pending organisation, inactive super admin, a request to the department."""
    kind, user_type = ORG_KIND[org_type]
    parent = approved_organisation(parent_id, {OrganisationType.province, OrganisationType.supervisory})
    check_parent(org_type, parent)
    previous = _withdrawn_registration(uscc, admin_id_number)
    if previous is None:
        check_uscc_free(uscc)
    with transaction():
        if previous is not None:
            org, account = previous
            account.password = hash_password(password)
            account.real_name, account.phone = admin_name, admin_phone
        else:
            org = Organisation(type=org_type, uscc=uscc)
            db.session.add(org)
        org.type, org.name, org.region = org_type, name, region
        org.contact_person, org.phone, org.address = contact_person, phone, address
        org.status = OrganisationStatus.pending
        db.session.flush()
        org.place_under(parent)
        if previous is None:
            account = new_account(id_number=admin_id_number, real_name=admin_name, phone=admin_phone,
                                  password=password, organisation=org, user_type=user_type,
                                  roles=_role(user_type), is_super_admin=True, active=False)
            db.session.add(account)
            db.session.flush()
        submit_request(kind, Actor(account, actor.ip), subject_id=org.id, org_id=org.id, subject_name=name,
                       subject_code=uscc)
    return org


def _withdrawn_registration(uscc: str, admin_id_number: str):
    """A registration withdrawn by the same registrant may be made again (e.g. to the right department)."""
    org = db.session.scalar(select(Organisation).where(Organisation.uscc == uscc))
    if org is None or org.status != OrganisationStatus.withdrawn:
        return None
    admin = db.session.scalar(select(Account).where(Account.organisation_id == org.id,
                                                    Account.is_super_admin.is_(True)))
    if admin is None or admin.username != admin_id_number:
        return None
    return org, admin


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


def request_person_change(actor: Actor, person_id: int, changes: dict):
    """人员信息修改: the person proposes new title data; the chain reviews the fields that change."""
    person = db.session.get(Person, person_id)
    if person is None or person.status != PersonStatus.active:
        raise ServiceError(_("Only an active personnel record can ask for a change"))
    if person.account_id is None or person.account_id != actor.id:
        raise ServiceError(_("Only the person themselves can ask for this change"))
    if changes.get("title_date") and changes["title_date"] > datetime.date.today():
        raise ServiceError(_("The date obtained cannot be in the future"))
    after = {k: _plain(v) for k, v in changes.items() if k in PERSON_CHANGE_FIELDS}
    before = {k: _plain(getattr(person, k)) for k in after}
    after = {k: v for k, v in after.items() if v != before[k]}
    before = {k: before[k] for k in after}
    if not after:
        raise ServiceError(_("Nothing was changed"))
    with transaction():
        return submit_request(ReviewKind.person_change, actor, subject_id=person.id, org_id=person.employer_id,
                              subject_name=person.name, subject_code=person.id_number,
                              before=before, after=after)


def request_organisation_change(actor: Actor, org_id: int, changes: dict):
    """机构信息修改: an organisation proposes new basic information; its parent reviews it."""
    org = db.session.get(Organisation, org_id)
    after = {k: v for k, v in changes.items() if k in ORGANISATION_CHANGE_FIELDS}
    before = {k: getattr(org, k) for k in after}
    after = {k: v for k, v in after.items() if v != before[k]}
    before = {k: before[k] for k in after}
    if not after:
        raise ServiceError(_("Nothing was changed"))
    if "uscc" in after:
        check_uscc_free(after["uscc"], org.id)
    with transaction():
        return submit_request(ReviewKind.organisation_change, actor, subject_id=org.id, org_id=org.id,
                              subject_name=org.name, subject_code=org.uscc, before=before, after=after)


def request_parent_change(actor: Actor, org_id: int, new_parent_id: int):
    """更换上级部门: both the old and the new parent must approve before the department moves."""
    org = db.session.get(Organisation, org_id)
    if org is None or org.type != OrganisationType.supervisory or org.parent is None:
        raise ServiceError(_("Only a supervisory department can change its parent department"))
    new_parent = approved_organisation(new_parent_id, {OrganisationType.province, OrganisationType.supervisory})
    if new_parent.id == org.parent_id:
        raise ServiceError(_("This is already the parent department"))
    if new_parent.path.startswith(org.path):
        raise ServiceError(_("A department cannot be moved under itself or its own subordinates"))
    check_parent(org.type, new_parent)
    with transaction():
        return submit_request(ReviewKind.parent_change, actor, subject_id=org.id, org_id=org.id,
                              target_org_id=new_parent.id, subject_name=org.name, subject_code=org.uscc,
                              before={"parent_id": org.parent_id, "parent": org.parent.name},
                              after={"parent_id": new_parent.id, "parent": new_parent.name})


def resubmit_person_registration(actor: Actor, request_id: int, *, employer_id: int,
                                 internal_department_id=None, **values) -> None:
    """Correct a rejected 专技人员注册 and send it again, to the (possibly new) employer's chain."""
    from app.services.accounts import sync_account_names
    from app.services.persons import validate_person

    employer = approved_organisation(employer_id, {OrganisationType.employer})

    def correct(item):
        person = db.session.get(Person, item.subject_id)
        for key, value in values.items():
            setattr(person, key, value)
        person.employer = employer
        from app.interface import parse_id

        dept_pk = parse_id(internal_department_id) if internal_department_id else None
        person.internal_department = db.session.get(InternalDepartment, dept_pk) if dept_pk else None
        validate_person(person)
        if person.account is not None:
            person.account.real_name, person.account.phone = person.name, person.phone
            person.account.organisation = employer
            sync_account_names(person.account)
        item.org_id, item.subject_name = employer.id, person.name

    move_by_submitter(ReviewKind.person_registration, request_id, actor, Decision.resubmit, update=correct)


def resubmit_organisation_registration(actor: Actor, request_id: int, **values) -> None:
    """Correct a rejected unit / base / department registration and send it again."""
    from app.workflow.submissions import request_kind

    kind = request_kind(request_id)

    def correct(item):
        org = db.session.get(Organisation, item.subject_id)
        check_uscc_free(values.get("uscc"), org.id)
        for key, value in values.items():
            setattr(org, key, value)
        item.subject_name, item.subject_code = org.name, org.uscc

    move_by_submitter(kind, request_id, actor, Decision.resubmit, update=correct)
