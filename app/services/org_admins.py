"""本级机构管理 and 下属机构管理: basic information, administrators, subordinate admins.

Every operation is validate-then-run: ``validate_*`` checks the rules and raises before anything
changes; the operation itself runs in one ``transaction()`` that writes an audit row with the
before/after values. Refusals:

* ``NotFound``   — the id is unknown or outside what the actor may touch (the view answers 404);
* ``NotAllowed`` — the actor may see it but not do it, e.g. only the super admin appoints (403);
* ``ServiceError`` — bad input, shown next to the form (nothing changed).
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Optional

from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import gettext as _
from sqlalchemy import and_, exists, not_, or_, select

from app import errors
from app.actor import Actor
from app.extensions import db
from app.interface import parse_id
from app.models import (
    Account,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    PersonStatus,
    UserType,
)
from app.roles import PROVINCE, ROLE_FOR_USER_TYPE
from app.interface import parse_id
from app.scope import apply_scope
from app.services import audit
from app.services.accounts import new_account, reset_password
from app.services.custom_roles import display_name, grantable_role_condition
from app.services.transaction import ServiceError, transaction
from app.validators import validate_id_number

__all__ = [
    "NotAllowed", "NotFound", "ServiceError", "ADMIN_TYPES", "SUBORDINATE_TYPES",
    "is_admin", "admin_condition", "admins_of", "candidates", "require_super_admin",
    "find_user", "appoint_member", "appoint_existing_user", "register_admin", "candidate_label", "role_choices",
    "set_roles", "set_super_admin", "remove_admin", "subordinate_admin", "set_active", "reset_admin_password",
    "generate_password", "update_own_organisation", "may_change_parent",
]

#: user types of administrator accounts
ADMIN_TYPES = (UserType.supervisory, UserType.employer, UserType.training_base)
#: organisation types listed under 下属机构管理
SUBORDINATE_TYPES = (OrganisationType.employer, OrganisationType.training_base)
#: organisations below the actor whose admins the actor may disable or give a one-time password:
#: units and bases (下属机构管理) and subordinate departments (their admins have nobody else to turn to)
SUBORDINATE_ADMIN_TYPES = SUBORDINATE_TYPES + (OrganisationType.supervisory,)
#: how long a generated password is
GENERATED_PASSWORD_LENGTH = 10
#: most candidates a search-as-you-type list returns
CANDIDATE_LIMIT = 20


#: unknown, or outside what the actor may act on (404); the actor may not do this (403)
NotFound, NotAllowed = errors.NotFound, errors.NotAllowed


# ------------------------------------------------------------------ who is an admin
def admin_condition():
    """SQL: an account administers its organisation (admin user type and at least one role)."""
    has_role = exists().where(assoc_user_role.c.user_id == Account.id)
    return and_(Account.user_type.in_(ADMIN_TYPES), has_role)


def is_admin(account: Account) -> bool:
    return account.user_type in ADMIN_TYPES and bool(account.roles)


def admins_of(org_id: int):
    """Select of the organisation's admins, super admin first."""
    return (
        select(Account)
        .where(Account.organisation_id == org_id, admin_condition())
        .order_by(Account.is_super_admin.desc(), Account.id)
    )


def admin_user_type(org: Organisation) -> UserType:
    return {
        OrganisationType.province: UserType.supervisory,
        OrganisationType.supervisory: UserType.supervisory,
        OrganisationType.employer: UserType.employer,
        OrganisationType.training_base: UserType.training_base,
    }[org.type]


def template_role(org: Organisation) -> Role:
    """The template role of the organisation's admin user type (the province keeps its own)."""
    name = PROVINCE if org.type == OrganisationType.province else ROLE_FOR_USER_TYPE[admin_user_type(org).value]
    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:  # pragma: no cover - sync-roles creates every template
        raise ServiceError(_("The role template is missing; run sync-roles"))
    return role


def _personnel_role() -> Optional[Role]:
    return db.session.scalar(select(Role).where(Role.name == ROLE_FOR_USER_TYPE["personnel"]))


def _linked_person(account: Account) -> Optional[Person]:
    return db.session.scalar(select(Person).where(Person.account_id == account.id))


def _state(account: Account) -> dict:
    """What the audit log keeps of an account's admin standing."""
    return {
        "organisation_id": account.organisation_id if account.organisation is None else account.organisation.id,
        "user_type": account.user_type.value if account.user_type else None,
        "internal_department_id": account.internal_department.id if account.internal_department else None,
        "is_super_admin": bool(account.is_super_admin),
        "active": bool(account.active),
        "roles": sorted(display_name(r) for r in account.roles),
    }


