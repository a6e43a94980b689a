"""角色管理 (manual 5.1.1.3.1): an organisation's own roles, never more than the acting admin holds.

A custom role is a row of FAB's ab_role with an owning organisation (``OrganisationRole``). Its
internal name (``org<organisation id>:<label>``) keeps ab_role.name globally unique; users see
the label, which is unique within the organisation only.

Rules, each checked on the server whatever the form offered:

* only the actor's own organisation's roles can be seen or changed (others answer 404);
* a role's permissions are chosen among the permissions the actor holds through their own roles;
* a role holding a permission the actor does not hold cannot be changed, deleted or handed out by
  that actor (the refusal says so);
* a role is handed out only to administrator accounts of the same organisation.

Every operation validates first, then runs in one ``transaction()`` with its audit rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from flask_appbuilder.security.sqla.models import (
    PermissionView,
    Role,
    assoc_permissionview_role,
    assoc_user_role,
)
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, false, insert, or_, select
from sqlalchemy.orm import joinedload

from app import errors
from app.actor import Actor
from app.extensions import db
from app.models import Account, OrganisationRole
from app.roles import PERSONNEL, PUBLIC, ROLE_TEMPLATES, SELF_SERVICE, area_menus, area_pairs
from app.scope import ADMIN_USER_TYPES, scope_for
from app.services import audit
from app.services.transaction import ServiceError, transaction

__all__ = [
    "NotFound", "RoleError", "ServiceError", "MAX_LABEL_LENGTH", "internal_name", "display_name",
    "held_permission_ids", "offered_permissions", "Grant", "offered_grants", "permission_ids_for",
    "grants_of", "own_roles", "exceeds_actor",
    "grantable_role_condition", "assignable_accounts", "holders", "validate", "create_role",
    "update_role", "delete_role", "remove_role_rows", "validate_holders", "set_holders",
]

#: longest role name; "org<id>:" plus the label must fit FAB's ab_role.name (64)
MAX_LABEL_LENGTH = 40
#: audit object type of custom roles
OBJECT_TYPE = "custom_role"
_INTERNAL = re.compile(r"^org\d+:(.+)$")


#: unknown, or not a role of the actor's organisation: 404
NotFound = errors.NotFound


class RoleError(ServiceError):
    """A refused change; ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message, field=field)


# ------------------------------------------------------------------ names
def internal_name(org_id: int, label: str) -> str:
    """ab_role.name of a custom role: unique across organisations."""
    return f"org{org_id}:{label}"


def display_name(role) -> str:
    """What users read for any role (FAB's Role or ours): the label of a custom role, else its name."""
    label = getattr(role, "label", None)
    if label:
        return label
    match = _INTERNAL.match(role.name or "")
    return match.group(1) if match else role.name


# ------------------------------------------------------------------ what the actor holds
def _actor(actor_id: int) -> Account:
    actor = db.session.get(Account, actor_id)
    if actor is None:
        raise NotFound(actor_id)
    return actor


def _is_admin(actor: Account) -> bool:
    return (actor.user_type is not None and actor.user_type.value in ADMIN_USER_TYPES
            and actor.organisation_id is not None and not scope_for(actor).is_none)


def held_permission_ids(actor_id: int):
    """Select of the ids of every permission (permission-view) the actor holds through their roles."""
    return (
        select(assoc_permissionview_role.c.permission_view_id)
        .select_from(assoc_permissionview_role.join(
            assoc_user_role, assoc_user_role.c.role_id == assoc_permissionview_role.c.role_id))
        .where(assoc_user_role.c.user_id == actor_id)
        .distinct()
    )


def offered_permissions(actor_id: int) -> list[PermissionView]:
    """The permissions a new or edited role may be given: exactly those the actor holds."""
    return (
        db.session.query(PermissionView)
        .options(joinedload(PermissionView.permission), joinedload(PermissionView.view_menu))
        .filter(PermissionView.id.in_(held_permission_ids(actor_id)))
        .order_by(PermissionView.view_menu_id, PermissionView.permission_id)
        .all()
    )


# ------------------------------------------------------------------ grants: an area at a level
@dataclass(frozen=True)
class Grant:
    """What the role screen offers as one checkbox: an area (专技人员档案) at a level (查看 / 维护 / 审核),
    standing for its permissions (its read or write permission and the menus that open it)."""

    area: str
    level: str
    permission_ids: frozenset

    @property
    def token(self) -> str:
        return f"{self.area}:{self.level}"


