"""Pages where an organisation files its own submissions of a review kind and follows them.

One base view for 年度培训计划 / 培训计划申报 / 年度工作总结 (training bases, units) and 年度工作材料报送
(departments): the list of the own organisation's items with their review status, 新增, a detail page
with the reject reason and 审核记录, 修改 (a rejected item is resubmitted by saving it; some kinds may
also be edited while pending) and 撤回 of a pending item. Everything is decided by
``app/services/own_submissions.py``; this module only renders and forwards.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false

from app.actor import current_actor
from app.admin.base import ScopedModelView
from app.admin.reviews import history_labels, item_history
from app.errors import AppError, InvalidInput, form_error
from app.models import ReviewStatus
from app.roles import READ_WRITE
from app.admin.attachments import AttachmentsField
from app.services import attachments
from app.services import own_submissions as service


def lazy_upload_help():
    """The hint under a file input (the accepted types and the configured size), read when shown."""
    from flask_babel import LazyString

    return LazyString(attachments.upload_help)


class OwnOrganisationFilter(BaseFilter):
    """Only the viewer's own organisation's items (what it reviews lives in the review lists)."""

    name = "本单位"
    arg_name = "own"

    def apply(self, query, value):
        org_id = getattr(g.get("user"), "organisation_id", None)
        return query.filter(self.model.org_id == org_id if org_id is not None else false())


def show_widgets(view, item, actions: dict) -> dict:
    """FAB's detail widget offering exactly these actions (FAB's own falls back to all when none apply)."""
    return {"show": view.show_widget(
        pk=item.id, label_columns=view.label_columns, include_columns=view.show_columns,
        value_columns=view.datamodel.get_values_item(item, view.show_columns),
        formatters_columns=view.formatters_columns, actions=actions, fieldsets=view.show_fieldsets,
        modelview_name=view.__class__.__name__)}


class OwnSubmissionView(ScopedModelView):
    """List, file, edit/resubmit and withdraw the own organisation's items of one kind."""

    spec: service.OwnSubmission
    method_permission_name = {**READ_WRITE, "withdraw": "write"}
    include_route_methods = {"list", "show", "add", "edit", "action", "action_post"}
    show_template = "submissions/show.html"
    base_order = ("submitted_on", "desc")
    #: flashed once an item was filed or resubmitted
    submitted_message = _l("Submitted; it is now waiting for review")

    def __init__(self, **kwargs):
        self.base_filters = [["id", OwnOrganisationFilter, None]] + list(self.base_filters or [])
        # one file input per group the kind declares (Kind.files), on the add and the edit form
        files = {name: AttachmentsField(label) for _, name, label in self.spec.kind.file_groups()}
        self.add_form_extra_fields = {**(self.add_form_extra_fields or {}), **files}
        self.edit_form_extra_fields = {**(self.edit_form_extra_fields or {}), **files}
        self.add_columns = list(self.add_columns) + [n for n in files if n not in self.add_columns]
        self.edit_columns = list(self.edit_columns) + [n for n in files if n not in self.edit_columns]
        self.description_columns = {**(self.description_columns or {}),
                                    **{name: lazy_upload_help() for name in files}}
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ filing
    def _file_fields(self) -> set:
        return {name for _, name, _label in self.spec.kind.file_groups()}

    def _values(self, form, columns) -> dict:
        files = self._file_fields()
        return {name: form[name].data for name in columns if name in form and name not in files}

    def _attacher(self, form, actor):
        """Check every uploaded file first (a bad one is named next to its input), then attach them to the
        item in the submission's own transaction."""
        groups = [(owner_kind, form[name].checked()) for owner_kind, name, _label in self.spec.kind.file_groups()
                  if name in form]

        def attach(item):
            path = item.organisation.path if getattr(item, "organisation", None) is not None else ""
            for owner_kind, checked in groups:
                if checked:
                    attachments.attach(owner_kind, item.id, path, checked, actor=actor)

        return attach

    def _add(self):
        form = self.add_form.refresh()
        if request.method == "POST":
            if form.validate():
                try:
                    actor = current_actor()
                    service.create(self.spec, actor, self._values(form, self.add_columns),
                                   attach=self._attacher(form, actor))
                except InvalidInput as exc:
                    form_error(form, exc)
                else:
                    flash(str(self.submitted_message), "success")
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        actor = current_actor()
        if not service.may_edit(self.spec, item, actor):
            flash(_("Only the administrator who submitted it may change it, and only while it is %(states)s",
                    states="、".join(str(s.label) for s in self.spec.editable)), "warning")
            return None
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            if form.validate():
                try:
                    service.edit(self.spec, actor, item.id, self._values(form, self.edit_columns),
                                 attach=self._attacher(form, actor))
                except InvalidInput as exc:
                    form_error(form, exc)
                else:
                    flash(str(self.submitted_message if item.status == ReviewStatus.pending
                              else _l("Saved")), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        return self._get_edit_widget(form=form)

    def post_add_redirect(self):
        return redirect(url_for(f"{self.endpoint}.list"))

    def post_edit_redirect(self):
        return redirect(url_for(f"{self.endpoint}.list"))

    @action("withdraw", _l("Withdraw"), _l("Withdraw this submission? It will no longer be reviewed."),
            "fa-undo", multiple=False)
    def withdraw(self, item):
        try:
            service.withdraw(self.spec, current_actor(), item.id)
        except AppError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("The submission was withdrawn"), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))

    # ------------------------------------------------------------------ detail
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        (item,) = self._scoped_items([pk])
        actor = current_actor()
        mine = item.submitted_by_id is not None and item.submitted_by_id == actor.id
        withdrawable = mine and item.status == ReviewStatus.pending
        actions = {name: a for name, a in self.actions.items() if name != "withdraw" or withdrawable}
        return self.render_template(
            self.show_template, pk=item.id, item=item, title=self.show_title,
            widgets=show_widgets(self, item, actions), history=item_history(self.spec.kind, item.id),
            may_edit=service.may_edit(self.spec, item, actor), endpoint=self.endpoint, kind=self.spec.kind,
            **history_labels(),
        )