# ------------------------------------------------------------------ the acting admin
def _own_org(actor: Actor) -> Organisation:
    account = actor.account if actor is not None else None
    org = account.organisation if account is not None else None
    if org is None or account.user_type not in ADMIN_TYPES:
        raise NotFound()
    if org.status != OrganisationStatus.approved:
        raise NotAllowed(_("Your organisation has not been approved yet"))
    return org


def require_super_admin(actor: Actor) -> Organisation:
    """Only the organisation's super admin appoints or removes admins."""
    org = _own_org(actor)
    if not actor.account.is_super_admin:
        raise NotAllowed(_("Only the super admin of your organisation may appoint or remove administrators"))
    return org


def _own_admin(org: Organisation, account_id) -> Account:
    """An admin of the organisation, or NotFound."""
    pk = parse_id(account_id)
    if pk is None:
        raise NotFound()
    account = db.session.scalar(
        select(Account).where(Account.id == pk, Account.organisation_id == org.id, admin_condition())
    )
    if account is None:
        raise NotFound()
    return account


def _department(org: Organisation, department_id) -> Optional[InternalDepartment]:
    if department_id in (None, "", 0):
        return None
    pk = parse_id(department_id)
    if pk is None:
        raise ServiceError(_("Please choose an internal department of your organisation"))
    dept = db.session.get(InternalDepartment, pk)
    if dept is None or dept.organisation_id != org.id:
        raise NotFound()
    return dept


# ------------------------------------------------------------------ (a) 本部门人员
def _candidate_condition(org: Organisation):
    """Accounts that could become admins here: logins of approved personnel employed in the
    organisation or in the units below it (a department employs nobody itself), and the
    organisation's former admins whose rights were removed."""
    subtree_person = select(Person.account_id).where(
        Person.account_id.is_not(None), Person.status == PersonStatus.active,
        Person.org_path.startswith(org.path, autoescape=True))
    return and_(
        not_(admin_condition()),
        or_(and_(Account.organisation_id == org.id, Account.user_type.in_(ADMIN_TYPES)),
            and_(Account.user_type == UserType.personnel, Account.id.in_(subtree_person))),
    )


def candidates(actor: Actor, term: str = "", limit: int = CANDIDATE_LIMIT) -> list[tuple[int, str]]:
    """(id, label) of people who could become admins here, by name or ID-number prefix (indexed)."""
    org = require_super_admin(actor)
    query = select(Account).where(_candidate_condition(org))
    term = (term or "").strip()
    if term:
        column = Account.username if term[:1].isdigit() else Account.real_name
        query = query.where(column.startswith(term.upper() if column is Account.username else term,
                                              autoescape=True))
    query = query.order_by(Account.real_name, Account.id).limit(limit)
    return [(a.id, f"{a.real_name or ''}（{a.username}）") for a in db.session.scalars(query)]


def candidate_label(actor: Actor, account_id) -> str:
    """How a chosen candidate reads in the picker again after a refused submission ("" if not one)."""
    org = require_super_admin(actor)
    pk = parse_id(account_id)
    if pk is None:
        return ""
    account = db.session.scalar(select(Account).where(Account.id == pk, _candidate_condition(org)))
    return f"{account.real_name or ''}（{account.username}）" if account is not None else ""


# ------------------------------------------------------------------ which roles an admin holds
def role_choices(actor: Actor) -> list[Role]:
    """Roles a new or existing admin of the organisation may be given: the organisation's full
    administrator role and its own custom roles that grant nothing beyond the actor's powers."""
    org = require_super_admin(actor)
    full = template_role(org)
    custom = db.session.scalars(
        select(Role).where(Role.__table__.c.organisation_id == org.id,
                           grantable_role_condition(actor.account))
        .order_by(Role.id)).all()
    return [full, *custom]


def _chosen_roles(actor: Actor, role_ids) -> list[Role]:
    """The chosen roles, each one offered; at least one (an admin without a role is no admin)."""
    offered = {role.id: role for role in role_choices(actor)}
    wanted = [parse_id(pk) for pk in (role_ids or [])]
    if not wanted:
        raise ServiceError(_("Choose at least one role"), field="roles")
    if any(pk not in offered for pk in wanted):
        raise ServiceError(_("Not a valid choice"), field="roles")
    return [offered[pk] for pk in sorted(set(wanted))]


def _with_personnel_role(account: Account, roles: list[Role]) -> list[Role]:
    """A person's own login keeps its personnel role next to the admin roles."""
    if _linked_person(account) is not None:
        personnel = _personnel_role()
        if personnel is not None and personnel not in roles:
            return [*roles, personnel]
    return roles


