"""下属机构管理 (manual 5.1.2): employer units and training bases of the subtree and their admins."""
from __future__ import annotations

from flask import flash, make_response, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin.base import ScopedModelView
from app.admin.organisations import ORG_LABELS
from app.actor import current_actor
from app.extensions import db
from app.interface import EagerInterface
from app.models import Organisation
from app.services import org_admins as service
from app.services.transaction import ServiceError


class SubordinateTypeFilter(BaseFilter):
    """Only employer units and training bases."""

    name = "下属单位"
    arg_name = "subordinate"

    def apply(self, query, value):
        return query.filter(Organisation.type.in_(service.SUBORDINATE_TYPES))


class SubordinateListWidget(ListWidget):
    """FAB's list with a 管理员信息 link on each row."""

    template = "account_mgmt/subordinate_list_widget.html"


class SubordinateView(ScopedModelView):
    """Employer units and training bases in the viewer's subtree (read-only here)."""

    route_base = "/subordinates"
    class_permission_name = "Subordinate"
    method_permission_name = {"list": "read", "show": "read", "admins": "read",
                              "toggle_active": "write", "reset_password": "write"}
    include_route_methods = {"list", "show", "admins", "toggle_active", "reset_password"}
    datamodel = EagerInterface(Organisation)
    base_filters = [["id", SubordinateTypeFilter, None]]
    list_title = _l("Units and bases, their administrators")
    show_title = _l("Subordinate organisation details")
    label_columns = ORG_LABELS
    list_columns = ["name", "type", "parent", "region", "contact_person", "phone", "status"]
    # its internal departments are shown here: 管理内设部门 is for the viewer's own organisation only
    show_columns = ["name", "type", "uscc", "parent", "region", "contact_person", "phone", "address",
                    "status", "created_on", "departments"]
    search_columns = ["name", "type", "status", "region"]
    order_columns = ["name", "type", "status", "region", "created_on"]
    base_order = ("name", "asc")
    formatters_columns = {"created_on": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
                          "departments": lambda departments: "、".join(d.name for d in departments)}
    list_widget = SubordinateListWidget
    show_template = "account_mgmt/subordinate_show.html"

    def _unit(self, pk) -> Organisation:
        """A unit or base of the list, or a department below (reached from its 机构档案 page)."""
        return service.subordinate_organisation(current_actor(), pk)

    @expose("/admins/<pk>")
    @has_access
    def admins(self, pk):
        """管理员信息: the unit's admin accounts with 禁用/启用 and 重置密码."""
        org = self._unit(pk)
        admins = db.session.scalars(service.admins_of(org.id)).all()
        return self.render_template("account_mgmt/subordinate_admins.html", title=_("Administrator information"),
                                    org=org, admins=admins)

    @expose("/admins/<pk>/active/<account_id>", methods=["POST"])
    @has_access
    def toggle_active(self, pk, account_id):
        org = self._unit(pk)
        active = request.form.get("active") == "1"
        try:
            account = service.set_active(current_actor(), org.id, account_id, active)
        except ServiceError as exc:
            flash(str(exc), "warning")
        else:
            flash(_("%(name)s was enabled", name=account.real_name) if active
                  else _("%(name)s was disabled and can no longer sign in", name=account.real_name), "success")
        return redirect(url_for("SubordinateView.admins", pk=org.id))

    @expose("/admins/<pk>/reset/<account_id>", methods=["POST"])
    @has_access
    def reset_password(self, pk, account_id):
        """The generated password is shown on this response only, never stored in clear."""
        org = self._unit(pk)
        account, password = service.reset_admin_password(current_actor(), org.id, account_id)
        response = make_response(self.render_template(
            "account_mgmt/password_reset.html", title=_("Password reset"), org=org, account=account,
            password=password))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


def register(appbuilder) -> None:
    from app.navigation import SUBORDINATES, category

    appbuilder.add_view(SubordinateView, "Units and bases", label=_l("Units and bases, their administrators"),
                        icon="fa-building-o", **category(SUBORDINATES))
