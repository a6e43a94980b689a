"""Rules of app.services.custom_roles: validate first, then one audited transaction."""
from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from app.actor import Actor

from tests.conftest import EDU_ID, HEALTH_ID, PROVINCE_ID, WH_HEALTH_ID

HEALTH = "湖北省卫生健康委员会"
VIEW_PERSONS = [("can_read", "Person"), ("menu_access", "Subordinate organisations"), ("menu_access", "Persons")]


@pytest.fixture()
def ctx(fresh_world):
    """An app context on a world that is rebuilt afterwards, custom roles removed first."""
    from app.extensions import db
    from app.models import OrganisationRole
    from app.services.custom_roles import remove_role_rows

    with fresh_world.app_context():
        yield fresh_world
        db.session.rollback()
        for (role_id,) in db.session.query(OrganisationRole.id).filter(OrganisationRole.organisation_id.isnot(None)):
            remove_role_rows(role_id)
        db.session.commit()


def _account(id_number):
    from app.extensions import db
    from app.models import Account

    return db.session.query(Account).filter_by(username=id_number).one()


def _pvs(pairs):
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, ViewMenu

    from app.extensions import db

    ids = []
    for permission, view in pairs:
        ids.append(db.session.query(PermissionView.id).join(Permission).join(ViewMenu)
                   .filter(Permission.name == permission, ViewMenu.name == view).scalar())
    assert None not in ids
    return ids


def _role_named(name):
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    return db.session.query(Role).filter_by(name=name).one()


def _audit(object_type, object_id):
    from app.extensions import db
    from app.models import AuditLog

    return db.session.query(AuditLog).filter_by(object_type=object_type, object_id=object_id).order_by(AuditLog.id).all()


def _new_admin(org_name, seq, roles=()):
    from app.extensions import db
    from app.models import Organisation, UserType
    from app.services.accounts import new_account
    from app.services.transaction import transaction
    from app.validators import make_id_number

    org = db.session.query(Organisation).filter_by(name=org_name).one()
    with transaction():
        account = new_account(id_number=make_id_number("420106", datetime.date(1986, 6, 16), seq),
                              real_name=f"单元测试{seq}", password="Demo@2026", organisation=org,
                              user_type=UserType.supervisory, roles=list(roles))
        db.session.add(account)
    return account


# ------------------------------------------------------------------ names
def test_internal_and_display_names():
    from app.services.custom_roles import display_name, internal_name

    assert internal_name(12, "审核员") == "org12:审核员"
    assert display_name(SimpleNamespace(name="org12:审核员", label=None)) == "审核员"
    assert display_name(SimpleNamespace(name="org12:审核员", label="审核员")) == "审核员"
    assert display_name(SimpleNamespace(name="主管部门管理员")) == "主管部门管理员"


# ------------------------------------------------------------------ validation refuses, nothing changes
@pytest.mark.parametrize("label, pairs, extra, message", [
    ("", VIEW_PERSONS, [], "请输入角色名称"),
    ("   ", VIEW_PERSONS, [], "请输入角色名称"),
    ("长" * 41, VIEW_PERSONS, [], "最多 40 个字"),
    ("省级管理员", VIEW_PERSONS, [], "内置角色"),
    ("公共访问", VIEW_PERSONS, [], "内置角色"),
    ("审核员", [], [], "请至少选择一项权限"),
    ("审核员", VIEW_PERSONS, [("can_write", "Role")], "只能授予您本人拥有的权限"),
    ("审核员", VIEW_PERSONS, [("can_get", "OpenApi")], "只能授予您本人拥有的权限"),
])
def test_validate_refuses_bad_roles(app_ctx, label, pairs, extra, message):
    from app.services.custom_roles import RoleError, validate

    with pytest.raises(RoleError, match=message):
        validate(_account(HEALTH_ID).id, label, _pvs(pairs) + _pvs(extra))


@pytest.mark.parametrize("bad", [[999999], ["abc"], [None]])
def test_validate_refuses_unknown_permission_ids(app_ctx, bad):
    from app.services.custom_roles import RoleError, validate

    with pytest.raises(RoleError) as error:
        validate(_account(HEALTH_ID).id, "审核员", _pvs(VIEW_PERSONS) + bad)
    assert error.value.field == "permissions"


