"""Every registered URL rule with who may reach it and what data it answers with (docs/security.md).

``tests/web/test_route_inventory.py`` walks the live ``url_map``: a rule whose endpoint is not listed
here fails CI, and so does a permission that differs from what the view declares. For each route it
then checks, for every demo role where it applies: anonymous visitors are refused (sent to the login
page, or 401 on the API), roles without the permission are refused (403 or the login page), and a row
outside the viewer's subtree answers 404.

``access``:
  ``public``     anyone, no sign-in (login, public registration, static files)
  ``signed-in``  any signed-in account, no permission (the data is limited by the scope or the account)
  ``permission`` the page permission ``permission`` ("can_read Person")
  ``api``        a JWT and the permission (REST); ``api-public``: the API login itself

``scope``:
  ``none``       no personal or organisation data (forms, static files, the menu)
  ``scoped``     rows of the viewer's subtree only (lists, searches, pickers, counts)
  ``row``        one row by an id in the URL or form: outside the subtree it answers 404
  ``own``        only the viewer's own organisation or own account
  ``all``        province only (system roles, API docs)
  ``approved``   anonymous pages: approved organisations only, never anything else by id
  ``submitter``  the registrant's own requests (after the progress page checked their password)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RouteRule:
    access: str
    scope: str
    permission: Optional[str] = None
    #: the model whose rows the URL's id points at (for the out-of-scope check)
    model: Optional[str] = None


def _p(permission: str, scope: str, model: Optional[str] = None) -> RouteRule:
    return RouteRule("permission", scope, permission, model)


def _api(permission: str, scope: str, model: Optional[str] = None) -> RouteRule:
    return RouteRule("api", scope, permission, model)


PUBLIC = RouteRule("public", "none")

ROUTES: dict[str, RouteRule] = {
    # ---------------------------------------------------------------- sign-in, static, utilities
    "static": PUBLIC,
    "appbuilder.static": PUBLIC,
    "LocaleView.index": PUBLIC,
    "UtilView.back": PUBLIC,
    "LoginView.login": PUBLIC,
    "LoginView.logout": RouteRule("signed-in", "own"),
    "HomeView.index": RouteRule("signed-in", "scoped"),
    "LookupView.lookup": RouteRule("signed-in", "scoped"),
    "ChangePasswordView.this_form_get": _p("can_write ChangePassword", "own"),
    "ChangePasswordView.this_form_post": _p("can_write ChangePassword", "own"),
    # ---------------------------------------------------------------- operations (app/ops.py)
    "ops.healthz": PUBLIC,  # "ok": no data at all
    "ops.readyz": PUBLIC,   # "ok"/"error"/"off" per dependency: no data
    # counters only; readable from METRICS_ALLOW networks (the test client's 127.0.0.1 by default) or by the
    # province admin, a 404 for anyone else (tests/web/test_ops.py)
    "ops.metrics": PUBLIC,
    # ---------------------------------------------------------------- public registration (manual 1)
    "RegistrationView.supervisory": RouteRule("public", "approved"),
    "RegistrationView.parents": RouteRule("public", "approved"),
    "PublicRegistrationView.person": RouteRule("public", "approved"),
    "PublicRegistrationView.unit": RouteRule("public", "approved"),
    "PublicRegistrationView.base": RouteRule("public", "approved"),
    "PublicRegistrationView.employers": RouteRule("public", "approved"),
    "PublicRegistrationView.departments": RouteRule("public", "approved"),
    "PublicRegistrationView.progress": RouteRule("public", "submitter"),
    "PublicRegistrationView.progress_leave": RouteRule("public", "submitter"),
    "PublicRegistrationView.withdraw": RouteRule("public", "submitter"),
    "PublicRegistrationView.resubmit": RouteRule("public", "submitter"),
    # ---------------------------------------------------------------- accounts (read-only)
    "AccountView.list": _p("can_read Account", "scoped"),
    "AccountView.show": _p("can_read Account", "row", "Account"),
    "AccountView.userinfo": _p("can_self Account", "own"),
    # ---------------------------------------------------------------- organisations, departments, persons
    "OrganisationView.list": _p("can_read Organisation", "scoped"),
    "OrganisationView.show": _p("can_read Organisation", "row", "Organisation"),
    "OrganisationView.add": _p("can_write Organisation", "scoped"),
    "OrganisationView.edit": _p("can_write Organisation", "row", "Organisation"),
    "OrganisationView.delete": _p("can_write Organisation", "row", "Organisation"),
    "OrganisationView.action": RouteRule("permission", "row", "can_write Organisation", "Organisation"),
    "OrganisationView.action_post": RouteRule("permission", "row", "can_write Organisation", "Organisation"),
    "InternalDepartmentView.list": _p("can_read InternalDepartment", "scoped"),
    "InternalDepartmentView.show": _p("can_read InternalDepartment", "row", "InternalDepartment"),
    "InternalDepartmentView.add": _p("can_write InternalDepartment", "scoped"),
    "InternalDepartmentView.edit": _p("can_write InternalDepartment", "row", "InternalDepartment"),
    "InternalDepartmentView.delete": _p("can_write InternalDepartment", "row", "InternalDepartment"),
    "PersonView.list": _p("can_read Person", "scoped"),
    "PersonView.show": _p("can_read Person", "row", "Person"),
    "PersonView.add": _p("can_write Person", "scoped"),
    "PersonView.edit": _p("can_write Person", "row", "Person"),
    "PersonView.delete": _p("can_write Person", "row", "Person"),
    # ---------------------------------------------------------------- 本级机构管理 / 下属机构管理
    "OwnOrganisationView.show": _p("can_read OwnOrganisation", "own"),
    "OwnOrganisationView.edit": _p("can_write OwnOrganisation", "own"),
    "OwnOrganisationView.parents": _p("can_write OwnOrganisation", "own"),
    "OwnOrganisationView.change_parent": _p("can_write OwnOrganisation", "own"),
    "OwnOrganisationView.withdraw": _p("can_write OwnOrganisation", "own", "ReviewRequest"),
    "OrgAdminView.list": _p("can_read OrgAdmin", "own"),
    "OrgAdminView.done": _p("can_read OrgAdmin", "own", "Account"),
    "OrgAdminView.add": _p("can_write OrgAdmin", "own"),
    "OrgAdminView.add_member": _p("can_write OrgAdmin", "own"),
    "OrgAdminView.add_register": _p("can_write OrgAdmin", "own"),
    "OrgAdminView.add_existing": _p("can_write OrgAdmin", "scoped"),
    "OrgAdminView.candidates": _p("can_write OrgAdmin", "own"),
    "OrgAdminView.make_super_admin": _p("can_write OrgAdmin", "own", "Account"),
    "OrgAdminView.remove": _p("can_write OrgAdmin", "own", "Account"),
    "OrgAdminView.roles": _p("can_write OrgAdmin", "own", "Account"),
    "CustomRoleView.list": _p("can_read CustomRole", "own"),
    "CustomRoleView.show": _p("can_read CustomRole", "own", "OrganisationRole"),
    "CustomRoleView.add": _p("can_write CustomRole", "own"),
    "CustomRoleView.edit": _p("can_write CustomRole", "own", "OrganisationRole"),
    "CustomRoleView.delete": _p("can_write CustomRole", "own", "OrganisationRole"),
    "CustomRoleView.assign": _p("can_write CustomRole", "own", "OrganisationRole"),
    "SubordinateView.list": _p("can_read Subordinate", "scoped"),
    "SubordinateView.show": _p("can_read Subordinate", "row", "Organisation"),
    "SubordinateView.admins": _p("can_read Subordinate", "row", "Organisation"),
    "SubordinateView.toggle_active": _p("can_write Subordinate", "row", "Organisation"),
    "SubordinateView.reset_password": _p("can_write Subordinate", "row", "Organisation"),
    "AuditLogView.list": _p("can_read AuditLog", "scoped"),
    "AuditLogView.export": _p("can_read AuditLog", "scoped"),
    # ---------------------------------------------------------------- system (province)
    "RoleView.list": _p("can_read Role", "all"),
    "RoleView.show": _p("can_read Role", "all"),
    "RoleView.add": _p("can_write Role", "all"),
    "RoleView.edit": _p("can_write Role", "all"),
    "RoleView.delete": _p("can_write Role", "all"),
    "RoleView.action": RouteRule("permission", "all", "can_write Role"),
    "RoleView.action_post": RouteRule("permission", "all", "can_write Role"),
    "SwaggerView.show": _p("can_show SwaggerView", "all"),
    # ---------------------------------------------------------------- 个人中心 (personnel)
    "SelfServiceView.index": _p("can_read SelfService", "own"),
    "SelfServiceView.change_title": _p("can_write SelfService", "own"),
    "SelfServiceView.withdraw": _p("can_write SelfService", "own", "ReviewRequest"),
    # ---------------------------------------------------------------- 人员调转 (manual 5.1.6)
    "TransferOutView.list": _p("can_read Transfer", "scoped"),
    "TransferOutView.show": _p("can_read Transfer", "row", "Transfer"),
    "TransferOutView.add": _p("can_write Transfer", "scoped"),
    "TransferOutView.person": _p("can_write Transfer", "row", "Person"),
    "TransferOutView.receivers": _p("can_write Transfer", "approved"),
    "TransferOutView.action": RouteRule("permission", "row", "can_write Transfer", "Transfer"),
    "TransferOutView.action_post": RouteRule("permission", "row", "can_write Transfer", "Transfer"),
    "TransferRecordView.list": _p("can_read Transfer", "scoped"),
    "TransferRecordView.show": _p("can_read Transfer", "row", "Transfer"),
    "TransferRecordView.export": _p("can_read Transfer", "scoped"),
    "TransferConfirmView.confirm": _p("can_write TransferReview", "row", "Transfer"),
    # ---------------------------------------------------------------- REST
    "AppSecurityApi.login": RouteRule("api-public", "none"),
    "AppSecurityApi.refresh": RouteRule("api-public", "own"),
    "OpenApi.get": _api("can_get OpenApi", "all"),
    "MenuApi.get_menu_data": _api("can_get MenuApi", "none"),
    "OrganisationApi.get_list": _api("can_read Organisation", "scoped"),
    "OrganisationApi.info": _api("can_read Organisation", "scoped"),
    "OrganisationApi.get": _api("can_read Organisation", "row", "Organisation"),
    "OrganisationApi.post": _api("can_write Organisation", "scoped"),
    "OrganisationApi.put": _api("can_write Organisation", "row", "Organisation"),
    "OrganisationApi.delete": _api("can_write Organisation", "row", "Organisation"),
    "PersonApi.get_list": _api("can_read Person", "scoped"),
    "PersonApi.info": _api("can_read Person", "scoped"),
    "PersonApi.get": _api("can_read Person", "row", "Person"),
    "PersonApi.post": _api("can_write Person", "scoped"),
    "PersonApi.put": _api("can_write Person", "row", "Person"),
    "PersonApi.delete": _api("can_write Person", "row", "Person"),
    # ---------------------------------------------------------------- files, Excel, jobs
    "AttachmentView.download": _p("can_read Attachment", "row", "Attachment"),
    "JobView.list": _p("can_read Job", "own"),
    "JobView.status": _p("can_read Job", "own"),
    "JobView.download": _p("can_read Job", "own"),
    "PersonView.export": _p("can_read Person", "scoped"),
    "PersonImportView.index": _p("can_write Person", "scoped"),
    "PersonImportView.template": _p("can_write Person", "none"),
    "PersonImportView.upload": _p("can_write Person", "scoped"),
    "PersonImportView.preview": _p("can_write Person", "own"),
    "PersonImportView.commit": _p("can_write Person", "own"),
    "PersonImportView.cancel": _p("can_write Person", "own"),
    "ReviewApi.pending": _api("can_read Review", "scoped"),
    "ReviewApi.approve": _api("can_write Review", "row", "ReviewRequest"),
    "ReviewApi.reject": _api("can_write Review", "row", "ReviewRequest"),
    "TrainingProgrammeApi.get_list": _api("can_read TrainingProgramme", "scoped"),
    "TrainingProgrammeApi.get": _api("can_read TrainingProgramme", "row", "TrainingProgramme"),
}


def _own_submission_routes() -> dict:
    """What an organisation files for itself (培训计划管理, 年度工作材料报送): its own items only."""
    routes = {}
    for view, area, model in (("PlanView", "TrainingPlanSubmission", "TrainingPlan"),
                              ("ProgrammeView", "ProgrammeSubmission", "TrainingProgramme"),
                              ("SummaryView", "TrainingPlanSubmission", "WorkSummary"),
                              ("WorkMaterialView", "WorkMaterial", "WorkMaterial")):
        routes.update({
            f"{view}.list": _p(f"can_read {area}", "own"),
            f"{view}.show": _p(f"can_read {area}", "own", model),
            f"{view}.add": _p(f"can_write {area}", "own"),
            f"{view}.edit": _p(f"can_write {area}", "own", model),
            f"{view}.action": RouteRule("permission", "own", f"can_write {area}", model),
            f"{view}.action_post": RouteRule("permission", "own", f"can_write {area}", model),
        })
    return routes


ROUTES.update(_own_submission_routes())

# ---------------------------------------------------------------- the review lists (one per kind)
def _review_routes() -> dict:
    """Each declared review kind's list, detail, decisions and reject form (app/workflow/kinds.py)."""
    from app.workflow.kinds import load

    routes = {}
    for kind in load().values():
        view, area, model = kind.view_name, kind.area, kind.model.__name__
        routes.update({
            f"{view}.list": _p(f"can_read {area}", "scoped"),
            f"{view}.show": _p(f"can_read {area}", "row", model),
            f"{view}.reject_form": _p(f"can_write {area}", "row", model),
            f"{view}.action": RouteRule("permission", "row", f"can_write {area}", model),
            f"{view}.action_post": RouteRule("permission", "row", f"can_write {area}", model),
        })
    return routes



ROUTES.update(_review_routes())
