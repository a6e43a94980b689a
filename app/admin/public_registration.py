"""Public registration of personnel, employer units and training bases, and the progress query.

No login is needed on these pages, so no permission either (like RegistrationView). The progress
page authenticates the registrant by ID number and password, because their account is inactive
until the review is approved.
"""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.admin.lookup import public_organisation_lookup, public_organisation_name
from app.extensions import db
from app.interface import parse_id
from app.models import (
    Account,
    Education,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    ReviewKind,
    ReviewRequest,
    ReviewStatus,
    TitleLevel,
    TitleSeries,
)
from app.services import registrations
from app.services.transaction import ServiceError
from app.validators import IdNumber, Mobile, PasswordStrength, Uscc
from app.actor import Actor, current_actor
from app.workflow.submissions import withdraw_request

#: session key holding the account verified on the progress page
PROGRESS_KEY = "progress_account_id"
#: the account's credential version when the password was checked: a later change ends the progress view
PROGRESS_VERSION_KEY = "progress_credential_version"
#: most departments the department lookup returns
DEPARTMENT_LIMIT = 500
#: registration kinds a rejected registrant may correct and resubmit, and what they are about
RESUBMITTABLE = {
    ReviewKind.person_registration: "person",
    ReviewKind.unit_registration: "organisation",
    ReviewKind.base_registration: "organisation",
    ReviewKind.supervisory_registration: "organisation",
}
#: the public organisation registrations: URL name -> (type, page title)
ORG_PAGES = {
    "unit": (OrganisationType.employer, _l("Employer unit registration")),
    "base": (OrganisationType.training_base, _l("Continuing education base registration")),
}


def _int_or_none(value):
    """Select values: "" means nothing chosen (so DataRequired can say so in Chinese)."""
    if value in (None, ""):
        return None
    return int(value)


def _required(message):
    return DataRequired(message=message)


# ---------------------------------------------------------------------------------- forms
class PersonForm(FlaskForm):
    """What a registrant may correct after a rejection."""

    name = StringField(_l("Full name"), validators=[_required(_l("Please enter your name")), Length(max=50)])
    phone = StringField(_l("Mobile phone"), validators=[_required(_l("Please enter your mobile phone")), Mobile()])
    education = SelectField(_l("Education"), validators=[_required(_l("Please choose your education"))])
    employer_id = IntegerField(_l("Employer unit"),
                               validators=[_required(_l("Please choose your employer unit"))])
    internal_department_id = IntegerField(_l("Internal department"), validators=[Optional()])
    title_series_id = SelectField(_l("Title series"), coerce=_int_or_none,
                                  validators=[_required(_l("Please choose a title series"))])
    title_level_id = SelectField(_l("Title level"), coerce=_int_or_none,
                                 validators=[_required(_l("Please choose a title level"))])
    title_name = StringField(_l("Title name"), validators=[Optional(), Length(max=100)])
    title_date = DateField(_l("Date obtained"), validators=[Optional()])

    def load_choices(self) -> None:
        """Choices come from the database (reference tables) and the enum, translated."""
        blank = [("", _("Please choose"))]
        self.education.choices = blank + Education.choices()
        self.title_series_id.choices = blank + [
            (s.id, s.name) for s in db.session.scalars(select(TitleSeries).order_by(TitleSeries.sort_order))]
        self.title_level_id.choices = blank + [
            (lv.id, lv.name) for lv in db.session.scalars(select(TitleLevel).order_by(TitleLevel.sort_order))]


def _new_password_fields():
    """A strong password and its confirmation, created in the order they are shown."""
    password = PasswordField(_l("Password"), validators=[_required(_l("Please enter a password")),
                                                         PasswordStrength()])
    conf_password = PasswordField(
        _l("Confirm password"),
        validators=[_required(_l("Please enter the password again")),
                    EqualTo("password", message=_l("Passwords must match"))],
    )
    return password, conf_password


class PersonRegistrationForm(PersonForm):
    id_number = StringField(_l("ID number"), validators=[_required(_l("Please enter your ID number")), IdNumber()])
    password, conf_password = _new_password_fields()