def test_only_admins_of_an_approved_organisation_manage_roles(app_ctx):
    from app.extensions import db
    from app.models import Account, UserType
    from app.services.custom_roles import RoleError, create_role, own_roles

    person = db.session.query(Account).filter(Account.user_type == UserType.personnel).first()
    with pytest.raises(RoleError):
        create_role(Actor.of(person), "审核员", _pvs(VIEW_PERSONS))
    assert own_roles(person.id).count() == 0


def test_permissions_offered_are_the_actors_own(app_ctx):
    from app.services.custom_roles import offered_permissions

    health = _account(HEALTH_ID)
    held = {pv.id for role in health.roles for pv in role.permissions}
    assert {pv.id for pv in offered_permissions(health.id)} == held
    province = {pv.id for pv in offered_permissions(_account(PROVINCE_ID).id)}
    assert held < province


# ------------------------------------------------------------------ create, update, delete
def test_create_update_delete_are_audited(ctx):
    from app.extensions import db
    from app.models import OrganisationRole
    from app.services import custom_roles as service

    actor = _account(HEALTH_ID)
    role = service.create_role(Actor.of(actor), " 审核员 ", _pvs(VIEW_PERSONS))
    assert (role.label, role.name, role.organisation_id) == (
        "审核员", f"org{actor.organisation_id}:审核员", actor.organisation_id)
    assert {(pv.permission.name, pv.view_menu.name) for pv in role.permissions} == set(VIEW_PERSONS)

    service.update_role(Actor.of(actor), role.id, "人员审核员", _pvs(VIEW_PERSONS[:1]))
    db.session.expire_all()
    role = db.session.get(OrganisationRole, role.id)
    assert role.name.endswith(":人员审核员") and len(role.permissions) == 1

    service.delete_role(Actor.of(actor), role.id)
    assert db.session.get(OrganisationRole, role.id) is None
    rows = _audit("custom_role", role.id)
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert all(r.actor_id == actor.id and r.org_path == actor.organisation.path for r in rows)
    assert "人员审核员" in rows[1].after and "审核员" in rows[1].before


def test_a_failing_audit_leaves_nothing_behind(ctx, monkeypatch):
    from app.extensions import db
    from app.models import OrganisationRole
    from app.services import audit, custom_roles as service

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        service.create_role(Actor.of(_account(HEALTH_ID)), "审核员", _pvs(VIEW_PERSONS))
    assert db.session.query(OrganisationRole).filter_by(label="审核员").count() == 0


def test_same_label_in_two_organisations_but_not_twice_in_one(ctx):
    from app.services import custom_roles as service

    health, edu = _account(HEALTH_ID), _account(EDU_ID)
    a = service.create_role(Actor.of(health), "审核员", _pvs(VIEW_PERSONS))
    b = service.create_role(Actor.of(edu), "审核员", _pvs(VIEW_PERSONS))
    assert a.id != b.id and a.name != b.name
    with pytest.raises(service.RoleError, match="已有同名角色"):
        service.create_role(Actor.of(health), "审核员", _pvs(VIEW_PERSONS))
    with pytest.raises(service.RoleError, match="已有同名角色"):
        other = service.create_role(Actor.of(health), "复核员", _pvs(VIEW_PERSONS))
        service.update_role(Actor.of(health), other.id, "审核员", _pvs(VIEW_PERSONS))


@pytest.mark.parametrize("actor_id_number", [EDU_ID, WH_HEALTH_ID, PROVINCE_ID])
def test_another_organisations_role_is_not_found(ctx, actor_id_number):
    from app.services import custom_roles as service

    role = service.create_role(Actor.of(_account(HEALTH_ID)), "审核员", _pvs(VIEW_PERSONS))
    actor = _account(actor_id_number)
    assert role.id not in {r.id for r in service.own_roles(actor.id)}
    for call in (lambda: service.update_role(Actor.of(actor), role.id, "x", _pvs(VIEW_PERSONS)),
                 lambda: service.delete_role(Actor.of(actor), role.id),
                 lambda: service.set_holders(Actor.of(actor), role.id, [actor.id])):
        with pytest.raises(service.NotFound):
            call()


