"""Organisations and their internal departments, limited to the viewer's subtree."""
from __future__ import annotations

from flask import flash, g, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import validators

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.interface import EagerInterface
from app.models import InternalDepartment, Organisation, OrganisationStatus
from app.roles import READ_WRITE
from app.services import organisations as org_service
from app.services.transaction import ServiceError
from app.validators import Mobile, Uscc

ORG_LABELS = {
    "type": _l("Organisation type"),
    "name": _l("Organisation name"),
    "uscc": _l("Unified social credit code"),
    "parent": _l("Parent organisation"),
    "path": _l("Path"),
    "depth": _l("Level"),
    "region": _l("Region"),
    "contact_person": _l("Contact person"),
    "phone": _l("Contact phone"),
    "address": _l("Address"),
    "status": _l("Status"),
    "created_on": _l("Created on"),
    "departments": _l("Internal departments"),
}


class OrganisationView(ScopedModelView):
    """机构: the viewer's own organisation and everything below it."""

    route_base = "/organisations"
    class_permission_name = "Organisation"
    method_permission_name = {**READ_WRITE, "disable": "write", "enable": "write"}
    datamodel = EagerInterface(Organisation)
    list_title = _l("Organisation records (all levels)")
    show_title = _l("Organisation details")
    add_title = _l("Add organisation")
    edit_title = _l("Edit organisation")
    label_columns = ORG_LABELS
    list_columns = ["name", "type", "parent", "region", "contact_person", "status"]
    show_columns = ["name", "type", "uscc", "parent", "region", "contact_person", "phone",
                    "address", "status", "created_on", "departments"]
    formatters_columns = {"departments": lambda departments: "、".join(d.name for d in departments)}
    add_columns = ["name", "type", "uscc", "parent", "region", "contact_person", "phone", "address"]
    #: writable fields, an explicit allow-list (app/write_rules.py): status changes only by review
    #: decisions and 禁用/启用, the parent only by 更换上级部门
    edit_columns = ["name", "uscc", "region", "contact_person", "phone", "address"]
    search_columns = ["name", "type", "status", "region", "uscc"]
    order_columns = ["name", "type", "status", "created_on"]
    base_order = ("path", "asc")
    relation_filters = {"parent": {"type": "province,supervisory"}}
    show_template = "account_mgmt/organisation_show.html"

    def render_template(self, template, **kwargs):
        """A department below the viewer links to its administrators (禁用/启用, 重置密码)."""
        if template == self.show_template:
            kwargs["admin_link"] = self._admin_link(kwargs.get("pk"))
        return super().render_template(template, **kwargs)

    def _admin_link(self, pk):
        from flask import url_for

        from app.errors import NotFound
        from app.models import OrganisationType
        from app.services import org_admins

        try:
            org = org_admins.subordinate_organisation(current_actor(), pk)
        except NotFound:
            return None
        if org.type != OrganisationType.supervisory:
            return None
        if not self.appbuilder.sm.has_access("can_read", "Subordinate"):
            return None
        return url_for("SubordinateView.admins", pk=org.id)
    validators_columns = {
        "name": [validators.DataRequired()],
        "uscc": [validators.Optional(), Uscc()],
        "phone": [validators.Optional(), Mobile()],
        "parent": [validators.DataRequired()],
    }

    @action("disable", _l("Disable"), _l("Disable the selected organisations?"), "fa-ban")
    def disable(self, items):
        return self._set_status(items, OrganisationStatus.disabled)

    @action("enable", _l("Enable"), _l("Enable the selected organisations?"), "fa-check")
    def enable(self, items):
        return self._set_status(items, OrganisationStatus.approved)

    def _set_status(self, items, status):
        items = items if isinstance(items, list) else [items]
        try:
            done, skipped = org_service.set_status(current_actor(), [i.id for i in items], status)
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(done)d done, %(skipped)d skipped", done=done, skipped=skipped), "info")
        return redirect(self.get_redirect())



class OwnDepartmentsFilter(BaseFilter):
    """管理内设部门 is about the viewer's own organisation (a subordinate's are shown with that subordinate)."""

    name = "本单位内设部门"
    arg_name = "own_departments"

    def apply(self, query, value):
        user = g.get("user")
        org_id = getattr(user, "organisation_id", None) if user is not None else None
        return query.filter(self.model.organisation_id == (org_id if org_id is not None else -1))


class InternalDepartmentView(ScopedModelView):
    """管理内设部门 (manual 5.1.1.2): the internal departments of the viewer's own organisation."""

    route_base = "/departments"
    class_permission_name = "InternalDepartment"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(InternalDepartment)
    base_filters = [["organisation_id", OwnDepartmentsFilter, None]]
    list_title = _l("Manage internal departments")
    show_title = _l("Internal department details")
    add_title = _l("Add internal department")
    edit_title = _l("Edit internal department")
    label_columns = {"name": _l("Department name"), "organisation": _l("Organisation"),
                     "remark": _l("Remark")}
    list_columns = ["name", "remark"]
    show_columns = ["name", "organisation", "remark"]
    add_columns = ["name", "remark"]
    edit_columns = ["name", "remark"]
    search_columns = ["name"]
    order_columns = ["name"]
    validators_columns = {"name": [validators.DataRequired()]}

    def pre_add(self, item):
        item.organisation = g.user.organisation  # always the own organisation
        super().pre_add(item)
