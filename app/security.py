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
        from app.admin.accounts import AccountView, ChangePasswordView, ScopedResetPasswordView
        from app.admin.auth import LoginView
        from app.admin.roles import RoleView

        self.userdbmodelview = AccountView
        self.authdbview = LoginView
        self.resetpasswordview = ScopedResetPasswordView
        self.resetmypasswordview = ChangePasswordView
        self.rolemodelview = RoleView
        super().__init__(appbuilder)

    def register_views(self) -> None:
        """Only the security views we use, in our menus; login endpoints rate limited."""
        ab = self.appbuilder
        api = ab.add_api(self.security_api)
        self.auth_view = self.authdbview()
        ab.add_view_no_menu(self.auth_view)
        ab.add_view_no_menu(self.resetpasswordview())
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
    def authenticate(
        self, username: str, password: str, user_type: Optional[str] = None
    ) -> AuthResult:
        """Check ID number, password and user type; lock after repeated failures."""
        invalid = _("Incorrect ID number or password")
        username = normalize_id_number(username or "")
        if not username or not password:
            return AuthResult(None, invalid)
        user = self.find_user(username=username)
        if user is None:
            check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "x")
            return AuthResult(None, invalid)
        now = datetime.datetime.now()
        if user.locked_until and user.locked_until > now:
            return AuthResult(
                None,
                _(
                    "Too many failed logins: the account is locked until %(time)s",
                    time=user.locked_until.strftime("%H:%M"),
                ),
            )
        if not check_password_hash(user.password or "", password):
            self._register_failure(user, now)
            if user.locked_until and user.locked_until > now:
                return AuthResult(
                    None,
                    _(
                        "Too many failed logins: the account is locked until %(time)s",
                        time=user.locked_until.strftime("%H:%M"),
                    ),
                )
            return AuthResult(None, invalid)
        if not user.is_active:
            return AuthResult(None, _("This account is not active or has been disabled"))
        if user_type is not None and (user.user_type is None or user.user_type.value != user_type):
            return AuthResult(None, _("The selected user type does not match this account"))
        self.update_user_auth_stat(user, True)
        return AuthResult(user)

    def verify_password(self, username: str, password: str) -> AuthResult:
        """Check credentials of any account, active or not (registration progress pages).

        Failures count towards the same lockout as the login.
        """
        username = normalize_id_number(username or "")
        user = self.find_user(username=username) if username and password else None
        now = datetime.datetime.now()
        if user is None:
            return AuthResult(None, _("Incorrect ID number or password"))
        if user.locked_until and user.locked_until > now:
            return AuthResult(None, _("Too many failed logins: the account is locked until %(time)s",
                                      time=user.locked_until.strftime("%H:%M")))
        if not check_password_hash(user.password or "", password):
            self._register_failure(user, now)
            return AuthResult(None, _("Incorrect ID number or password"))
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
