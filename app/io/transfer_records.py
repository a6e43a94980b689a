"""调转记录 export (manual 5.1.6): the records the viewer's list shows, through the one exporter.

Runs in the request or in a worker, so everything comes from (actor, params): the list's search filters
(``filters``), the direction tab (``direction``: in / out) and the actor's scope.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import aliased

from app.actor import Actor
from app.extensions import db
from app.io.export import ExportSpec, capped_count, source
from app.io.sources import filtered_ids, view_named
from app.models import Account, InternalDepartment, Organisation, ReviewStatus, Transfer
from app.scope import subtree_org_ids
from app.services.transfers import direction_label

HEADERS = [_l("Direction"), _l("Full name"), _l("ID number"), _l("Transferred out of"), _l("Transferred to"),
           _l("Internal department"), _l("Effective date"), _l("Transfer reason"), _l("Review status"),
           _l("Submitted by"), _l("Submitted on"), _l("Decided by"), _l("Decided on"), _l("Reject reason")]


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


@source("transfers")
def transfer_export(actor: Actor, params: dict) -> ExportSpec:
    """调转记录 as the viewer filtered it: both sides of the viewer's subtree, newest first."""
    scope = actor.scope
    ids = filtered_ids(view_named("TransferRecordView"), Transfer, params.get("filters") or {}, actor)
    direction = params.get("direction")
    if direction in ("in", "out") and not scope.is_all:
        column = Transfer.to_org_id if direction == "in" else Transfer.from_org_id
        ids = ids.filter(column.in_(subtree_org_ids(scope)))
    sender, receiver = aliased(Organisation), aliased(Organisation)
    submitter, reviewer = aliased(Account), aliased(Account)
    query = (
        select(Transfer.person_name, Transfer.id_number, sender.name, sender.path, receiver.name, receiver.path,
               InternalDepartment.name, Transfer.effective_date, Transfer.reason,
               type_coerce(Transfer.status, String), submitter.real_name, Transfer.submitted_on,
               reviewer.real_name, Transfer.reviewed_on, Transfer.reject_reason)
        .join(sender, sender.id == Transfer.from_org_id).join(receiver, receiver.id == Transfer.to_org_id)
        .outerjoin(InternalDepartment, InternalDepartment.id == Transfer.to_department_id)
        .outerjoin(submitter, submitter.id == Transfer.submitted_by_id)
        .outerjoin(reviewer, reviewer.id == Transfer.reviewed_by_id)
        .where(Transfer.id.in_(ids.subquery().select()))
        .order_by(Transfer.submitted_on.desc(), Transfer.id.desc())
    )
    states = {member.value: str(member.label) for member in ReviewStatus}

    def rows():
        result = db.session.connection().execute(query.execution_options(stream_results=True, max_row_buffer=1000))
        for (name, number, from_name, from_path, to_name, to_path, department, effective, reason, status,
             submitted_by, submitted_on, reviewed_by, reviewed_on, reject_reason) in result:
            yield (direction_label(scope, from_path, to_path), name, number, from_name, to_name, department or "",
                   effective.isoformat() if effective else "", reason, states.get(status, ""), submitted_by or "",
                   _when(submitted_on), reviewed_by or "", _when(reviewed_on), reject_reason or "")

    return ExportSpec(title=_("Transfer records"), headers=[str(h) for h in HEADERS], rows=rows,
                      count=lambda cap: capped_count(ids, cap),
                      widths=[10, 10, 21, 28, 28, 14, 12, 30, 10, 10, 20, 10, 20, 30])
