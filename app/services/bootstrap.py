"""First install: the province organisation (the root of the tree) and its first administrator.

Everything else is created through the product by that administrator; without them nobody could
sign in to an empty production database. Validated like every other registration; refused once a
province exists, so running it twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from sqlalchemy import select

from app.actor import Actor
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Account, Organisation, OrganisationStatus, OrganisationType, UserType
from app.roles import PROVINCE
from app.services import audit
from app.services.accounts import new_account
from app.services.transaction import transaction
from app.validators import validate_id_number, validate_mobile, validate_password_strength, validate_uscc


@dataclass
class ProvincePlan:
    name: str
    uscc: Optional[str]
    region: Optional[str]
    id_number: str
    admin_name: str
    phone: Optional[str]
    password: str
    role: Role


def _checked(validate, value: str, field: str) -> str:
    try:
        return validate(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


def validate_province(*, name: str, id_number: str, admin_name: str, password: str,
                      uscc: Optional[str] = None, region: Optional[str] = None,
                      phone: Optional[str] = None) -> ProvincePlan:
    """Check everything first; nothing is written when any check fails."""
    existing = db.session.scalar(select(Organisation.name).where(Organisation.type == OrganisationType.province))
    if existing is not None:
        raise Conflict(_("A province organisation already exists (%(name)s): nothing was changed", name=existing))
    name, admin_name = (name or "").strip(), (admin_name or "").strip()
    if not name:
        raise InvalidInput(_("Please enter the organisation name"), field="name")
    if not admin_name:
        raise InvalidInput(_("Please enter the name"), field="admin_name")
    number = _checked(validate_id_number, id_number or "", "id_number")
    if db.session.scalar(select(Account.id).where(Account.username == number)) is not None:
        raise Conflict(_("An account with this ID number already exists"), field="id_number")
    _checked(validate_password_strength, password or "", "password")
    uscc = _checked(validate_uscc, uscc, "uscc") if uscc else None
    phone = _checked(validate_mobile, phone, "phone") if phone else None
    role = db.session.scalar(select(Role).where(Role.name == PROVINCE))
    if role is None:
        raise InvalidInput(_("The role templates are missing: run the prepare command first"))
    return ProvincePlan(name, uscc, (region or "").strip() or None, number, admin_name, phone, password, role)


def create_province(actor: Actor = None, **values) -> Account:
    """The province and its super admin, approved and able to sign in, in one audited transaction."""
    actor = actor or Actor.system()
    plan = validate_province(**values)
    with transaction():
        org = Organisation(type=OrganisationType.province, name=plan.name, uscc=plan.uscc, region=plan.region,
                           status=OrganisationStatus.approved)
        db.session.add(org)
        db.session.flush()
        org.place_under(None)
        admin = new_account(id_number=plan.id_number, real_name=plan.admin_name, phone=plan.phone,
                            password=plan.password, organisation=org, user_type=UserType.supervisory,
                            roles=[plan.role], is_super_admin=True)
        db.session.add(admin)
        db.session.flush()
        audit.record("create", org, object_type="organisation", after=audit.snapshot(org), actor=actor)
        audit.record("register_admin", admin, object_type="account", actor=actor,
                     after={"organisation_id": org.id, "user_type": UserType.supervisory.value,
                            "is_super_admin": True, "roles": [PROVINCE]})
    return admin
