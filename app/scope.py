"""Data scope (数据权限): one subtree filter shared by every view, API, export and statistic.

An admin sees exactly the rows whose organisation lies in their own organisation's subtree;
the province admin sees everything; anyone else sees nothing. Out-of-scope answers 404.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from flask import abort, g
from flask_appbuilder.models.filters import BaseFilter
from flask_login import current_user
from sqlalchemy import false, select
from sqlalchemy import inspect as sa_inspect

from app.extensions import db
from app.models import Organisation, OrganisationStatus, OrganisationType


@dataclass(frozen=True)
class Scope:
    """What part of the organisation tree a viewer may see."""

    #: "all", "none" or "subtree"
    kind: str
    #: path prefix of the subtree root, e.g. "/1/12/"
    prefix: str = ""
    org_id: Optional[int] = None

    @property
    def is_all(self) -> bool:
        return self.kind == "all"

    @property
    def is_none(self) -> bool:
        return self.kind == "none"

    def covers_path(self, path: Optional[str]) -> bool:
        if self.is_all:
            return True
        if self.is_none or not path:
            return False
        return path.startswith(self.prefix)


NO_SCOPE = Scope("none")
ALL_SCOPE = Scope("all")

#: user types whose accounts administer an organisation subtree
ADMIN_USER_TYPES = {"supervisory", "employer", "training_base"}


def scope_for(user: Any) -> Scope:
    """Scope of a user: their organisation's subtree once that organisation is approved."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    if getattr(user, "user_type", None) is None or user.user_type.value not in ADMIN_USER_TYPES:
        return NO_SCOPE
    org = user.organisation
    if org is None or org.status != OrganisationStatus.approved:
        return NO_SCOPE
    if org.type == OrganisationType.province:
        return ALL_SCOPE
    return Scope("subtree", prefix=org.path, org_id=org.id)


def current_scope() -> Scope:
    """The viewer's scope, computed once per request (web session or JWT)."""
    cached = g.get("_data_scope")
    if cached is not None:
        return cached
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        user = current_user if current_user and current_user.is_authenticated else None
    scope = scope_for(user)
    g._data_scope = scope
    return scope


def subtree_org_ids(scope: Scope):
    """Subquery of organisation ids in scope (only meaningful for a subtree scope)."""
    return select(Organisation.id).where(Organisation.path.like(scope.prefix + "%"))


def scope_clause(model: Any, scope: Scope):
    """SQL condition restricting `model` to `scope`; None means no restriction."""
    if scope.is_all:
        return None
    if scope.is_none:
        return false()
    if model is Organisation:
        return Organisation.path.like(scope.prefix + "%")
    if hasattr(model, "scope_path_column"):
        return model.scope_path_column().like(scope.prefix + "%")
    if hasattr(model, "scope_condition"):
        return model.scope_condition(subtree_org_ids(scope))
    column = model.scope_org_id_column()
    return column.in_(subtree_org_ids(scope))


def apply_scope(query, model: Any, scope: Optional[Scope] = None):
    """Restrict a Query or Select to the scope."""
    clause = scope_clause(model, scope or current_scope())
    if clause is None:
        return query
    return query.filter(clause) if hasattr(query, "filter") else query.where(clause)


def is_scoped_model(model: Any) -> bool:
    return hasattr(model, "scope_org_id_column")


def org_path(org_id: Optional[int]) -> Optional[str]:
    if org_id is None:
        return None
    return db.session.scalar(select(Organisation.path).where(Organisation.id == org_id))


def fk_value(obj: Any, attribute) -> Optional[int]:
    """Current value of a foreign key, also when only its relationship was assigned."""
    state = sa_inspect(obj)
    column = attribute.property.columns[0]
    for rel in state.mapper.relationships:
        if column in rel.local_columns and rel.key in state.dict:
            history = state.attrs[rel.key].history
            if history.added or not state.attrs[attribute.key].history.added:
                target = state.dict[rel.key]
                return target.id if target is not None else None
    return getattr(obj, attribute.key)


def object_org_id(obj: Any) -> Optional[int]:
    """The organisation an object belongs to."""
    return fk_value(obj, type(obj).scope_org_id_column())


def object_in_scope(obj: Any, scope: Optional[Scope] = None) -> bool:
    """Whether an object (new, edited or stored) belongs to the scope."""
    scope = scope or current_scope()
    if scope.is_all:
        return True
    if scope.is_none:
        return False
    with db.session.no_autoflush:
        if isinstance(obj, Organisation):
            if obj.id is not None and obj.id == scope.org_id:
                # the scope root may be edited but never moved from here
                return fk_value(obj, Organisation.parent_id) == _stored_parent_id(obj.id)
            # a new or moved organisation must hang below something in scope
            return scope.covers_path(org_path(fk_value(obj, Organisation.parent_id)))
        return scope.covers_path(org_path(object_org_id(obj)))


def _stored_parent_id(org_id: int) -> Optional[int]:
    return db.session.scalar(select(Organisation.parent_id).where(Organisation.id == org_id))


def ensure_in_scope(obj: Any, scope: Optional[Scope] = None) -> None:
    """404 unless the object is in scope: out-of-scope never reveals existence."""
    if obj is None or not object_in_scope(obj, scope):
        abort(404)


class ScopeFilter(BaseFilter):
    """FAB filter that applies the viewer's data scope; used as a base filter everywhere."""

    name = "数据权限"
    arg_name = "scope"

    def apply(self, query, value):
        return apply_scope(query, self.model)


SCOPE_BASE_FILTER = ["id", ScopeFilter, None]
