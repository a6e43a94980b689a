"""Dashboard figures: counts in scope and a registry of to-do kinds that later features fill."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import func, select

from app.extensions import db
from app.models import Organisation, OrganisationStatus, OrganisationType, Person, PersonStatus
from app.scope import Scope, apply_scope, scope_for


@dataclass
class TodoKind:
    """One kind of pending work: a label, a count in scope and the list it links to."""

    key: str
    label: str
    #: (scope, actor id) -> pending items the viewer may still decide
    count: Callable[[Scope, int | None], int]
    endpoint: str
    #: permission area the viewer needs to see this kind (None: everyone with a scope)
    area: str | None = None
    #: query arguments of the link (the review lists open on their pending items)
    args: dict | None = None


#: to-do kinds register themselves here (review lists add theirs)
TASK_REGISTRY: dict[str, TodoKind] = {}


def register_todo(kind: TodoKind) -> None:
    TASK_REGISTRY[kind.key] = kind


@dataclass
class Summary:
    organisation: Organisation | None
    scope: Scope
    counts: dict = field(default_factory=dict)
    todos: list = field(default_factory=list)
    #: (count key, label) of the figures that mean something for this organisation
    tiles: list = field(default_factory=list)


def tiles_for(org: Organisation | None) -> list:
    """Departments see what lies below them; a unit or base only its own personnel."""
    from flask_babel import lazy_gettext as _l

    if org is None:
        return []
    if org.type in (OrganisationType.province, OrganisationType.supervisory):
        return [("supervisory", _l("Supervisory departments")), ("employer", _l("Employer units")),
                ("training_base", _l("Training bases")), ("persons", _l("Professional personnel"))]
    if org.type == OrganisationType.employer:
        return [("persons", _l("Professional personnel"))]
    return []


#: most scopes whose figures one process keeps
_COUNTS_MAX = 1024


def invalidate_counts() -> None:
    """A decision changed what the dashboards count: once it commits, every host computes the figures again
    at its next page (the cache key carries a generation shared through Redis, app/shared.py)."""
    from app.shared import bump_after_commit

    bump_after_commit("dashboard")


def scope_counts(scope: Scope) -> dict:
    """Organisations by type and active personnel in a scope, reused per process for a short while
    (DASHBOARD_COUNTS_TTL seconds: the figures are informational; the to-do counts stay live)."""
    from flask import current_app

    from app.shared import generation

    ttl = current_app.config.get("DASHBOARD_COUNTS_TTL", 60)
    key = (scope.kind, scope.prefix, generation("dashboard"))
    _counts_cache = current_app.extensions.setdefault("jijiao_dashboard_counts", {})  # this host's own
    cached = _counts_cache.get(key)
    if ttl and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    org_counts = dict(
        db.session.execute(
            apply_scope(
                select(Organisation.type, func.count())
                .where(Organisation.status == OrganisationStatus.approved)
                .where(Organisation.id != (scope.org_id or -1))
                .group_by(Organisation.type),
                Organisation,
                scope,
            )
        ).all()
    )
    persons = db.session.scalar(
        apply_scope(
            select(func.count()).select_from(Person).where(Person.status == PersonStatus.active),
            Person,
            scope,
        )
    )
    counts = {
        "employer": org_counts.get(OrganisationType.employer, 0),
        "training_base": org_counts.get(OrganisationType.training_base, 0),
        "supervisory": org_counts.get(OrganisationType.supervisory, 0),
        "persons": persons or 0,
    }
    if len(_counts_cache) > _COUNTS_MAX:
        _counts_cache.clear()
    _counts_cache[key] = (time.monotonic() + ttl, counts)
    return counts


def summary(user) -> Summary:
    scope = scope_for(user)
    result = Summary(organisation=user.organisation, scope=scope)
    if scope.is_none:
        return result
    result.counts = scope_counts(scope)
    result.tiles = tiles_for(user.organisation)
    from flask import current_app

    perms = current_app.appbuilder.sm._permission_set(user)
    result.todos = [
        (kind, kind.count(scope, user.id)) for kind in TASK_REGISTRY.values()
        if kind.area is None or ("can_read", kind.area) in perms
    ]
    return result
