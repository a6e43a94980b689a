"""管理单位管理员 (manual 5.1.1.3): the own organisation's admins, the 新增管理员 wizard, super admin."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.actor import current_actor
from app.errors import form_error
from app.extensions import db
from app.models import Account, InternalDepartment
from app.services import org_admins as service
from app.services.transaction import ServiceError
from app.validators import IdNumber, Mobile, PasswordStrength

#: the three ways of 新增管理员 (manual 5.1.1.3.2)
WAYS = {
    "member": (_l("Choose an administrator (already a member of this organisation)"), "fa-users"),
    "register": (_l("Register an administrator (not yet a user of the system)"), "fa-user-plus"),
    "existing": (_l("Add an administrator (already a user of the system)"), "fa-id-card"),
}


def department_choices(org_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(InternalDepartment.id, InternalDepartment.name)
        .where(InternalDepartment.organisation_id == org_id).order_by(InternalDepartment.name)
    ).all()
    return [("", str(_l("Please choose")))] + [(str(r.id), r.name) for r in rows]


class MemberForm(FlaskForm):
    account_id = StringField(_l("Person"), validators=[DataRequired(message=_l("Please choose a person from the list"))])
    department_id = SelectField(_l("Work department"), choices=[], validate_choice=False)


class RegisterForm(FlaskForm):
    id_type = SelectField(_l("ID type"), choices=[("id_card", _l("Resident ID card"))])
    id_number = StringField(_l("ID number"), validators=[DataRequired(), IdNumber()])
    real_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=50)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Mobile()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), PasswordStrength()])
    conf_password = PasswordField(
        _l("Confirm password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
    )
    department_id = SelectField(_l("Work department"), choices=[], validate_choice=False)


class ExistingForm(FlaskForm):
    id_type = SelectField(_l("ID type"), choices=[("id_card", _l("Resident ID card"))])
    id_number = StringField(_l("ID number"), validators=[DataRequired(), IdNumber()])
    department_id = SelectField(_l("Work department"), choices=[], validate_choice=False)
    confirm = HiddenField()


class OrgAdminView(BaseView):
    """The organisation's administrators; only its super admin appoints or removes them."""

    route_base = "/orgadmins"
    default_view = "list"
    class_permission_name = "OrgAdmin"
    method_permission_name = {
        "list": "read", "done": "read", "add": "write", "add_member": "write",
        "add_register": "write", "add_existing": "write", "candidates": "write",
        "make_super_admin": "write", "remove": "write",
    }

    # ------------------------------------------------------------------ helpers
    def _org(self):
        org = g.user.organisation
        if org is None:
            abort(404)
        return org

    def _guard(self):
        """Only the super admin appoints: NotAllowed (a 403 page) for anyone else."""
        service.require_super_admin(current_actor())
        return None

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
            "account_mgmt/admin_list.html", title=_("Administrators"), org=org, admins=admins,
            is_super_admin=bool(g.user.is_super_admin), me=g.user.id,
        )

    # ------------------------------------------------------------------ wizard step 1
    @expose("/add")
    @has_access
    def add(self):
        refused = self._guard()
        if refused is not None:
            return refused
        return self._wizard("", None, step=1)

    # ------------------------------------------------------------------ (a)
    @expose("/add/member", methods=["GET", "POST"])
    @has_access
    def add_member(self):
        refused = self._guard()
        if refused is not None:
            return refused
        org = self._org()
        form = MemberForm()
        form.department_id.choices = department_choices(org.id)
        chosen = ""
        if form.account_id.data:
            account = db.session.get(Account, _int_or_none(form.account_id.data) or 0)
            if account is not None and account.organisation_id == org.id:
                chosen = f"{account.real_name or ''}（{account.username}）"
        if form.validate_on_submit():
            try:
                account = service.appoint_member(current_actor(), form.account_id.data,
                                                 form.department_id.data or None)
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
        """Search-as-you-type: members of the own organisation who could become admins (≤20)."""
        try:
            rows = service.candidates(current_actor(), request.args.get("q", ""))
        except ServiceError:
            abort(404)
        return jsonify({"results": [{"id": pk, "text": text} for pk, text in rows]})

    # ------------------------------------------------------------------ (b)
    @expose("/add/register", methods=["GET", "POST"])
    @has_access
    def add_register(self):
        refused = self._guard()
        if refused is not None:
            return refused
        org = self._org()
        form = RegisterForm()
        form.department_id.choices = department_choices(org.id)
        if form.validate_on_submit():
            try:
                account = service.register_admin(
                    current_actor(), id_number=form.id_number.data, real_name=form.real_name.data,
                    phone=form.phone.data or None, password=form.password.data,
                    department_id=form.department_id.data or None)
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
        refused = self._guard()
        if refused is not None:
            return refused
        org = self._org()
        form = ExistingForm()
        form.department_id.choices = department_choices(org.id)
        found = None
        if form.validate_on_submit():
            try:
                if form.confirm.data == "1":
                    account = service.appoint_existing_user(current_actor(), form.id_number.data,
                                                            form.department_id.data or None)
                    flash(_("%(name)s is now an administrator", name=account.real_name), "success")
                    return redirect(url_for("OrgAdminView.done", pk=account.id))
                found = service.find_user(current_actor(), form.id_number.data)
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


def _int_or_none(value):
    from app.interface import parse_id

    return parse_id(value)


def register(appbuilder) -> None:
    appbuilder.add_view(OrgAdminView, "Administrators", label=_l("Administrators"), icon="fa-user-secret",
                        category="Account management", category_label=_l("Account management"),
                        category_icon="fa-sitemap")