class OrganisationForm(FlaskForm):
    """What a registrant may correct after a rejection."""

    name = StringField(_l("Organisation name"),
                       validators=[_required(_l("Please enter the organisation name")), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"),
                       validators=[_required(_l("Please enter the unified social credit code")), Uscc()])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    contact_person = StringField(_l("Contact person"),
                                 validators=[_required(_l("Please enter the contact person")), Length(max=50)])
    phone = StringField(_l("Contact phone"), validators=[_required(_l("Please enter the contact phone")), Mobile()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])


class OrganisationRegistrationForm(OrganisationForm):
    parent_id = IntegerField(_l("Supervisory department"),
                             validators=[_required(_l("Please choose a supervisory department"))])
    admin_id_number = StringField(_l("Administrator ID number"),
                                  validators=[_required(_l("Please enter your ID number")), IdNumber()])
    admin_name = StringField(_l("Administrator name"),
                             validators=[_required(_l("Please enter your name")), Length(max=50)])
    admin_phone = StringField(_l("Administrator mobile phone"),
                              validators=[_required(_l("Please enter your mobile phone")), Mobile()])
    password, conf_password = _new_password_fields()


class ProgressLoginForm(FlaskForm):
    id_number = StringField(_l("ID number"), validators=[_required(_l("Please enter your ID number")), IdNumber()])
    password = PasswordField(_l("Password"), validators=[_required(_l("Please enter a password"))])


# ---------------------------------------------------------------------------------- helpers
def _departments_of(employer_id) -> list[tuple[int, str]]:
    """Departments of an approved employer unit (none for anything else)."""
    employer_id = parse_id(employer_id)
    if not employer_id:
        return []
    rows = db.session.execute(
        select(InternalDepartment.id, InternalDepartment.name)
        .join(Organisation, Organisation.id == InternalDepartment.organisation_id)
        .where(InternalDepartment.organisation_id == employer_id)
        .where(Organisation.type == OrganisationType.employer,
               Organisation.status == OrganisationStatus.approved)
        .order_by(InternalDepartment.name)
        .limit(DEPARTMENT_LIMIT)
    ).all()
    return [(r.id, r.name) for r in rows]


def _person_values(form: PersonForm) -> dict:
    return dict(
        name=form.name.data.strip(), phone=form.phone.data,
        education=Education(form.education.data) if form.education.data else None,
        employer_id=form.employer_id.data, internal_department_id=form.internal_department_id.data or None,
        title_series_id=form.title_series_id.data, title_level_id=form.title_level_id.data,
        title_name=(form.title_name.data or "").strip() or None, title_date=form.title_date.data,
    )


def _organisation_values(form: OrganisationForm) -> dict:
    return dict(
        name=form.name.data.strip(), uscc=form.uscc.data, region=(form.region.data or "").strip() or None,
        contact_person=form.contact_person.data.strip(), phone=form.phone.data,
        address=(form.address.data or "").strip() or None,
    )


def withdraw_with_message(request_id: int, actor: Actor) -> None:
    """The submitter withdraws a request: 404 for someone else's, a message either way."""
    try:
        withdraw_request(request_id, actor)
    except ServiceError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("The request was withdrawn"), "success")


def _progress_account_id():
    """The registrant verified on this page, while their credentials have not changed since."""
    from sqlalchemy import select as _select

    account_id = session.get(PROGRESS_KEY)
    if not account_id:
        return None
    version = db.session.scalar(_select(Account.credential_version).where(Account.id == account_id))
    if version is None or (version or 0) != session.get(PROGRESS_VERSION_KEY):
        session.pop(PROGRESS_KEY, None)
        return None
    return account_id


def _progress_actor(account_id: int) -> Actor:
    """Who registered acts on their own requests from the progress page (verified by password there)."""
    return Actor(db.session.get(Account, account_id), current_actor().ip)


