"""管理单位管理员 (manual 5.1.1.3): the own organisation's admins, the 新增管理员 wizard, super admin."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.actor import current_actor
from app.errors import form_error
from app.extensions import db
from app.interface import parse_id
from app.models import Account, InternalDepartment
from app.services import org_admins as service
from app.services.custom_roles import display_name
from app.services.transaction import ServiceError
from app.validators import IdNumber, Mobile, PasswordStrength

#: the three ways of 新增管理员 (manual 5.1.1.3.2)
WAYS = {
    "member": (_l("Choose an administrator (already a member of this organisation)"), "fa-users"),
    "register": (_l("Register an administrator (not yet a user of the system)"), "fa-user-plus"),
    "existing": (_l("Add an administrator (already a user of the system)"), "fa-id-card"),
}


#: the only kind of ID document the platform accepts (the login is the resident ID number)
ID_TYPES = [SelectChoice("id_card", _l("Resident ID card"))]


def department_choices(org_id: int) -> list[SelectChoice]:
    rows = db.session.execute(
        select(InternalDepartment.id, InternalDepartment.name)
        .where(InternalDepartment.organisation_id == org_id).order_by(InternalDepartment.name)
    ).all()
    return [SelectChoice("", str(_l("Please choose")))] + [SelectChoice(str(r.id), r.name) for r in rows]


def role_choices(roles) -> list[SelectChoice]:
    """The organisation's full administrator role first, then its own roles by the names people gave them."""
    full, *custom = roles
    return ([SelectChoice(str(full.id), str(_l("Unit administrator (every permission of the unit)")))]
            + [SelectChoice(str(role.id), display_name(role)) for role in custom])


def _roles_field():
    return SelectMultipleField(
        _l("Role"), choices=[], validate_choice=False, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("An administrator may do exactly what their roles allow; roles are defined under Role management."))


class _AdminForm(FlaskForm):
    """What every way of adding an administrator asks: the department and the roles."""

    department_id = SelectField(_l("Work department"), choices=[], validate_choice=False)
    roles = _roles_field()

    def load_choices(self, org_id: int, roles) -> None:
        self.department_id.choices = department_choices(org_id)
        self.roles.choices = role_choices(roles)
        if not self.is_submitted():
            self.roles.data = [str(roles[0].id)]


class MemberForm(_AdminForm):
    account_id = StringField(_l("Person"), validators=[DataRequired(message=_l("Please choose a person from the list"))])


