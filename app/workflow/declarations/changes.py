"""变更审核管理 (manual 5.1.4) and 更换上级部门 (5.1.1.1): changes of persons and organisations."""
from __future__ import annotations

import datetime
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation, Person, ReviewKind, ReviewRequest
from app.workflow.declarations import common
from app.workflow.kinds import Kind, Menu, Side, declare
from app.workflow.states import Decision

CATEGORY = "Change review"
AREA = "ChangeReview"

#: fields a change request may touch, per kind
PERSON_CHANGE_FIELDS = ("title_series_id", "title_level_id", "title_name", "title_date")
ORGANISATION_CHANGE_FIELDS = ("name", "uscc", "region", "contact_person", "phone", "address")


def apply_changes(model, fields):
    """Effect: the approved values (the request's ``after``) are written to the subject."""
    def effect(ids, actor, now):
        rows = db.session.execute(
            select(ReviewRequest.subject_id, ReviewRequest.after).where(ReviewRequest.id.in_(ids))
        ).all()
        for subject_id, after in rows:
            obj = db.session.get(model, subject_id)
            for key, value in json.loads(after or "{}").items():
                if key not in fields:
                    continue
                if key.endswith("_date") and value:
                    value = datetime.date.fromisoformat(value)
                setattr(obj, key, value)
        db.session.flush()

    return effect


def move_departments(ids, actor, now):
    """Effect of an approved parent change: each department and its whole subtree move."""
    from app.services.placement import move_subtree

    for subject_id, target in db.session.execute(
        select(ReviewRequest.subject_id, ReviewRequest.target_org_id).where(ReviewRequest.id.in_(ids))
    ).all():
        move_subtree(subject_id, target)


def _change(kind: ReviewKind, label, menu_name, icon, **extra):
    person = kind == ReviewKind.person_change
    spec = dict(
        key=kind.value, model=ReviewRequest, label=label, area=AREA,
        menu=Menu(CATEGORY, menu_name, icon), discriminator=("kind", kind),
        subject_account=common.person_account if person else None,
        list_columns=common.LIST_COLUMNS if person else common.ORG_LIST_COLUMNS,
        show_columns=common.SHOW_COLUMNS, search_columns=common.SEARCH_COLUMNS,
        order_columns=common.ORDER_COLUMNS,
        label_columns=common.PERSON_LABELS if person else common.REQUEST_LABELS,
        detail=common.person_detail if person else common.organisation_detail,
        one_pending_per=("kind", "subject_id"), describe=common.describe,
        audit_object_type="review_request", audit_label=_l("Review request"),
        files=(("", _l("Evidence files")),) if person else (),
    )
    spec.update(extra)
    return declare(Kind(**spec))


PERSON_CHANGE = _change(
    ReviewKind.person_change, _l("Personnel change review"), "Personnel change review", "fa-id-card",
    effects={Decision.approve: apply_changes(Person, PERSON_CHANGE_FIELDS)},
)
ORGANISATION_CHANGE = _change(
    ReviewKind.organisation_change, _l("Organisation change review"), "Organisation change review",
    "fa-pencil",
    effects={Decision.approve: apply_changes(Organisation, ORGANISATION_CHANGE_FIELDS)},
)
#: 更换上级部门: the old parent's side (it or a department above the moving one) and the new parent's side
PARENT_CHANGE = _change(
    ReviewKind.parent_change, _l("Parent change review"), "Parent change review", "fa-exchange",
    list_columns=common.ORG_LIST_COLUMNS[:3] + ["target_organisation"] + common.ORG_LIST_COLUMNS[3:],
    show_columns=common.SHOW_COLUMNS + ["target_organisation"],
    sides=(
        Side("source", "org_id", strictly_above=True, approved_by_column="source_approved_by_id",
             label=_l("Current parent department")),
        Side("target", "target_org_id", strictly_above=False, approved_by_column="target_approved_by_id",
             label=_l("New parent department")),
    ),
    effects={Decision.approve: move_departments},
)
