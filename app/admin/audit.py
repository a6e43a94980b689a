"""审计日志: the province admin and each super admin browse and export the audit log of their subtree."""
from __future__ import annotations

import datetime
import json
from types import SimpleNamespace
from typing import Any, Optional

from flask import current_app, g, has_app_context, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotAllowed
from app.extensions import db
from app.models import (
    AuditLog,
    Education,
    Gender,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    PersonStatus,
    ReviewKind,
    ReviewStatus,
    TitleLevel,
    TitleSeries,
    UserType,
)
from app.scope import current_scope
from app.services import exports
from app.services.exports import AuditFilters

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

ACTION_LABELS = {
    "create": _l("Create"), "update": _l("Update"), "delete": _l("Delete"),
    "set_status": _l("Change status"), "change_password": _l("Change password"),
    "reset_password": _l("Reset password"), "submit": _l("Submit request"),
    "approve": _l("Approve"), "reject": _l("Reject"), "withdraw": _l("Withdraw"),
    "resubmit": _l("Resubmit"), "approve_one_side": _l("Approved by one side"),
    "appoint_admin": _l("Appoint administrator"), "register_admin": _l("Register administrator"),
    "remove_admin": _l("Remove administrator"), "set_super_admin": _l("Set as super admin"),
    "revoke_super_admin": _l("Revoke super admin"), "enable_account": _l("Enable account"),
    "disable_account": _l("Disable account"), "update_basic_info": _l("Update basic information"),
    "grant_role": _l("Assign role"), "revoke_role": _l("Take back role"), "set_roles": _l("Set roles"),
    "import": _l("Batch import"), "attach_file": _l("Upload attachment"), "replace_file": _l("Replace attachment"),
    "delete_file": _l("Delete attachment"),
}

OBJECT_LABELS = {
    "organisation": lazy_pgettext("audit object", "Organisation"),
    "account": lazy_pgettext("audit object", "Account"),
    "ab_user": lazy_pgettext("audit object", "Account"),
    "person": lazy_pgettext("audit object", "Person"),
    "internal_department": lazy_pgettext("audit object", "Internal department"),
    "review_request": lazy_pgettext("audit object", "Review request"),
    "ab_role": lazy_pgettext("audit object", "Role"),
    "custom_role": lazy_pgettext("audit object", "Role"),
    "system": lazy_pgettext("audit object", "System"),
    "attachment": lazy_pgettext("audit object", "Attachment"),
}

#: who did it when no account did (commands, background jobs)
NO_ACTOR = lazy_pgettext("audit actor", "System")

COMMENT_LABELS = {
    "reverted": _l("Back to a personnel login"), "deleted": _l("Account deleted"),
    "deactivated": _l("Account disabled and rights removed"),
}

#: field names of before/after values, where the views' labels do not already name them
FIELD_LABELS = {
    "id": _l("Record number"), "name": _l("Name"), "type": _l("Organisation type"),
    "uscc": _l("Unified social credit code"), "parent_id": _l("Parent organisation"),
    "parent": _l("Parent department"), "path": _l("Path"), "depth": _l("Level"), "region": _l("Region"),
    "contact_person": _l("Contact person"), "phone": _l("Contact phone"), "address": _l("Address"),
    "status": _l("Status"), "created_on": _l("Created on"), "changed_on": _l("Changed on"),
    "id_number": _l("ID number"), "username": _l("ID number"), "real_name": _l("Full name"),
    "first_name": _l("Full name"), "last_name": _l("Full name"), "email": _l("E-mail"),
    "organisation_id": _l("Organisation"), "internal_department_id": _l("Internal department"),
    "user_type": _l("User type"), "is_super_admin": _l("Super admin"), "active": _l("Enabled"),
    "roles": _l("Role"), "must_change_password": _l("Must change password"),
    "locked_until": _l("Locked until"), "last_login": _l("Last login"), "login_count": _l("Login count"),
    "fail_login_count": _l("Failed login count"), "created_by_fk": _l("Created by"),
    "changed_by_fk": _l("Changed by"), "gender": _l("Gender"), "birth_date": _l("Birth date"),
    "education": _l("Education"), "employer_id": _l("Employer unit"),
    "title_series_id": _l("Title series"), "title_level_id": _l("Title level"),
    "title_name": _l("Title name"), "title_date": _l("Date obtained"), "account_id": _l("Login account"),
    "remark": _l("Remark"), "kind": _l("Request type"), "subject_id": _l("Record number"),
    "subject_name": _l("Name"), "subject_code": _l("ID number / credit code"),
    "org_id": _l("Organisation"), "target_org_id": _l("New parent department"),
    "label": _l("Role name"), "permissions": _l("Permissions"), "role": _l("Role"),
    "count": _l("Rows"), "file": _l("File"), "original_name": _l("File name"), "size": _l("Size (bytes)"),
    "sha256": _l("Checksum"), "owner_kind": _l("Record type"), "owner_id": _l("Record number"),
}