def set_roles(actor: Actor, account_id, role_ids) -> Account:
    """设置角色: an admin holds exactly the chosen roles (the full role, custom ones, or both)."""
    org = _own_org(actor)
    target = _own_admin(org, account_id)
    require_super_admin(actor)
    if target.is_super_admin:
        raise NotAllowed(_("The super admin always holds every permission of the organisation"))
    roles = _with_personnel_role(target, _chosen_roles(actor, role_ids))
    with transaction():
        before = _state(target)
        target.roles = roles
        db.session.flush()
        audit.record("set_roles", target, object_type="account", before={"roles": before["roles"]},
                     after={"roles": _state(target)["roles"]}, actor=actor)
    return target


@dataclass
class Appointment:
    org: Organisation
    account: Account
    department: Optional[InternalDepartment]
    roles: list


def _default_roles(actor: Actor, role_ids) -> list[Role]:
    """No choice made (older clients, the API): the organisation's full administrator role."""
    if role_ids is None:
        return [template_role(require_super_admin(actor))]
    return _chosen_roles(actor, role_ids)


def validate_member(actor: Actor, account_id, department_id, role_ids=None) -> Appointment:
    org = require_super_admin(actor)
    pk = parse_id(account_id)
    if pk is None:
        raise ServiceError(_("Please choose a person from the list"), field="account_id")
    account = db.session.scalar(select(Account).where(Account.id == pk, _candidate_condition(org)))
    if account is None:
        raise NotFound()
    return Appointment(org, account, _department(org, department_id), _default_roles(actor, role_ids))


def appoint_member(actor: Actor, account_id, department_id=None, role_ids=None) -> Account:
    """(a) 选择成为管理员: a person of the own organisation (or a unit below it) becomes an admin."""
    plan = validate_member(actor, account_id, department_id, role_ids)
    return _appoint(actor, plan, "appoint_admin")


# ------------------------------------------------------------------ (c) 已是本系统用户
def _normalised_id_number(id_number: str) -> str:
    try:
        return validate_id_number(id_number)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


def _check_appointable(org: Organisation, account: Account) -> None:
    if is_admin(account):
        if account.organisation_id == org.id:
            raise ServiceError(_("This user is already an administrator of your organisation"))
        raise ServiceError(_("This user is already an administrator of another organisation"))
    person = _linked_person(account)
    if account.user_type == UserType.personnel and (person is None or person.status != PersonStatus.active):
        raise ServiceError(_("This user's registration has not been approved"))


def find_user(actor: Actor, id_number: str) -> Account:
    """(c) step 2: the registered user with exactly this ID number, if they may become an admin here."""
    org = require_super_admin(actor)
    number = _normalised_id_number(id_number)
    # only users within the actor's own subtree: an account elsewhere answers exactly like an unknown
    # number, and nothing about it (name, organisation, admin standing) is shown or changed
    account = db.session.scalar(apply_scope(select(Account).where(Account.username == number), Account,
                                            actor.scope))
    if account is None:
        raise ServiceError(_("No user with this ID number was found in your organisation or the "
                             "organisations below it; to add someone new, use \"register as administrator\""))
    _check_appointable(org, account)
    return account


def validate_existing_user(actor: Actor, id_number: str, department_id, role_ids=None) -> Appointment:
    org = require_super_admin(actor)
    account = find_user(actor, id_number)
    return Appointment(org, account, _department(org, department_id), _default_roles(actor, role_ids))


def appoint_existing_user(actor: Actor, id_number: str, department_id=None, role_ids=None) -> Account:
    """(c) 添加成为管理员: a user already in the system, found by exact ID number."""
    plan = validate_existing_user(actor, id_number, department_id, role_ids)
    return _appoint(actor, plan, "appoint_admin")


def _appoint(actor: Actor, plan: Appointment, action: str) -> Account:
    account, org = plan.account, plan.org
    with transaction():
        before = _state(account)
        roles = _with_personnel_role(account, list(plan.roles))
        account.organisation = org
        account.user_type = admin_user_type(org)
        account.internal_department = plan.department
        account.roles = roles
        account.is_super_admin = False
        account.active = True
        db.session.flush()
        audit.record(action, account, object_type="account", before=before, after=_state(account),
                     actor=actor)
    return account


# ------------------------------------------------------------------ (b) 非本系统用户
@dataclass
class Registration:
    org: Organisation
    id_number: str
    real_name: str
    phone: Optional[str]
    department: Optional[InternalDepartment]
    roles: list