def test_built_in_roles_are_not_found(ctx):
    from app.roles import PROVINCE, SUPERVISORY
    from app.services import custom_roles as service

    actor = _account(HEALTH_ID)
    for name in (PROVINCE, SUPERVISORY):
        role = _role_named(name)
        with pytest.raises(service.NotFound):
            service.update_role(Actor.of(actor), role.id, "x", _pvs(VIEW_PERSONS))
        with pytest.raises(service.NotFound):
            service.delete_role(Actor.of(actor), role.id)


def test_a_role_in_use_is_not_deleted(ctx):
    from app.services import custom_roles as service

    actor = _account(HEALTH_ID)
    role = service.create_role(Actor.of(actor), "审核员", _pvs(VIEW_PERSONS))
    other = _new_admin(HEALTH, 941)
    service.set_holders(Actor.of(actor), role.id, [other.id])
    with pytest.raises(service.RoleError, match="请先收回"):
        service.delete_role(Actor.of(actor), role.id)


# ------------------------------------------------------------------ who may receive what
def test_set_holders_grants_and_revokes_within_the_organisation_only(ctx):
    from app.extensions import db
    from app.models import Account, UserType
    from app.services import custom_roles as service

    actor = _account(HEALTH_ID)
    role = service.create_role(Actor.of(actor), "审核员", _pvs(VIEW_PERSONS))
    other = _new_admin(HEALTH, 942)
    change = service.set_holders(Actor.of(actor), role.id, [other.id])
    # an administrator's only role cannot be taken back: they would stop being an administrator
    with pytest.raises(service.RoleError, match="将没有任何角色"):
        service.set_holders(Actor.of(actor), role.id, [])
    other.roles.append(_role_named("主管部门管理员"))
    db.session.commit()
    assert [a.id for a in change.grant] == [other.id] and change.revoke == []
    assert [a.id for a in service.holders(role.id)] == [other.id]
    assert [r.action for r in _audit("account", other.id)] == ["grant_role"]
    assert [a.id for a in service.holders(role.id)] == [other.id]

    person = db.session.query(Account).filter(Account.user_type == UserType.personnel).first()
    for outsider in (_account(EDU_ID).id, _account(WH_HEALTH_ID).id, person.id, "abc"):
        with pytest.raises(service.RoleError, match="本单位的管理员"):
            service.set_holders(Actor.of(actor), role.id, [other.id, outsider])
    assert [a.id for a in service.holders(role.id)] == [other.id]

    change = service.set_holders(Actor.of(actor), role.id, [])
    assert [a.id for a in change.revoke] == [other.id]
    assert service.holders(role.id) == []
    assert [r.action for r in _audit("account", other.id)] == ["grant_role", "revoke_role"]


def test_grantable_roles(ctx):
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db
    from app.roles import PROVINCE, SUPERVISORY
    from app.services import custom_roles as service

    health, edu = _account(HEALTH_ID), _account(EDU_ID)
    own = service.create_role(Actor.of(health), "审核员", _pvs(VIEW_PERSONS))
    foreign = service.create_role(Actor.of(edu), "审核员", _pvs(VIEW_PERSONS))

    def grantable(actor, keep=None):
        condition = service.grantable_role_condition(actor, keep_for_account_id=keep)
        return {r.id for r in db.session.query(Role).filter(condition)}

    ids = grantable(health)
    assert {own.id, _role_named(SUPERVISORY).id} <= ids
    assert foreign.id not in ids and _role_named(PROVINCE).id not in ids

    # a wider own role is not grantable by an admin who holds less
    limited = _new_admin(HEALTH, 943, roles=[_role_named(own.name)])
    wide = service.create_role(Actor.of(health), "维护员", _pvs(VIEW_PERSONS + [("can_write", "Person")]))
    assert wide.id in grantable(health)
    assert service.exceeds_actor(limited.id, wide.id) and not service.exceeds_actor(limited.id, own.id)
    assert grantable(limited) == {own.id}
    # editing an account keeps the roles it already has on offer
    assert _role_named(SUPERVISORY).id in grantable(limited, keep=health.id)
    with pytest.raises(service.RoleError, match="不具备的权限"):
        service.set_holders(Actor.of(limited), wide.id, [limited.id])
    with pytest.raises(service.RoleError, match="不具备的权限"):
        service.update_role(Actor.of(limited), wide.id, "维护员", _pvs(VIEW_PERSONS[:1]))
