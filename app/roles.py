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

#: area (the class_permission_name views share) -> menu entries it opens (categories first);
#: where each entry appears for each kind of user is app/navigation.py
AREA_MENUS = {
    "Organisation": ["Subordinate organisations", "Organisations"],
    "InternalDepartment": ["Own organisation", "Internal departments"],
    "Account": ["Account management", "Accounts"],
    "Person": ["Subordinate organisations", "Persons"],
    "Role": ["System", "Roles"],
    "ApiDocs": ["System", "API docs"],
    "OwnOrganisation": ["Own organisation", "Basic information"],
    "OrgAdmin": ["Own organisation", "Administrators"],
    "CustomRole": ["Own organisation", "Custom roles"],
    "Subordinate": ["Subordinate organisations", "Units and bases"],
    "AuditLog": ["System", "Audit log"],
    # the review kinds' areas and menu entries come from their declarations: see area_menus()
    "Review": [],
    "SelfService": ["My information", "My record"],
    "Attachment": [],
    "Job": ["My jobs", "My job list"],
    # 培训计划管理 (submitting side), 人员调转, 年度工作材料报送; the review lists come from their kinds
    "TrainingPlanSubmission": ["Training plans", "Annual training plans", "Annual work summaries"],
    "ProgrammeSubmission": ["Training plans", "Programme declarations"],
    "Transfer": ["Transfers", "Transfer out", "Transfer records"],
    "WorkMaterial": ["Work materials", "Annual work material submission"],
    #: approved training programmes over REST (learning platforms)
    "TrainingProgramme": [],
}

#: permissions an area grants beyond its read/write and menus (the API docs are two FAB views)
AREA_EXTRA = {"ApiDocs": [("can_get", "OpenApi"), ("can_show", "SwaggerView")]}

