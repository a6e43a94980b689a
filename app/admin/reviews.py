"""注册审核管理 and 变更审核管理: one review list per kind, all on the one workflow service."""
from __future__ import annotations

import json

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.admin.base import ScopedModelView
from app.extensions import db
from app.interface import EagerInterface
from app.models import AuditLog, ReviewKind, ReviewRequest, ReviewStatus, TitleLevel, TitleSeries
from app.roles import READ_WRITE
from app.scope import current_scope
from app.services.dashboard import TodoKind, register_todo
from app.services.transaction import ServiceError
from app.workflow.policies import POLICIES, policy_for
from app.workflow.service import NotInScope, decide, reviewable_condition
from app.workflow.states import Decision

REVIEW_LABELS = {
    "kind": _l("Request type"), "subject_name": _l("Applicant"), "subject_code": _l("ID number / credit code"),
    "organisation": _l("Organisation"), "target_organisation": _l("New parent department"),
    "status": _l("Review status"), "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"),
    "reviewed_on": _l("Reviewed on"), "reviewed_by": _l("Reviewed by"), "reject_reason": _l("Reject reason"),
}

#: how change-request fields read in the 变更明细 table
FIELD_LABELS = {
    "title_series_id": _l("Title series"), "title_level_id": _l("Title level"),
    "title_name": _l("Title name"), "title_date": _l("Date obtained"), "name": _l("Organisation name"),
    "uscc": _l("Unified social credit code"), "region": _l("Region"),
    "contact_person": _l("Contact person"), "phone": _l("Contact phone"), "address": _l("Address"),
    "parent": _l("Parent department"),
}
#: id fields shown by name
REFERENCE_FIELDS = {"title_series_id": TitleSeries, "title_level_id": TitleLevel}


ACTION_LABELS = {"submit": _l("Submitted"), "approve": _l("Approved"), "reject": _l("Rejected"),
                 "withdraw": _l("Withdrawn"), "resubmit": _l("Resubmitted"),
                 "approve_one_side": _l("Approved by one side")}


class ReviewableFilter(BaseFilter):
    """Only the requests this viewer may decide (strictly below them, or the new-parent side)."""

    name = "可审核"
    arg_name = "reviewable"

    def apply(self, query, value):
        return query.filter(reviewable_condition(current_scope(), policy_for(value)))


def change_rows(item: ReviewRequest) -> list[tuple[str, str, str]]:
    """(field, before, after) rows of a change request, ids resolved to names."""
    before, after = json.loads(item.before or "{}"), json.loads(item.after or "{}")
    rows = []
    for key in after:
        if key.endswith("_id") and key not in REFERENCE_FIELDS:
            continue
        old, new = before.get(key), after.get(key)
        if key in REFERENCE_FIELDS:
            model = REFERENCE_FIELDS[key]
            old = db.session.get(model, old).name if old else ""
            new = db.session.get(model, new).name if new else ""
        rows.append((str(FIELD_LABELS.get(key, key)), old or "", new or ""))
    return rows


PERSON_KINDS = {ReviewKind.person_registration, ReviewKind.person_change}
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


def subject_rows(item: ReviewRequest) -> list[tuple[str, str]]:
    """What the submitter registered, as the reviewer needs to see it (提交的信息)."""
    from app.admin.base import display_value
    from app.models import Organisation, Person

    model, key = (Person, "person") if item.kind in PERSON_KINDS else (Organisation, "organisation")
    subject = db.session.get(model, item.subject_id)
    if subject is None:
        return []
    return [(str(label), str(display_value(getattr(subject, name)))) for name, label in SUBJECT_FIELDS[key]]


