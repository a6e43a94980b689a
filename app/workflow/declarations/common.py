"""What the registration and change kinds (all kept in ``review_request``) share: labels, subject data."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation, Person, ReviewRequest, TitleLevel, TitleSeries

REQUEST_LABELS = {
    "kind": _l("Request type"), "subject_name": _l("Applicant"), "subject_code": _l("ID number / credit code"),
    "organisation": _l("Organisation"), "organisation.parent": _l("Parent department"),
    "target_organisation": _l("New parent department"), "status": _l("Review status"),
    "status_text": _l("Review status"), "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"),
    "reviewed_on": _l("Reviewed on"), "reviewed_by": _l("Reviewed by"), "reject_reason": _l("Reject reason"),
}
PERSON_LABELS = {**REQUEST_LABELS, "organisation": _l("Employer unit")}

LIST_COLUMNS = ["subject_name", "subject_code", "organisation", "submitted_on", "status_text", "reviewed_on"]
#: an organisation's own request: the list shows where it hangs, not its own name again
ORG_LIST_COLUMNS = ["subject_name", "subject_code", "organisation.parent", "submitted_on", "status_text",
                    "reviewed_on"]
SHOW_COLUMNS = ["kind", "subject_name", "subject_code", "organisation", "submitted_by", "submitted_on",
                "status_text", "reviewed_by", "reviewed_on", "reject_reason"]
SEARCH_COLUMNS = ["subject_name", "subject_code", "status", "submitted_on"]
ORDER_COLUMNS = ["subject_name", "submitted_on", "status"]

#: how change-request fields read in the 变更明细 table
FIELD_LABELS = {
    "title_series_id": _l("Title series"), "title_level_id": _l("Title level"),
    "title_name": _l("Title name"), "title_date": _l("Date obtained"), "name": _l("Organisation name"),
    "uscc": _l("Unified social credit code"), "region": _l("Region"),
    "contact_person": _l("Contact person"), "phone": _l("Contact phone"), "address": _l("Address"),
    "parent": _l("Parent department"),
}
#: id fields shown by the referenced row's name
REFERENCE_FIELDS = {"title_series_id": TitleSeries, "title_level_id": TitleLevel}

SUBJECT_FIELDS = {
    "person": [("name", _l("Full name")), ("id_number", _l("ID number")), ("gender", _l("Gender")),
               ("birth_date", _l("Birth date")), ("phone", _l("Mobile phone")), ("education", _l("Education")),
               ("employer", _l("Employer unit")), ("internal_department", _l("Internal department")),
               ("title_series", _l("Title series")), ("title_level", _l("Title level")),
               ("title_name", _l("Title name")), ("title_date", _l("Date obtained"))],
    "organisation": [("name", _l("Organisation name")), ("type", _l("Organisation type")),
                     ("uscc", _l("Unified social credit code")), ("parent", _l("Parent organisation")),
                     ("region", _l("Region")), ("contact_person", _l("Contact person")),
                     ("phone", _l("Contact phone")), ("address", _l("Address"))],
}


def change_rows(item: ReviewRequest) -> list[tuple[str, str, str]]:
    """(field, before, after) of the fields a change request really changes, ids shown by name."""
    before, after = json.loads(item.before or "{}"), json.loads(item.after or "{}")
    rows = []
    for key in after:
        if key.endswith("_id") and key not in REFERENCE_FIELDS:
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in REFERENCE_FIELDS:
            model = REFERENCE_FIELDS[key]
            old = db.session.get(model, old).name if old else ""
            new = db.session.get(model, new).name if new else ""
        rows.append((str(FIELD_LABELS.get(key, key)), old or "", new or ""))
    return rows


def subject_rows(item: ReviewRequest, of: str) -> list[tuple[str, str]]:
    """What the submitter registered, as the reviewer needs to see it (提交的信息)."""
    from app.admin.base import display_value

    model = Person if of == "person" else Organisation
    subject = db.session.get(model, item.subject_id)
    if subject is None:
        return []
    return [(str(label), str(display_value(getattr(subject, name)))) for name, label in SUBJECT_FIELDS[of]]


def person_detail(item: ReviewRequest) -> list:
    sections = [("subject", _l("Submitted information"), None, subject_rows(item, "person"))]
    if item.after:
        sections.append(("changes", _l("Change details"), (_l("Item"), _l("Before"), _l("After")),
                         change_rows(item)))
    return sections


def organisation_detail(item: ReviewRequest) -> list:
    sections = [("subject", _l("Submitted information"), None, subject_rows(item, "organisation"))]
    if item.after:
        sections.append(("changes", _l("Change details"), (_l("Item"), _l("Before"), _l("After")),
                         change_rows(item)))
    return sections


def person_account():
    """SQL (correlated to review_request): the login of the person a request is about."""
    return (select(Person.account_id).where(Person.id == ReviewRequest.subject_id)
            .correlate(ReviewRequest).scalar_subquery())


def describe(item: ReviewRequest) -> str:
    return f"{item.subject_name} {item.subject_code or ''}".strip()
