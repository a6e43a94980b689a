"""人员调转 (manual 5.1.6): 人员调出, the 确认调转 step of 人员调入审核, and 调转记录.

人员调入审核 itself is the generic review list of the ``transfer`` kind; its detail page
(``transfers/review_show.html``) posts 确认调转 with the receiving unit's internal department here.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.actor import current_actor
from app.admin.attachments import AttachmentsField
from app.services import attachments
from app.admin.base import ScopedModelView
from app.admin.lookup import public_organisation_lookup
from app.admin.own_submissions import show_widgets
from app.admin.reviews import history_labels, item_history
from app.errors import AppError, InvalidInput, form_error
from app.extensions import db
from app.interface import EagerInterface
from app.models import Organisation, OrganisationType, Transfer
from app.roles import READ_WRITE
from app.scope import current_scope, subtree_org_ids
from app.services import transfers as service
from app.navigation import TRANSFERS, category as menu_category
from app.workflow.declarations.transfers import LABELS, SHOW_COLUMNS
from app.workflow.kinds import kind_for

LIST_COLUMNS = ["person_name", "id_number", "from_organisation", "to_organisation", "effective_date",
                "submitted_on", "status_text"]
RECORD_LABELS = {**LABELS, "route_paths": _l("Direction")}


class TransferOutForm(FlaskForm):
    person_id = IntegerField(_l("Person to transfer"), validators=[DataRequired(message=_l("Please choose a person"))])
    to_org_id = IntegerField(_l("Receiving unit"),
                             validators=[DataRequired(message=_l("Please choose the receiving employer unit"))])
    reason = TextAreaField(_l("Transfer reason"), validators=[DataRequired(), Length(max=service.REASON_MAX)])
    effective_date = DateField(_l("Effective date"), validators=[DataRequired()])
    files = AttachmentsField(_l("Transfer documents"))


class OutgoingFilter(BaseFilter):
    """Transfers out of the viewer's subtree (the sending side's own list)."""

    name = "调出"
    arg_name = "outgoing"

    def apply(self, query, value):
        scope = current_scope()
        if scope.is_all:
            return query
        return query.filter(Transfer.from_org_id.in_(subtree_org_ids(scope)))


class DirectionFilter(BaseFilter):
    """?direction=in / out on 调转记录: transfers into or out of the viewer's subtree."""

    name = "方向"
    arg_name = "direction"

    def apply(self, query, value):
        direction, scope = request.args.get("direction"), current_scope()
        if scope.is_all or direction not in ("in", "out"):
            return query
        column = Transfer.to_org_id if direction == "in" else Transfer.from_org_id
        return query.filter(column.in_(subtree_org_ids(scope)))


def direction_text(paths) -> str:
    """调入 / 调出 / 内部调转, as the viewer sees a transfer."""
    return service.direction_label(current_scope(), *paths)


class TransferViewMixin:
    """Detail page with 审核记录 shared by 人员调出 and 调转记录."""

    show_template = "submissions/show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        (item,) = self._scoped_items([pk])
        actor = current_actor()
        may_withdraw = item.status.value == "pending" and item.submitted_by_id == actor.id
        actions = {name: a for name, a in self.actions.items() if name != "withdraw" or may_withdraw}
        return self.render_template(
            self.show_template, pk=item.id, item=item, title=self.show_title,
            widgets=show_widgets(self, item, actions), history=item_history(kind_for("transfer"), item.id),
            may_withdraw=may_withdraw, kind=kind_for("transfer"),
            endpoint=self.endpoint, **history_labels(),
        )