class ReviewListView(ScopedModelView):
    """Base of every review list: batch approve / reject, detail with history and changes."""

    kind: ReviewKind
    class_permission_name = "RegistrationReview"
    method_permission_name = {**READ_WRITE, "approve": "write", "reject": "write",
                              "reject_form": "write"}
    include_route_methods = {"list", "show", "action", "action_post", "reject_form"}
    label_columns = REVIEW_LABELS
    list_columns = ["subject_name", "subject_code", "organisation", "submitted_on", "status", "reviewed_on"]
    show_columns = ["kind", "subject_name", "subject_code", "organisation", "submitted_by", "submitted_on",
                    "status", "reviewed_by", "reviewed_on", "reject_reason"]
    search_columns = ["subject_name", "subject_code", "status", "submitted_on"]
    order_columns = ["subject_name", "submitted_on", "status"]
    base_order = ("submitted_on", "desc")
    show_template = "review/show.html"

    def __init__(self, **kwargs):
        self.base_filters = [["kind", FilterEqual, self.kind], ["id", ReviewableFilter, self.kind]]
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ decisions
    def _decide(self, ids, decision, reason=None):
        try:
            outcome = decide(self.kind, ids, g.user, decision, reason)
        except NotInScope:
            abort(404)
        except ServiceError as exc:
            flash(str(exc), "danger")
            return False
        flash(outcome.message(), "success" if outcome.done else "warning")
        return True

    @action("approve", _l("Approve"), _l("Approve the selected requests?"), "fa-check")
    def approve(self, items):
        items = items if isinstance(items, list) else [items]
        self._decide([i.id for i in items], Decision.approve)
        return redirect(url_for(f"{self.endpoint}.list"))

    @action("reject", _l("Reject"), "", "fa-times")
    def reject(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(f"{self.endpoint}.reject_form", ids=",".join(str(i.id) for i in items)))

    @expose("/reject", methods=["GET", "POST"])
    @has_access
    def reject_form(self):
        raw = request.values.get("ids", "")
        ids = [part for part in raw.split(",") if part]
        items = self._scoped_items(ids)
        reason = (request.form.get("reason") or "").strip()
        if request.method == "POST":
            if not reason:
                flash(_("A reason is required to reject"), "danger")
            elif self._decide([i.id for i in items], Decision.reject, reason):
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template("review/reject.html", items=items, ids=raw, reason=reason,
                                    title=_("Reject"), back=url_for(f"{self.endpoint}.list"))

    # ------------------------------------------------------------------ detail
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        (item,) = self._scoped_items([pk])
        widgets = self._get_show_widget(pk, item)
        history = db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "review_request", AuditLog.object_id == item.id)
            .order_by(AuditLog.created_on, AuditLog.id)
        ).all()
        return self.render_template(
            self.show_template, pk=item.id, item=item, title=self.show_title, widgets=widgets,
            history=history, changes=change_rows(item) if item.after else [],
            subject=subject_rows(item),
            can_decide=item.status == ReviewStatus.pending, endpoint=self.endpoint,
            action_labels=ACTION_LABELS, state_labels={s.value: s.label for s in ReviewStatus},
        )


def _view(kind: ReviewKind, area: str, title) -> type:
    extra = {}
    if kind in (ReviewKind.person_change, ReviewKind.organisation_change, ReviewKind.parent_change):
        extra["show_columns"] = ReviewListView.show_columns + (
            ["target_organisation"] if kind == ReviewKind.parent_change else [])
    return type(
        policy_for(kind).endpoint.split(".")[0], (ReviewListView,),
        dict(kind=kind, class_permission_name=area, datamodel=EagerInterface(ReviewRequest),
             route_base=f"/review/{kind.value}", list_title=title, show_title=title, **extra),
    )


MENUS = [
    (ReviewKind.person_registration, "Personnel registration review", _l("Personnel registration review"),
     "Registration review", _l("Registration review"), "fa-user-plus"),
    (ReviewKind.unit_registration, "Unit registration review", _l("Unit registration review"),
     "Registration review", _l("Registration review"), "fa-building"),
    (ReviewKind.base_registration, "Training base registration review", _l("Training base registration review"),
     "Registration review", _l("Registration review"), "fa-graduation-cap"),
    (ReviewKind.supervisory_registration, "Department registration review", _l("Department registration review"),
     "Registration review", _l("Registration review"), "fa-sitemap"),
    (ReviewKind.person_change, "Personnel change review", _l("Personnel change review"),
     "Change review", _l("Change review"), "fa-id-card"),
    (ReviewKind.organisation_change, "Organisation change review", _l("Organisation change review"),
     "Change review", _l("Change review"), "fa-pencil"),
    (ReviewKind.parent_change, "Parent change review", _l("Parent change review"),
     "Change review", _l("Change review"), "fa-exchange"),
]