class PublicRegistrationView(BaseView):
    """Public pages: no login needed, so no permission either."""

    route_base = "/register"
    default_view = "person"

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        """Anonymous POSTs (registrations, password checks) get the login's rate limit per address."""
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        sm = appbuilder.sm
        if sm.is_auth_limited:
            sm.limiter.limit(sm.auth_rate_limit, methods=["POST"])(blueprint)
        return blueprint

    # ------------------------------------------------------------------ personnel
    def _render_person(self, form, template_title, resubmit=None):
        employer_id = form.employer_id.data
        return self.render_template(
            "registration/person.html", form=form, title=template_title, resubmit=resubmit,
            employer_name=public_organisation_name(employer_id, [OrganisationType.employer]),
            departments=_departments_of(employer_id),
        )

    @expose("/person", methods=["GET", "POST"])
    def person(self):
        form = PersonRegistrationForm()
        form.load_choices()
        if form.validate_on_submit():
            try:
                registrations.register_person(current_actor(), id_number=form.id_number.data,
                                              password=form.password.data,
                                              **_person_values(form))
            except ServiceError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("Registration submitted. You can sign in once it is approved; "
                        "enter your ID number and password here to follow its progress."), "success")
                return redirect(url_for(".progress"))
        return self._render_person(form, _("Professional personnel registration"))

    @expose("/employers")
    def employers(self):
        """Search-as-you-type: approved employer units a person may register with."""
        return public_organisation_lookup([OrganisationType.employer], request.args.get("q", ""))

    @expose("/departments")
    def departments(self):
        """Internal departments of the chosen (approved) employer unit."""
        employer_id = parse_id(request.args.get("employer_id"))
        return jsonify({"results": [{"id": pk, "text": name} for pk, name in _departments_of(employer_id)]})

    # ------------------------------------------------------------------ organisations
    def _render_organisation(self, form, org_type, template_title, resubmit=None):
        parent_id = form.parent_id.data if hasattr(form, "parent_id") else None
        return self.render_template(
            "registration/organisation.html", form=form, title=template_title, resubmit=resubmit,
            org_type=org_type,
            parent_name=public_organisation_name(parent_id, [OrganisationType.province, OrganisationType.supervisory]),
        )

    def _register_organisation(self, page: str):
        org_type, title = ORG_PAGES[page]
        form = OrganisationRegistrationForm()
        if form.validate_on_submit():
            try:
                registrations.register_organisation(
                    current_actor(), org_type=org_type, parent_id=form.parent_id.data, **_organisation_values(form),
                    admin_id_number=form.admin_id_number.data, admin_name=form.admin_name.data.strip(),
                    admin_phone=form.admin_phone.data, password=form.password.data,
                )
            except ServiceError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("Registration submitted. The administrator can sign in once the supervisory "
                        "department approves it; enter the ID number and password here to follow its progress."),
                      "success")
                return redirect(url_for(".progress"))
        return self._render_organisation(form, org_type, title)

    @expose("/unit", methods=["GET", "POST"])
    def unit(self):
        return self._register_organisation("unit")

    @expose("/base", methods=["GET", "POST"])
    def base(self):
        return self._register_organisation("base")

    # ------------------------------------------------------------------ progress
    @expose("/progress", methods=["GET", "POST"])
    def progress(self):
        """Who registered checks their requests with ID number and password (the login may be inactive)."""
        form = ProgressLoginForm()
        if form.validate_on_submit():
            result = self.appbuilder.sm.verify_password(form.id_number.data, form.password.data)
            if result.user is None:
                flash(result.message, "danger")
            else:
                session[PROGRESS_KEY] = result.user.id
                session[PROGRESS_VERSION_KEY] = result.user.credential_version or 0
                return redirect(url_for(".progress"))
        account_id = _progress_account_id()
        account = db.session.get(Account, account_id) if account_id else None
        items = []
        if account is not None:
            items = db.session.scalars(
                select(ReviewRequest).where(ReviewRequest.submitted_by_id == account.id)
                .order_by(ReviewRequest.submitted_on.desc(), ReviewRequest.id.desc())
            ).all()
        return self.render_template(
            "registration/progress.html", form=form, account=account, items=items,
            title=_("Registration progress"), resubmittable=RESUBMITTABLE,
            pending=ReviewStatus.pending, rejected=ReviewStatus.rejected,
        )

    @expose("/progress/leave", methods=["POST"])
    def progress_leave(self):
        """Forget the verified account, e.g. on a shared computer."""
        session.pop(PROGRESS_KEY, None)
        session.pop(PROGRESS_VERSION_KEY, None)
        return redirect(url_for(".progress"))

    @expose("/progress/withdraw/<int:request_id>", methods=["POST"])
    def withdraw(self, request_id):
        account_id = _progress_account_id()
        if account_id:
            withdraw_with_message(request_id, _progress_actor(account_id))
        return redirect(url_for(".progress"))

    @expose("/progress/resubmit/<int:request_id>", methods=["GET", "POST"])
    def resubmit(self, request_id):
        """修改并重新提交: correct the rejected registration, then it goes back to review."""
        account_id = _progress_account_id()
        if not account_id:
            return redirect(url_for(".progress"))
        item = db.session.get(ReviewRequest, request_id)
        if item is None or item.submitted_by_id != account_id or item.kind not in RESUBMITTABLE:
            abort(404)
        if item.status != ReviewStatus.rejected:
            flash(_("This request cannot be %(what)s in its current state", what=_("resubmitted")), "warning")
            return redirect(url_for(".progress"))
        if RESUBMITTABLE[item.kind] == "person":
            return self._resubmit_person(item, account_id)
        return self._resubmit_organisation(item, account_id)

    def _resubmit_person(self, item: ReviewRequest, account_id: int):
        person = db.session.get(Person, item.subject_id)
        if person is None:
            abort(404)
        if request.method == "POST":
            form = PersonForm()
        else:
            form = PersonForm(data=dict(
                name=person.name, phone=person.phone,
                education=person.education.value if person.education else "",
                employer_id=person.employer_id, internal_department_id=person.internal_department_id,
                title_series_id=person.title_series_id, title_level_id=person.title_level_id,
                title_name=person.title_name, title_date=person.title_date,
            ))
        form.load_choices()
        if form.validate_on_submit():
            try:
                registrations.resubmit_person_registration(_progress_actor(account_id), item.id,
                                                           **_person_values(form))
            except LookupError:
                abort(404)
            except ServiceError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The registration was resubmitted for review"), "success")
                return redirect(url_for(".progress"))
        return self._render_person(form, _("Correct and resubmit"), resubmit=item)

    def _resubmit_organisation(self, item: ReviewRequest, account_id: int):
        org = db.session.get(Organisation, item.subject_id)
        if org is None:
            abort(404)
        if request.method == "POST":
            form = OrganisationForm()
        else:
            form = OrganisationForm(data=dict(name=org.name, uscc=org.uscc, region=org.region,
                                              contact_person=org.contact_person, phone=org.phone,
                                              address=org.address))
        if form.validate_on_submit():
            try:
                registrations.resubmit_organisation_registration(_progress_actor(account_id), item.id,
                                                                 **_organisation_values(form))
            except LookupError:
                abort(404)
            except ServiceError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The registration was resubmitted for review"), "success")
                return redirect(url_for(".progress"))
        return self._render_organisation(form, org.type, _("Correct and resubmit"), resubmit=item)