def validate_registration(actor: Actor, id_number: str, real_name: str, phone: Optional[str],
                          password: str, department_id, role_ids=None) -> Registration:
    from app.validators import validate_mobile, validate_password_strength

    org = require_super_admin(actor)
    number = _normalised_id_number(id_number)
    if db.session.scalar(select(Account.id).where(Account.username == number)) is not None:
        raise ServiceError(_("An account with this ID number already exists"))
    name = (real_name or "").strip()
    if not name:
        raise ServiceError(_("Please enter the name"))
    try:
        phone = validate_mobile(phone) if phone else None
        validate_password_strength(password)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    return Registration(org, number, name, phone, _department(org, department_id),
                        _default_roles(actor, role_ids))


def register_admin(actor: Actor, *, id_number: str, real_name: str, password: str,
                   phone: Optional[str] = None, department_id=None, role_ids=None) -> Account:
    """(b) 注册成为管理员: a new user whose ID number is not yet in the system."""
    plan = validate_registration(actor, id_number, real_name, phone, password, department_id, role_ids)
    with transaction():
        account = new_account(
            id_number=plan.id_number, real_name=plan.real_name, phone=plan.phone, password=password,
            organisation=plan.org, user_type=admin_user_type(plan.org), roles=plan.roles,
            internal_department=plan.department,
        )
        # the super admin chose this password: the new admin replaces it at the first sign-in
        account.must_change_password = True
        db.session.add(account)
        db.session.flush()
        audit.record("register_admin", account, object_type="account", after=_state(account),
                     actor=actor)
    return account


# ------------------------------------------------------------------ 设为超级管理员
def validate_set_super_admin(actor: Actor, account_id) -> tuple[Organisation, Account, Optional[Account]]:
    org = _own_org(actor)
    target = _own_admin(org, account_id)
    require_super_admin(actor)
    if target.is_super_admin:
        raise ServiceError(_("This administrator is already the super admin"))
    if not target.active:
        raise ServiceError(_("A disabled account cannot become the super admin"))
    current = db.session.scalar(
        select(Account).where(Account.organisation_id == org.id, Account.is_super_admin.is_(True)))
    return org, target, current


def set_super_admin(actor: Actor, account_id) -> Account:
    """Super-admin powers move to another admin; the previous super admin loses them, atomically."""
    org, target, current = validate_set_super_admin(actor, account_id)
    with transaction():
        if current is not None:
            current.is_super_admin = False
            # the partial unique index allows one super admin per organisation: clear first
            db.session.flush()
            audit.record("revoke_super_admin", current, object_type="account",
                         before={"is_super_admin": True}, after={"is_super_admin": False}, actor=actor)
        target.is_super_admin = True
        full = template_role(org)
        if full not in target.roles:  # the super admin holds every permission of the organisation
            target.roles = [full, *target.roles]
        db.session.flush()
        audit.record("set_super_admin", target, object_type="account",
                     before={"is_super_admin": False}, after={"is_super_admin": True}, actor=actor)
    return target


# ------------------------------------------------------------------ 删除管理员
def validate_remove(actor: Actor, account_id) -> tuple[Organisation, Account]:
    org = _own_org(actor)
    target = _own_admin(org, account_id)
    require_super_admin(actor)
    if target.is_super_admin:
        raise ServiceError(_("The super admin cannot be removed; make another administrator the super admin first"))
    if target.id == actor.id:  # pragma: no cover - the actor is the super admin
        raise ServiceError(_("You cannot remove yourself"))
    return org, target


def _referenced(account_id: int) -> bool:
    """Whether any row other than its role links points at the account (history to keep)."""
    for table in Account.__table__.metadata.tables.values():
        if table.name == assoc_user_role.name:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != Account.__tablename__ or fk.column.name != "id":
                continue
            condition = fk.parent == account_id
            if table.name == Account.__tablename__:
                condition = and_(condition, table.c.id != account_id)
            if db.session.scalar(select(exists().where(condition))):
                return True
    return False


def remove_admin(actor: Actor, account_id) -> str:
    """删除: the admin loses account and rights. Returns how: "reverted", "deleted" or "deactivated".

    A person's own login goes back to being a personnel login; an account nobody's history refers
    to is deleted; any other is disabled with every role taken away.
    """
    org, target = validate_remove(actor, account_id)
    with transaction():
        before = _state(target)
        path = org.path
        person = _linked_person(target)
        if person is not None:
            personnel = _personnel_role()
            target.roles = [personnel] if personnel is not None else []
            target.user_type = UserType.personnel
            target.organisation = db.session.get(Organisation, person.employer_id)
            target.internal_department = None
            outcome = "reverted"
        elif not _referenced(target.id):
            outcome = "deleted"
        else:
            target.roles = []
            target.active = False
            target.internal_department = None
            outcome = "deactivated"
        after = None if outcome == "deleted" else _state(target)
        audit.record("remove_admin", target, object_type="account", object_id=target.id, before=before,
                     after=after, comment=outcome, actor=actor, org_path_value=path)
        if outcome == "deleted":
            target.roles = []
            db.session.flush()
            db.session.delete(target)
    return outcome