#: where a field name means something else on another kind of object
OBJECT_FIELD_LABELS = {
    "organisation": {"name": _l("Organisation name"), "phone": _l("Contact phone")},
    "review_request": {"name": _l("Organisation name"), "phone": _l("Contact phone")},
    "internal_department": {"name": _l("Department name")},
    "custom_role": {},
    "account": {"phone": _l("Mobile phone")},
    "ab_user": {"phone": _l("Mobile phone")},
    "person": {"phone": _l("Mobile phone"), "name": _l("Full name")},
}

#: enums whose stored values read as their labels
VALUE_ENUMS = {
    "type": [OrganisationType], "user_type": [UserType], "gender": [Gender], "education": [Education],
    "kind": [ReviewKind], "status": [OrganisationStatus, PersonStatus, ReviewStatus],
}


def field_label(key: str, object_type: str = "") -> str:
    label = OBJECT_FIELD_LABELS.get(object_type, {}).get(key) or FIELD_LABELS.get(key)
    return str(label) if label is not None else key


#: how a file's type reads next to its name (the allow-list of app/services/attachments.py)
FILE_TYPES = {"pdf": "PDF", "doc": "Word", "docx": "Word", "xls": "Excel", "xlsx": "Excel", "jpg": "JPG",
              "jpeg": "JPG", "png": "PNG", "zip": "ZIP"}


def file_label(name: str) -> str:
    """'证书.pdf' reads '证书（PDF）' in the log."""
    stem, dot, ext = str(name).rpartition(".")
    if dot and ext.lower() in FILE_TYPES:
        return f"{stem}（{FILE_TYPES[ext.lower()]}）"
    return str(name)