#: areas every account holds for itself (own account, own password): never offered, always included
_SELF_AREAS = {view for _permission, view in SELF_SERVICE} - {"Account"}


def _pairs_to_ids() -> dict[tuple[str, str], int]:
    rows = db.session.execute(
        select(PermissionView.id, PermissionView.permission_id, PermissionView.view_menu_id)).all()
    from flask_appbuilder.security.sqla.models import Permission, ViewMenu

    permissions = dict(db.session.execute(select(Permission.id, Permission.name)).all())
    views = dict(db.session.execute(select(ViewMenu.id, ViewMenu.name)).all())
    return {(permissions[p], views[v]): pk for pk, p, v in rows}


def offered_grants(actor_id: Optional[int]) -> list[Grant]:
    """Every (area, level) whose permissions the actor holds in full: what a role of theirs may grant.

    Without an actor: every grant there is (to describe any role in plain words).
    """
    ids = _pairs_to_ids()
    held = set(ids.values()) if actor_id is None else set(db.session.scalars(held_permission_ids(actor_id)))
    areas = set(area_menus()) | {view for (permission, view) in ids if permission in ("can_read", "can_write")}
    grants = []
    for area in sorted(areas - _SELF_AREAS):
        for level in ("read", "write"):
            if level == "write" and ("can_write", area) not in ids:
                continue
            pairs = [pair for pair in area_pairs(area, level) if pair in ids]
            if not pairs or (level == "read" and ("can_read", area) not in ids
                             and not any(p == "menu_access" for p, _v in pairs)):
                continue
            wanted = frozenset(ids[pair] for pair in pairs)
            if wanted <= held:
                grants.append(Grant(area, level, wanted))
    return grants


def permission_ids_for(actor_id: int, tokens: Iterable) -> list[int]:
    """The permissions of the chosen grants, plus the own-account ones every role carries.

    A token that was not offered (tampered, or beyond the actor) is refused next to the field.
    """
    offered = {grant.token: grant for grant in offered_grants(actor_id)}
    chosen = [str(token) for token in tokens]
    if any(token not in offered for token in chosen):
        raise RoleError(_("Not a valid choice"), "grants")
    if not chosen:
        raise RoleError(_("Choose at least one permission"), "grants")
    ids = _pairs_to_ids()
    held = set(db.session.scalars(held_permission_ids(actor_id)))
    wanted = set().union(*(offered[token].permission_ids for token in chosen))
    wanted |= {ids[pair] for pair in SELF_SERVICE if pair in ids and ids[pair] in held}
    return sorted(wanted)


def grants_of(permission_ids: Iterable[int], grants: Iterable[Grant]) -> set[str]:
    """Tokens of the grants a set of permissions covers in full (what the role's form shows ticked)."""
    have = set(permission_ids)
    return {grant.token for grant in grants if grant.permission_ids <= have}


def _extra_permissions(role_id_column, actor_id: int):
    """SQL: the role has a permission the actor does not hold."""
    return exists().where(
        assoc_permissionview_role.c.role_id == role_id_column,
        assoc_permissionview_role.c.permission_view_id.not_in(held_permission_ids(actor_id)),
    )


def exceeds_actor(actor_id: int, role_id: int) -> bool:
    """Whether the role grants something the actor does not hold."""
    return bool(db.session.scalar(select(_extra_permissions(role_id, actor_id))))


def own_roles(actor_id: int):
    """Query of the custom roles of the actor's organisation (nothing for a non-admin)."""
    actor = _actor(actor_id)
    query = db.session.query(OrganisationRole)
    if not _is_admin(actor):
        return query.filter(false())
    return query.filter(OrganisationRole.organisation_id == actor.organisation_id)


def _own_role(actor: Account, role_id) -> OrganisationRole:
    from app.interface import parse_id

    role_id = parse_id(role_id)
    if role_id is None:
        raise NotFound()
    role = db.session.get(OrganisationRole, role_id)
    if (role is None or role.organisation_id is None or not _is_admin(actor)
            or role.organisation_id != actor.organisation_id):
        raise NotFound(role_id)
    return role


def grantable_role_condition(actor: Account, keep_for_account_id: Optional[int] = None):
    """SQL on ab_role: roles the actor may hand out to an account.

    The roles they hold, plus their organisation's custom roles that grant nothing they lack; when
    editing an account, also the roles it already has (keeping them widens nothing).
    """
    table = Role.__table__
    held = select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == actor.id)
    conditions = [table.c.id.in_(held)]
    if _is_admin(actor):
        conditions.append(and_(table.c.organisation_id == actor.organisation_id,
                               ~_extra_permissions(table.c.id, actor.id)))
    if keep_for_account_id is not None:
        conditions.append(table.c.id.in_(
            select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == keep_for_account_id)))
    return or_(*conditions)