class TransferOutView(TransferViewMixin, ScopedModelView):
    """人员调出: transfers filed from the viewer's subtree, and the form to file one."""

    route_base = "/transfers/out"
    class_permission_name = "Transfer"
    method_permission_name = {**READ_WRITE, "person": "write", "receivers": "write", "withdraw": "write"}
    include_route_methods = {"list", "show", "add", "action", "action_post", "person", "receivers"}
    datamodel = EagerInterface(Transfer)
    list_title = _l("Transfer out")
    show_title = _l("Transfer details")
    label_columns = LABELS
    list_columns = LIST_COLUMNS
    show_columns = SHOW_COLUMNS
    search_columns = ["person_name", "id_number", "status", "effective_date", "submitted_on"]
    order_columns = ["person_name", "effective_date", "submitted_on"]
    base_order = ("submitted_on", "desc")
    base_filters = [["id", OutgoingFilter, None]]
    #: what the 人员调出 form writes (the page is ``add`` below, through the transfer service)
    add_columns = ["person", "to_organisation", "reason", "effective_date"]

    def _form_page(self, form, status=200):
        actor = current_actor()
        card, receiver = None, None
        if form.person_id.data:
            try:
                card = service.person_card(actor, form.person_id.data)
            except AppError:
                card = None
        if form.to_org_id.data:
            org = db.session.get(Organisation, form.to_org_id.data)
            if org is not None and org.type == OrganisationType.employer:
                receiver = (org.id, f"{org.name}（{org.type.label}）")
        return self.render_template("transfers/out_form.html", form=form, card=card, receiver=receiver,
                                    title=_("Transfer out"), back=url_for(f"{self.endpoint}.list")), status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = TransferOutForm()
        if request.method == "POST":
            if not form.validate():
                return self._form_page(form, 400)
            try:
                actor = current_actor()
                documents = form.files.checked()

                def attach(item):
                    if documents:
                        attachments.attach(kind_for("transfer").file_owner_kind(), item.id,
                                           item.from_organisation.path, documents, actor=actor)

                item = service.file_transfer(actor, person_id=form.person_id.data,
                                             to_org_id=form.to_org_id.data, reason=form.reason.data,
                                             effective_date=form.effective_date.data, attach=attach)
            except InvalidInput as exc:
                form_error(form, exc)
                return self._form_page(form, exc.status_code)
            flash(_("The transfer was filed; it takes effect once the receiving unit confirms it"), "success")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        return self._form_page(form)

    @expose("/person/<pk>")
    @has_access
    def person(self, pk):
        """The chosen person's data (scoped), to fill in the form read-only."""
        return jsonify(service.person_card(current_actor(), pk))

    @expose("/receivers")
    @has_access
    def receivers(self):
        """Receiving units anywhere in the province: names and types only."""
        return public_organisation_lookup([OrganisationType.employer], request.args.get("q", ""), with_type=True)

    @action("withdraw", _l("Withdraw"), _l("Withdraw this transfer? The receiving unit will no longer see it."),
            "fa-undo", multiple=False)
    def withdraw(self, item):
        try:
            service.withdraw(current_actor(), item.id)
        except AppError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("The transfer was withdrawn"), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))


class TransferRecordView(TransferViewMixin, ScopedModelView):
    """调转记录: transfers into and out of the viewer's subtree, whatever their state."""

    route_base = "/transfers/records"
    class_permission_name = "Transfer"
    method_permission_name = READ_WRITE
    include_route_methods = {"list", "show", "export"}
    datamodel = EagerInterface(Transfer)
    list_title = _l("Transfer records")
    show_title = _l("Transfer details")
    list_template = "transfers/records.html"
    label_columns = RECORD_LABELS
    list_columns = ["route_paths", *LIST_COLUMNS[:5], "status_text", "reviewed_by", "reviewed_on"]
    show_columns = SHOW_COLUMNS
    search_columns = ["person_name", "id_number", "status", "effective_date", "submitted_on", "reviewed_on"]
    order_columns = ["person_name", "effective_date", "submitted_on", "reviewed_on"]
    base_order = ("submitted_on", "desc")
    base_filters = [["id", DirectionFilter, None]]
    formatters_columns = {"route_paths": direction_text}

    @expose("/export/")
    @has_access
    def export(self):
        """The records as the list shows them (search filters, direction tab), in the viewer's scope."""
        from app.admin.exporting import export_response
        from app.io.sources import list_filter_args

        return export_response("transfers", {"filters": list_filter_args(request.args),
                                             "direction": request.args.get("direction", "")})


class TransferConfirmView(ScopedModelView):
    """确认调转 from the detail page of 人员调入审核, with the internal department chosen in the same step."""

    route_base = "/transfers/incoming"
    class_permission_name = "TransferReview"
    method_permission_name = {"confirm": "write"}
    include_route_methods = {"confirm"}
    datamodel = EagerInterface(Transfer)
    list_columns = ["person_name"]

    @expose("/confirm/<pk>", methods=["POST"])
    @has_access
    def confirm(self, pk):
        review_list = url_for(f"{kind_for('transfer').view_name}.list")
        try:
            outcome = service.confirm(current_actor(), pk, request.form.get("department_id"))
        except InvalidInput as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{kind_for('transfer').view_name}.show", pk=pk))
        flash(outcome.message(), "success" if outcome.done else "warning")
        return redirect(review_list)


def register(appbuilder) -> None:
    category = menu_category(TRANSFERS)
    appbuilder.add_view(TransferOutView, "Transfer out", label=_l("Transfer out"), icon="fa-sign-out", **category)
    appbuilder.add_view(TransferRecordView, "Transfer records", label=_l("Transfer records"), icon="fa-history",
                        **category)
    appbuilder.add_view_no_menu(TransferConfirmView)
