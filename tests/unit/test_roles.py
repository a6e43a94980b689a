"""Role templates: readable read/write areas, no template names a missing permission."""
from app.roles import PERSONNEL, PROVINCE, ROLE_TEMPLATES, SELF_SERVICE, SUPERVISORY, template_pairs


def test_templates_grant_read_before_write():
    for name in ROLE_TEMPLATES:
        pairs = template_pairs(name)
        for perm, area in pairs:
            if perm == "can_write" and (perm, area) not in SELF_SERVICE:
                assert ("can_read", area) in pairs, (name, area)


def test_only_the_province_manages_roles_and_reads_the_api_docs():
    assert ("can_write", "Role") in template_pairs(PROVINCE)
    assert ("can_get", "OpenApi") in template_pairs(PROVINCE)
    for name in ROLE_TEMPLATES:
        if name != PROVINCE:
            assert not any(area in ("Role", "OpenApi", "SwaggerView") for _, area in template_pairs(name))


def test_personnel_get_self_service_only():
    areas = {area for perm, area in template_pairs(PERSONNEL) if perm != "menu_access"}
    # Attachment: downloading their own evidence files (the download view checks scope or uploader)
    assert areas == {"Account", "ChangePassword", "SelfService", "Attachment"}
    assert ("can_write", "Attachment") not in template_pairs(PERSONNEL)


def test_supervisory_admin_maintains_its_own_areas():
    pairs = template_pairs(SUPERVISORY)
    for area in ("Organisation", "InternalDepartment", "Account", "Person"):
        assert ("can_write", area) in pairs


def test_sync_roles_is_idempotent_and_matches_templates(app_ctx):
    from app.extensions import db
    from app.roles import sync_roles
    from flask import current_app
    from flask_appbuilder.security.sqla.models import Role

    first = sync_roles(current_app.appbuilder)
    second = sync_roles(current_app.appbuilder)
    assert first == second
    role = db.session.query(Role).filter_by(name=SUPERVISORY).one()
    assert {(p.permission.name, p.view_menu.name) for p in role.permissions} == template_pairs(SUPERVISORY)


def test_every_template_permission_exists_once_views_are_registered(app_ctx):
    from app.roles import missing_permissions

    for name in ROLE_TEMPLATES:
        assert missing_permissions(name) == set(), name