def assignable_accounts(actor_id: int) -> list[Account]:
    """Administrator accounts of the actor's organisation (the only ones a custom role may go to)."""
    actor = _actor(actor_id)
    if not _is_admin(actor):
        return []
    return (
        db.session.query(Account)
        .filter(Account.organisation_id == actor.organisation_id,
                Account.user_type.in_(sorted(ADMIN_USER_TYPES)))
        .order_by(Account.is_super_admin.desc(), Account.id)
        .all()
    )


def holders(role_id: int) -> list[Account]:
    """Accounts that hold the role."""
    return (
        db.session.query(Account)
        .filter(Account.id.in_(select(assoc_user_role.c.user_id).where(assoc_user_role.c.role_id == role_id)))
        .order_by(Account.id)
        .all()
    )


# ------------------------------------------------------------------ create / edit / delete
@dataclass
class RoleChange:
    """A validated role: what create_role or update_role will store."""

    actor: Account
    role: Optional[OrganisationRole]
    label: str
    permissions: list[PermissionView]


def _pair(pv: PermissionView) -> str:
    return f"{pv.permission.name} {pv.view_menu.name}"


def _role_snapshot(role: OrganisationRole) -> dict:
    return {"label": role.label, "name": role.name, "organisation_id": role.organisation_id,
            "permissions": sorted(_pair(pv) for pv in role.permissions)}


def validate(actor_id: int, label: str, permission_ids: Iterable, role_id=None) -> RoleChange:
    """Check a new (role_id None) or edited role; raise NotFound or RoleError, change nothing."""
    actor = _actor(actor_id)
    if not _is_admin(actor):
        raise RoleError(_("Only administrators of an approved organisation can manage roles"))
    role = _own_role(actor, role_id) if role_id is not None else None
    if role is not None and exceeds_actor(actor.id, role.id):
        raise RoleError(_("This role has permissions you do not hold yourself: you cannot change it"))
    label = (label or "").strip()
    if not label:
        raise RoleError(_("Enter a role name"), "label")
    if len(label) > MAX_LABEL_LENGTH:
        raise RoleError(_("The role name can have at most %(n)d characters", n=MAX_LABEL_LENGTH), "label")
    if label in ROLE_TEMPLATES or label == PUBLIC:
        raise RoleError(_("This name belongs to a built-in role: choose another"), "label")
    with db.session.no_autoflush:
        clash = db.session.scalar(
            select(OrganisationRole.id).where(
                OrganisationRole.organisation_id == actor.organisation_id,
                OrganisationRole.label == label,
                OrganisationRole.id != (role.id if role is not None else -1),
            )
        )
    if clash is not None:
        raise RoleError(_("Your organisation already has a role with this name"), "label")
    try:
        wanted = {int(pk) for pk in permission_ids}
    except (TypeError, ValueError):
        raise RoleError(_("You can only grant permissions you hold yourself"), "permissions") from None
    if not wanted:
        raise RoleError(_("Choose at least one permission"), "permissions")
    offered = {pv.id: pv for pv in offered_permissions(actor.id)}
    if not wanted <= set(offered):
        raise RoleError(_("You can only grant permissions you hold yourself"), "permissions")
    return RoleChange(actor, role, label, [offered[pk] for pk in sorted(wanted)])


def _set_permissions(role: OrganisationRole, permissions: list[PermissionView]) -> None:
    """Write the role's permissions straight to the association table.

    FAB's Role.permissions back-reference (PermissionView.role) only accepts FAB's own Role class
    at flush time, so the rows are written with Core and the collection is reloaded afterwards.
    """
    db.session.flush()
    db.session.execute(delete(assoc_permissionview_role).where(assoc_permissionview_role.c.role_id == role.id))
    if permissions:
        db.session.execute(insert(assoc_permissionview_role),
                           [{"role_id": role.id, "permission_view_id": pv.id} for pv in permissions])
    db.session.expire(role, ["permissions"])


