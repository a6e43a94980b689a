"""Accounts (the extended FAB user), own password change, scoped password reset."""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, Select2ManyWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import ResetMyPasswordView, ResetPasswordView, UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, validators
from wtforms.validators import DataRequired, EqualTo

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.admin.fields import StrictQuerySelectMultipleField
from app.extensions import db
from app.interface import EagerInterface
from app.models import Account
from app.roles import READ_WRITE
from app.scope import apply_scope, current_scope
from app.services import accounts as account_service
from app.validators import IdNumber, Mobile, PasswordStrength


class GrantableRoleFilter(BaseFilter):
    """Roles an actor may hand out: all for the province; otherwise the roles they hold, their own
    organisation's custom roles that grant nothing they lack, and (when editing an account) the
    roles that account already has, so saving the form never drops them."""

    name = "可分配角色"
    arg_name = "grantable"

    def apply(self, query, value):
        condition = grantable_condition()
        return query if condition is None else query.filter(condition)


def grantable_condition():
    """SQL condition on roles the current actor may hand out; None for the province (all)."""
    from flask import request
    from sqlalchemy import false

    from app.services.custom_roles import grantable_role_condition

    if current_scope().is_all:
        return None
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    editing = None
    if request.endpoint == "AccountView.edit":
        try:
            editing = int((request.view_args or {}).get("pk"))
        except (TypeError, ValueError):
            editing = None
    return grantable_role_condition(user, keep_for_account_id=editing)


def _grantable_roles():
    from flask_appbuilder.security.sqla.models import Role

    query = db.session.query(Role).order_by(Role.id)
    condition = grantable_condition()
    return (query if condition is None else query.filter(condition)).all()


def _roles_field():
    """Roles picker: only grantable roles offered, and a tampered id refuses the form."""
    from app.services.custom_roles import display_name

    return StrictQuerySelectMultipleField(
        _l("Roles"), query_func=_grantable_roles, get_pk_func=lambda role: role.id,
        get_label=display_name, widget=Select2ManyWidget(),
    )


def _display_names(roles):
    from app.services.custom_roles import display_name

    return [display_name(role) for role in roles]


