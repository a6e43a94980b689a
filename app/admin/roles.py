"""Role management: province only here; copying a role never widens anyone's powers."""
from flask import abort
from flask_appbuilder.actions import action
from flask_appbuilder.security.views import RoleModelView
from flask_babel import lazy_gettext as _l

from app.roles import READ_WRITE
from app.scope import current_scope


class RoleView(RoleModelView):
    route_base = "/roles"
    class_permission_name = "Role"
    method_permission_name = {**READ_WRITE, "copy_role": "write"}
    list_title = _l("Roles")
    label_columns = {"name": _l("Name"), "permissions": _l("Permissions"), "user": _l("Accounts")}

    @action("copyrole", _l("Copy Role"), _l("Copy the selected roles?"), icon="fa-copy", single=False)
    def copy_role(self, items):
        """Copying lists every permission of a role: the province only."""
        if not current_scope().is_all:
            abort(404)
        return super().copy_role(items)
