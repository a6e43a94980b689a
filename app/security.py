"""Security manager: ID-number login with user type, lockout, per-request permission cache."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Optional

from flask import current_app, g
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
    assoc_user_role,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash

from app.models import Account
from app.validators import normalize_id_number


@dataclass
class AuthResult:
    user: Optional[Account]
    message: Optional[str] = None


class AppSecurityManager(SecurityManager):
    """FAB's manager with our account model, views and login rules."""

    user_model = Account

    def __init__(self, appbuilder):
        from app.admin.accounts import AccountView, ChangePasswordView
        from app.admin.auth import LoginView
        from app.admin.roles import RoleView

        self.userdbmodelview = AccountView
        self.authdbview = LoginView
        self.resetmypasswordview = ChangePasswordView
        self.rolemodelview = RoleView
        from app.api.security import AppSecurityApi

        self.security_api = AppSecurityApi
        super().__init__(appbuilder)

    def register_views(self) -> None:
        """Only the security views we use, in our menus; login endpoints rate limited."""
        ab = self.appbuilder
        api = ab.add_api(self.security_api)
        self.auth_view = self.authdbview()
        ab.add_view_no_menu(self.auth_view)
        # FAB's generic "reset another user's password" screen is not registered: nobody sets another
        # person's password (one-time passwords through 下属机构管理 only)
        ab.add_view_no_menu(self.resetmypasswordview())
        self.user_view = ab.add_view(
            self.userdbmodelview, "Accounts", label=_l("Accounts"), icon="fa-user",
            category="Account management", category_label=_l("Account management"),
            category_icon="fa-sitemap",
        )
        ab.add_view(
            self.rolemodelview, "Roles", label=_l("System roles"), icon="fa-user-gear",
            category="System", category_label=_l("System"), category_icon="fa-cogs",
        )
        if current_app.config.get("FAB_API_SWAGGER_UI"):
            ab.add_link("API docs", label=_l("API docs"), href="/swagger/v1",
                        icon="fa-book", category="System")
        if self.is_auth_limited:
            for view in (self.auth_view, api):
                self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def get_user_by_id(self, pk):
        """Every request loads the user: bring the organisation (the data scope) in the same query."""
        return self.session.get(self.user_model, pk, options=[joinedload(Account.organisation)])

    # ------------------------------------------------------------------ login
    def _refusal(self) -> str:
        """The one answer to any failed sign-in: unknown number, wrong password or a locked account alike
        (a different answer would tell who has an account here)."""
        return _("Incorrect ID number or password (after %(n)d failures in a row, sign-in is locked "
                 "for %(minutes)d minutes)", n=current_app.config["LOGIN_MAX_FAILURES"],
                 minutes=current_app.config["LOGIN_LOCK_MINUTES"])

    def _check_credentials(self, username: str, password: str) -> Optional[Account]:
        """The account whose password this is, or None; the same work whether the number is known,
        unknown or locked (one password hash check each), and failures count towards the lockout."""
        username = normalize_id_number(username or "")
        user = self.find_user(username=username) if username else None
        stored = user.password if user is not None and user.password else None
        matches = check_password_hash(stored or current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"],
                                      password or "")
        if user is None or not password or stored is None:
            return None
        now = datetime.datetime.now()
        if user.locked_until and user.locked_until > now:
            return None
        if not matches:
            self._register_failure(user, now)
            return None
        return user

    def authenticate(
        self, username: str, password: str, user_type: Optional[str] = None
    ) -> AuthResult:
        """Check ID number, password and user type; lock after repeated failures."""
        user = self._check_credentials(username, password)
        if user is None:
            return AuthResult(None, self._refusal())
        # only someone who knows the password gets past here: these answers reveal nothing new
        if not user.is_active:
            return AuthResult(None, _("This account is not active or has been disabled"))
        if user_type is not None and (user.user_type is None or user.user_type.value != user_type):
            return AuthResult(None, _("The selected user type does not match this account"))
        self.update_user_auth_stat(user, True)
        return AuthResult(user)

    def verify_password(self, username: str, password: str) -> AuthResult:
        """Check credentials of any account, active or not (registration progress pages).

        Same answer and work as the login; failures count towards the same lockout.
        """
        user = self._check_credentials(username, password)
        if user is None:
            return AuthResult(None, self._refusal())
        if user.fail_login_count:
            user.fail_login_count = 0
            self.update_user(user)
        return AuthResult(user)

    def _register_failure(self, user: Account, now: datetime.datetime) -> None:
        failures = (user.fail_login_count or 0) + 1
        if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + datetime.timedelta(
                minutes=current_app.config["LOGIN_LOCK_MINUTES"]
            )
            failures = 0
        user.fail_login_count = failures
        self.update_user(user)

    def update_user_auth_stat(self, user, success=True):
        if success:
            user.locked_until = None
        super().update_user_auth_stat(user, success)

    def auth_user_db(self, username, password):
        """Used by the REST login: same rules as the web login, without a user type."""
        return self.authenticate(username, password).user

    # ------------------------------------------------ sessions and tokens (app/credentials.py)
    def load_user(self, pk):
        """The account of a web session: active, and the session made with its current credentials."""
        from app.credentials import session_is_current
        from app.interface import parse_id

        account_id = parse_id(pk)
        user = self.get_user_by_id(account_id) if account_id is not None else None
        if user is None or not user.is_active or not session_is_current(user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The account of a JWT: active, token issued with its current credentials, no forced change."""
        from app.credentials import CLAIM
        from app.interface import parse_id

        account_id = parse_id(jwt_data.get("sub"))
        user = self.get_user_by_id(account_id) if account_id is not None else None
        if user is None or jwt_data.get(CLAIM) != (user.credential_version or 0):
            g._jwt_refusal = "revoked"
            return None
        if not user.is_active:
            g._jwt_refusal = "inactive"
            return None
        if user.must_change_password:
            g._jwt_refusal = "must_change"
            return None
        g.user = user
        return user

    def create_jwt_manager(self, app):
        from app.credentials import install_jwt_answers

        jwt_manager = super().create_jwt_manager(app)
        install_jwt_answers(jwt_manager)
        return jwt_manager

    # ----------------------------------------------- permissions, cached per request
    def _permission_set(self, user) -> frozenset:
        cache = g.get("_permission_cache")
        key = getattr(user, "id", None)
        if cache is not None and cache[0] == key:
            return cache[1]
        if getattr(user, "is_authenticated", False):
            role_ids = select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == user.id)
        else:
            public = self.get_public_role()
            role_ids = select(Role.id).where(Role.id == (public.id if public else -1))
        rows = self.session.execute(
            select(Permission.name, ViewMenu.name)
            .select_from(PermissionView)
            .join(Permission, PermissionView.permission_id == Permission.id)
            .join(ViewMenu, PermissionView.view_menu_id == ViewMenu.id)
            .join(
                assoc_permissionview_role,
                assoc_permissionview_role.c.permission_view_id == PermissionView.id,
            )
            .where(assoc_permissionview_role.c.role_id.in_(role_ids))
        ).all()
        perms = frozenset((p, v) for p, v in rows)
        g._permission_cache = (key, perms)
        return perms

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self._permission_set(user)

    def is_item_public(self, permission_name, view_name):
        return (permission_name, view_name) in self._permission_set(None)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        perms = self._permission_set(user)
        return {v for v in (view_menus_name or []) if (permission_name, v) in perms} if view_menus_name else {
            v for p, v in perms if p == permission_name
        }
