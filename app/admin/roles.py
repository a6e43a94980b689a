"""Role management: province only here; copying a role never widens anyone's powers."""
from flask import abort
from flask_appbuilder import expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security.sqla.models import PermissionView
from flask_appbuilder.security.views import RoleModelView
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.admin.fields import StrictQuerySelectMultipleField
from app.extensions import db
from app.models import OrganisationRole
from app.roles import READ_WRITE, permission_label
from app.scope import current_scope


def _permission_field():
    return StrictQuerySelectMultipleField(
        _l("Permissions"),
        query_func=lambda: db.session.query(PermissionView).order_by(PermissionView.view_menu_id).all(),
        get_pk_func=lambda pv: pv.id,
        get_label=permission_label,
        widget=Select2ManyWidget(),
    )


class BuiltInRoleFilter(BaseFilter):
    """The system role screen shows the built-in roles; organisations keep theirs in 角色管理."""

    name = "系统角色"
    arg_name = "builtin"

    def apply(self, query, value):
        return query.filter(OrganisationRole.organisation_id.is_(None))


class RoleView(RoleModelView):
    route_base = "/roles"
    #: FAB's unscoped file download is not offered
    exclude_route_methods = {"download"}
    class_permission_name = "Role"
    method_permission_name = {**READ_WRITE, "copy_role": "write"}
    base_filters = [["id", BuiltInRoleFilter, None]]
    list_title = _l("System roles")
    show_title = _l("Role details")
    add_title = _l("Add role")
    edit_title = _l("Edit role")
    list_widget = ListWidget
    show_widget = ShowWidget
    list_columns = ["name", "permissions"]
    show_columns = ["name", "permissions"]
    add_columns = edit_columns = ["name", "permissions"]
    search_columns = ["name", "permissions"]
    label_columns = {"name": _l("Role name"), "permissions": _l("Permissions"), "user": _l("Accounts")}
    formatters_columns = {"permissions": lambda pvs: "、".join(sorted(permission_label(p) for p in pvs))}
    add_form_extra_fields = {"permissions": _permission_field()}
    edit_form_extra_fields = {"permissions": _permission_field()}

    def _refuse_unless(self, name):
        from app.errors import NotAllowed

        if name not in self.actions or not self.appbuilder.sm.has_access(
                self.get_action_permission_name(name), self.class_permission_name):
            raise NotAllowed()

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        self._refuse_unless(name)
        return RoleModelView.action(self, name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        from flask import request

        self._refuse_unless(request.form.get("action", ""))
        return RoleModelView.action_post(self)

    @fab_action("copyrole", _l("Copy Role"), _l("Copy the selected roles?"), icon="fa-copy", single=False)
    def copy_role(self, items):
        """Copying lists every permission of a role: the province only."""
        if not current_scope().is_all:
            abort(404)
        return super().copy_role(items)
