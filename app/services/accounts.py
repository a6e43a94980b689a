"""Account rules: names kept in FAB's columns, password change and reset, all audited."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from app.actor import Actor
from app.extensions import db
from app.models import Account
from app.services import audit
from app.services.transaction import ServiceError, transaction

__all__ = ["ServiceError", "hash_password", "prepare_new_account", "sync_account_names",
           "change_password", "reset_password", "new_account"]


def hash_password(password: str) -> str:
    return generate_password_hash(
        password,
        method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def sync_account_names(account: Account) -> None:
    """FAB needs username, names and e-mail: derive them from the ID number and real name."""
    if account.id_number:
        account.username = account.id_number
    account.first_name = account.real_name or account.username or ""
    account.last_name = ""
    if not account.email:
        account.email = f"{account.username}@accounts.invalid"


def prepare_new_account(account: Account) -> None:
    """Refuse a duplicate ID number with a clear message; fill FAB's columns."""
    with db.session.no_autoflush:
        exists = db.session.query(Account.id).filter(Account.username == account.id_number).first()
    if exists:
        raise ServiceError(_("An account with this ID number already exists"))
    sync_account_names(account)


def new_account(*, id_number, real_name, password, organisation, user_type, roles,
                phone=None, is_super_admin=False, active=True, internal_department=None) -> Account:
    """Build (not commit) an account with a hashed password."""
    account = Account(
        id_number=id_number, real_name=real_name, phone=phone, organisation=organisation,
        internal_department=internal_department, user_type=user_type, roles=list(roles),
        is_super_admin=is_super_admin, active=active, password=hash_password(password),
    )
    prepare_new_account(account)
    return account


def change_password(actor: Actor, old_password: str, new_password: str) -> None:
    """修改密码: only with the right old password."""
    account = db.session.get(Account, actor.id) if actor.id is not None else None
    if account is None or not check_password_hash(account.password or "", old_password):
        raise ServiceError(_("The old password is incorrect"))
    with transaction():
        account.password = hash_password(new_password)
        account.must_change_password = False
        audit.record("change_password", account, object_type="account", actor=actor)


def reset_password(actor: Actor, account_id: int, new_password: str, must_change: bool = True) -> None:
    """An admin sets a new password; the user must change it at next login."""
    account = db.session.get(Account, account_id)
    with transaction():
        account.password = hash_password(new_password)
        account.must_change_password = must_change
        account.fail_login_count = 0
        account.locked_until = None
        audit.record("reset_password", account, object_type="account", actor=actor)
