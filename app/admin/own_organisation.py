"""基本信息管理 (manual 5.1.1.1): the own organisation's basic information and its parent department.

A department edits its basic information directly; an employer unit or training base files a change
request its department reviews. 更换上级部门 files a parent-change request both parents review.
"""
from __future__ import annotations

import json

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.admin.lookup import public_organisation_lookup
from app.admin.registration import DEPARTMENT_TYPES
from app.actor import current_actor
from app.errors import NotAllowed, NotFound, form_error
from app.extensions import db
from app.models import (
    Organisation,
    OrganisationStatus,
    ReviewKind,
    ReviewRequest,
    ReviewStatus,
)
from app.services import org_admins as service
from app.services import registrations
from app.services.transaction import ServiceError, transaction
from app.validators import Mobile, Uscc

FIELD_LABELS = {
    "name": _l("Organisation name"), "uscc": _l("Unified social credit code"), "region": _l("Region"),
    "contact_person": _l("Contact person"), "phone": _l("Contact phone"), "address": _l("Address"),
    "parent": _l("Parent department"),
}


class BasicInfoForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), Uscc()])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    contact_person = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=50)])
    phone = StringField(_l("Contact phone"), validators=[DataRequired(), Mobile()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])


class ParentForm(FlaskForm):
    parent_id = IntegerField(_l("New parent department"),
                             validators=[DataRequired(message=_l("Please choose a parent department"))])


def _changes(item: ReviewRequest) -> list[tuple[str, str, str]]:
    before, after = json.loads(item.before or "{}"), json.loads(item.after or "{}")
    return [(str(FIELD_LABELS.get(k, k)), before.get(k) or "", after.get(k) or "")
            for k in after if not k.endswith("_id")]


class OwnOrganisationView(BaseView):
    """The viewer's own organisation: show, edit (or request a change), change the parent."""

    route_base = "/ownorganisation"
    default_view = "show"
    class_permission_name = "OwnOrganisation"
    method_permission_name = {"show": "read", "edit": "write", "parents": "write",
                              "change_parent": "write", "withdraw": "write"}

    def _org(self) -> Organisation:
        org = g.user.organisation
        if org is None:
            abort(404)
        return org

    def _latest(self, org: Organisation, kind: ReviewKind):
        return db.session.scalar(
            select(ReviewRequest).where(ReviewRequest.kind == kind, ReviewRequest.subject_id == org.id)
            .order_by(ReviewRequest.submitted_on.desc(), ReviewRequest.id.desc()).limit(1))

    def _page(self, form=None, parent_form=None, status=200):
        org = self._org()
        if form is None:
            form = BasicInfoForm(obj=org, formdata=None)
        parent_form = parent_form or ParentForm(formdata=None)
        change = self._latest(org, ReviewKind.organisation_change)
        move = self._latest(org, ReviewKind.parent_change) if service.may_change_parent(org) else None
        return self.render_template(
            "account_mgmt/own_organisation.html", title=_("Basic information"), org=org, form=form,
            parent_form=parent_form, direct=service.edits_directly(org),
            may_change_parent=service.may_change_parent(org), change=change,
            change_rows=_changes(change) if change else [], move=move,
            approved=org.status == OrganisationStatus.approved, me=g.user.id,
            pending=ReviewStatus.pending,
        ), status

    @expose("/show/")
    @has_access
    def show(self):
        return self._page()

    @expose("/edit", methods=["POST"])
    @has_access
    def edit(self):
        org = self._org()
        form = BasicInfoForm()
        if not form.validate_on_submit():
            return self._page(form=form, status=400)
        changes = {name: (getattr(form, name).data or "").strip() or None for name in service.BASIC_FIELDS}
        try:
            if service.edits_directly(org):
                service.update_own_organisation(current_actor(), changes)
                flash(_("Basic information saved"), "success")
            else:
                if org.status != OrganisationStatus.approved:
                    raise NotAllowed(_("Your organisation has not been approved yet"))
                registrations.request_organisation_change(current_actor(), org.id, changes)
                flash(_("The change was submitted to your supervisory department for review"), "success")
        except ServiceError as exc:
            flash(str(exc), "danger")
            return self._page(form=form, status=400)
        return redirect(url_for("OwnOrganisationView.show"))

    # ------------------------------------------------------------------ 更换上级部门
    @expose("/parents")
    @has_access
    def parents(self):
        """Search-as-you-type: approved departments outside the own subtree (≤20)."""
        org = self._org()
        if not service.may_change_parent(org):
            abort(404)
        return public_organisation_lookup(DEPARTMENT_TYPES, request.args.get("q", ""), exclude_prefix=org.path)

    @expose("/parent", methods=["POST"])
    @has_access
    def change_parent(self):
        org = self._org()
        if not service.may_change_parent(org):
            raise NotAllowed(_("Only a supervisory department may change its parent department"))
        if org.status != OrganisationStatus.approved:
            raise NotAllowed(_("Your organisation has not been approved yet"))
        parent_form = ParentForm()
        if not parent_form.validate_on_submit():
            return self._page(parent_form=parent_form, status=400)
        try:
            registrations.request_parent_change(current_actor(), org.id, parent_form.parent_id.data)
        except ServiceError as exc:
            parent_form.parent_id.errors = list(parent_form.parent_id.errors) + [str(exc)]
            return self._page(parent_form=parent_form, status=400)
        flash(_("The parent change was submitted; it takes effect once both the current and the new parent department approve it"), "success")
        return redirect(url_for("OwnOrganisationView.show"))

    @expose("/withdraw/<int:pk>", methods=["POST"])
    @has_access
    def withdraw(self, pk):
        """Withdraw one's own pending change or parent-change request."""
        from app.workflow.submissions import withdraw

        org = self._org()
        item = db.session.get(ReviewRequest, pk)
        if (item is None or item.subject_id != org.id
                or item.kind not in (ReviewKind.organisation_change, ReviewKind.parent_change)):
            abort(404)
        if item.submitted_by_id != g.user.id:
            raise NotAllowed(_("Only the administrator who submitted the request may withdraw it"))
        try:
            withdraw(item.kind, item.id, current_actor())
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("The request was withdrawn"), "success")
        return redirect(url_for("OwnOrganisationView.show"))


def register(appbuilder) -> None:
    from app.navigation import OWN_ORGANISATION, category

    appbuilder.add_view(OwnOrganisationView, "Basic information", label=_l("Basic information management"),
                        icon="fa-info-circle", **category(OWN_ORGANISATION))
