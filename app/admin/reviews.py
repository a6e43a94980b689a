"""Review lists, details and REST decisions of every declared review kind (``app/workflow/kinds.py``).

Nothing here names a kind: each declaration yields one list page (menu entry, columns, filters,
批量通过 / 批量驳回, detail with 审核记录), its REST endpoints and its to-do entry.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.api import BaseApi, expose as api_expose, protect
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.api.base import safe
from app.errors import form_error
from app.extensions import db
from app.interface import EagerInterface
from app.models import AuditLog, ReviewStatus
from app.navigation import category
from app.roles import READ_WRITE
from app.scope import current_scope
from app.services.dashboard import TodoKind, register_todo
from app.services.transaction import ServiceError
from app.workflow.kinds import Kind, load
from app.workflow.service import decide, resolve_kind
from app.workflow.states import Decision

#: how the transitions read in 审核记录
ACTION_LABELS = {"submit": _l("Submitted"), "approve": _l("Approved"), "reject": _l("Rejected"),
                 "withdraw": _l("Withdrawn"), "resubmit": _l("Resubmitted"),
                 "approve_one_side": _l("Approved by one side"), "update": _l("Edited")}
#: the FAB filter selecting pending items (index 0 of an enum column's filters is "equal to")
PENDING_FILTER = {"_flt_0_status": ReviewStatus.pending.value}


class KindFilter(BaseFilter):
    """The kind's rows that the viewer reviews on some side; the value is the kind's key."""

    name = "可审核"
    arg_name = "reviewable"

    def apply(self, query, value):
        return query.filter(resolve_kind(value).visible(current_scope()))


def decidable_ids(kind: Kind, ids) -> set[int]:
    """Of these ids, the ones the current viewer may still decide (buttons on the detail page)."""
    actor = current_actor()
    if not ids or actor.account is None:
        return set()
    model = kind.model
    return set(db.session.scalars(select(model.id).where(model.id.in_(list(ids)),
                                                         kind.decidable(actor.scope, actor.id))))


def item_history(kind: Kind, item_id: int) -> list:
    """审核记录 of one item: its audit rows in order (submitted, decided, withdrawn, edited...)."""
    return db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == kind.object_type, AuditLog.object_id == item_id)
        .order_by(AuditLog.created_on, AuditLog.id)
    ).all()


def history_labels() -> dict:
    """What ``review/_history.html`` needs besides the rows."""
    return {"action_labels": ACTION_LABELS, "state_labels": {s.value: s.label for s in ReviewStatus}}


class ReviewListView(ScopedModelView):
    """Base of every review list: batch approve / reject, detail with history and the kind's sections."""

    kind: Kind
    method_permission_name = {**READ_WRITE, "approve": "write", "reject": "write", "reject_form": "write"}
    include_route_methods = {"list", "show", "action", "action_post", "reject_form"}
    show_template = "review/show.html"

    def __init__(self, **kwargs):
        self.base_filters = [["id", KindFilter, self.kind.key]]
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ decisions
    def _decide(self, ids, decision, reason=None) -> bool:
        try:
            outcome = decide(self.kind, ids, current_actor(), decision, reason)
        except ServiceError as exc:
            flash(exc.message, "danger")
            return False
        flash(outcome.message(), "success" if outcome.done else "warning")
        return True

    @action("approve", _l("Approve"), _l("Approve the selected requests?"), "fa-check", single=False)
    def approve(self, items):
        items = items if isinstance(items, list) else [items]
        self._decide([i.id for i in items], Decision.approve)
        return redirect(url_for(f"{self.endpoint}.list"))

    @action("reject", _l("Reject"), "", "fa-times", single=False)
    def reject(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(f"{self.endpoint}.reject_form", ids=",".join(str(i.id) for i in items)))

    @expose("/reject", methods=["GET", "POST"])
    @has_access
    def reject_form(self):
        raw = request.values.get("ids", "")
        items = self._scoped_items([part for part in raw.split(",") if part])
        if not items:
            abort(404)
        reason = (request.form.get("reason") or "").strip()
        error = None
        if request.method == "POST":
            try:
                outcome = decide(self.kind, [i.id for i in items], current_actor(), Decision.reject, reason)
            except ServiceError as exc:
                error = exc.message
            else:
                flash(outcome.message(), "success" if outcome.done else "warning")
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template("review/reject.html", items=[self.kind.describe(i) for i in items],
                                    ids=raw, reason=reason, error=error, title=_("Reject"),
                                    back=url_for(f"{self.endpoint}.list"))

    # ------------------------------------------------------------------ detail
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        (item,) = self._scoped_items([pk])
        widgets = self._get_show_widget(pk, item)
        history = item_history(self.kind, item.id)
        sections = self.kind.detail(item) if self.kind.detail else []
        return self.render_template(
            self.show_template, pk=item.id, item=item, title=self.show_title, widgets=widgets,
            history=history, sections=sections, kind=self.kind,
            can_decide=item.id in decidable_ids(self.kind, [item.id]), endpoint=self.endpoint,
            action_labels=ACTION_LABELS, state_labels={s.value: s.label for s in ReviewStatus},
        )