class RegisterForm(_AdminForm):
    id_type = SelectField(_l("ID type"), choices=ID_TYPES, default="id_card")
    id_number = StringField(_l("ID number"), validators=[DataRequired(), IdNumber()])
    real_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=50)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Mobile()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), PasswordStrength()])
    conf_password = PasswordField(
        _l("Confirm password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
    )


class ExistingForm(_AdminForm):
    # the confirming step posts the number again without the type: only one type exists
    id_type = SelectField(_l("ID type"), choices=ID_TYPES, default="id_card")
    id_number = StringField(_l("ID number"), validators=[DataRequired(), IdNumber()])
    confirm = HiddenField()


class RolesForm(_AdminForm):
    """设置角色 of an existing administrator."""


class OrgAdminView(BaseView):
    """The organisation's administrators; only its super admin appoints or removes them."""

    route_base = "/orgadmins"
    default_view = "list"
    class_permission_name = "OrgAdmin"
    method_permission_name = {
        "list": "read", "done": "read", "add": "write", "add_member": "write",
        "add_register": "write", "add_existing": "write", "candidates": "write",
        "make_super_admin": "write", "remove": "write", "roles": "write",
    }

    # ------------------------------------------------------------------ helpers
    def _org(self):
        org = g.user.organisation
        if org is None:
            abort(404)
        return org

    def _guard(self) -> None:
        """Only the super admin appoints: NotAllowed (a 403 page) for anyone else."""
        service.require_super_admin(current_actor())

    def _form(self, form_class):
        """A wizard form with the own departments and the roles the super admin may hand out."""
        form = form_class()
        form.load_choices(self._org().id, service.role_choices(current_actor()))
        return form

    def _wizard(self, way: str, form, **extra):
        return self.render_template(
            "account_mgmt/admin_add.html", title=_("Add administrator"), way=way, ways=WAYS, form=form,
            step=extra.pop("step", 2), **extra)

    # ------------------------------------------------------------------ list
    @expose("/list/")
    @has_access
    def list(self):
        org = self._org()
        admins = db.session.scalars(service.admins_of(org.id)).all()
        return self.render_template(
            "account_mgmt/admin_list.html", title=_("Manage unit administrators"), org=org, admins=admins,
            is_super_admin=bool(g.user.is_super_admin), me=g.user.id, role_name=display_name,
        )

    # ------------------------------------------------------------------ wizard step 1
    @expose("/add")
    @has_access
    def add(self):
        self._guard()
        return self._wizard("", None, step=1)

    # ------------------------------------------------------------------ (a)
    @expose("/add/member", methods=["GET", "POST"])
    @has_access
    def add_member(self):
        self._guard()
        form = self._form(MemberForm)
        chosen = service.candidate_label(current_actor(), form.account_id.data) if form.account_id.data else ""
        if form.validate_on_submit():
            try:
                account = service.appoint_member(current_actor(), form.account_id.data,
                                                 form.department_id.data or None, form.roles.data)
            except ServiceError as exc:
                form_error(form, exc, "account_id")
            else:
                flash(_("%(name)s is now an administrator", name=account.real_name), "success")
                return redirect(url_for("OrgAdminView.done", pk=account.id))
        return self._wizard("member", form, chosen=chosen,
                            candidates_url=url_for("OrgAdminView.candidates"))

    @expose("/candidates")
    @has_access
    def candidates(self):
        """Search-as-you-type: people of the own organisation and the units below it (≤20)."""
        rows = service.candidates(current_actor(), request.args.get("q", ""))
        return jsonify({"results": [{"id": pk, "text": text} for pk, text in rows]})

    # ------------------------------------------------------------------ (b)
    @expose("/add/register", methods=["GET", "POST"])
    @has_access
    def add_register(self):
        self._guard()
        form = self._form(RegisterForm)
        if form.validate_on_submit():
            try:
                account = service.register_admin(
                    current_actor(), id_number=form.id_number.data, real_name=form.real_name.data,
                    phone=form.phone.data or None, password=form.password.data,
                    department_id=form.department_id.data or None, role_ids=form.roles.data)
            except ServiceError as exc:
                form_error(form, exc, "id_number")
            else:
                flash(_("%(name)s is now an administrator", name=account.real_name), "success")
                return redirect(url_for("OrgAdminView.done", pk=account.id))
        return self._wizard("register", form)

    # ------------------------------------------------------------------ (c)
    @expose("/add/existing", methods=["GET", "POST"])
    @has_access
    def add_existing(self):
        self._guard()
        form = self._form(ExistingForm)
        found = None
        if form.validate_on_submit():
            try:
                found = service.find_user(current_actor(), form.id_number.data)
                if form.confirm.data == "1":
                    account = service.appoint_existing_user(current_actor(), form.id_number.data,
                                                            form.department_id.data or None, form.roles.data)
                    flash(_("%(name)s is now an administrator", name=account.real_name), "success")
                    return redirect(url_for("OrgAdminView.done", pk=account.id))
                form.roles.data = form.roles.data or [form.roles.choices[0].value]
                form.confirm.data = "1"   # the next step confirms (hidden_tag renders it)
            except ServiceError as exc:
                form_error(form, exc, "id_number")
        return self._wizard("existing", form, found=found)

    # ------------------------------------------------------------------ step 3
    @expose("/done/<int:pk>")
    @has_access
    def done(self, pk):
        org = self._org()
        account = db.session.scalar(service.admins_of(org.id).where(Account.id == pk))
        if account is None:
            abort(404)
        return self.render_template("account_mgmt/admin_add.html", title=_("Add administrator"),
                                    way="", ways=WAYS, form=None, step=3, account=account)

    # ------------------------------------------------------------------ 设置角色
    @expose("/roles/<pk>", methods=["GET", "POST"])
    @has_access
    def roles(self, pk):
        """The roles an administrator holds: the full role, custom roles, or both."""
        self._guard()
        org = self._org()
        account = db.session.scalar(service.admins_of(org.id).where(Account.id == (parse_id(pk) or 0)))
        if account is None:
            abort(404)
        form = self._form(RolesForm)
        if form.validate_on_submit():
            try:
                service.set_roles(current_actor(), account.id, form.roles.data)
            except ServiceError as exc:
                form_error(form, exc, "roles")
            else:
                flash(_("The roles of %(name)s were saved", name=account.real_name), "success")
                return redirect(url_for("OrgAdminView.list"))
        elif not form.is_submitted():
            form.roles.data = [str(role.id) for role in account.roles]
        return self.render_template("account_mgmt/admin_roles.html", title=_("Set roles"), form=form,
                                    account=account)

    # ------------------------------------------------------------------ row operations
    @expose("/super/<pk>", methods=["POST"])
    @has_access
    def make_super_admin(self, pk):
        try:
            account = service.set_super_admin(current_actor(), pk)
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(name)s is now the super admin; your super-admin powers were handed over",
                    name=account.real_name), "success")
        return redirect(url_for("OrgAdminView.list"))

    @expose("/remove/<pk>", methods=["POST"])
    @has_access
    def remove(self, pk):
        try:
            outcome = service.remove_admin(current_actor(), pk)
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            messages = {
                "reverted": _("The administrator was removed; the account is a personnel login again"),
                "deleted": _("The administrator was removed and the account deleted"),
                "deactivated": _("The administrator was removed; the account was disabled and its rights taken away"),
            }
            flash(messages[outcome], "success")
        return redirect(url_for("OrgAdminView.list"))


def register(appbuilder) -> None:
    from app.navigation import OWN_ORGANISATION, category

    appbuilder.add_view(OrgAdminView, "Administrators", label=_l("Manage unit administrators"),
                        icon="fa-user-secret", **category(OWN_ORGANISATION))