def create_role(actor: Actor, label: str, permission_ids: Iterable) -> OrganisationRole:
    """新增角色: a role of the actor's organisation with some of the actor's own permissions."""
    change = validate(actor.id, label, permission_ids)
    org_id = change.actor.organisation_id
    with transaction():
        role = OrganisationRole(name=internal_name(org_id, change.label), label=change.label,
                                organisation_id=org_id)
        db.session.add(role)
        _set_permissions(role, change.permissions)
        audit.record("create", role, object_type=OBJECT_TYPE, actor=actor,
                     after=_role_snapshot(role))
    return role


def update_role(actor: Actor, role_id: int, label: str, permission_ids: Iterable) -> OrganisationRole:
    """Rename a role and set its permissions (again only among the actor's own)."""
    change = validate(actor.id, label, permission_ids, role_id=role_id)
    role = change.role
    before = _role_snapshot(role)
    with transaction():
        role.label = change.label
        role.name = internal_name(role.organisation_id, change.label)
        _set_permissions(role, change.permissions)
        after = _role_snapshot(role)
        audit.record("update", role, object_type=OBJECT_TYPE, actor=actor,
                     before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v})
    return role


def remove_role_rows(role_id: int) -> None:
    """Delete a custom role with its grants, also where the database does not cascade (SQLite)."""
    db.session.execute(delete(assoc_permissionview_role).where(assoc_permissionview_role.c.role_id == role_id))
    db.session.execute(delete(assoc_user_role).where(assoc_user_role.c.role_id == role_id))
    db.session.execute(delete(OrganisationRole.__table__).where(OrganisationRole.__table__.c.id == role_id))


def delete_role(acting: Actor, role_id: int) -> None:
    """Delete a role nobody holds any more."""
    actor = _actor(acting.id)
    if not _is_admin(actor):
        raise NotFound(role_id)
    role = _own_role(actor, role_id)
    if exceeds_actor(actor.id, role.id):
        raise RoleError(_("This role has permissions you do not hold yourself: you cannot change it"))
    count = len(holders(role.id))
    if count:
        raise RoleError(_("This role is still given to %(n)d administrators: take it from them first",
                          n=count))
    with transaction():
        audit.record("delete", role, object_type=OBJECT_TYPE, actor=acting,
                     before=_role_snapshot(role))
        db.session.flush()
        remove_role_rows(role.id)
        db.session.expunge(role)


# ------------------------------------------------------------------ 分配角色
@dataclass
class HolderChange:
    actor: Account
    role: OrganisationRole
    grant: list[Account]
    revoke: list[Account]


def validate_holders(actor_id: int, role_id: int, account_ids: Iterable) -> HolderChange:
    """Check who should hold the role: administrators of the actor's own organisation only."""
    actor = _actor(actor_id)
    if not _is_admin(actor):
        raise NotFound(role_id)
    role = _own_role(actor, role_id)
    if exceeds_actor(actor.id, role.id):
        raise RoleError(_("This role has permissions you do not hold yourself: you cannot change it"))
    try:
        wanted = {int(pk) for pk in account_ids}
    except (TypeError, ValueError):
        raise RoleError(_("Only administrators of your own organisation can be given this role"),
                        "accounts") from None
    allowed = {a.id: a for a in assignable_accounts(actor.id)}
    if not wanted <= set(allowed):
        raise RoleError(_("Only administrators of your own organisation can be given this role"), "accounts")
    current = {a.id: a for a in holders(role.id)}
    grant = [allowed[pk] for pk in sorted(wanted - set(current))]
    # a holder outside the organisation (given by the province) is not the actor's to take away
    revoke = [current[pk] for pk in sorted(set(current) - wanted) if pk in allowed]
    for account in revoke:
        if not any(r.id != role.id and r.name != PERSONNEL for r in account.roles):
            raise RoleError(_("%(name)s would be left without any role: give them another role first",
                              name=account.real_name or account.username), "accounts")
    return HolderChange(actor, role, grant, revoke)


def set_holders(actor: Actor, role_id: int, account_ids: Iterable) -> HolderChange:
    """分配角色: give the role to exactly these administrators of the organisation; audited per account."""
    change = validate_holders(actor.id, role_id, account_ids)
    role_row = db.session.get(Role, change.role.id)  # the class FAB's Account.roles holds
    with transaction():
        for account in change.grant:
            account.roles.append(role_row)
            audit.record("grant_role", account, object_type="account", actor=actor,
                         after={"role": change.role.label}, comment=change.role.label)
        for account in change.revoke:
            account.roles = [r for r in account.roles if r.id != change.role.id]
            audit.record("revoke_role", account, object_type="account", actor=actor,
                         before={"role": change.role.label}, comment=change.role.label)
    return change
