"""One function that registers every view, API and menu entry."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


def register_views(appbuilder) -> None:
    from app.admin.organisations import InternalDepartmentView, OrganisationView
    from app.admin.lookup import LookupView
    from app.admin.persons import PersonView
    from app.admin.registration import RegistrationView
    from app.api.resources import OrganisationApi, PersonApi
    from app.navigation import MY_INFORMATION, OWN_ORGANISATION, SUBORDINATES, category

    appbuilder.add_view(OrganisationView, "Organisations", label=_l("Organisation records (all levels)"),
                        icon="fa-building", **category(SUBORDINATES))
    appbuilder.add_view(InternalDepartmentView, "Internal departments",
                        label=_l("Manage internal departments"), icon="fa-th-list", **category(OWN_ORGANISATION))
    appbuilder.add_view(PersonView, "Persons", label=_l("Personnel records"), icon="fa-users",
                        **category(SUBORDINATES))
    from app.admin.persons import PersonImportView

    appbuilder.add_view_no_menu(PersonImportView)
    appbuilder.add_view_no_menu(RegistrationView)
    appbuilder.add_view_no_menu(LookupView)
    appbuilder.add_api(OrganisationApi)
    appbuilder.add_api(PersonApi)

    # each feature module registers its own views below (one line each)
    from app.admin import reviews

    reviews.register(appbuilder)
    # --- account management (issue 3) ---
    from app.admin import audit as audit_views, org_admins, own_organisation, subordinates

    for module in (own_organisation, org_admins, subordinates, audit_views):
        module.register(appbuilder)
    from app.admin.custom_roles import CustomRoleView

    appbuilder.add_view(CustomRoleView, "Custom roles", label=_l("Role management"), icon="fa-user-tag",
                        **category(OWN_ORGANISATION))
    # --- public registration pages ---
    from app.admin.public_registration import PublicRegistrationView
    appbuilder.add_view_no_menu(PublicRegistrationView)
    # --- personnel self-service ---
    from app.admin.self_service import SelfServiceView
    appbuilder.add_view(SelfServiceView, "My record", label=_l("My record"), icon="fa-id-card",
                        **category(MY_INFORMATION))
    # --- files, Excel and background jobs ---
    from app.admin import attachments, jobs

    attachments.register(appbuilder)
    jobs.register(appbuilder)
    # --- 培训计划管理, 人员调转, 年度工作材料报送 (issue 11); their review lists come from app/admin/reviews.py ---
    from app.admin import materials, training, transfers
    from app.api.training import TrainingProgrammeApi

    for module in (training, transfers, materials):
        module.register(appbuilder)
    appbuilder.add_api(TrainingProgrammeApi)
    # --- 学时学分审核, 学时审验, settings (issue 12); the review lists come from their kinds ---
    from app.admin import credit

    credit.register(appbuilder)
    # --- 学时申报: declaring pages, Excel and REST import (issue 12, declaring side) ---
    from app.admin import credit_declaring
    from app.api.credit import CreditImportApi
    credit_declaring.register(appbuilder)
    appbuilder.add_api(CreditImportApi)
    # --- 查询统计 (issue 13): 继教综合统计查询, its export and REST endpoint, the aggregates' hook and commands ---
    from app.admin import statistics

    statistics.register(appbuilder)
    # --- 查询统计: 职称系列分布查询, 专技人员信息查询 (issue 13) ---
    from app.admin import query_statistics

    query_statistics.register(appbuilder)
    # --- 电子证书查询打印, the person's own certificates, the public verification page (issue 13) ---
    from app.admin import certificates

    certificates.register(appbuilder)
