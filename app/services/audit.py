"""Audit trail: one row per change, written in the same transaction as the change."""
from __future__ import annotations

import datetime
import enum
import json
from typing import Any, Optional

from sqlalchemy import inspect as sa_inspect

from app.actor import Actor
from app.extensions import db
from app.models import AuditLog, Organisation
from app.scope import object_org_id, org_path

#: columns never written to the audit log
SECRET_COLUMNS = {"password"}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def snapshot(obj: Any) -> dict:
    """Column values of an object, secrets left out."""
    mapper = sa_inspect(type(obj))
    return {
        c.key: _plain(getattr(obj, c.key))
        for c in mapper.column_attrs
        if c.key not in SECRET_COLUMNS
    }


def pending_changes(obj: Any) -> tuple[dict, dict]:
    """Before/after values of the columns changed on obj but not yet flushed."""
    state = sa_inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in SECRET_COLUMNS:
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            before[attr.key] = _plain(hist.deleted[0]) if hist.deleted else None
            after[attr.key] = _plain(hist.added[0]) if hist.added else None
    for rel in state.mapper.relationships:
        if rel.direction.name == "MANYTOMANY":
            hist = state.attrs[rel.key].history
            if hist.added or hist.deleted:
                kept = [o.id for o in hist.unchanged or ()]
                before[rel.key] = sorted(kept + [o.id for o in hist.deleted or ()])
                after[rel.key] = sorted(kept + [o.id for o in hist.added or ()])
            continue
        if rel.direction.name != "MANYTOONE":
            continue
        hist = state.attrs[rel.key].history
        if hist.added or hist.deleted:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            for col in rel.local_columns:
                before[col.key] = getattr(old, "id", None)
                after[col.key] = getattr(new, "id", None)
    return before, after


def _dumps(data: Optional[dict]) -> Optional[str]:
    if data is None:
        return None
    return json.dumps(data, ensure_ascii=False, default=str, sort_keys=True)


def _object_org_path(obj: Any) -> Optional[str]:
    if isinstance(obj, Organisation):
        return obj.path
    if obj is not None and hasattr(type(obj), "scope_org_id_column"):
        return org_path(object_org_id(obj))
    return None


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Actor,
    object_type: Optional[str] = None,
    object_id: Optional[int] = None,
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    comment: Optional[str] = None,
    org_path_value: Optional[str] = None,
) -> AuditLog:
    """Add an audit row to the current transaction (the caller's transaction() commits it)."""
    actor_id, ip = actor.id, actor.ip
    with db.session.no_autoflush:
        path = org_path_value or _object_org_path(obj)
    row = AuditLog(
        actor_id=actor_id,
        action=action,
        object_type=object_type or (type(obj).__tablename__ if obj is not None else "system"),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        org_path=path,
        before=_dumps(before),
        after=_dumps(after),
        comment=comment,
        ip=ip,
    )
    db.session.add(row)
    return row