def _approve_action(label):
    """The batch approval under the kind's own word for it (e.g. 确认调转)."""
    def approve(self, items):
        return ReviewListView.approve(self, items)

    return action("approve", label, _l("%(action)s: the selected items?", action=label), "fa-check",
                  single=False)(approve)


def review_view(kind: Kind) -> type:
    """The list/detail view class of one kind."""
    labels = dict(kind.label_columns)
    attributes = dict(
        kind=kind, class_permission_name=kind.area, datamodel=EagerInterface(kind.model),
        route_base=f"/review/{kind.key}", list_title=kind.label, show_title=kind.label,
        label_columns=labels, list_columns=list(kind.list_columns),
        show_columns=list(kind.show_columns or kind.list_columns),
        search_columns=list(kind.search_columns), order_columns=list(kind.order_columns),
        base_order=kind.base_order,
    )
    if kind.show_template:
        attributes["show_template"] = kind.show_template
    if kind.approve_label is not None:
        attributes["approve"] = _approve_action(kind.approve_label)
    mixin = kind.view_mixin
    if mixin is not None and not isinstance(mixin, type):
        mixin = mixin()
    bases = (mixin, ReviewListView) if mixin is not None else (ReviewListView,)
    return type(kind.view_name, bases, attributes)


def pending_count(kind: Kind):
    """To-do count of a kind: pending items the viewer may still decide."""
    def count(scope, actor_id=None):
        model = kind.model
        return db.session.scalar(
            select(func.count()).select_from(model).where(kind.decidable(scope, actor_id))
        ) or 0

    return count


# ---------------------------------------------------------------------- REST
class ReviewApi(BaseApi):
    """Decisions over REST: POST /api/v1/review/<kind>/approve or /reject with ids (and a reason)."""

    resource_name = "review"
    class_permission_name = "Review"
    method_permission_name = {"pending": "read", "approve": "write", "reject": "write"}
    openapi_spec_tag = "Review"
    #: filled at registration with the declared kinds (the path parameter's enum)
    openapi_spec_methods: dict = {}

    @api_expose("/<kind>/pending", methods=["GET"])
    @protect()
    @safe
    def pending(self, kind):
        """Pending items of one kind this caller may decide
        ---
        get:
          summary: Pending items in the caller's scope that the caller may still decide (at most 1000, oldest first)
          responses:
            200:
              description: pending items
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
                            submitted_on: {type: string}
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        spec = resolve_kind(kind)
        actor = current_actor()
        model = spec.model
        base = select(model).where(spec.decidable(actor.scope, actor.id))
        count = db.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = db.session.scalars(base.order_by(model.submitted_on, model.id).limit(1000))
        return self.response(200, count=count, result=[
            {"id": r.id, "name": spec.describe(r), "submitted_on": r.submitted_on.isoformat()} for r in rows])

    def _decide(self, kind: str, decision: Decision):
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=_("The request body must be a JSON object"))
        outcome = decide(kind, payload.get("ids"), current_actor(), decision, payload.get("reason"))
        return self.response(200, done=outcome.done, skipped=outcome.skipped, message=outcome.message())

    @api_expose("/<kind>/approve", methods=["POST"])
    @protect()
    @safe
    def approve(self, kind):
        """Approve pending items of one kind
        ---
        post:
          summary: Approve items (batch); items not pending are skipped
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [ids]
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
            403:
              description: the caller submitted an item or an item is about the caller
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._decide(kind, Decision.approve)

    @api_expose("/<kind>/reject", methods=["POST"])
    @protect()
    @safe
    def reject(self, kind):
        """Reject pending items of one kind; a reason is required
        ---
        post:
          summary: Reject items (batch) with a reason shown to the submitter
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
            403:
              description: the caller submitted an item or an item is about the caller
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        return self._decide(kind, Decision.reject)


def _kind_parameter(keys: list[str]) -> list[dict]:
    return [{"in": "path", "name": "kind", "required": True,
             "schema": {"type": "string", "enum": keys}, "description": "review kind"}]


def register(appbuilder) -> None:
    """One list page, menu entry and to-do entry per declared kind; one REST resource for all."""
    kinds = load()
    for kind in kinds.values():
        appbuilder.add_view(review_view(kind), kind.menu.name, label=kind.label, icon=kind.menu.icon,
                            **category(kind.menu.category))
        register_todo(TodoKind(kind.key, kind.label, pending_count(kind), kind.list_endpoint, area=kind.area,
                               args=PENDING_FILTER))
    parameters = _kind_parameter(list(kinds))
    ReviewApi.openapi_spec_methods = {
        "pending": {"get": {"parameters": parameters}},
        "approve": {"post": {"parameters": parameters}},
        "reject": {"post": {"parameters": parameters}},
    }
    appbuilder.add_api(ReviewApi)


__all__ = ["ReviewListView", "ReviewApi", "review_view", "register", "form_error"]