ACCOUNT_LABELS = {
    "id_number": _l("ID number"),
    "username": _l("ID number"),
    "real_name": _l("Full name"),
    "phone": _l("Mobile phone"),
    "organisation": _l("Organisation"),
    "internal_department": _l("Internal department"),
    "user_type": _l("User type"),
    "is_super_admin": _l("Super admin"),
    "roles": _l("Role"),
    "active": _l("Enabled"),
    "last_login": _l("Last login"),
    "login_count": _l("Login count"),
    "fail_login_count": _l("Failed login count"),
    "locked_until": _l("Locked until"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
    "password": _l("Password"),
    "conf_password": _l("Confirm password"),
}


class AccountView(ScopedModelView, UserDBModelView):
    """用户管理: accounts of the organisations in scope."""

    route_base = "/users"
    class_permission_name = "Account"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(Account)
    list_title = _l("Accounts")
    show_title = _l("Account details")
    add_title = _l("Add account")
    edit_title = _l("Edit account")
    label_columns = ACCOUNT_LABELS
    description_columns = {}
    list_columns = ["id_number", "real_name", "organisation", "user_type", "is_super_admin", "active", "last_login"]
    show_columns = [
        "id_number", "real_name", "phone", "organisation", "internal_department",
        "user_type", "is_super_admin", "roles", "active", "last_login", "login_count", "created_on",
    ]
    show_fieldsets = None
    user_show_fieldsets = [
        (_l("Account"), {"fields": ["id_number", "real_name", "phone", "organisation", "internal_department", "user_type", "roles"]}),
    ]
    search_columns = ["id_number", "real_name", "organisation", "user_type", "active"]
    order_columns = ["id_number", "real_name", "last_login"]
    base_order = ("id", "asc")
    add_columns = [
        "id_number", "real_name", "phone", "organisation", "internal_department",
        "user_type", "roles", "active", "password", "conf_password",
    ]
    edit_columns = ["real_name", "phone", "organisation", "internal_department", "roles", "active"]
    validators_columns = {
        "id_number": [DataRequired(), IdNumber()],
        "real_name": [DataRequired()],
        "phone": [validators.Optional(), Mobile()],
        "organisation": [DataRequired()],
    }
    add_form_extra_fields = {
        "password": PasswordField(
            _l("Password"),
            validators=[DataRequired(), PasswordStrength()],
            widget=BS3PasswordFieldWidget(),
        ),
        "conf_password": PasswordField(
            _l("Confirm password"),
            validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
            widget=BS3PasswordFieldWidget(),
        ),
        "roles": _roles_field(),
    }
    edit_form_extra_fields = {"roles": _roles_field()}
    add_form_query_rel_fields = {"roles": [["id", GrantableRoleFilter, None]]}
    edit_form_query_rel_fields = {"roles": [["id", GrantableRoleFilter, None]]}
    formatters_columns = {"roles": lambda roles: "、".join(_display_names(roles))}

    @expose("/userinfo/")
    @has_access
    def userinfo(self):
        """The own account is always visible, even before the organisation is approved."""
        actions = {"resetmypassword": self.actions.get("resetmypassword")}
        item = db.session.get(Account, g.user.id)
        widgets = self._get_show_widget(
            g.user.id, item, actions=actions, show_fieldsets=self.user_show_fieldsets
        )
        self.update_redirect()
        return self.render_template(
            self.show_template, title=_l("My account"), widgets=widgets, appbuilder=self.appbuilder
        )

    def userinfoedit(self, item):
        """FAB's name-editing action is not offered: names follow the ID-card record."""
        abort(404)

    def pre_add(self, item):
        account_service.prepare_new_account(item)
        super().pre_add(item)
        UserDBModelView.pre_add(self, item)

    def pre_update(self, item):
        account_service.sync_account_names(item)
        UserDBModelView.pre_update(self, item)
        super().pre_update(item)


#: created first so that it renders above the new password
_OLD_PASSWORD = PasswordField(_l("Old password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget())


class NewPasswordForm(DynamicForm):
    """A new password typed twice, strong enough."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), PasswordStrength()], widget=BS3PasswordFieldWidget()
    )
    conf_password = PasswordField(
        _l("Confirm new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
        widget=BS3PasswordFieldWidget(),
    )


class ChangePasswordForm(NewPasswordForm):
    old_password = _OLD_PASSWORD


class ChangePasswordView(ResetMyPasswordView):
    """修改密码: the old password is required and the new one must be strong."""

    route_base = "/resetmypassword"
    class_permission_name = "ChangePassword"
    method_permission_name = READ_WRITE
    form_title = _l("Change password")
    message = _l("Password changed")

    form = ChangePasswordForm

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        self._init_vars()
        form = self.form.refresh()
        if form.validate_on_submit():
            try:
                account_service.change_password(
                    current_actor(), form.old_password.data, form.password.data
                )
            except account_service.ServiceError as exc:
                form.old_password.errors = list(form.old_password.errors) + [str(exc)]
            else:
                flash(str(self.message), "info")
                return redirect(url_for("HomeView.index"))
        widgets = self._get_edit_widget(form=form)
        return self.render_template(
            self.form_template, title=self.form_title, widgets=widgets, appbuilder=self.appbuilder
        )


class ScopedResetPasswordView(ResetPasswordView):
    """Admin resets another account's password: only for accounts in scope."""

    route_base = "/resetpassword"
    class_permission_name = "Account"
    method_permission_name = READ_WRITE
    form_title = _l("Reset password")
    message = _l("Password changed")

    def _target(self):
        from flask import request

        try:
            pk = int(request.args.get("pk", ""))
        except ValueError:
            abort(404)
        account = apply_scope(db.session.query(Account), Account).filter(Account.id == pk).first()
        if account is None:
            abort(404)
        return account

    form = NewPasswordForm

    def form_get(self, form):
        self._target()

    def form_post(self, form):
        account = self._target()
        account_service.reset_password(current_actor(), account.id, form.password.data)
        flash(str(self.message), "info")