def value_label(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "owner_kind":
        return label_of(OBJECT_LABELS, value)
    if key in ("original_name", "file") and isinstance(value, str):
        return file_label(value)
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    if key in ROLE_FIELDS:
        return role_text(value)
    if key == "permissions" and isinstance(value, list):
        return "、".join(permission_list_text(value))
    if isinstance(value, list):
        return "、".join(value_label(key, v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{field_label(k)}：{value_label(k, v)}" for k, v in value.items())
    if key == "permissions" and isinstance(value, str) and " " in value:
        return permission_text(value)
    for enum_class in VALUE_ENUMS.get(key, []):
        try:
            return str(enum_class(value).label)
        except ValueError:
            continue
    return str(value)


#: fields holding roles: ids (account forms), names (older rows) or the names people gave them
ROLE_FIELDS = {"roles", "role"}


def role_text(value: Any) -> str:
    """Roles as people named them: never the internal name (org12:审核员) or a bare id."""
    from flask_appbuilder.security.sqla.models import Role

    from app.services.custom_roles import display_name

    if isinstance(value, list):
        return "、".join(role_text(v) for v in value) or "—"
    if isinstance(value, int) and not isinstance(value, bool):
        cache = g.setdefault("_audit_role_names", {}) if has_app_context() else {}
        if value not in cache:
            role = db.session.get(Role, value)
            cache[value] = display_name(role) if role is not None else str(value)
        return cache[value]
    return display_name(SimpleNamespace(name=str(value), label=None)) if value not in (None, "") else "—"


def permission_list_text(pairs: list) -> list[str]:
    """A role's permissions as the role screen shows them: one "screen：level" per screen."""
    from app.roles import describe_pairs

    return describe_pairs(tuple(p.split(" ", 1)) for p in pairs if isinstance(p, str) and " " in p)


def permission_text(pair: str) -> str:
    """'can_read Organisation' as the role screens show it: '机构档案维护：查看'."""
    from app.roles import permission_label

    permission, view = pair.split(" ", 1)
    try:
        return permission_label(SimpleNamespace(permission=SimpleNamespace(name=permission),
                                                view_menu=SimpleNamespace(name=view)))
    except Exception:  # noqa: BLE001 - an unknown pair still reads as stored
        return pair


#: id fields shown by the name of what they point at
REFERENCE_FIELDS = {
    "organisation_id": Organisation, "parent_id": Organisation, "employer_id": Organisation,
    "org_id": Organisation, "target_org_id": Organisation,
    "internal_department_id": InternalDepartment,
    "title_series_id": TitleSeries, "title_level_id": TitleLevel,
}


def reference_name(key: str, value: Any) -> Optional[str]:
    """Name of the row an id field points at, looked up once per request."""
    model = REFERENCE_FIELDS.get(key)
    if model is None or not isinstance(value, int) or isinstance(value, bool):
        return None
    cache = g.setdefault("_audit_reference_names", {}) if has_app_context() else {}
    if (model, value) not in cache:
        cache[(model, value)] = db.session.scalar(select(model.name).where(model.id == value))
    return cache[(model, value)]


#: fields never shown: a custom role's internal name only exists to keep FAB's names unique
HIDDEN_FIELDS = {"custom_role": {"name"}}


def _pairs(data: dict, object_type: str) -> str:
    parts = []
    for key, value in data.items():
        if key.endswith("_id") and key[:-3] in data:
            continue  # "parent" already names what "parent_id" points at
        if key in HIDDEN_FIELDS.get(object_type, ()):
            continue
        name = reference_name(key, value)
        parts.append(f"{field_label(key, object_type)}：{name if name is not None else value_label(key, value)}")
    return "；".join(parts)


def describe_values(raw: Optional[str], object_type: str = "") -> str:
    """The JSON of a before/after column as 字段：值 pairs in Chinese."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(data, dict):
        return value_label("", data)
    return _pairs(data, object_type)


def actor_text(row: AuditLog) -> str:
    if row.actor is None:
        return str(NO_ACTOR)
    return f"{row.actor.real_name or ''}（{row.actor.username}）"


def object_label(object_type: Optional[str]) -> str:
    """What kind of object a row is about; review kinds name their own tables in their declarations."""
    if object_type and object_type not in OBJECT_LABELS:
        from app.workflow.kinds import load

        for kind in load().values():
            if kind.object_type == object_type and kind.audit_label is not None:
                return str(kind.audit_label)
    return label_of(OBJECT_LABELS, object_type)


def label_of(mapping: dict, key: Optional[str]) -> str:
    if not key:
        return ""
    label = mapping.get(key)
    return str(label) if label is not None else key


def export_row(row: AuditLog) -> list:
    return [
        row.created_on.strftime("%Y-%m-%d %H:%M:%S") if row.created_on else "",
        row.actor.real_name if row.actor else str(NO_ACTOR),
        row.actor.username if row.actor else "",
        label_of(ACTION_LABELS, row.action),
        object_label(row.object_type),
        row.object_id if row.object_id is not None else "",
        describe_values(row.before, row.object_type),
        describe_values(row.after, row.object_type),
        label_of(COMMENT_LABELS, row.comment),
        row.ip or "",
    ]


EXPORT_HEADERS = [_l("Time"), _l("Operator"), _l("Operator ID number"), _l("Operation"),
                  _l("Object type"), _l("Object number"), _l("Before"), _l("After"), _l("Remark"),
                  _l("IP address")]


def _date(value: Optional[str]) -> Optional[datetime.date]:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


class AuditLogView(BaseView):
    """审计日志 of the viewer's subtree: filter, page, export."""

    route_base = "/auditlog"
    default_view = "list"
    class_permission_name = "AuditLog"
    method_permission_name = {"list": "read", "export": "read"}

    def _refused(self):
        """Only the province admin and super admins browse the audit log."""
        scope = current_scope()
        if scope.is_none:
            raise NotAllowed(_("Your organisation has not been approved yet"))
        if not scope.is_all and not g.user.is_super_admin:
            raise NotAllowed(_("Only the super admin of your organisation may browse the audit log"))
        return None

    def _filters(self) -> tuple[AuditFilters, list[str]]:
        errors = []
        raw_from, raw_to = request.args.get("date_from", ""), request.args.get("date_to", "")
        date_from, date_to = _date(raw_from), _date(raw_to)
        if raw_from and date_from is None or raw_to and date_to is None:
            errors.append(_("Please enter dates as YYYY-MM-DD"))
        if date_from and date_to and date_from > date_to:
            errors.append(_("The start date is after the end date"))
            date_from = date_to = None
        action = request.args.get("action", "")
        return AuditFilters(actor=request.args.get("actor", "")[:50], action=action[:50],
                            date_from=date_from, date_to=date_to), errors

    @expose("/list/")
    @has_access
    def list(self):
        refused = self._refused()
        if refused is not None:
            return refused
        filters, errors = self._filters()
        try:
            page = max(0, int(request.args.get("page", 0)))
            size = max(1, min(int(request.args.get("psize", PAGE_SIZE)), MAX_PAGE_SIZE))
        except ValueError:
            page, size = 0, PAGE_SIZE
        query = exports.audit_log_query(current_scope(), filters)
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = db.session.scalars(
            query.options(selectinload(AuditLog.actor)).offset(page * size).limit(size)).all()
        pages = max(1, (count + size - 1) // size)
        args = {k: v for k, v in request.args.items() if k not in ("page",) and v}
        return self.render_template(
            "account_mgmt/audit_list.html", title=_("Audit log"), rows=rows, count=count, page=page,
            pages=pages, size=size, filters=filters, errors=errors, args=args,
            actions=sorted(((k, str(v)) for k, v in ACTION_LABELS.items()), key=lambda kv: kv[1]),
            action_label=lambda a: label_of(ACTION_LABELS, a),
            object_label=object_label,
            comment_label=lambda c: label_of(COMMENT_LABELS, c),
            describe=describe_values, actor_text=actor_text,
            export_url=url_for("AuditLogView.export", **{k: v for k, v in args.items() if k != "psize"}),
            max_export=current_app.config.get("EXPORT_MAX_ROWS", 1_000_000),
        )

    @expose("/export/")
    @has_access
    def export(self):
        refused = self._refused()
        if refused is not None:
            return refused
        filters, _errors = self._filters()
        from app.admin.exporting import export_response

        return export_response("audit_log", {
            "actor": filters.actor, "action": filters.action,
            "date_from": filters.date_from.isoformat() if filters.date_from else "",
            "date_to": filters.date_to.isoformat() if filters.date_to else "",
        })


def register(appbuilder) -> None:
    from app.navigation import SYSTEM, category

    appbuilder.add_view(AuditLogView, "Audit log", label=_l("Audit log"), icon="fa-history", **category(SYSTEM))
