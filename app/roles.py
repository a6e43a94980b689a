"""Role templates per user type, with permissions grouped read/write per area (as Superset does)."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import PermissionView, Role

from app.extensions import db
from app.services.transaction import transaction

#: every model view and API maps its methods onto two permissions: read and write
READ_WRITE = {
    "list": "read", "show": "read", "get": "read", "get_list": "read", "info": "read",
    "download": "read", "api_read": "read", "export": "read", "lookup": "read",
    "add": "write", "edit": "write", "delete": "write", "post": "write", "put": "write",
    "action": "write", "action_post": "write", "resetpasswords": "write",
    "this_form_get": "write", "this_form_post": "write",
    "userinfo": "self", "resetmypassword": "self",
}

#: area (the class_permission_name views share) -> menu entries it opens
AREA_MENUS = {
    "Organisation": ["Account management", "Organisations"],
    "InternalDepartment": ["Account management", "Internal departments"],
    "Account": ["Account management", "Accounts"],
    "Person": ["Personnel", "Persons"],
    "Role": ["System", "Roles"],
    "ApiDocs": ["System", "API docs"],
    "OwnOrganisation": ["Account management", "Basic information"],
    "OrgAdmin": ["Account management", "Administrators"],
    "CustomRole": ["Account management", "Custom roles"],
    "Subordinate": ["Account management", "Subordinate organisations"],
    "AuditLog": ["System", "Audit log"],
    "RegistrationReview": ["Registration review", "Personnel registration review",
                           "Unit registration review", "Training base registration review",
                           "Department registration review"],
    "ChangeReview": ["Change review", "Personnel change review", "Organisation change review",
                     "Parent change review"],
    "Review": [],
    "SelfService": ["My information", "My record"],
    "Attachment": [],
    "Job": ["My jobs"],
}

PROVINCE = "省级管理员"
SUPERVISORY = "主管部门管理员"
EMPLOYER = "用人单位管理员"
TRAINING_BASE = "继教基地管理员"
PERSONNEL = "专技人员"
PUBLIC = "公共访问"

#: every signed-in user may see their own account and change their password
SELF_SERVICE = [("can_self", "Account"), ("can_write", "ChangePassword")]

#: template name -> list of (area, level) and extra (permission, view) pairs
ROLE_TEMPLATES: dict[str, dict] = {
    PROVINCE: {
        "areas": [("Organisation", "write"), ("InternalDepartment", "write"), ("Account", "write"),
                  ("Person", "write"), ("Role", "write"), ("ApiDocs", "menu"),
                  ("OwnOrganisation", "write"), ("OrgAdmin", "write"), ("CustomRole", "write"),
                  ("Subordinate", "write"), ("AuditLog", "read"), ("RegistrationReview", "write"),
                  ("ChangeReview", "write"), ("Review", "write"), ("Attachment", "read"), ("Job", "read")],
        "extra": [("can_get", "OpenApi"), ("can_show", "SwaggerView")],
    },
    SUPERVISORY: {
        "areas": [("Organisation", "write"), ("InternalDepartment", "write"), ("Account", "write"),
                  ("Person", "write"), ("OwnOrganisation", "write"), ("OrgAdmin", "write"),
                  ("CustomRole", "write"), ("Subordinate", "write"), ("AuditLog", "read"),
                  ("RegistrationReview", "write"), ("ChangeReview", "write"), ("Review", "write"),
                  ("Attachment", "read"), ("Job", "read")],
    },
    EMPLOYER: {
        "areas": [("Organisation", "read"), ("InternalDepartment", "write"), ("Account", "read"),
                  ("Person", "write"), ("OwnOrganisation", "write"), ("OrgAdmin", "write"),
                  ("CustomRole", "write"), ("AuditLog", "read"), ("Attachment", "read"), ("Job", "read")],
    },
    TRAINING_BASE: {
        "areas": [("Organisation", "read"), ("InternalDepartment", "write"), ("Account", "read"),
                  ("OwnOrganisation", "write"), ("OrgAdmin", "write"), ("CustomRole", "write"),
                  ("AuditLog", "read"), ("Attachment", "read"), ("Job", "read")],
    },
    PERSONNEL: {"areas": [("SelfService", "write"), ("Attachment", "read")]},
}

#: the template role each user type gets by default
ROLE_FOR_USER_TYPE = {
    "supervisory": SUPERVISORY,
    "employer": EMPLOYER,
    "training_base": TRAINING_BASE,
    "personnel": PERSONNEL,
}


def template_pairs(name: str) -> set[tuple[str, str]]:
    """(permission, view menu) pairs a template grants."""
    spec = ROLE_TEMPLATES[name]
    pairs = set(SELF_SERVICE) | set(spec.get("extra", []))
    for area, level in spec["areas"]:
        if level in ("read", "write"):
            pairs.add(("can_read", area))
        if level == "write":
            pairs.add(("can_write", area))
        for menu in AREA_MENUS.get(area, []):
            pairs.add(("menu_access", menu))
    return pairs


def missing_permissions(name: str) -> set[tuple[str, str]]:
    """Template pairs with no permission in the database (a typo, or a view not registered)."""
    have = {(pv.permission.name, pv.view_menu.name) for pv in db.session.query(PermissionView)}
    return template_pairs(name) - have


def sync_roles(appbuilder) -> dict[str, int]:
    """Create every permission FAB's views declare, then make each template role match exactly."""
    sm = appbuilder.sm
    with transaction():
        for name in [PUBLIC, *ROLE_TEMPLATES]:
            if sm.find_role(name) is None:
                db.session.add(Role(name=name))
    # several views share one area name: create each area's permissions from their union,
    # since FAB's add_permissions_view drops what the last view did not declare
    by_area: dict[str, set[str]] = {}
    for view in appbuilder.baseviews:
        by_area.setdefault(view.class_permission_name, set()).update(view.base_permissions or [])
    for area, permissions in by_area.items():
        sm.add_permissions_view(sorted(permissions), area)
    appbuilder._add_menu_permissions(update_perms=True)
    sm.security_cleanup(appbuilder.baseviews, appbuilder.menu)
    counts = {}
    with transaction():
        for name in ROLE_TEMPLATES:
            role = sm.find_role(name)
            wanted = template_pairs(name)
            pvms = [
                pv for pv in db.session.query(PermissionView).all()
                if (pv.permission.name, pv.view_menu.name) in wanted
            ]
            role.permissions = pvms
            counts[name] = len(pvms)
    return counts


