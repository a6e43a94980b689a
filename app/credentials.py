"""Credentials: one version per account, stamped into each web session and token, checked on every request.

``ab_user.credential_version`` goes up whenever what an account may prove or do changes: its password is
changed or reset, it logs out, it is disabled or enabled, its roles, user type or organisation change.
The web login writes the version into the session, the API login into the JWT (claim ``cv``); a session
or token (access or refresh) carrying another version is refused on its next request. So a password
change ends every other session and token at once, a cookie captured before a logout is worthless, and a
disabled account is out everywhere. The request that made the change keeps its own session (it is
stamped again), except a logout.

A token of an account that must change its password (after a reset) is refused with a message saying so:
the forced change applies to the API as well (the API login refuses to issue one in the first place).
"""
from __future__ import annotations

from typing import Iterable, Optional

from flask import Flask, g, has_request_context, jsonify, session
from flask_babel import gettext as _
from sqlalchemy import event, inspect as sa_inspect, select, update
from sqlalchemy.orm import Session

#: session key and JWT claim holding the credential version
SESSION_KEY = "_cv"
CLAIM = "cv"
#: account attributes whose change bumps the version
TRACKED = ("password", "active", "roles", "user_type", "organisation_id", "organisation")


def _note_bumped(account_id: Optional[int]) -> None:
    if account_id is not None and has_request_context():
        g.setdefault("_credentials_bumped", set()).add(account_id)


def bump(account_ids: Iterable[int]) -> None:
    """Invalidate every session and token of the accounts (inside the caller's transaction)."""
    from app.extensions import db
    from app.models import Account

    ids = [i for i in account_ids if i is not None]
    if not ids:
        return
    db.session.execute(
        update(Account).where(Account.id.in_(ids))
        .values(credential_version=Account.credential_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    for account_id in ids:
        _note_bumped(account_id)


def _bump_changed_accounts(session, flush_context, instances) -> None:
    """Any ORM change to a tracked attribute of an account bumps its version in the same flush."""
    from app.models import Account

    for obj in list(session.dirty):
        if not isinstance(obj, Account):
            continue
        state = sa_inspect(obj)
        for key in TRACKED:
            if key not in state.attrs:
                continue
            history = state.attrs[key].history
            if history.added or history.deleted:
                obj.credential_version = (obj.credential_version or 0) + 1
                _note_bumped(obj.id)
                break


def stamp_session(account) -> None:
    """Tie the web session to the account's current credentials (at login)."""
    session[SESSION_KEY] = account.credential_version or 0


def session_is_current(account) -> bool:
    return session.get(SESSION_KEY) == (account.credential_version or 0)


def token_claims(identity) -> dict:
    """Extra claims of a new JWT: the account's credential version."""
    from app.extensions import db
    from app.interface import parse_id
    from app.models import Account

    pk = parse_id(identity)
    version = db.session.scalar(select(Account.credential_version).where(Account.id == pk)) if pk else None
    return {CLAIM: version or 0}


def _restamp_own_session(response):
    """The request changed its own user's credentials (e.g. a password change): keep this session."""
    bumped = g.get("_credentials_bumped")
    user = g.get("user")
    if bumped and user is not None and getattr(user, "is_authenticated", False) and user.id in bumped \
            and SESSION_KEY in session and not g.get("_logging_out"):
        from app.extensions import db
        from app.models import Account

        version = db.session.scalar(select(Account.credential_version).where(Account.id == user.id))
        session[SESSION_KEY] = version or 0
    return response


# ------------------------------------------------------------------------------------ JWT answers
REFUSALS = {
    "revoked": lambda: _("Your sign-in is no longer valid (password changed, signed out or account changed); please sign in again"),
    "must_change": lambda: _("You must change your password on the web page before using the API"),
    "inactive": lambda: _("This account is not active or has been disabled"),
}


def _jwt_refused(message: str, status: int = 401):
    response = jsonify(message=message)
    response.status_code = status
    return response


def install_jwt_answers(jwt_manager) -> None:
    """Flask-JWT-Extended answers in Chinese, and says why a valid-looking token was refused."""
    jwt_manager.additional_claims_loader(token_claims)

    @jwt_manager.user_lookup_error_loader
    def _lookup_error(_header, _data):
        reason = g.get("_jwt_refusal") or "revoked"
        return _jwt_refused(REFUSALS[reason](), 403 if reason == "must_change" else 401)

    @jwt_manager.unauthorized_loader
    def _missing(_reason):
        return _jwt_refused(_("Please sign in first: the request carries no valid access token"))

    @jwt_manager.invalid_token_loader
    def _invalid(_reason):
        return _jwt_refused(_("The access token is invalid; please sign in again"))

    @jwt_manager.expired_token_loader
    def _expired(_header, _data):
        return _jwt_refused(_("The access token has expired; please sign in again"))

    @jwt_manager.revoked_token_loader
    def _revoked(_header, _data):
        return _jwt_refused(REFUSALS["revoked"]())

    @jwt_manager.needs_fresh_token_loader
    def _not_fresh(_header, _data):
        return _jwt_refused(_("Please sign in again for this operation"))

    @jwt_manager.token_verification_failed_loader
    def _verification_failed(_header, _data):
        return _jwt_refused(_("The access token is invalid; please sign in again"))


def register_credentials(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _bump_changed_accounts):
        event.listen(Session, "before_flush", _bump_changed_accounts)
    app.after_request(_restamp_own_session)