#: areas whose write permission means deciding reviews (besides the review kinds' own): 查看 / 审核
REVIEW_AREAS = {"Review"}

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
                  ("Subordinate", "write"), ("AuditLog", "read"), ("Review", "write"), ("Attachment", "read"),
                  ("Job", "read"),
                  ("Transfer", "write"), ("WorkMaterial", "write"), ("TrainingProgramme", "read")],
    },
    SUPERVISORY: {
        "areas": [("Organisation", "write"), ("InternalDepartment", "write"), ("Account", "write"),
                  ("Person", "write"), ("OwnOrganisation", "write"), ("OrgAdmin", "write"),
                  ("CustomRole", "write"), ("Subordinate", "write"), ("AuditLog", "read"),
                  ("Review", "write"), ("Attachment", "read"), ("Job", "read"),
                  ("Transfer", "write"), ("WorkMaterial", "write"), ("TrainingProgramme", "read")],
    },
    EMPLOYER: {
        "areas": [("Organisation", "read"), ("InternalDepartment", "write"), ("Account", "read"),
                  ("Person", "write"), ("OwnOrganisation", "write"), ("OrgAdmin", "write"),
                  ("CustomRole", "write"), ("AuditLog", "read"), ("Attachment", "read"), ("Job", "read"),
                  ("Transfer", "write"), ("ProgrammeSubmission", "write"), ("TrainingProgramme", "read")],
    },
    TRAINING_BASE: {
        "areas": [("Organisation", "read"), ("InternalDepartment", "write"), ("Account", "read"),
                  ("OwnOrganisation", "write"), ("OrgAdmin", "write"), ("CustomRole", "write"),
                  ("AuditLog", "read"), ("Attachment", "read"), ("Job", "read"),
                  ("TrainingPlanSubmission", "write"), ("ProgrammeSubmission", "write"),
                  ("TrainingProgramme", "read")],
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


def _review_kinds():
    from app.workflow.kinds import load

    return load().values()


def area_menus() -> dict[str, list[str]]:
    """AREA_MENUS with the review kinds' areas: each opens its kinds' categories and list entries."""
    menus = {area: list(names) for area, names in AREA_MENUS.items()}
    for kind in _review_kinds():
        names = menus.setdefault(kind.area, [])
        if kind.menu.category not in names:
            names.insert(0, kind.menu.category)
        names.append(kind.menu.name)
    return menus


def is_review_area(area: str) -> bool:
    """Whether writing in an area means deciding reviews (its levels read 查看 / 审核)."""
    return area in REVIEW_AREAS or any(kind.area == area for kind in _review_kinds())


def review_areas(name: str) -> list[tuple[str, str]]:
    """(area, level) a template gets from the review kinds that name it as a reviewer."""
    return sorted({(kind.area, "write") for kind in _review_kinds() if name in kind.reviewer_templates})


def area_pairs(area: str, level: str) -> set[tuple[str, str]]:
    """(permission, view menu) pairs of one area at one level: "menu" < "read" < "write"."""
    pairs = {("menu_access", menu) for menu in area_menus().get(area, [])} | set(AREA_EXTRA.get(area, []))
    if level in ("read", "write"):
        pairs.add(("can_read", area))
    if level == "write":
        pairs.add(("can_write", area))
    return pairs


def template_pairs(name: str) -> set[tuple[str, str]]:
    """(permission, view menu) pairs a template grants."""
    spec = ROLE_TEMPLATES[name]
    pairs = set(SELF_SERVICE) | set(spec.get("extra", []))
    for area, level in list(spec["areas"]) + review_areas(name):
        pairs |= area_pairs(area, level)
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
    wanted = {(permission, area) for area, permissions in by_area.items() for permission in permissions}
    wanted |= {("menu_access", name) for name in appbuilder.menu.get_flat_name_list() if name != "-"}
    _converge_permissions(wanted)
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
    from app.shared import bump

    bump("menu")  # menus are rendered from the permissions: every host renders them again
    return counts


def _converge_permissions(wanted: set[tuple[str, str]]) -> None:
    """Make the permission table hold exactly the pairs views and menus declare.

    FAB's own cleanup also tries to migrate permission names we never had and logs a warning for each
    ("Refused to delete …") on every run; here a database already in sync is left untouched, quietly.
    """
    from flask_appbuilder.security.sqla.models import Permission, ViewMenu, assoc_permissionview_role
    from sqlalchemy import delete, select

    with transaction():
        existing = {
            (pv.permission.name, pv.view_menu.name): pv for pv in db.session.query(PermissionView).all()
        }
        permissions = {p.name: p for p in db.session.query(Permission).all()}
        views = {v.name: v for v in db.session.query(ViewMenu).all()}
        for permission_name, view_name in sorted(wanted - set(existing)):
            if permission_name not in permissions:
                permissions[permission_name] = Permission(name=permission_name)
                db.session.add(permissions[permission_name])
            if view_name not in views:
                views[view_name] = ViewMenu(name=view_name)
                db.session.add(views[view_name])
            db.session.add(PermissionView(permission=permissions[permission_name], view_menu=views[view_name]))
        stale = [pv.id for pair, pv in existing.items() if pair not in wanted]
        if stale:
            db.session.execute(delete(assoc_permissionview_role)
                               .where(assoc_permissionview_role.c.permission_view_id.in_(stale)))
            db.session.execute(delete(PermissionView).where(PermissionView.id.in_(stale)))
        db.session.flush()
        used_views = select(PermissionView.view_menu_id)
        used_permissions = select(PermissionView.permission_id)
        db.session.execute(delete(ViewMenu).where(ViewMenu.id.not_in(used_views)))
        db.session.execute(delete(Permission).where(Permission.id.not_in(used_permissions)))
        db.session.expire_all()


# ---------------------------------------------------------------- permissions in plain words
def _area_labels() -> dict:
    from flask_babel import lazy_gettext as _l

    return {
        "Organisation": _l("Organisation records (all levels)"),
        "InternalDepartment": _l("Manage internal departments"),
        "Account": _l("All login accounts"), "Person": _l("Personnel records"), "Role": _l("System roles"),
        "ApiDocs": _l("API docs"), "OwnOrganisation": _l("Basic information management"),
        "OrgAdmin": _l("Manage unit administrators"), "CustomRole": _l("Role management"),
        "Subordinate": _l("Units and bases, their administrators"), "AuditLog": _l("Audit log"),
        "RegistrationReview": _l("Registration review management"),
        "ChangeReview": _l("Change review management"), "Review": _l("Review API"),
        "SelfService": _l("My information"), "ChangePassword": _l("Change password"),
        "OpenApi": _l("API docs"), "SwaggerView": _l("API docs"), "MenuApi": _l("Menu"),
        "Attachment": _l("Attachments"), "Job": _l("My jobs"),
        "TrainingPlanReview": _l("Training plan management"), "TransferReview": _l("Incoming transfer review"),
        "WorkMaterialReview": _l("Work material review"),
        "TrainingPlanSubmission": _l("Annual training plans and summaries"),
        "ProgrammeSubmission": _l("Training programme declaration"), "Transfer": _l("Personnel transfer"),
        "WorkMaterial": _l("Annual work material submission"), "TrainingProgramme": _l("Training programme API"),
    }


def area_label(area: str) -> str:
    """What an area is called: our label, else the label of the menu entry it opens, else its name."""
    label = _area_labels().get(area)
    if label is not None:
        return str(label)
    from flask import current_app

    for name in reversed(area_menus().get(area, [])):
        item = current_app.appbuilder.menu.find(name)
        if item is not None:
            return str(item.label)
    return area


def level_label(area: str, level: str) -> str:
    """查看 for reading; 审核 or 维护 for writing, by what writing means in the area."""
    from flask_babel import gettext as _

    if level != "write":
        return _("View")
    return _("Review") if is_review_area(area) else _("Maintain")


def area_of(pair: tuple[str, str]) -> tuple[str, str] | None:
    """(area, level) a permission pair belongs to; None for the always-granted self service."""
    permission, view = pair
    if pair in SELF_SERVICE:
        return None
    if permission in ("can_read", "can_write"):
        return view, "write" if permission == "can_write" else "read"
    if permission in ("can_get", "can_show", "can_info", "can_list"):
        return view, "read"
    for area, extra in AREA_EXTRA.items():
        if pair in extra:
            return area, "read"
    if permission == "menu_access":
        for area, menus in area_menus().items():
            if view in menus[1:] or menus[:1] == [view] and len(menus) == 1:
                return area, "read"
        return None  # a category: it comes with the entries inside it
    return view, "write"


def describe_pairs(pairs) -> list[str]:
    """Pairs as a person reads them: one "area：level" per area, its highest level only."""
    levels: dict[str, str] = {}
    for pair in pairs:
        found = area_of(tuple(pair))
        if found is None:
            continue
        area, level = found
        if levels.get(area) != "write":
            levels[area] = level
    return sorted(f"{area_label(a)}：{level_label(a, lv)}" for a, lv in levels.items())


def permission_label(pv) -> str:
    """One permission in plain words: 专技人员档案：查看, 注册审核管理：审核, 菜单：下属机构管理."""
    from flask import current_app
    from flask_babel import gettext as _

    perm, view = pv.permission.name, pv.view_menu.name
    if perm == "menu_access":
        item = current_app.appbuilder.menu.find(view)
        menu = _("Menu")
        return f"{menu}：{item.label if item is not None else view}"
    found = area_of((perm, view))
    if found is None:
        own = _("Own account")
        return f"{area_label(view)}：{own}"
    return f"{area_label(found[0])}：{level_label(*found)}"
