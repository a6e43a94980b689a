"""Public registration of a supervisory department (manual 1) and the parent lookup it uses."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.actor import current_actor
from app.admin.lookup import public_organisation_lookup, public_organisation_name
from app.models import OrganisationType
from app.services import organisations as org_service
from app.services.transaction import ServiceError
from app.validators import IdNumber, Mobile, PasswordStrength, Uscc

#: parents a department may hang under
DEPARTMENT_TYPES = (OrganisationType.province, OrganisationType.supervisory)


class SupervisoryRegistrationForm(FlaskForm):
    name = StringField(_l("Department name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), Uscc()])
    parent_id = IntegerField(_l("Parent department"), validators=[DataRequired(message=_l("Please choose a parent department"))])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    contact_person = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=50)])
    phone = StringField(_l("Contact phone"), validators=[DataRequired(), Mobile()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    admin_id_number = StringField(_l("Administrator ID number"), validators=[DataRequired(), IdNumber()])
    admin_name = StringField(_l("Administrator name"), validators=[DataRequired(), Length(max=50)])
    admin_phone = StringField(_l("Administrator mobile phone"), validators=[DataRequired(), Mobile()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), PasswordStrength()])
    conf_password = PasswordField(
        _l("Confirm password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
    )


class RegistrationView(BaseView):
    """Public pages: no login needed, so no permission either."""

    route_base = "/register"
    default_view = "supervisory"

    @expose("/supervisory", methods=["GET", "POST"])
    def supervisory(self):
        form = SupervisoryRegistrationForm()
        parent_name = public_organisation_name(form.parent_id.data, DEPARTMENT_TYPES)
        if form.validate_on_submit():
            try:
                org_service.register_supervisory(
                    current_actor(),
                    name=form.name.data.strip(), uscc=form.uscc.data,
                    parent_id=form.parent_id.data, region=form.region.data,
                    contact_person=form.contact_person.data, phone=form.phone.data,
                    address=form.address.data, admin_id_number=form.admin_id_number.data,
                    admin_name=form.admin_name.data.strip(), admin_phone=form.admin_phone.data,
                    password=form.password.data,
                )
            except ServiceError as exc:
                flash(str(exc), "danger")
            else:
                flash(str(_l("Registration submitted. You may sign in now; data becomes visible once your parent department approves the registration.")), "success")
                return redirect(url_for("LoginView.login"))
        return self.render_template("registration/supervisory.html", form=form,
                                    parent_name=parent_name, title=_l("Supervisory department registration"))

    @expose("/parents")
    def parents(self):
        """Search-as-you-type: approved departments a new department may hang under."""
        return public_organisation_lookup(DEPARTMENT_TYPES, request.args.get("q", ""))
