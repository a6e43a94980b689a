"""Accounts (the extended FAB user), own password change, scoped password reset."""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import ResetMyPasswordView, ResetPasswordView, UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, validators
from wtforms.validators import DataRequired, EqualTo

from app.admin.base import ScopedModelView
from app.extensions import db
from app.interface import EagerInterface
from app.models import Account
from app.roles import READ_WRITE
from app.scope import apply_scope, current_scope
from app.services import accounts as account_service
from app.validators import IdNumber, Mobile, PasswordStrength


class GrantableRoleFilter(BaseFilter):
    """Roles an actor may hand out: all for the province, otherwise only roles they hold."""

    name = "可分配角色"
    arg_name = "grantable"

    def apply(self, query, value):
        if current_scope().is_all:
            return query
        held = [r.id for r in (g.user.roles if g.get("user") is not None else [])]
        return query.filter(self.model.id.in_(held or [-1]))


ACCOUNT_LABELS = {
    "id_number": _l("ID number"),
    "username": _l("ID number"),
    "real_name": _l("Name"),
    "phone": _l("Mobile phone"),
    "organisation": _l("Organisation"),
    "internal_department": _l("Internal department"),
    "user_type": _l("User type"),
    "is_super_admin": _l("Super admin"),
    "roles": _l("Roles"),
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
    }
    add_form_query_rel_fields = {"roles": [["id", GrantableRoleFilter, None]]}
    edit_form_query_rel_fields = {"roles": [["id", GrantableRoleFilter, None]]}

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


class ChangePasswordView(ResetMyPasswordView):
    """修改密码: the old password is required and the new one must be strong."""

    route_base = "/resetmypassword"
    class_permission_name = "ChangePassword"
    method_permission_name = READ_WRITE
    form_title = _l("Change password")
    message = _l("Password changed")

    class form(DynamicForm):  # noqa: N801 - FAB reads the attribute named `form`
        old_password = PasswordField(
            _l("Old password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget()
        )
        password = PasswordField(
            _l("New password"),
            validators=[DataRequired(), PasswordStrength()],
            widget=BS3PasswordFieldWidget(),
        )
        conf_password = PasswordField(
            _l("Confirm new password"),
            validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
            widget=BS3PasswordFieldWidget(),
        )

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        self._init_vars()
        form = self.form.refresh()
        if form.validate_on_submit():
            try:
                account_service.change_password(
                    g.user.id, form.old_password.data, form.password.data
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

    class form(DynamicForm):  # noqa: N801
        password = PasswordField(
            _l("New password"),
            validators=[DataRequired(), PasswordStrength()],
            widget=BS3PasswordFieldWidget(),
        )
        conf_password = PasswordField(
            _l("Confirm new password"),
            validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
            widget=BS3PasswordFieldWidget(),
        )

    def form_get(self, form):
        self._target()

    def form_post(self, form):
        account = self._target()
        account_service.reset_password(account.id, form.password.data)
        flash(str(self.message), "info")
