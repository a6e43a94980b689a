"""Accounts (the extended FAB user, read-only here) and the own password change."""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import ResetMyPasswordView, UserDBModelView
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.extensions import db
from app.interface import EagerInterface
from app.models import Account
from app.roles import READ_WRITE
from app.services import accounts as account_service
from app.validators import PasswordStrength


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
    #: read-only. FAB's generic add / edit / delete / reset-password screens are not offered to anyone:
    #: admins are appointed by their organisation's super admin (管理单位管理员), roles handed out through
    #: 分配角色, subordinate admins disabled or given a one-time password through 下属机构管理, and
    #: passwords changed only by their owner (docs/security.md, "Account powers")
    include_route_methods = {"list", "show", "userinfo"}
    formatters_columns = {"roles": lambda roles: "、".join(_display_names(roles))}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # FAB's actions lead to the generic reset screens, which do not exist here
        for name in ("resetpasswords", "resetmypassword", "userinfoedit"):
            self.actions.pop(name, None)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The plain detail page: no 'reset password' button (FAB's generic reset screen is gone)."""
        return ModelView.show.__wrapped__(self, pk)

    @expose("/userinfo/")
    @has_access
    def userinfo(self):
        """The own account is always visible, even before the organisation is approved."""
        actions = {}
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
