"""个人中心 for professional personnel: their record, and requests to change their title data."""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.actor import current_actor
from app.admin.attachments import AttachmentsField
from app.errors import InvalidInput, form_error
from app.workflow.declarations.common import change_rows
from app.extensions import db
from app.models import Person, ReviewKind, ReviewRequest, ReviewStatus, TitleLevel, TitleSeries
from app.scope import org_path
from app.services import attachments
from app.services.registrations import request_person_change
from app.services.transfers import own_transfers
from app.services.certificates import own as own_certificates
from app.services.transaction import transaction
from app.admin.public_registration import withdraw_with_message


def _int_or_none(value):
    """Select values: "" means nothing chosen (so DataRequired can say so in Chinese)."""
    if value in (None, ""):
        return None
    return int(value)


class TitleChangeForm(FlaskForm):
    """申请修改专业技术职务: the new title data and optional evidence."""

    title_series_id = SelectField(_l("Title series"), coerce=_int_or_none,
                                  validators=[DataRequired(message=_l("Please choose a title series"))])
    title_level_id = SelectField(_l("Title level"), coerce=_int_or_none,
                                 validators=[DataRequired(message=_l("Please choose a title level"))])
    title_name = StringField(_l("Title name"), validators=[Optional(), Length(max=100)])
    title_date = DateField(_l("Date obtained"), validators=[Optional()])
    evidence = AttachmentsField(_l("Evidence files"))

    def load_choices(self) -> None:
        blank = [("", _("Please choose"))]
        self.title_series_id.choices = blank + [
            (s.id, s.name) for s in db.session.scalars(select(TitleSeries).order_by(TitleSeries.sort_order))]
        self.title_level_id.choices = blank + [
            (lv.id, lv.name) for lv in db.session.scalars(select(TitleLevel).order_by(TitleLevel.sort_order))]


def _own_person() -> Person | None:
    return db.session.scalar(select(Person).where(Person.account_id == g.user.id))


class SelfServiceView(BaseView):
    """The signed-in person's own record; only their own rows, so no scope filter is involved."""

    route_base = "/me"
    default_view = "index"
    class_permission_name = "SelfService"
    method_permission_name = {"index": "read", "change_title": "write", "withdraw": "write"}

    def _render(self, person: Person | None, form: TitleChangeForm):
        requests = []
        if person is not None:
            requests = db.session.scalars(
                select(ReviewRequest)
                .where(ReviewRequest.kind == ReviewKind.person_change, ReviewRequest.subject_id == person.id)
                .order_by(ReviewRequest.submitted_on.desc(), ReviewRequest.id.desc())
            ).all()
        return self.render_template(
            "self_service/index.html", person=person, form=form, title=_("My information"),
            requests=[(item, change_rows(item)) for item in requests], pending=ReviewStatus.pending,
            rejected=ReviewStatus.rejected,
            has_pending=any(item.status == ReviewStatus.pending for item in requests),
            transfers=own_transfers(person.id) if person is not None else [],
            certificates=own_certificates(person.id) if person is not None else [],
        )

    @expose("/")
    @has_access
    def index(self):
        person = _own_person()
        form = TitleChangeForm(data=dict(
            title_series_id=person.title_series_id, title_level_id=person.title_level_id,
            title_name=person.title_name, title_date=person.title_date,
        ) if person is not None else None)
        form.load_choices()
        return self._render(person, form)

    @expose("/change", methods=["POST"])
    @has_access
    def change_title(self):
        person = _own_person()
        if person is None:
            abort(404)
        form = TitleChangeForm()
        form.load_choices()
        if form.validate_on_submit():
            try:
                evidence = form.evidence.checked()
            except InvalidInput as exc:
                form_error(form, exc)
                return self._render(person, form)
            changes = dict(title_series_id=form.title_series_id.data, title_level_id=form.title_level_id.data,
                           title_name=(form.title_name.data or "").strip() or None,
                           title_date=form.title_date.data)
            try:
                with transaction():
                    item = request_person_change(current_actor(), person.id, changes)
                    attachments.attach("review_request", item.id, org_path(item.org_id), evidence,
                                       actor=current_actor())
            except InvalidInput as exc:
                flash(str(exc), "danger")
            else:
                flash(_("Your change request was submitted for review"), "success")
                return redirect(url_for(".index"))
            finally:
                for checked in evidence:
                    checked.close()
        return self._render(person, form)

    @expose("/withdraw/<int:request_id>", methods=["POST"])
    @has_access
    def withdraw(self, request_id):
        withdraw_with_message(request_id, current_actor())
        return redirect(url_for(".index"))

