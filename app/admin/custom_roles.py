"""角色管理 (manual 5.1.1.3.1): an organisation's own roles, built from the admin's own permissions.

The screens list, add, edit and delete the roles of the viewer's own organisation and hand a role
to the organisation's administrators (分配角色). Other organisations' roles and the built-in
template roles answer 404 here; every change goes through app.services.custom_roles.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2ManyWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.widgets import FormWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.admin.fields import StrictQuerySelectMultipleField
from app.admin.grants import GrantsField, describe_grants
from app.errors import form_error
from app.interface import EagerInterface
from app.models import OrganisationRole
from app.roles import READ_WRITE
from app.services import custom_roles as service


class OwnOrganisationFilter(BaseFilter):
    """Only the viewer's own organisation's roles (not its subtree's, not the built-in ones)."""

    name = "本单位角色"
    arg_name = "own_org"

    def apply(self, query, value):
        user = g.get("user")
        org_id = getattr(user, "organisation_id", None) if user is not None else None
        return query.filter(self.model.organisation_id == (org_id if org_id is not None else -1))


def _grants_field():
    return GrantsField(
        _l("Permissions"),
        description=_l("Tick what holders of this role may do; only what you may do yourself is offered. "
                       "Maintaining or reviewing includes viewing."),
    )


def _label_field():
    return StringField(
        _l("Role name"),
        validators=[DataRequired(message=_l("Enter a role name")),
                    Length(max=service.MAX_LABEL_LENGTH)],
        widget=BS3TextFieldWidget(),
    )


def _account_label(account) -> str:
    return f"{account.real_name or account.username}（{account.id_number or account.username}）"


def _names(accounts) -> str:
    return "、".join(a.first_name or a.username for a in accounts)


def _permission_list(pvs) -> str:
    """A role's permissions in plain words, by screen: 专技人员档案：查看、注册审核管理：审核."""
    grants = g.get("_all_grants")
    if grants is None:
        grants = g._all_grants = service.offered_grants(None)
    return "、".join(describe_grants({pv.id for pv in pvs}, grants))


def _assign_link(pk) -> Markup:
    return Markup('<a class="btn btn-sm btn-default" href="{}"><i class="fa fa-user-plus"></i> {}</a>').format(
        url_for("CustomRoleView.assign", pk=pk), _("Assign role"))


class AssignForm(DynamicForm):
    accounts = StrictQuerySelectMultipleField(
        _l("Give to administrators"),
        query_func=lambda: service.assignable_accounts(g.user.id),
        get_pk_func=lambda account: account.id,
        get_label=_account_label,
        widget=Select2ManyWidget(),
        description=_l("Administrators of your organisation who hold this role"),
    )


class CustomRoleView(ScopedModelView):
    """角色管理: the own organisation's roles."""

    route_base = "/customroles"
    datamodel = EagerInterface(OrganisationRole)
    class_permission_name = "CustomRole"
    method_permission_name = {**READ_WRITE, "assign": "write"}
    audit_object_type = service.OBJECT_TYPE

    list_title = _l("Role management")
    show_title = _l("Role details")
    add_title = _l("Add role")
    edit_title = _l("Edit role")
    base_filters = [["organisation_id", OwnOrganisationFilter, None]]
    base_order = ("id", "asc")

    list_columns = ["label", "permissions", "user", "id"]
    show_columns = ["label", "permissions", "user", "id"]
    add_columns = edit_columns = ["label", "grants"]
    search_columns = ["label"]
    order_columns = ["label"]
    label_columns = {"label": _l("Role name"), "permissions": _l("Permissions"), "grants": _l("Permissions"),
                     "user": _l("Given to"), "id": _l("Assign role")}
    formatters_columns = {"permissions": _permission_list, "user": _names, "id": _assign_link}
    add_form_extra_fields = {"label": _label_field(), "grants": _grants_field()}
    edit_form_extra_fields = {"label": _label_field(), "grants": _grants_field()}

    # ------------------------------------------------------------------ helpers
    def _own_item(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    @staticmethod
    def _chosen_permissions(form) -> list[int]:
        return service.permission_ids_for(g.user.id, form.grants.data or [])

    # ------------------------------------------------------------------ CRUD through the service
    def _add(self):
        form = self.add_form.refresh()
        if request.method == "POST":
            if form.validate():
                try:
                    service.create_role(current_actor(), form.label.data, self._chosen_permissions(form))
                except service.RoleError as exc:
                    form_error(form, exc, "grants")
                else:
                    flash(_("Role saved"), "success")
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form)

    def _edit(self, pk):
        item = self._own_item(pk)
        if service.exceeds_actor(g.user.id, item.id):
            flash(_("This role has permissions you do not hold yourself: you cannot change it"), "danger")
            return None
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            form._id = item.id
            if form.validate():
                try:
                    service.update_role(current_actor(), item.id, form.label.data, self._chosen_permissions(form))
                except service.RoleError as exc:
                    form_error(form, exc, "grants")
                else:
                    flash(_("Role saved"), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            form.grants.data = sorted(service.grants_of({pv.id for pv in item.permissions},
                                                        form.grants.offered()))
            self.update_redirect()
        return self._get_edit_widget(form=form)

    def _delete(self, pk):
        item = self._own_item(pk)
        try:
            service.delete_role(current_actor(), item.id)
        except service.RoleError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Role deleted"), "success")

    # ------------------------------------------------------------------ 分配角色
    @expose("/assign/<pk>", methods=["GET", "POST"])
    @has_access
    def assign(self, pk):
        """Give the role to administrators of the own organisation (and take it back)."""
        item = self._own_item(pk)
        if service.exceeds_actor(g.user.id, item.id):
            flash(_("This role has permissions you do not hold yourself: you cannot change it"), "danger")
            return redirect(url_for("CustomRoleView.list"))
        if request.method == "POST":
            form = AssignForm.refresh(request.form)
            if form.validate():
                try:
                    change = service.set_holders(current_actor(), item.id, request.form.getlist("accounts"))
                except service.RoleError as exc:
                    form_error(form, exc, "accounts")
                else:
                    flash(_("Role assigned: %(granted)d given, %(revoked)d taken back",
                            granted=len(change.grant), revoked=len(change.revoke)), "success")
                    return redirect(url_for("CustomRoleView.list"))
        else:
            form = AssignForm.refresh()
            current = {a.id for a in service.holders(item.id)}
            form.accounts.data = [a for a in service.assignable_accounts(g.user.id) if a.id in current]
        widget = FormWidget(route_base=self.route_base, form=form, include_cols=["accounts"],
                            exclude_cols=[], fieldsets=[])
        return self.render_template(
            "custom_roles/assign.html", title=_("Assign role"), role=item, form_widget=widget,
            permissions=_permission_list(item.permissions),
        )
