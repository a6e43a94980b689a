"""An organisation's own submissions of a review kind: file one, edit it, resubmit a rejected one, withdraw.

Training plans, programme declarations, annual summaries and annual work materials all work this way:
an admin of the submitting organisation fills in a form, the item goes to the reviewers as pending, the
submitter sees the decision and its reason, withdraws a pending item, corrects and resubmits a rejected
one. Each kind describes itself once as an ``OwnSubmission`` (``app/services/training.py``,
``app/services/materials.py``); the state changes go through ``app/workflow/submissions.py``.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app.actor import Actor
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.interface import parse_id
from app.models import Organisation, OrganisationStatus, ReviewStatus
from app.services import audit
from app.services.transaction import transaction
from app.workflow import submissions
from app.workflow.kinds import kind_for
from app.workflow.states import Decision

#: states that hold "the" item of an organisation and year (the partial unique indexes say the same)
HOLDING = (ReviewStatus.pending, ReviewStatus.approved)
FIRST_YEAR = 2000


@dataclass(frozen=True)
class OwnSubmission:
    """How one kind is filed by an organisation."""

    kind_key: str
    #: organisation types whose admins file it
    org_types: frozenset
    #: the form's values -> the columns to store (validated, InvalidInput with the field otherwise)
    clean: Callable[[dict], dict]
    #: at most one pending or approved item per organisation and year
    one_per_year: bool = False
    #: states in which the submitter may edit: rejected (then it is resubmitted), and pending for some kinds
    editable: tuple = (ReviewStatus.rejected,)
    #: runs once the new item has its id (e.g. the stable programme code)
    after_create: Optional[Callable[[Any], None]] = None
    #: message when the organisation already holds an item for the year
    duplicate_message: Callable[[], str] = field(
        default=lambda: _("Your organisation already has a pending or approved submission for this year"))

    @property
    def kind(self):
        return kind_for(self.kind_key)

    @property
    def model(self):
        return self.kind.model


def check_year(year, field_name: str = "year") -> int:
    """A year between 2000 and next year."""
    latest = datetime.date.today().year + 1
    if not isinstance(year, int) or not FIRST_YEAR <= year <= latest:
        raise InvalidInput(_("Choose a year between %(first)d and %(last)d", first=FIRST_YEAR, last=latest),
                           field=field_name)
    return year


def check_count(value, field_name: str, maximum: int = 10_000_000) -> int:
    """A whole number from 0 to a bound."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise InvalidInput(_("Enter a whole number between 0 and %(n)d", n=maximum), field=field_name)
    return value


def check_text(value, field_name: str, max_length: int, required: bool = True) -> Optional[str]:
    """Text stripped of surrounding blanks; required text may not be empty."""
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise InvalidInput(_("This field must be text"), field=field_name)
    if required and not text:
        raise InvalidInput(_("This field is required"), field=field_name)
    if len(text) > max_length:
        raise InvalidInput(_("At most %(n)d characters", n=max_length), field=field_name)
    return text or None


def submitting_organisation(actor: Actor, spec: OwnSubmission) -> Organisation:
    """The actor's organisation, approved and of a type that files this kind."""
    org = actor.organisation
    if org is None or org.type not in spec.org_types:
        raise NotAllowed(_("Your organisation does not file this kind of submission"))
    if org.status != OrganisationStatus.approved:
        raise NotAllowed(_("Your organisation has not been approved yet"))
    return org


def own_item(spec: OwnSubmission, item_id, actor: Actor) -> Any:
    """An item of the actor's own organisation, or NotFound (another organisation's is never revealed)."""
    pk = parse_id(item_id)
    item = db.session.get(spec.model, pk) if pk is not None else None
    org = actor.organisation
    if item is None or org is None or item.org_id != org.id:
        raise NotFound()
    return item


def _ensure_one_per_year(spec: OwnSubmission, org_id: int, year: int, exclude_id: Optional[int] = None) -> None:
    if not spec.one_per_year:
        return
    model = spec.model
    query = select(model.id).where(model.org_id == org_id, model.year == year, model.status.in_(HOLDING))
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict(spec.duplicate_message(), field="year")


def create(spec: OwnSubmission, actor: Actor, values: dict, attach: Optional[Callable[[Any], None]] = None) -> Any:
    """File a new item for the actor's organisation; ``attach`` stores its files in the same transaction."""
    org = submitting_organisation(actor, spec)
    columns = spec.clean(dict(values))
    with transaction():
        if "year" in columns:
            _ensure_one_per_year(spec, org.id, columns["year"])
        item = spec.model(org_id=org.id, **columns)
        submissions.submit(spec.kind_key, item, actor)
        if spec.after_create is not None:
            spec.after_create(item)
        if attach is not None:
            attach(item)
    return item


def may_edit(spec: OwnSubmission, item, actor: Actor) -> bool:
    """Whether the actor may edit the item now (its own submission, in an editable state)."""
    return item.status in spec.editable and item.submitted_by_id is not None and item.submitted_by_id == actor.id


def edit(spec: OwnSubmission, actor: Actor, item_id, values: dict,
         attach: Optional[Callable[[Any], None]] = None) -> Any:
    """Correct one's own item: a rejected one goes back to the reviewers, a pending one stays pending."""
    item = own_item(spec, item_id, actor)
    if item.submitted_by_id != actor.id:
        raise NotAllowed(_("Only the administrator who submitted it may change it"))
    if item.status not in spec.editable:
        raise InvalidInput(_("This submission cannot be changed in its current state"))
    columns = spec.clean(dict(values))

    def update(target):
        for key, value in columns.items():
            setattr(target, key, value)
        if "year" in columns:
            _ensure_one_per_year(spec, target.org_id, columns["year"], exclude_id=target.id)
        if attach is not None:
            attach(target)

    with transaction():
        if item.status == ReviewStatus.rejected:
            submissions.move_by_submitter(spec.kind_key, item.id, actor, Decision.resubmit, update=update)
        else:
            before = audit.snapshot(item)
            update(item)
            after = audit.snapshot(item)
            changed = {k for k in after if before.get(k) != after[k]}
            audit.record("update", item, actor=actor, object_type=spec.kind.object_type,
                         before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
                         org_path_value=item.organisation.path)
            db.session.flush()
    return item


def withdraw(spec: OwnSubmission, actor: Actor, item_id) -> Any:
    """Take back one's own pending item."""
    item = own_item(spec, item_id, actor)
    if item.submitted_by_id != actor.id:
        raise NotAllowed(_("Only the administrator who submitted it may withdraw it"))
    return submissions.withdraw(spec.kind_key, item.id, actor)
