"""The audit-log search, shared by its page and its export (written by the one exporter, app/io/export.py)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Account, AuditLog
from app.scope import Scope
from app.validators import normalize_id_number

#: rows fetched from the database at a time
CHUNK = 1000


# ------------------------------------------------------------------ 审计日志
@dataclass
class AuditFilters:
    """What the viewer searches the audit log by; all optional."""

    actor: str = ""
    action: str = ""
    date_from: Optional[datetime.date] = None
    date_to: Optional[datetime.date] = None


def audit_log_query(scope: Scope, filters: AuditFilters):
    """Audit rows of the viewer's subtree (by the path stored on each row), newest first."""
    query = select(AuditLog)
    if scope.is_none:
        return query.where(AuditLog.id.is_(None))
    if not scope.is_all:
        query = query.where(AuditLog.org_path.like(scope.prefix + "%"))
    term = (filters.actor or "").strip()
    if term:
        number = normalize_id_number(term)
        actors = select(Account.id).where(
            or_(Account.username == number, Account.real_name.contains(term, autoescape=True)))
        query = query.where(AuditLog.actor_id.in_(actors))
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.date_from:
        query = query.where(AuditLog.created_on >= datetime.datetime.combine(filters.date_from, datetime.time.min))
    if filters.date_to:
        end = datetime.datetime.combine(filters.date_to + datetime.timedelta(days=1), datetime.time.min)
        query = query.where(AuditLog.created_on < end)
    return query.order_by(AuditLog.created_on.desc(), AuditLog.id.desc())


def iter_audit_rows(query, to_row: Callable[[AuditLog], Sequence], limit: Optional[int] = None):
    """Rows of an audit query for export, fetched in chunks (the exporter caps what it writes)."""
    query = query.options(joinedload(AuditLog.actor))
    if limit is not None:
        query = query.limit(limit + 1)
    result = db.session.execute(query.execution_options(yield_per=CHUNK)).scalars()
    for item in result:
        yield to_row(item)