def _pending_count(kind: ReviewKind):
    def count(scope):
        return db.session.scalar(
            select(func.count()).select_from(ReviewRequest)
            .where(ReviewRequest.kind == kind, ReviewRequest.status == ReviewStatus.pending)
            .where(reviewable_condition(scope, policy_for(kind)))
        ) or 0

    return count


class ReviewApi(BaseApi):
    """Decisions over REST: POST /api/v1/review/<kind>/approve or /reject with ids (and a reason)."""

    resource_name = "review"
    class_permission_name = "Review"
    method_permission_name = {"pending": "read", "approve": "write", "reject": "write"}
    openapi_spec_tag = "Review"

    @api_expose("/<kind>/pending", methods=["GET"])
    @protect()
    @safe
    def pending(self, kind):
        """Ids of the pending requests of one kind this caller may decide
        ---
        get:
          summary: Pending requests in the caller's scope (at most 1000, oldest first)
          parameters:
          - in: path
            name: kind
            schema:
              type: string
          responses:
            200:
              description: pending requests
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            name: {type: string}
                            code: {type: string}
                            submitted_on: {type: string}
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        try:
            review_kind = ReviewKind(kind)
        except ValueError:
            return self.response_404()
        policy = policy_for(review_kind)
        condition = reviewable_condition(current_scope(), policy)
        base = (select(ReviewRequest).where(ReviewRequest.kind == review_kind,
                                           ReviewRequest.status == ReviewStatus.pending).where(condition))
        count = db.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = db.session.scalars(base.order_by(ReviewRequest.submitted_on, ReviewRequest.id).limit(1000))
        return self.response(200, count=count, result=[
            {"id": r.id, "name": r.subject_name, "code": r.subject_code,
             "submitted_on": r.submitted_on.isoformat()} for r in rows])

    def _decide(self, kind: str, decision: Decision):
        try:
            review_kind = ReviewKind(kind)
        except ValueError:
            return self.response_404()
        payload = request.get_json(silent=True) or {}
        ids = payload.get("ids")
        if not isinstance(ids, list):
            return self.response_400(message=_("ids must be a list of request ids"))
        try:
            outcome = decide(review_kind, ids, g.user, decision, payload.get("reason"))
        except NotInScope:
            return self.response_404()
        except ServiceError as exc:
            return self.response_400(message=str(exc))
        return self.response(200, done=outcome.done, skipped=outcome.skipped, message=outcome.message())

    @api_expose("/<kind>/approve", methods=["POST"])
    @protect()
    @safe
    def approve(self, kind):
        """Approve pending requests of one kind
        ---
        post:
          summary: Approve requests (batch); items not pending are skipped
          parameters:
          - in: path
            name: kind
            schema:
              type: string
              enum: [person_registration, unit_registration, base_registration,
                     supervisory_registration, person_change, organisation_change, parent_change]
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids:
                      type: array
                      items: {type: integer}
          responses:
            200:
              description: done and skipped counts
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      done: {type: integer}
                      skipped: {type: integer}
                      message: {type: string}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        return self._decide(kind, Decision.approve)

    @api_expose("/<kind>/reject", methods=["POST"])
    @protect()
    @safe
    def reject(self, kind):
        """Reject pending requests of one kind; a reason is required
        ---
        post:
          summary: Reject requests (batch) with a reason shown to the submitter
          parameters:
          - in: path
            name: kind
            schema:
              type: string
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids, reason]
                  properties:
                    ids:
                      type: array
                      items: {type: integer}
                    reason:
                      type: string
          responses:
            200:
              description: done and skipped counts
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        return self._decide(kind, Decision.reject)


def register(appbuilder) -> None:
    for kind, name, label, category, category_label, icon in MENUS:
        policy = POLICIES[kind]
        appbuilder.add_view(_view(kind, policy.area, label), name, label=label, icon=icon,
                            category=category, category_label=category_label,
                            category_icon="fa-check-square-o")
        register_todo(TodoKind(kind.value, label, _pending_count(kind), policy.endpoint, area=policy.area))
    appbuilder.add_api(ReviewApi)