# ---------------------------------------------------------------- readable permission names
def _labels():
    from flask_babel import lazy_gettext as _l

    permissions = {"can_read": _l("view"), "can_write": _l("maintain"), "menu_access": _l("menu"),
                   "can_self": _l("own account"), "can_get": _l("view"), "can_show": _l("view")}
    areas = {
        "Organisation": _l("Organisations"), "InternalDepartment": _l("Internal departments"),
        "Account": _l("Accounts"), "Person": _l("Professional personnel"), "Role": _l("Roles"),
        "ChangePassword": _l("Change password"), "OpenApi": _l("API docs"),
        "SwaggerView": _l("API docs"), "MenuApi": _l("Menu"),
        "OwnOrganisation": _l("Basic information"), "OrgAdmin": _l("Administrators"),
        "CustomRole": _l("Custom roles"), "Subordinate": _l("Subordinate organisations"),
        "AuditLog": _l("Audit log"), "RegistrationReview": _l("Registration review"),
        "ChangeReview": _l("Change review"), "Review": _l("Review API"),
        "SelfService": _l("My information"), "Attachment": _l("Attachments"), "Job": _l("My jobs"),
    }
    return permissions, areas


def permission_label(pv) -> str:
    """'机构管理：维护' rather than 'can write on Organisation'; menus by their own labels."""
    from flask import current_app

    permissions, areas = _labels()
    perm, view = pv.permission.name, pv.view_menu.name
    if perm == "menu_access":
        item = current_app.appbuilder.menu.find(view)
        return f"{permissions[perm]}：{item.label if item is not None else areas.get(view, view)}"
    return f"{areas.get(view, view)}：{permissions.get(perm, perm)}"
