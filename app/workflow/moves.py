"""Re-parenting a subtree: one UPDATE rewrites the path and depth of every descendant."""
from __future__ import annotations

from sqlalchemy import func, literal, update

from app.extensions import db
from app.models import AuditLog, Organisation, Person
from app.services.transaction import ServiceError
from flask_babel import gettext as _


def move_subtree(org_id: int, new_parent_id: int) -> None:
    org = db.session.get(Organisation, org_id)
    parent = db.session.get(Organisation, new_parent_id)
    if parent.path.startswith(org.path):
        raise ServiceError(_("A department cannot be moved under itself or its own subordinates"))
    old_prefix, new_prefix = org.path, f"{parent.path}{org.id}/"
    delta = parent.depth + 1 - org.depth
    db.session.execute(
        update(Organisation)
        .where(Organisation.path.like(old_prefix + "%"))
        .values(
            path=literal(new_prefix) + func.substr(Organisation.path, len(old_prefix) + 1),
            depth=Organisation.depth + delta,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Organisation).where(Organisation.id == org.id).values(parent_id=parent.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Person)
        .where(Person.org_path.like(old_prefix + "%"))
        .values(org_path=literal(new_prefix) + func.substr(Person.org_path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False)
    )
    # the audit trail of the subtree follows it, so the new parent's scope sees its history
    db.session.execute(
        update(AuditLog)
        .where(AuditLog.org_path.like(old_prefix + "%"))
        .values(org_path=literal(new_prefix) + func.substr(AuditLog.org_path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