# ------------------------------------------------------------------ 下属机构管理员
def subordinate_organisation(actor: Actor, org_id) -> Organisation:
    """An organisation strictly below the actor's own whose admins the actor manages, or NotFound."""
    scope = actor.scope
    org_pk = parse_id(org_id)
    if scope.is_none or org_pk is None:
        raise NotFound()
    org = db.session.get(Organisation, org_pk)
    own = actor.organisation.id if actor.organisation is not None else None
    if (org is None or org.id == own or org.type not in SUBORDINATE_ADMIN_TYPES
            or not scope.covers_path(org.path)):
        raise NotFound()
    return org


def subordinate_admin(actor: Actor, org_id, account_id) -> tuple[Organisation, Account]:
    """An admin account of a unit, base or department strictly below the actor, or NotFound."""
    org = subordinate_organisation(actor, org_id)
    account_pk = parse_id(account_id)
    if account_pk is None:
        raise NotFound()
    account = db.session.scalar(
        select(Account).where(Account.id == account_pk, Account.organisation_id == org.id, admin_condition()))
    if account is None:
        raise NotFound()
    return org, account


def set_active(actor: Actor, org_id, account_id, active: bool) -> Account:
    """禁用 / 启用 an admin of a subordinate unit; a disabled account cannot sign in anywhere."""
    org, account = subordinate_admin(actor, org_id, account_id)
    if active and org.status != OrganisationStatus.approved:
        raise ServiceError(_("The organisation has not been approved: its administrators cannot be enabled"))
    if bool(account.active) == bool(active):
        raise ServiceError(_("The account is already enabled") if active else _("The account is already disabled"))
    with transaction():
        before = {"active": bool(account.active)}
        account.active = bool(active)
        audit.record("enable_account" if active else "disable_account", account, object_type="account",
                     before=before, after={"active": bool(active)}, actor=actor)
    return account


def generate_password(length: int = GENERATED_PASSWORD_LENGTH) -> str:
    """Random letters and digits, at least one of each (meets the password rule)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isalpha() for c in password) and any(c.isdigit() for c in password):
            return password


def reset_admin_password(actor: Actor, org_id, account_id) -> tuple[Account, str]:
    """重置密码: a generated password, returned once; the user must change it at next sign-in."""
    account = subordinate_admin(actor, org_id, account_id)[1]
    password = generate_password()
    reset_password(actor, account.id, password, must_change=True)
    return account, password


# ------------------------------------------------------------------ 基本信息管理
#: fields of the basic information an organisation maintains itself
BASIC_FIELDS = ("name", "uscc", "region", "contact_person", "phone", "address")


def edits_directly(org: Organisation) -> bool:
    """Departments change their own basic information; units and bases ask their department."""
    return org.type in (OrganisationType.province, OrganisationType.supervisory)


def may_change_parent(org: Organisation) -> bool:
    return org.type == OrganisationType.supervisory


def validate_own_changes(actor: Actor, changes: dict) -> tuple[Organisation, dict, dict]:
    from app.services.organisations import check_uscc_free

    org = _own_org(actor)
    if not edits_directly(org):
        raise NotAllowed(_("Changes to your basic information are reviewed by your supervisory department"))
    after = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in changes.items() if k in BASIC_FIELDS}
    if "name" in after and not after["name"]:
        raise ServiceError(_("Please enter the organisation name"))
    before = {k: getattr(org, k) for k in after}
    after = {k: v for k, v in after.items() if v != before[k]}
    before = {k: before[k] for k in after}
    if not after:
        raise ServiceError(_("Nothing was changed"))
    if "uscc" in after:
        check_uscc_free(after["uscc"], org.id)
    return org, before, after


def update_own_organisation(actor: Actor, changes: dict) -> Organisation:
    """基本信息管理 of a department: applied at once and audited with before/after."""
    org, before, after = validate_own_changes(actor, changes)
    with transaction():
        for key, value in after.items():
            setattr(org, key, value)
        audit.record("update_basic_info", org, object_type="organisation", before=before, after=after,
                     actor=actor)
    return org
